/** Random initializers: one reading of their parameters (with tfjs's defaults) for the interpreter and the generated code. */
import { describe, expect, it } from "vitest";
import { randomInitArgs } from "../../src/core/init.ts";
import { emitModule } from "../../src/codegen/tfjs/emit.ts";
import { analyse } from "../runtime/helpers.ts";

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
    const f = analyse(text);
    expect(f.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const code = emitModule({ specPath: "specs/inline.nnspec", source: () => text, checked: f.checked, runtimeImport: "r", helpersImport: "h", specDir: ".", runCommand: "run" });
    expect(code).toContain("tf.initializers.randomNormal({ mean: 0, stddev: 0.2, seed: initializerSeed(seed, 0, 0) })");
    expect(code).toContain("tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: initializerSeed(seed, 1, 0) })");
  });
});
