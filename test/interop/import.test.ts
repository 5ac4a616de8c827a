/**
 * `nnspec import`: models TensorFlow.js builds and saves here (random weights, every layer nnspec
 * reads) come back as specs whose interpreter predicts what tfjs predicts; every course model goes
 * round trip (saved → imported → the same topology and weights); what nnspec cannot express is
 * reported by JSON path and nothing is written; the CLI's import, summary and predict work on the result.
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { importModel, type ImportInput } from "../../src/interop/keras.ts";
import { CUSTOM_LAYERS } from "../../src/codegen/tfjs/layers.ts";
import { FileHost } from "../../src/node/host.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { predict } from "../../src/runtime/train.ts";
import { paramsOf } from "../../src/check/concrete.ts";
import { encodeWeights, modelJson, modelTopology } from "../../src/saved/save.ts";
import { main } from "../../src/cli/main.ts";
import { LAYERS } from "../../src/kinds/layers/registry.ts";
import { kerasClass } from "../../src/kinds/layers/keras.ts";
import { Dim } from "../../src/core/dims.ts";
import type { Json } from "../../src/core/json.ts";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { text: () => out.join(""), errors: () => err.join(""), io: { stdout: { write: (s: string) => out.push(s), isTTY: false }, stderr: { write: (s: string) => err.push(s) } } };
}

/** model.json and the weights, as `model.save` writes them. */
async function artifacts(m: tf.LayersModel): Promise<{ json: string; weights: Uint8Array }> {
  let json = "";
  let weights = new Uint8Array();
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      json = JSON.stringify({ format: "layers-model", generatedBy: "TensorFlow.js tfjs-layers v4.22.0", modelTopology: a.modelTopology, weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: a.weightSpecs }] });
      weights = new Uint8Array(a.weightData as ArrayBuffer);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  return { json, weights };
}

