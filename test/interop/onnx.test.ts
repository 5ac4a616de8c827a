/**
 * ONNX export: every model of the course specs and of the PyTorch zoos, and a zoo of the paths only
 * ONNX takes (padding masks with every recurrent form, merges, "same" windows with dilation), runs in
 * ONNX Runtime (onnxruntime-web, WebAssembly in Node) and gives the interpreter's outputs within
 * 1e-5; the files pass onnx's checker (Debian's python3-onnx); the CLI exports trained models, with
 * the fitted preprocessing folded in when asked.
 */
import * as ort from "onnxruntime-web";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FileHost, type CheckedFile } from "../../src/node/host.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { Plan } from "../../src/runtime/plan.ts";
import { onnxModel } from "../../src/codegen/onnx/export.ts";
import { layerPlaces } from "../../src/codegen/onnx/build.ts";
import { Rng } from "../../src/core/rng.ts";
import { main } from "../../src/cli/main.ts";
import { readSavedModel } from "../../src/cli/saved.ts";
import { transform, matrixFromRows, type FittedStats } from "../../src/data/preprocess.ts";
import type { Sidecar } from "../../src/saved/save.ts";
import { analyse } from "../runtime/helpers.ts";

const PY = "/usr/bin/python3";
const hasOnnx = spawnSync(PY, ["-c", "import onnx"]).status === 0;
if (!hasOnnx && process.env.CI) throw new Error("CI needs Debian's python3-onnx (apt-get install python3-onnx) for the ONNX checker");

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { text: () => out.join(""), errors: () => err.join(""), io: { stdout: { write: (s: string) => out.push(s), isTTY: false }, stderr: { write: (s: string) => err.push(s) } } };
}

/** Random inputs (ids 0-4, so padding appears anywhere), the interpreter's outputs on them and ONNX Runtime's; the largest relative difference. */
async function compare(m: RuntimeModel, bytes: Uint8Array, n = 4, seed = 5): Promise<number> {
  const rng = new Rng(seed);
  const plan = new Plan(m, n);
  const feeds: Record<string, ort.Tensor> = {};
  m.inputs.forEach((i, k) => {
    const t = m.tensors[i];
    const v = Float32Array.from({ length: n * t.size }, () => (t.dtype === "int" ? Math.floor(rng.uniform() * 5) : rng.uniform() * 4 - 2));
    plan.input(k).set(v);
    feeds[t.name] = t.dtype === "int" ? new ort.Tensor("int32", Int32Array.from(v), [n, ...t.shape]) : new ort.Tensor("float32", v, [n, ...t.shape]);
  });
  plan.forward(n, false);
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run(feeds);
  let worst = 0;
  m.outputs.forEach((o, k) => {
    const want = plan.output(k).subarray(0, n * m.tensors[o].size);
    const got = out[s.outputNames[k]].data as Float32Array;
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  });
  return worst;
}

/** The models a file declares, each exported with its interpreter's initial weights. */
function exportsOf(file: CheckedFile): { name: string; model: RuntimeModel; bytes: Uint8Array }[] {
  return [...file.checked.models.values()]
    .filter((c) => c.spec.file === file.checked.program.file)
    .map((c) => {
      const model = RuntimeModel.lower(c, { seed: 7 }).model!;
      return { name: c.spec.name, model, bytes: onnxModel(model, { where: layerPlaces(file, c) }) };
    });
}

const written: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), "nnspec-onnx-"));

