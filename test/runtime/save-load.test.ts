/**
 * Saving in the TensorFlow.js Layers format (src/runtime/save.ts) and loading back (load.ts):
 * interpreter → files → interpreter gives bit-identical predictions; tfjs opens the files, builds
 * the same layers as `buildTfjs` and predicts what the interpreter predicts; damaged or mismatched
 * files are refused with messages that name the file; frozen layers stay frozen when fine-tuning.
 */
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { buildTfjs, makeLayer } from "../../src/codegen/tfjs/twin.ts";
import { CUSTOM_LAYERS } from "../../src/codegen/tfjs/layers.ts";
import type { CheckedModel } from "../../src/check/ir.ts";
import { loadData } from "../../src/data/index.ts";
import { applyWeights, parseSaved, topologyDifference, type SavedModel } from "../../src/saved/load.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { Rng } from "../../src/core/rng.ts";
import { saveModel, TFJS_CLASS_NAMES, toSnakeCase, type SavedFiles, type SaveInfo } from "../../src/saved/save.ts";
import { predict, train, trainConfig } from "../../src/runtime/train.ts";
import { bytesOf, modelOf, specFile } from "./helpers.ts";

await tf.setBackend("cpu");

const INFO: SaveInfo = {
  spec: { file: "specs/test.nnspec", name: "test", sha256: "0".repeat(64) },
  data: "d",
  train: 1,
  config: { loss: { name: "sparse_cross_entropy", opts: { from_logits: true } }, optimizer: { name: "adam", opts: {} }, epochs: 1, batch: 8, seed: 1, metrics: [] },
  epochs: 1,
  task: "multiclass",
  label: { kind: "class", columns: ["y"], classes: 3 },
  preprocess: { format: "nnspec-preprocess", version: 1, features: [], width: 0, outputs: [], shape: [0] },
};

/** Inline models that, with the course specs, use every tfjs class save.ts knows. */
const ZOO: Record<string, string> = {
  cnn: `model cnn(image: [12, 12, 1]) -> logits: [10] {\n  conv2d 4 kernel: 3 relu\n  maxpool2d 2\n  conv2d 8 kernel: 3 padding: same relu\n  avgpool2d 2\n  flatten\n  dense 16 relu\n  dense 10\n}`,
  zoo: `model zoo(x: [6]) -> p: [4] {\n  dense 8 gelu\n  layernorm\n  dense 8 tanh\n  elu\n  dense 8 sigmoid l2: 0.01\n  dense 8 activation: leaky_relu(0.2)\n  leaky_relu 0.1\n  dropout 0.2\n  dense 4 softmax\n}`,
  seq: `model seq(x: int[10]) -> logits: [3] {\n  embedding 20 8\n  conv1d 6 kernel: 3 padding: same tanh\n  h = conv1d 6 kernel: 2 stride: 2\n  a = h -> global_avgpool1d\n  b = h -> global_maxpool1d\n  c = concat a, b\n  dense 3\n}`,
  pools: `model pools(x: [8, 8, 2]) -> y: [5] {\n  a = conv2d 3 kernel: 2 padding: same\n  b = x -> conv2d 3 kernel: 2 padding: same relu\n  s = add a, b\n  g = s -> global_maxpool2d\n  v = s -> global_avgpool2d\n  c = concat g, v\n  reshape [2, 3]\n  maxpool1d 1\n  avgpool1d 2\n  flatten\n  sigmoid\n  relu\n  softmax\n  dense 5\n}`,
  rnn: `model rnn(x: [6, 3]) -> y: [2] {\n  lstm 5 return_sequences: true go_backwards: true\n  gru 4 return_sequences: true l2: 0.01\n  lstm 3 bidirectional: concat return_sequences: true\n  simple_rnn 3 activation: relu return_sequences: true\n  gru 2 bidirectional: sum\n  dense 2\n}`,
  attention: `model attention(ids: int[8]) -> logits: [3] {\n  embedding 20 8 mask_zero: true\n  p = positional_embedding\n  a = multi_head_attention heads: 2, key_dim: 4, dropout: 0.1, causal: true\n  s = add p, a\n  positional_embedding sinusoidal\n  multi_head_attention heads: 1, key_dim: 2, use_bias: false, l2: 0.01\n  global_avgpool1d\n  dense 3\n}`,
  states: `model states(x: [6, 3]) -> (y: [2], c: [4]) {\n  e, h, c = lstm 4 return_state: true\n  d = x -> lstm 4 return_sequences: true, initial_state: [h, c]\n  o, g = gru 3 return_state: true\n  j = x -> simple_rnn 3 initial_state: [g]\n  k = concat j, e\n  y = dense 2\n}`,
  frozen: `model frozen(x: [4]) -> logits: [3] {\n  dense 8 relu trainable: false\n  batchnorm trainable: false\n  dense 8 relu\n  batchnorm momentum: 0.9\n  dense 3\n}`,
};