/** Imports the model and compares the interpreter's outputs with tfjs's on `x`. */
async function importAndCompare(m: tf.LayersModel, x: tf.Tensor | tf.Tensor[]): Promise<{ spec: string; maxErr: number }> {
  const a = await artifacts(m);
  const r = importModel({ json: a.json, shown: "model.json", weights: a.weights });
  expect(r.problems.filter((p) => p.severity === "error"), r.spec ?? "").toEqual([]);
  const low = RuntimeModel.lower(r.checked!, { seed: 0 });
  expect(low.errors).toEqual([]);
  const model = low.model!;
  for (const p of paramsOf(model)) p.value.set(r.weights!.get(p.id)!);
  const xs = Array.isArray(x) ? x : [x];
  expect(xs.length).toBe(1);
  const n = xs[0].shape[0];
  const mine = predict(model, (await xs[0].data()) as Float32Array, n);
  const want = (await (m.predict(x) as tf.Tensor).data()) as Float32Array;
  expect(mine.length).toBe(want.length);
  let maxErr = 0;
  for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(mine[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  expect(r.checked!.layers.reduce((s, l) => s + (l.params?.trainable ?? 0) + (l.params?.nonTrainable ?? 0), 0)).toBe(m.countParams());
  return { spec: r.spec!, maxErr };
}

const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, "float32", seed);

describe("models TensorFlow.js built and saved", () => {
  it("a dense stack with every activation, dropout, batch and layer norm, and activation layers", async () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [6], units: 12, activation: "relu", kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }) }));
    m.add(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 0.01 }));
    m.add(tf.layers.dense({ units: 10, activation: "tanh", useBias: false }));
    m.add(tf.layers.dropout({ rate: 0.3 }));
    m.add(tf.layers.dense({ units: 9, activation: "sigmoid" }));
    m.add(tf.layers.layerNormalization({ epsilon: 1e-5 }));
    m.add(tf.layers.dense({ units: 8, activation: "elu" }));
    m.add(tf.layers.leakyReLU({ alpha: 0.1 }));
    m.add(tf.layers.dense({ units: 8, activation: "gelu" }));
    m.add(tf.layers.activation({ activation: "relu" }));
    m.add(tf.layers.elu({}));
    m.add(tf.layers.dense({ units: 4, activation: "linear" }));
    m.add(tf.layers.softmax({}));
    // moving statistics away from 0 and 1, so that they matter
    const bn = m.layers[1].getWeights();
    m.layers[1].setWeights([...bn.slice(0, 2), ...bn.slice(2).map((w, i) => tf.randomUniform(w.shape, 0.5, 1.5, "float32", 9 + i))]);
    const r = await importAndCompare(m, rand([7, 6], 1));
    expect(r.maxErr).toBeLessThan(1e-6);
    expect(r.spec).toContain("l2: 0.01");
    expect(r.spec).toContain("leaky_relu 0.1");
    expect(r.spec).toContain("use_bias: false");
  });

  it("convolutions and pools in 1-D and 2-D, flatten and reshape", async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [12, 12, 2], filters: 4, kernelSize: 3, activation: "relu", padding: "same" }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 5, kernelSize: [3, 2], strides: [2, 1] }));
    m.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: "same" }));
    m.add(tf.layers.flatten({}));
    m.add(tf.layers.reshape({ targetShape: [10, 5] }));
    m.add(tf.layers.conv1d({ filters: 6, kernelSize: 3, dilationRate: 2, activation: "tanh" }));
    m.add(tf.layers.maxPooling1d({ poolSize: 2 }));
    m.add(tf.layers.averagePooling1d({ poolSize: 1 }));
    m.add(tf.layers.globalAveragePooling1d({}));
    m.add(tf.layers.dense({ units: 3 }));
    const r = await importAndCompare(m, rand([3, 12, 12, 2], 2));
    expect(r.maxErr).toBeLessThan(1e-6);
    for (const f of [
      (s: tf.Sequential) => s.add(tf.layers.globalMaxPooling2d({})),
      (s: tf.Sequential) => s.add(tf.layers.globalAveragePooling2d({})),
    ]) {
      const g = tf.sequential();
      g.add(tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 2 }));
      f(g);
      expect((await importAndCompare(g, rand([2, 6, 6, 1], 3))).maxErr).toBeLessThan(1e-6);
    }
    const g = tf.sequential();
    g.add(tf.layers.conv1d({ inputShape: [9, 2], filters: 3, kernelSize: 2 }));
    g.add(tf.layers.globalMaxPooling1d({}));
    expect((await importAndCompare(g, rand([2, 9, 2], 4))).maxErr).toBeLessThan(1e-6);
  });

  it("an embedding with recurrent layers: simple RNN, LSTM, GRU and a bidirectional LSTM", async () => {
    const m = tf.sequential();
    m.add(tf.layers.embedding({ inputShape: [7], inputDim: 20, outputDim: 6 }));
    m.add(tf.layers.simpleRNN({ units: 5, returnSequences: true }));
    m.add(tf.layers.gru({ units: 4, returnSequences: true }));
    m.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, returnSequences: true }) as tf.RNN, mergeMode: "sum" }));
    m.add(tf.layers.lstm({ units: 4, goBackwards: true, recurrentActivation: "hardSigmoid" }));
    m.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    const ids = tf.randomUniform([4, 7], 0, 20, "int32", 5);
    const r = await importAndCompare(m, ids);
    expect(r.maxErr).toBeLessThan(1e-6);
    // an input only embeddings read is declared `int`
    expect(r.spec).toMatch(/\(input: int\[7\]\)/);
    expect(r.spec).toContain("bidirectional: sum");
  });

  it("a functional graph: an add, a concatenation, and an LSTM's states handed to another", async () => {
    const x = tf.input({ shape: [5, 3], name: "seq" });
    const [out, h, c] = tf.layers.lstm({ units: 4, returnState: true, returnSequences: true, name: "enc" }).apply(x) as tf.SymbolicTensor[];
    const dec = tf.layers.lstm({ units: 4, name: "dec" }).apply([out, h, c]) as tf.SymbolicTensor;
    const d1 = tf.layers.dense({ units: 4, activation: "relu", name: "d1" }).apply(dec) as tf.SymbolicTensor;
    const s = tf.layers.add({ name: "res" }).apply([d1, h]) as tf.SymbolicTensor;
    const j = tf.layers.concatenate({ name: "join" }).apply([s, c]) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 2, name: "head" }).apply(j) as tf.SymbolicTensor;
    const m = tf.model({ inputs: x, outputs: y });
    const r = await importAndCompare(m, rand([3, 5, 3], 6));
    expect(r.maxErr).toBeLessThan(1e-6);
    expect(r.spec).toMatch(/enc, enc_h, enc_c = lstm 4 [^=]*return_sequences: true, return_state: true/);
    expect(r.spec).toContain("initial_state: [enc_h, enc_c]");
  });

  it("nnspec's attention and positional embedding layers, registered with tfjs", async () => {
    const x = tf.input({ shape: [6, 8], name: "tokens" });
    const p = new CUSTOM_LAYERS.PositionalEmbedding({ mode: "learned", maxWavelength: 10000, name: "pos" } as never).apply(x) as tf.SymbolicTensor;
    const a = new CUSTOM_LAYERS.MultiHeadAttention({ numHeads: 2, keyDim: 4, valueDim: 4, dropout: 0, causal: true, useBias: true, inputs: 1, name: "att" } as never).apply(p) as tf.SymbolicTensor;
    const g = tf.layers.globalAveragePooling1d({ name: "pool" }).apply(a) as tf.SymbolicTensor;
    const m = tf.model({ inputs: x, outputs: g });
    const r = await importAndCompare(m, rand([2, 6, 8], 7));
    expect(r.maxErr).toBeLessThan(1e-6);
    expect(r.spec).toContain("causal: true");
  });
});