describe("every model, in ONNX Runtime", () => {
  for (const dir of ["specs", "test/fixtures/torch"]) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".nnspec"))) {
      it(`${dir}/${f}`, async () => {
        const file = new FileHost().analyse(resolve(dir, f), `${dir}/${f}`);
        for (const e of exportsOf(file)) {
          expect(await compare(e.model, e.bytes), `${f} ${e.name}`).toBeLessThan(1e-5);
          const p = join(scratch, `${f}-${e.name}.onnx`);
          writeFileSync(p, e.bytes);
          written.push(p);
        }
      });
    }
  }

  it("the forms only ONNX export takes apart: masks with every recurrent form, merges, windows", async () => {
    const file = analyse(`
model masked(ids: int[7]) -> (a: [7, 6], b: [3], c: [7, 4], d: [7, 3], e: [2]) {
  emb = embedding 5 3 mask_zero: true
  a = emb -> lstm 3 bidirectional: concat, return_sequences: true, go_backwards: true
  b = emb -> gru 3 reset_after: true, go_backwards: true
  c = emb -> simple_rnn 4 return_sequences: true
  d = emb -> gru 3 bidirectional: ave, return_sequences: true, recurrent_activation: hard_sigmoid
  e = emb -> lstm 2 bidirectional: mul
}

model merges(x: [5, 4]) -> (s: [5, 3], p: [3], g: [5, 2]) {
  s = x -> lstm 3 bidirectional: sum, return_sequences: true
  p = x -> gru 3 bidirectional: mul, go_backwards: true
  h = x -> simple_rnn 2 return_sequences: true, go_backwards: true, activation: relu
  g = h -> lstm 2 return_sequences: true, recurrent_activation: hard_sigmoid
}

model windows(img: [9, 9, 2]) -> y: [4] {
  conv2d 3 kernel: 3, dilation: 2, padding: same, activation: elu(0.5)
  avgpool2d 2 stride: 1, padding: same
  maxpool2d 3 stride: 2, padding: same
  conv2d 4 kernel: [2, 3], stride: [2, 1], activation: leaky_relu(0.1), use_bias: false
  global_maxpool2d
  gelu
}

model seq(x: [8, 4]) -> y: [8, 6] {
  conv1d 6 kernel: 3, padding: same, dilation: 2
  avgpool1d 3 stride: 1, padding: same
  positional_embedding sinusoidal
  layernorm center: false
  batchnorm scale: false
  softmax
}

model cross(q: [4, 6], kv: [5, 8]) -> y: [4, 3] {
  a = multi_head_attention q, kv heads: 2, key_dim: 3, value_dim: 2, output_dim: 3, use_bias: false
}
`);
    expect(file.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    for (const e of exportsOf(file)) {
      expect(await compare(e.model, e.bytes, 6, 11), e.name).toBeLessThan(1e-5);
      const p = join(scratch, `zoo-${e.name}.onnx`);
      writeFileSync(p, e.bytes);
      written.push(p);
    }
  });

  it("names each node after its layer and line, and refuses what it cannot express by layer", () => {
    const file = analyse("model m(x: [4]) -> y: [2] {\n  h = dense 3 gelu\n  dense 2\n}\nmodel r(x: [3, 2]) -> y: [2] {\n  simple_rnn 2 activation: linear\n}\n");
    const m = file.checked.models.get("m")!;
    const bytes = onnxModel(RuntimeModel.lower(m).model!, { where: layerPlaces(file, m) });
    const text = new TextDecoder("latin1").decode(bytes);
    expect(text).toContain("h@2/MatMul");
    expect(text).toContain("dense_2@3/MatMul");
    expect(text).toContain("specs/inline.nnspec:2: h = dense 3 gelu");
    const rnn = RuntimeModel.lower(file.checked.models.get("r")!).model!;
    expect(() => onnxModel(rnn)).toThrow(/layer `simple_rnn_1` has no ONNX form: a recurrent layer's `linear` activation has no ONNX form/);
  });
});