function zooModel(name: string): CheckedModel {
  return modelOf(ZOO[name]);
}

/** Every model of the course specs and the zoo that the interpreter runs and tfjs can express. */
function allModels(): { name: string; checked: CheckedModel }[] {
  const out: { name: string; checked: CheckedModel }[] = [];
  for (const f of ["iris", "boston_linear", "breast_cancer", "coffee_roasting", "diabetes", "digits", "dropout_batchnorm", "l2_comparison", "mnist_cnn", "multilabel", "phone_price", "residual", "wine"]) {
    for (const m of specFile(`specs/${f}.nnspec`).checked.models.values()) out.push({ name: `${f}/${m.spec.name}`, checked: m });
  }
  for (const name of Object.keys(ZOO)) {
    try {
      out.push({ name: `zoo/${name}`, checked: zooModel(name) });
    } catch {
      // A zoo model the checker rejects would show up as a missing case below.
    }
  }
  return out;
}

/**
 * Lowers with seeded kernels and random values in every parameter that starts constant (biases,
 * gamma, beta, moving statistics; variances positive), so that any misplaced weight shows while
 * activations keep a realistic scale.
 */
function randomized(checked: CheckedModel, seed: number): RuntimeModel {
  const m = RuntimeModel.lower(checked, { seed }).model!;
  const rng = new Rng(seed, "randomize");
  for (const p of m.params) {
    if (p.init.name !== "zeros" && p.init.name !== "ones") continue;
    for (let i = 0; i < p.value.length; i++) p.value[i] = p.name === "moving_variance" || p.name === "gamma" ? 0.5 + rng.uniform() : (rng.uniform() - 0.5) * 0.4;
  }
  return m;
}

function inputsFor(m: RuntimeModel, n: number, seed: number): Float32Array {
  const t = m.tensors[m.inputs[0]];
  const rng = new Rng(seed, "inputs");
  return Float32Array.from({ length: n * t.size }, () => (t.dtype === "int" ? Math.floor(rng.uniform() * 20) : rng.normal()));
}