describe("every layer kind reads back", () => {
  it("claims the Keras class its own tfjs mapping writes", () => {
    const required: Record<string, Json> = { units: 2, filters: 2, kernel: 2, rate: 0.1, shape: [2], vocab: 3, dim: 2, heads: 1, key_dim: 2, inputs: ["a", "b"] };
    for (const kind of LAYERS.values()) {
      const opts: Record<string, Json> = {};
      for (const [k, p] of Object.entries(kind.schema.properties ?? {})) opts[k] = (p.default as Json) ?? required[k];
      const spec = kind.tfjs(opts, [[Dim.of(4), Dim.of(3)]]);
      expect(kind.keras?.classes, kind.name).toContain(kerasClass(spec.factory));
    }
  });
});

describe("what nnspec cannot express", () => {
  const refusal = async (m: tf.LayersModel) => {
    const a = await artifacts(m);
    return importModel({ json: a.json, shown: "model.json", weights: a.weights });
  };

  it("names each layer nnspec lacks and each option it cannot take, by JSON path, all at once, and writes no spec", async () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 8, activation: "selu" }));
    m.add(tf.layers.repeatVector({ n: 3 }));
    m.add(tf.layers.conv1d({ filters: 2, kernelSize: 2, kernelConstraint: tf.constraints.maxNorm({ maxValue: 2 }) }));
    m.add(tf.layers.flatten({}));
    m.add(tf.layers.dense({ units: 2 }));
    const r = await refusal(m);
    const errors = r.problems.filter((p) => p.severity === "error");
    expect(r.spec).toBeUndefined();
    expect(errors.map((p) => p.path)).toEqual(expect.arrayContaining(["modelTopology.config.layers[0].config.activation", "modelTopology.config.layers[1].class_name"]));
    expect(errors.find((p) => p.path.endsWith("layers[1].class_name"))!.message).toMatch(/RepeatVector.*reads .*Dense/);
  });

  it("refuses options the spec cannot carry, found by saving the imported model again", async () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 3, kernelConstraint: tf.constraints.maxNorm({ maxValue: 2 }) }));
    const r = await refusal(m);
    expect(r.spec).toBeUndefined();
    expect(r.problems).toContainEqual(expect.objectContaining({ severity: "error", path: "modelTopology.config.layers[0].config.kernel_constraint" }));
  });

  it("refuses a shared layer, a graph model and damaged JSON with what to do", async () => {
    const x = tf.input({ shape: [3] });
    const d = tf.layers.dense({ units: 3 });
    const y = d.apply(d.apply(x)) as tf.SymbolicTensor;
    const shared = await refusal(tf.model({ inputs: x, outputs: y }));
    expect(shared.problems[0].message).toMatch(/applied 2 times.*own layer/);
    const graph = importModel({ json: JSON.stringify({ format: "graph-model", modelTopology: { node: [] } }), shown: "g.json" });
    expect(graph.problems[0].message).toMatch(/graph model.*tensorflowjs_converter --input_format keras/);
    const bad = importModel({ json: "{ not json", shown: "x.json" });
    expect(bad.problems[0].message).toMatch(/x\.json is not valid JSON/);
  });
});