describe("onnx's checker", () => {
  it.skipIf(!hasOnnx)("passes every exported file (full check, with shape inference)", () => {
    expect(written.length).toBeGreaterThan(30);
    const script = `import onnx, sys\nfor p in sys.argv[1:]:\n    m = onnx.load(p)\n    onnx.checker.check_model(m, full_check=True)\n    assert m.opset_import[0].version == 17, p\nprint("ok", len(sys.argv) - 1)\n`;
    const r = spawnSync(PY, ["-c", script, ...written], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(`ok ${written.length}`);
  });
});

describe("nnspec export and build --target onnx", () => {
  const dir = mkdtempSync(join(tmpdir(), "nnspec-export-"));
  it("exports a trained model, and with --with-preprocessing takes the raw columns", async () => {
    const run = io();
    expect(await main(["train", "specs/iris.nnspec", "--train", "iris_mlp", "--epochs", "5", "--out", join(dir, "iris"), "--quiet"], run.io), run.errors()).toBe(0);
    const plain = io();
    expect(await main(["export", "specs/iris.nnspec", "--model", join(dir, "iris"), "--format", "onnx", "--out", join(dir, "iris.onnx")], plain.io), plain.errors()).toBe(0);
    const raw = io();
    expect(await main(["export", "specs/iris.nnspec", "--model", join(dir, "iris"), "--format", "onnx", "-o", join(dir, "raw.onnx"), "--with-preprocessing"], raw.io), raw.errors()).toBe(0);
    expect(raw.errors()).toMatch(/input `features` \[batch, 4\] \(raw sepal_length, sepal_width, petal_length, petal_width\)/);

    const saved = readSavedModel(join(dir, "iris"));
    expect(saved.ok).toBe(true);
    const stats = (saved.ok && (saved.value.meta as Sidecar).preprocess) as FittedStats;
    const rows = [
      [5.1, 3.5, 1.4, 0.2],
      [6.7, 3.0, 5.2, 2.3],
      [5.9, 3.0, 4.2, 1.5],
    ];
    const x = transform(matrixFromRows(rows), stats);
    const a = await ort.InferenceSession.create(readFileSync(join(dir, "iris.onnx")));
    const b = await ort.InferenceSession.create(readFileSync(join(dir, "raw.onnx")));
    const ya = (await a.run({ x: new ort.Tensor("float32", x, [3, 4]) }))[a.outputNames[0]].data as Float32Array;
    const yb = (await b.run({ features: new ort.Tensor("float32", Float32Array.from(rows.flat()), [3, 4]) }))[b.outputNames[0]].data as Float32Array;
    for (let i = 0; i < ya.length; i++) expect(Math.abs(ya[i] - yb[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(ya[i])));
    // and the interpreter's own prediction, through the CLI
    writeFileSync(join(dir, "rows.csv"), rows.map((r) => [...r, "setosa"].join(",")).join("\n") + "\n");
    const pred = io();
    expect(await main(["predict", "specs/iris.nnspec", "--model", join(dir, "iris"), "--input", join(dir, "rows.csv")], pred.io), pred.errors()).toBe(0);
    const probs = pred.text().trim().split("\n").slice(1).map((l) => l.split(",").slice(1).map(Number));
    probs.forEach((p, i) => {
      const z = Array.from(ya.subarray(i * 3, i * 3 + 3));
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      e.forEach((v, k) => expect(v / e.reduce((s, w) => s + w, 0)).toBeCloseTo(p[k], 5));
    });
  });

  it("refuses a wrong format or folding one-hot columns, writing nothing; build writes every model", async () => {
    const bad = io();
    expect(await main(["export", "specs/iris.nnspec", "--model", join(dir, "iris"), "--format", "tflite"], bad.io)).toBe(2);
    expect(bad.errors()).toMatch(/unknown format `tflite`; the format is onnx/);
    const rows = Array.from({ length: 40 }, (_, i) => `${["red", "green", "blue"][i % 3]},${(i % 7) / 7},${i % 2}`);
    writeFileSync(join(dir, "colors.csv"), `color,v,y\n${rows.join("\n")}\n`);
    writeFileSync(
      join(dir, "colors.nnspec"),
      "data c {\n  from \"colors.csv\" header: true\n  features color, v\n  label y: binary\n  onehot color\n  split train: 0.8, test: 0.2, seed: 1\n}\nmodel m(x: [4]) -> p: [1] {\n  dense 1 sigmoid\n}\ntrain m on c {\n  loss binary_cross_entropy\n  optimizer sgd\n  epochs 1\n}\n",
    );
    const t = io();
    expect(await main(["train", join(dir, "colors.nnspec"), "--out", join(dir, "colors"), "--quiet"], t.io), t.errors()).toBe(0);
    const fold = io();
    expect(await main(["export", join(dir, "colors.nnspec"), "--model", join(dir, "colors"), "--format", "onnx", "--out", join(dir, "nope.onnx"), "--with-preprocessing"], fold.io)).toBe(1);
    expect(fold.errors()).toMatch(/feature `color` is one-hot encoded.*export without --with-preprocessing/);
    const b = io();
    expect(await main(["build", "specs/iris.nnspec", "specs/residual.nnspec", "--target", "onnx", "--out", join(dir, "gen")], b.io), b.errors()).toBe(0);
    expect(readdirSync(join(dir, "gen/iris")).sort()).toEqual(["iris_mlp.onnx", "iris_softmax.onnx"]);
    expect(readdirSync(join(dir, "gen/residual")).sort()).toEqual(["wine_residual.onnx", "wine_two_heads.onnx"]);
    const s = await ort.InferenceSession.create(readFileSync(join(dir, "gen/residual/wine_two_heads.onnx")));
    expect(s.outputNames.length).toBe(2);
    expect(existsSync(join(dir, "nope.onnx"))).toBe(false);
  });
});