function reload(files: SavedFiles): SavedModel {
  const r = parseSaved({ dir: "saved", modelJson: files["model.json"], weights: files["weights.bin"], sidecar: files["nnspec.json"] });
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

async function tfjsLoad(files: SavedFiles): Promise<tf.LayersModel> {
  const json = JSON.parse(files["model.json"]);
  const w = files["weights.bin"];
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => [manifest.flatMap((g) => g.weights), w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer]);
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

describe("save and load", () => {
  it("knows the tfjs class of every factory it names", () => {
    for (const [factory, cls] of Object.entries(TFJS_CLASS_NAMES)) {
      const config = factory === "reshape" ? { targetShape: [1] } : factory === "dense" ? { units: 1 } : factory.startsWith("conv") ? { filters: 1, kernelSize: 1 } : factory === "dropout" ? { rate: 0.1 } : factory === "embedding" ? { inputDim: 2, outputDim: 2 } : ["simpleRNN", "lstm", "gru"].includes(factory) ? { units: 2 } : factory === "bidirectional" ? { layer: tf.layers.lstm({ units: 2 }) } : factory === "activation" ? { activation: "relu" } : {};
      if (factory in CUSTOM_LAYERS) {
        expect(makeLayer({ factory, custom: true, config: { numHeads: 1, keyDim: 1 } }, `l_${factory}`).getClassName(), factory).toBe(cls);
        continue;
      }
      expect(makeLayer({ factory, config }, `l_${factory}`).getClassName(), factory).toBe(cls);
    }
    expect(toSnakeCase("kernelInitializer")).toBe("kernel_initializer");
    expect(toSnakeCase("dilationRate")).toBe("dilation_rate");
  });

  it("round-trips every model bit for bit: interpreter → files → interpreter", () => {
    for (const { name, checked } of allModels()) {
      const a = randomized(checked, 3);
      const files = saveModel(a, INFO);
      const b = RuntimeModel.lower(checked, { seed: 99 }).model!;
      const r = applyWeights(b, reload(files), "saved", "spec");
      expect(r, name).toEqual({ ok: true, value: undefined });
      b.params.forEach((p, i) => expect(bytesOf(p.value).equals(bytesOf(a.params[i].value)), `${name} ${p.id}`).toBe(true));
      const x = inputsFor(a, 7, 1);
      expect(Buffer.from(predict(b, x, 7).buffer).equals(Buffer.from(predict(a, x, 7).buffer)), name).toBe(true);
    }
  });

  it("writes float32 little endian in tfjs's weight order (trainable, then frozen and moving statistics)", async () => {
    const checked = zooModel("frozen");
    const m = randomized(checked, 5);
    const files = saveModel(m, INFO);
    const ref = buildTfjs(checked);
    let specs: tf.io.WeightsManifestEntry[] = [];
    await ref.save(tf.io.withSaveHandler(async (a) => ((specs = a.weightSpecs ?? []), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } })));
    const mine = JSON.parse(files["model.json"]).weightsManifest[0].weights;
    expect(mine).toEqual(specs.map((s) => ({ name: s.name, shape: s.shape, dtype: "float32" })));
    expect(mine.map((w: { name: string }) => w.name)).toEqual(["dense_2/kernel", "dense_2/bias", "batchnorm_2/gamma", "batchnorm_2/beta", "dense_3/kernel", "dense_3/bias", "dense_1/kernel", "dense_1/bias", "batchnorm_1/gamma", "batchnorm_1/beta", "batchnorm_1/moving_mean", "batchnorm_1/moving_variance", "batchnorm_2/moving_mean", "batchnorm_2/moving_variance"]);
    const view = new DataView(files["weights.bin"].buffer, files["weights.bin"].byteOffset);
    const first = m.params.find((p) => p.id === "dense_2/kernel")!;
    expect(view.getFloat32(0, true)).toBe(first.value[0]);
    expect(files["weights.bin"].byteLength).toBe(4 * m.params.reduce((a, p) => a + p.value.length, 0));
  });

  it("opens in TensorFlow.js with the layers buildTfjs makes and predicts what the interpreter predicts (1e-5)", async () => {
    const models = allModels();
    expect(models.map((m) => m.name)).toEqual(expect.arrayContaining(Object.keys(ZOO).map((z) => `zoo/${z}`)));
    const used = new Set<string>();
    for (const { name, checked } of models) {
      const m = randomized(checked, 11);
      const files = saveModel(m, INFO);
      const loaded = await tfjsLoad(files);
      const ref = buildTfjs(checked);
      expect(loaded.layers.map((l) => l.name), name).toEqual(ref.layers.map((l) => l.name));
      for (const l of ref.layers) {
        used.add(l.getClassName());
        expect(loaded.getLayer(l.name).getClassName(), `${name} ${l.name}`).toBe(l.getClassName());
        expect(loaded.getLayer(l.name).getConfig(), `${name} ${l.name}`).toEqual(l.getConfig());
      }
      expect(loaded.trainableWeights.map((w) => w.originalName), name).toEqual(ref.trainableWeights.map((w) => w.originalName));
      if (m.inputs.length !== 1 || m.outputs.length !== 1) continue;
      const n = 5;
      const x = inputsFor(m, n, 2);
      const inp = m.tensors[m.inputs[0]];
      const mine = predict(m, x, n);
      const theirs = tf.tidy(() => (loaded.predict(tf.tensor(x, [n, ...inp.shape], inp.dtype === "int" ? "int32" : "float32")) as tf.Tensor).dataSync());
      expect(theirs.length, name).toBe(mine.length);
      let worst = 0;
      for (let i = 0; i < mine.length; i++) worst = Math.max(worst, Math.abs(mine[i] - theirs[i]) / Math.max(1, Math.abs(theirs[i])));
      expect(worst, name).toBeLessThan(1e-5);
      loaded.dispose();
      ref.dispose();
    }
    // Every class the save table names was exercised (InputLayer aside).
    for (const cls of Object.values(TFJS_CLASS_NAMES)) expect(used, cls).toContain(cls);
  }, 60_000);

  it("predicts a trained iris model in tfjs as the interpreter does", async () => {
    const f = specFile("specs/iris.nnspec");
    const t = f.checked.trains[1];
    const { data } = await loadData(t.data!, resolve("specs/iris.nnspec"));
    const cfg = trainConfig(t, { epochs: 20 });
    const m = RuntimeModel.lower(f.checked.models.get("iris_mlp")!, { seed: cfg.seed }).model!;
    train(m, data!, cfg);
    const loaded = await tfjsLoad(saveModel(m, { ...INFO, preprocess: data!.stats }));
    const mine = predict(m, data!.test.x, data!.test.n);
    const theirs = tf.tidy(() => (loaded.predict(tf.tensor(data!.test.x, [data!.test.n, 4])) as tf.Tensor).dataSync());
    for (let i = 0; i < mine.length; i++) expect(Math.abs(mine[i] - theirs[i])).toBeLessThan(1e-5);
  });

  it("refuses damaged files, naming the file and the fix", () => {
    const m = randomized(zooModel("frozen"), 1);
    const files = saveModel(m, INFO);
    const parse = (over: Partial<{ modelJson: string; weights: Uint8Array; sidecar: string }>) =>
      parseSaved({ dir: "out/x", modelJson: files["model.json"], weights: files["weights.bin"], sidecar: files["nnspec.json"], ...over });
    const err = (r: ReturnType<typeof parse>) => (r.ok ? "" : r.error);
    expect(err(parse({ modelJson: files["model.json"].slice(0, 100) }))).toMatch(/^out\/x\/model\.json is not valid JSON .*nnspec train/);
    expect(err(parse({ modelJson: "[1]" }))).toMatch(/out\/x\/model\.json does not hold a JSON object/);
    expect(err(parse({ modelJson: JSON.stringify({ format: "graph-model", modelTopology: {}, weightsManifest: [] }) }))).toMatch(/graph-model.*not a Layers model/);
    expect(err(parse({ modelJson: JSON.stringify({ modelTopology: { config: { layers: [] } } }) }))).toMatch(/no `weightsManifest`/);
    expect(err(parse({ weights: files["weights.bin"].subarray(0, 40) }))).toMatch(/out\/x\/weights\.bin holds 40 bytes, but out\/x\/model\.json lists 14 weights of \d+ float32 values/);
    const bad = JSON.parse(files["model.json"]);
    bad.weightsManifest[0].paths = ["../../etc/passwd"];
    expect(err(parse({ modelJson: JSON.stringify(bad) }))).toMatch(/not a file name inside out\/x/);
    const int = JSON.parse(files["model.json"]);
    int.weightsManifest[0].weights[0].dtype = "int32";
    expect(err(parse({ modelJson: JSON.stringify(int) }))).toMatch(/dense_2\/kernel.*int32.*float32 weights only/);
    expect(err(parse({ sidecar: "{}" }))).toMatch(/out\/x\/nnspec\.json is not an nnspec model description/);
    expect(err(parse({ sidecar: "{" }))).toMatch(/out\/x\/nnspec\.json is not valid JSON/);
  });

  it("refuses weights for another model, and says how the spec's model differs", () => {
    const saved = reload(saveModel(randomized(zooModel("frozen"), 1), INFO));
    const other = (text: string) => RuntimeModel.lower(modelOf(text), { seed: 1 }).model!;
    const wider = other(ZOO.frozen.replace("dense 8 relu trainable: false", "dense 9 relu trainable: false"));
    const r1 = applyWeights(wider, saved, "out/x", "specs/f.nnspec");
    expect(r1.ok ? "" : r1.error).toMatch(/layer `dense_1`: config\.units is 9 in the spec but 8 in the saved model; the model `frozen` in specs\/f\.nnspec is not the one saved in out\/x: train it again/);
    const act = other(ZOO.frozen.replace("dense 8 relu\n  batchnorm momentum", "dense 8 tanh\n  batchnorm momentum"));
    expect(topologyDifference(act, saved.topology)).toMatch(/layer `dense_2`: config\.activation is "tanh" in the spec but "relu"/);
    const fewer = other(ZOO.frozen.replace("  dense 3\n", "  dense 3\n  dense 3\n"));
    expect(topologyDifference(fewer, saved.topology)).toMatch(/layer `dense_4` \(Dense\) is not in the saved model/);
    // Freezing or unfreezing a layer is no difference: that is what fine-tuning does.
    const unfrozen = other(ZOO.frozen.replace(/ trainable: false/g, ""));
    expect(topologyDifference(unfrozen, saved.topology)).toBeUndefined();
    // A failed load copies nothing.
    const before = wider.snapshot();
    expect(wider.params.every((p, i) => bytesOf(p.value).equals(bytesOf(before[i])))).toBe(true);
  });

  it("fine-tunes a saved model with the spec's frozen layers left as saved", async () => {
    const f = specFile("specs/iris.nnspec");
    const t = f.checked.trains[1];
    const { data } = await loadData(t.data!, resolve("specs/iris.nnspec"));
    const cfg = trainConfig(t, { epochs: 5 });
    const base = RuntimeModel.lower(f.checked.models.get("iris_mlp")!, { seed: 1 }).model!;
    train(base, data!, cfg);
    const saved = reload(saveModel(base, INFO));
    const frozenSpec = modelOf(`model iris_mlp(x: [4]) -> logits: [3] {\n  dense 16 relu trainable: false\n  dense 3\n}`);
    const tuned = RuntimeModel.lower(frozenSpec, { seed: 7 }).model!;
    expect(applyWeights(tuned, saved, "dir", "spec").ok).toBe(true);
    train(tuned, data!, { ...cfg, epochs: 3 });
    const byId = (m: RuntimeModel, id: string) => Array.from(m.params.find((p) => p.id === id)!.value);
    expect(byId(tuned, "dense_1/kernel")).toEqual(byId(base, "dense_1/kernel"));
    expect(byId(tuned, "dense_1/bias")).toEqual(byId(base, "dense_1/bias"));
    expect(byId(tuned, "dense_2/kernel")).not.toEqual(byId(base, "dense_2/kernel"));
  });
});