describe("Keras model configs (`model.to_json()`)", () => {
  it("reads Keras 3's functional form (batch_shape, keras tensors, VarianceScaling, L2) without weights", () => {
    const init = (c: string, config: object = { seed: null }) => ({ module: "keras.initializers", class_name: c, config, registered_name: null });
    const tensor = (layer: string) => ({ class_name: "__keras_tensor__", config: { shape: [null, 4], dtype: "float32", keras_history: [layer, 0, 0] } });
    const dense = (name: string, units: number, activation: string, from: string) => ({
      module: "keras.layers",
      class_name: "Dense",
      config: { name, trainable: true, dtype: { module: "keras", class_name: "DTypePolicy", config: { name: "float32" }, registered_name: null }, units, activation, use_bias: true, kernel_initializer: init("GlorotUniform"), bias_initializer: init("Zeros", {}), kernel_regularizer: { module: "keras.regularizers", class_name: "L2", config: { l2: 0.001 }, registered_name: null }, bias_regularizer: null, kernel_constraint: null, bias_constraint: null },
      registered_name: null,
      build_config: { input_shape: [null, 4] },
      name,
      inbound_nodes: [{ args: [tensor(from)], kwargs: {} }],
    });
    const json = {
      module: "keras.src.models.functional",
      class_name: "Functional",
      config: {
        name: "penguins",
        trainable: true,
        layers: [
          { module: "keras.layers", class_name: "InputLayer", config: { batch_shape: [null, 4], dtype: "float32", sparse: false, name: "features" }, registered_name: null, name: "features", inbound_nodes: [] },
          dense("hidden", 16, "relu", "features"),
          dense("species", 3, "softmax", "hidden"),
        ],
        input_layers: [["features", 0, 0]],
        output_layers: ["species", 0, 0],
      },
      registered_name: "Functional",
    };
    const r = importModel({ json: JSON.stringify(json), shown: "penguins.json" });
    expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(r.format).toBe("keras");
    expect(r.weights).toBeUndefined();
    expect(r.spec).toContain("model penguins(features: [4]) -> species: [3] {");
    expect(r.spec).toContain("hidden = dense 16 relu l2: 0.001");
    expect(r.spec).toContain("species = dense 3 softmax l2: 0.001");
  });

  it("reads a Keras 3 bidirectional LSTM with its backward layer written out and use_cudnn", () => {
    const lstm = (name: string, back: boolean) => ({ module: "keras.layers", class_name: "LSTM", config: { name, trainable: true, dtype: "float32", return_sequences: false, return_state: false, go_backwards: back, stateful: false, unroll: false, zero_output_for_mask: true, units: 8, activation: "tanh", recurrent_activation: "sigmoid", use_bias: true, kernel_initializer: { module: "keras.initializers", class_name: "GlorotUniform", config: { seed: null }, registered_name: null }, recurrent_initializer: { module: "keras.initializers", class_name: "Orthogonal", config: { seed: null, gain: 1.0 }, registered_name: null }, bias_initializer: { module: "keras.initializers", class_name: "Zeros", config: {}, registered_name: null }, unit_forget_bias: true, kernel_regularizer: null, recurrent_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, recurrent_constraint: null, bias_constraint: null, dropout: 0.0, recurrent_dropout: 0.0, seed: null, use_cudnn: "auto" }, registered_name: null });
    const json = {
      module: "keras",
      class_name: "Sequential",
      config: {
        name: "seq",
        layers: [
          { module: "keras.layers", class_name: "InputLayer", config: { batch_shape: [null, 10, 3], dtype: "float32", sparse: false, name: "steps" }, registered_name: null },
          { module: "keras.layers", class_name: "Bidirectional", config: { name: "bi", trainable: true, dtype: "float32", merge_mode: "concat", layer: lstm("forward_lstm", false), backward_layer: lstm("backward_lstm", true) }, registered_name: null },
        ],
      },
    };
    const r = importModel({ json: JSON.stringify(json), shown: "k3.json" });
    expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(r.spec).toContain("bi = lstm 8 bidirectional: concat");
    // a backward layer that is not the forward one reversed is refused
    json.config.layers[1].config.backward_layer!.config.units = 4;
    const bad = importModel({ json: JSON.stringify(json), shown: "k3.json" });
    expect(bad.problems).toContainEqual(expect.objectContaining({ severity: "error", path: "config.layers[1].config.backward_layer" }));
  });

  it("reads Keras 2's Sequential form (layers with batch_input_shape) and names an unknown initializer as a warning", () => {
    const json = {
      class_name: "Sequential",
      config: {
        name: "sequential",
        layers: [
          { class_name: "Dense", config: { name: "dense", trainable: true, batch_input_shape: [null, 8], dtype: "float32", units: 4, activation: "tanh", use_bias: true, kernel_initializer: { class_name: "Constant", config: { value: 0.1 } }, bias_initializer: { class_name: "Zeros", config: {} }, kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null } },
          { class_name: "Dense", config: { name: "dense_1", trainable: false, dtype: "float32", units: 1, activation: "sigmoid", use_bias: true, kernel_initializer: { class_name: "GlorotUniform", config: { seed: null } }, bias_initializer: { class_name: "Zeros", config: {} }, kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null } },
        ],
      },
      keras_version: "2.15.0",
      backend: "tensorflow",
    };
    const r = importModel({ json: JSON.stringify(json), shown: "seq.json" });
    expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(r.problems).toContainEqual(expect.objectContaining({ severity: "warning", path: "config.layers[0].config.kernel_initializer" }));
    expect(r.spec).toContain("model sequential(input: [8]) -> dense_1: [1] {");
    expect(r.spec).toMatch(/dense 1 sigmoid trainable: false/);
  });
});

