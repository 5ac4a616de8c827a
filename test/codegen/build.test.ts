/**
 * `nnspec build --target tfjs` from the command line, and a quick training run of generated code:
 * specs with errors (or layers TensorFlow.js cannot express) write nothing and exit 1; a good build
 * writes one module per spec through a temporary file; the generated iris MLP reaches a sane
 * accuracy in a few epochs, and its seeded initializers make runs repeatable.
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import type { LoadedData } from "../../src/data/runtime.ts";
import * as iris from "../../generated/iris/iris.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const work = join(root, "tmp", `codegen-build-${process.pid}`);

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

beforeAll(async () => {
  await tf.setBackend("cpu");
  mkdirSync(work, { recursive: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("nnspec build", () => {
  it("writes one module per spec under --out", async () => {
    const out = join(work, "ok");
    const r = await run("build", join(root, "specs/iris.nnspec"), join(root, "specs/wine.nnspec"), "--target", "tfjs", "--out", out);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["iris", "wine"]);
    expect(readdirSync(join(out, "iris"))).toEqual(["iris.ts"]);
    const text = readFileSync(join(out, "iris", "iris.ts"), "utf8");
    expect(text).toMatch(/^\/\*\*\n \* TensorFlow\.js code for .*iris\.nnspec/);
    // The imports point back into this repository from wherever the module is.
    expect(text).toContain('from "../../../../src/data/runtime.ts"');
    expect(text).toContain('"../../../../specs"');
    // Inside this project, @tensorflow/tfjs resolves: no note.
    expect(r.err).not.toMatch(/cannot import @tensorflow\/tfjs/);
  });

  it("notes when the modules land where @tensorflow/tfjs cannot be imported", async () => {
    const out = mkdtempSync(join(tmpdir(), "nnspec-build-"));
    try {
      const r = await run("build", join(root, "specs/iris.nnspec"), "--target", "tfjs", "--out", out);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/note: .*iris cannot import @tensorflow\/tfjs \(no node_modules above it holds it\): .*npm install @tensorflow\/tfjs/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("writes nothing for a spec with errors", async () => {
    const spec = join(work, "bad.nnspec");
    writeFileSync(spec, "model m(x: [4]) -> y: [3] {\n  dense 3 units: 4\n  conv2d 8 kernel: 3\n}\n");
    const out = join(work, "bad-out");
    const r = await run("build", join(root, "specs/iris.nnspec"), spec, "--target", "tfjs", "--out", out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[NN\d{4}\]/);
    expect(r.err).toContain("nothing written");
    expect(existsSync(out)).toBe(false);
  });

  it("writes nothing when TensorFlow.js cannot express a layer", async () => {
    const spec = join(work, "elu.nnspec");
    writeFileSync(spec, "model m(x: [4]) -> y: [3] {\n  dense 8\n  elu 0.5\n  dense 3\n}\n");
    const out = join(work, "elu-out");
    const r = await run("build", spec, "--target", "tfjs", "--out", out);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${spec}:3: layer \`elu_1\` (elu) cannot be generated for TensorFlow.js: elu with alpha 0.5 cannot be built in TensorFlow.js`);
    expect(existsSync(out)).toBe(false);
  });

  it("wants a target", async () => {
    expect((await run("build", "specs/iris.nnspec")).code).toBe(2);
    expect((await run("build", "specs/iris.nnspec", "--target", "tflite")).err).toContain("unknown target `tflite`; the targets are tfjs, pytorch and onnx");
    expect((await run("build", "--target", "tfjs")).code).toBe(2);
  });
});

describe("generated iris", () => {
  let data: LoadedData;
  beforeAll(async () => {
    data = await iris.loadIris();
  });

  it("trains the MLP to a sane accuracy in a few epochs", async () => {
    const t = iris.TRAININGS[1];
    expect(t.name).toBe("train iris_mlp on iris");
    const model = t.createModel();
    t.compile(model);
    const history = await t.train(model, data, { epochs: 12 });
    expect(history.epoch).toHaveLength(12);
    const losses = history.history.loss.map(Number);
    expect(losses[11]).toBeLessThan(losses[0] / 2);
    const test = t.evaluate(model, data);
    expect(test.accuracy).toBeGreaterThanOrEqual(0.85);
    model.optimizer.dispose();
    model.dispose();
  });

  it("starts from the same weights for the same seed, and other weights for another", () => {
    const weights = (seed: number) => {
      const m = iris.createIrisMlp(seed);
      const w = m.getWeights().map((t) => Array.from(t.dataSync()));
      m.dispose();
      return w;
    };
    expect(weights(1)).toEqual(weights(1));
    expect(weights(2)[0]).not.toEqual(weights(1)[0]);
  });
});
