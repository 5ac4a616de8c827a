/** Random initializers: one reading of their parameters (with tfjs's defaults) for the interpreter and the generated code. */
import { describe, expect, it } from "vitest";
import { initialize, randomInitArgs } from "../../src/core/init.ts";
import { Rng } from "../../src/core/rng.ts";
import { emitModule } from "../../src/codegen/tfjs/emit.ts";
import { analyse } from "../runtime/helpers.ts";

/** The tfjs module generated for a spec that must check clean. */
function generated(text: string): string {
  const f = analyse(text);
  expect(f.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return emitModule({ specPath: "specs/inline.nnspec", source: () => text, checked: f.checked, runtimeImport: "r", helpersImport: "h", specDir: ".", runCommand: "run" });
}

describe("random initializer parameters", () => {
  it("reads positional and named arguments, with tfjs's defaults", () => {
    expect(randomInitArgs({ name: "random_uniform" })).toEqual({ minval: -0.05, maxval: 0.05 });
    expect(randomInitArgs({ name: "random_uniform", args: [0.1] })).toEqual({ minval: -0.1, maxval: 0.1 });
    expect(randomInitArgs({ name: "random_uniform", options: { minval: 0, maxval: 2 } })).toEqual({ minval: 0, maxval: 2 });
    expect(randomInitArgs({ name: "random_normal", args: [0.2], options: { mean: 1 } })).toEqual({ mean: 1, stddev: 0.2 });
    expect(randomInitArgs({ name: "truncated_normal" })).toEqual({ mean: 0, stddev: 0.05 });
    expect(randomInitArgs({ name: "glorot_uniform" })).toBeUndefined();
  });

  it("generated code passes the interpreter's parameters, not tfjs's defaults", () => {
    const text = "model m(x: [4]) -> y {\n  dense 3 kernel_init: random_normal(0.2)\n  embedding_free = dense 2 kernel_init: random_uniform\n}\n";
    const code = generated(text);
    expect(code).toContain("tf.initializers.randomNormal({ mean: 0, stddev: 0.2, seed: initializerSeed(seed, 0, 0) })");
    expect(code).toContain("tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: initializerSeed(seed, 1, 0) })");
  });

  it("orthogonal: orthonormal rows or columns times the gain, as tfjs's QR with R's signs", () => {
    for (const [shape, gain] of [[[6, 6], 1], [[8, 3], 1], [[3, 8], 2], [[2, 2, 5], 0.5]] as [number[], number][]) {
      const out = new Float64Array(shape.reduce((a, b) => a * b, 1));
      initialize(out, shape, { name: "orthogonal", args: [gain] }, new Rng(4, "orthogonal"));
      const cols = shape[shape.length - 1];
      const rows = out.length / cols;
      // the smaller side's vectors are orthonormal (scaled by the gain)
      const [vecs, len, at] = rows >= cols ? [cols, rows, (v: number, i: number) => out[i * cols + v]] : [rows, cols, (v: number, i: number) => out[v * cols + i]];
      for (let a = 0; a < vecs; a++)
        for (let b = 0; b < vecs; b++) {
          let dot = 0;
          for (let i = 0; i < len; i++) dot += at(a, i) * at(b, i);
          expect(dot, `${shape} ${a}·${b}`).toBeCloseTo(a === b ? gain * gain : 0, 10);
        }
    }
    expect(randomInitArgs({ name: "orthogonal" })).toEqual({ gain: 1 });
  });

  it("an LSTM's bias starts at the bias initializer with ones for the forget gate", () => {
    const out = new Float64Array(12);
    initialize(out, [12], { name: "unit_forget_bias", options: { base: "zeros" } }, new Rng(1));
    expect([...out]).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it("generated code seeds a recurrent layer's two kernels apart and passes the gain", () => {
    const text = "model m(x: [5, 3]) -> y {\n  lstm 4 recurrent_init: orthogonal(2)\n}\n";
    const code = generated(text);
    expect(code).toContain("tf.initializers.orthogonal({ gain: 2, seed: initializerSeed(seed, 0, 2) })");
    expect(code).toMatch(/kernelInitializer: tf\.initializers\.glorotUniform\(\{ seed: initializerSeed\(seed, 0, 0\) \}\)/);
  });
});