describe("round trip of the course models", () => {
  const specs = readdirSync("specs").filter((f) => f.endsWith(".nnspec"));
  it("every model saved by nnspec imports back to the same topology and the same weights", () => {
    let models = 0;
    for (const f of specs) {
      const file = new FileHost().analyse(resolve("specs", f), `specs/${f}`);
      for (const [name, checked] of file.checked.models) {
        const m = RuntimeModel.lower(checked, { seed: 3 }).model!;
        const input: ImportInput = {
          json: modelJson(m),
          shown: "model.json",
          weights: encodeWeights(m),
          sidecar: { model: name, inputs: m.inputs.map((i) => ({ name: m.tensors[i].name })), outputs: m.outputs.map((o) => ({ name: m.tensors[o].name })) },
        };
        const r = importModel(input);
        expect(r.problems, `${f} ${name}`).toEqual([]);
        expect(r.model).toBe(name);
        // block layers (`encoder_1.a`) come back with `_` for the dot; everything else is the same text
        const again = JSON.stringify(modelTopology(r.concrete!));
        expect(again, `${f} ${name}`).toBe(JSON.stringify(modelTopology(m)).replace(/(encoder_\d)\.(\w+)/g, "$1_$2"));
        const back = RuntimeModel.lower(r.checked!, { seed: 0 }).model!;
        for (const p of paramsOf(back)) p.value.set(r.weights!.get(p.id)!);
        expect(Buffer.from(encodeWeights(back)).equals(Buffer.from(encodeWeights(m))), `${f} ${name}`).toBe(true);
        models++;
      }
    }
    expect(models).toBeGreaterThan(25);
  });

  it("course models that write no default come back as the spec's own text", () => {
    for (const [f, name] of [["iris", "iris_mlp"], ["fashion_lstm", "fashion_lstm"], ["wine", "wine_mlp"]]) {
      const file = new FileHost().analyse(resolve(`specs/${f}.nnspec`), `specs/${f}.nnspec`);
      const m = RuntimeModel.lower(file.checked.models.get(name)!, { seed: 1 }).model!;
      const r = importModel({ json: modelJson(m), shown: "model.json", weights: encodeWeights(m), sidecar: { model: name, inputs: [{ name: "x" }] } });
      const body = (t: string) => t.slice(t.indexOf("{", t.indexOf(`model ${name}`)), t.indexOf("}", t.indexOf(`model ${name}`))).replace(/\s*#.*$/gm, "").trim();
      expect(body(r.spec!)).toBe(body(readFileSync(`specs/${f}.nnspec`, "utf8")));
    }
  });
});

describe("nnspec import on the command line", () => {
  it("writes the spec and the saved model; summary gives tfjs's parameter count and predict tfjs's predictions", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnspec-import-"));
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 16, activation: "relu", name: "hidden" }));
    m.add(tf.layers.dense({ units: 3, activation: "softmax", name: "species" }));
    const a = await artifacts(m);
    mkdirSync(join(dir, "web"));
    writeFileSync(join(dir, "web/model.json"), a.json);
    writeFileSync(join(dir, "web/group1-shard1of1.bin"), a.weights);
    const x = rand([6, 4], 11);
    writeFileSync(join(dir, "rows.csv"), "a,b,c,d\n" + (x.arraySync() as number[][]).map((r) => r.join(",")).join("\n") + "\n");

    // the folder tfjs wrote is not yet a model nnspec opens: the error says how to import it
    const before = io();
    expect(await main(["predict", join(dir, "x.nnspec"), "--model", join(dir, "web"), "--input", join(dir, "rows.csv")], before.io)).toBe(1);
    expect(before.errors()).toContain(`nnspec import ${join(dir, "web", "model.json")}`);

    const run = io();
    expect(await main(["import", join(dir, "web/model.json"), "--out", join(dir, "out")], run.io), run.errors()).toBe(0);
    const name = m.name;
    const spec = join(dir, `out/${name}.nnspec`);
    expect(existsSync(spec)).toBe(true);
    expect(readdirSync(join(dir, `out/${name}`)).sort()).toEqual(["model.json", "nnspec.json", "weights.bin"]);

    const sum = io();
    expect(await main(["summary", spec, "--format", "json"], sum.io)).toBe(0);
    const models = JSON.parse(sum.text()).files[0].models;
    expect(models[0].totals.params).toBe(m.countParams());

    const pred = io();
    expect(await main(["predict", spec, "--model", join(dir, `out/${name}`), "--input", join(dir, "rows.csv")], pred.io), pred.errors()).toBe(0);
    const rows = pred.text().trim().split("\n");
    expect(rows[0]).toBe("species_0,species_1,species_2");
    const want = (m.predict(x) as tf.Tensor).arraySync() as number[][];
    rows.slice(1).forEach((r, i) => r.split(",").forEach((v, k) => expect(Math.abs(Number(v) - want[i][k])).toBeLessThan(1e-6)));

    // with a data block that gives the categories their codes, predict reads the named, text columns
    const coded = tf.sequential();
    coded.add(tf.layers.dense({ inputShape: [2], units: 1, name: "rings" }));
    const c = await artifacts(coded);
    mkdirSync(join(dir, "coded"));
    writeFileSync(join(dir, "coded/model.json"), c.json);
    writeFileSync(join(dir, "coded/group1-shard1of1.bin"), c.weights);
    const ci = io();
    expect(await main(["import", join(dir, "coded/model.json"), "--out", join(dir, "out3")], ci.io), ci.errors()).toBe(0);
    const cspec = join(dir, `out3/${coded.name}.nnspec`);
    writeFileSync(join(dir, "out3/ab.csv"), "sex,length,rings\nM,0.45,15\nF,0.53,9\nI,0.33,7\nM,0.44,10\nF,0.55,8\n");
    writeFileSync(cspec, readFileSync(cspec, "utf8") + `\ndata ab {\n  from "ab.csv" header: true\n  features sex, length\n  codes sex: [F, M, I]\n  label rings: regression\n}\n\ntrain ${coded.name} on ab {\n  loss mse\n  optimizer sgd\n}\n`);
    writeFileSync(join(dir, "ab-rows.csv"), "sex,length\nI,0.4\nF,0.5\n");
    const cp = io();
    expect(await main(["predict", cspec, "--model", join(dir, `out3/${coded.name}`), "--input", join(dir, "ab-rows.csv")], cp.io), cp.errors()).toBe(0);
    const want2 = (coded.predict(tf.tensor2d([[2, 0.4], [0, 0.5]])) as tf.Tensor).arraySync() as number[][];
    cp.text().trim().split("\n").slice(1).forEach((v, i) => expect(Math.abs(Number(v) - want2[i][0])).toBeLessThan(1e-6));

    // a model it cannot express: exit 1, every problem named, nothing written
    const bad = tf.sequential();
    bad.add(tf.layers.dense({ inputShape: [4], units: 2, activation: "selu" }));
    bad.add(tf.layers.repeatVector({ n: 2 }));
    const b = await artifacts(bad);
    mkdirSync(join(dir, "bad"));
    writeFileSync(join(dir, "bad/model.json"), b.json);
    writeFileSync(join(dir, "bad/group1-shard1of1.bin"), b.weights);
    const no = io();
    expect(await main(["import", join(dir, "bad/model.json"), "--out", join(dir, "out2")], no.io)).toBe(1);
    expect(no.errors()).toMatch(/layers\[0\]\.config\.activation/);
    expect(no.errors()).toMatch(/layers\[1\]\.class_name/);
    expect(no.errors()).toContain("nothing was written");
    expect(existsSync(join(dir, "out2"))).toBe(false);
  });
});
