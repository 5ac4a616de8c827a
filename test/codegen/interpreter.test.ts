/**
 * The generated TensorFlow.js code against nnspec's own interpreter (src/runtime/).
 *
 * Each case starts both from the same weights: the interpreter's initial weights, encoded in the
 * TensorFlow.js weights format its `nnspec train` saves (`encodeWeights`, tfjs's weight order),
 * are loaded into the generated model. Both then train with the spec's settings on the same data
 * (the runtime's `loadData`; the generated module loads its own through the runtime entry) in the
 * same batch order. After every epoch (≥ 20 steps in all) the training loss and val_loss agree
 * within 1e-4 relative, and so does every metric the interpreter logs (on both splits); at the
 * end every weight tensor agrees within 1e-4 of its largest value; early stopping stops both at
 * the same epoch.
 *
 * The cases cover every optimizer (sgd, nesterov, momentum, adagrad, rmsprop, adam, adamw), every
 * loss (mse, mae, huber, binary cross-entropy with and without logits and label smoothing,
 * categorical and sparse cross-entropy with and without logits), L2 penalties, every schedule,
 * early stopping with restore_best, a graph model (add, concat), batchnorm, layernorm, a leaky_relu
 * activation, centered RMSprop (generated code uses nnspec's helper with TensorFlow's formula; tfjs 4.22's
 * own is NaN for constant gradients), dropout (generated code's SeededDropout draws the interpreter's
 * masks; with Adam and with batchnorm + SGD) and a small CNN. specs/dropout_batchnorm.nnspec itself
 * (batchnorm, dropout and Adam together) is left out: its losses agree, but Adam magnifies float32
 * rounding in the near-zero gradients batchnorm leaves, and its weights drift about 1.4e-4 of their
 * largest value per epoch.
 *
 * Finally weights move both ways: the interpreter's trained weights loaded into the generated model
 * predict what the interpreter predicts, and the generated model's trained weights loaded into the
 * interpreter predict what tfjs predicts.
 */
import * as tf from "@tensorflow/tfjs";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSpecs, specStem, writeBuilt } from "../../src/codegen/tfjs/build.ts";
import { loadData } from "../../src/data/index.ts";
import type { LoadedData } from "../../src/data/runtime.ts";
import { FileHost, type CheckedFile } from "../../src/node/host.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { encodeWeights, tfjsWeightOrder, weightSpecs } from "../../src/saved/save.ts";
import { predict, train, trainConfig } from "../../src/runtime/train.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const work = join(root, "tmp", `codegen-interp-${process.pid}`);
const DATA = join(root, "specs", "data");

interface Training {
  name: string;
  loadData(): Promise<LoadedData>;
  createModel(): tf.LayersModel;
  compile(model: tf.LayersModel): void;
  train(model: tf.LayersModel, data: LoadedData, options?: { epochs?: number }): Promise<tf.History>;
}
interface Module {
  TRAININGS: readonly Training[];
}

/** Specs the course does not have, for the losses, schedules and layers the shipped ones do not use. */
const EXTRA = `
data iris {
  from ${JSON.stringify(join(DATA, "iris.csv"))} skip: 1
  columns sepal_length, sepal_width, petal_length, petal_width, species
  label species: onehot(3, names: [setosa, versicolor, virginica])
  standardize
  split train: 0.7, val: 0.15, test: 0.15, stratified, seed: 42
}
data iris_classes {
  from ${JSON.stringify(join(DATA, "iris.csv"))} skip: 1
  columns sepal_length, sepal_width, petal_length, petal_width, species
  label species: class(3, names: [setosa, versicolor, virginica])
  standardize
  split train: 0.7, val: 0.15, test: 0.15, stratified, seed: 42
}
data cancer {
  from ${JSON.stringify(join(DATA, "breast_cancer.csv"))} skip: 1
  features 0..29
  label 30: binary
  standardize
  split train: 0.7, val: 0.15, test: 0.15, stratified, seed: 42
}
data boston {
  from ${JSON.stringify(join(DATA, "boston_house_prices.csv"))} skip: 1, header: true
  features CRIM..LSTAT
  label MEDV: regression
  standardize
  split train: 0.8, test: 0.2, seed: 42
}
data digits {
  from ${JSON.stringify(join(DATA, "digits.csv.gz"))}
  features 0..63
  label 64: class(10)
  scale 1 / 16
  reshape [8, 8, 1]
  split train: 0.8, test: 0.2, stratified, seed: 42
}

model softmax_mlp(x: [4]) -> p: [3] {
  dense 12 activation: leaky_relu(0.1)
  dense 3 softmax
}
model logits_mlp(x: [4]) -> logits: [3] {
  dense 12 relu
  layernorm
  dense 3
}
model cancer_logit(x: [30]) -> logit: [1] {
  dense 8 use_bias: false
  batchnorm momentum: 0.9
  relu
  dense 1
}
model cancer_prob(x: [30]) -> p: [1] {
  dense 8 relu
  dense 1 sigmoid
}
model regressor(x: [13]) -> y: [1] {
  dense 16 tanh
  dense 1
}
model bn_dropout(x: [8, 8, 1]) -> logits: [10] {
  flatten
  dense 64 use_bias: false
  batchnorm
  relu
  dropout 0.3
  dense 10
}
model drop_mlp(x: [4]) -> logits: [3] {
  dense 16 relu
  dropout 0.4
  dense 8 relu
  dropout 0.25 seed: 7
  dense 3
}
data digit_rows {
  from ${JSON.stringify(join(DATA, "digits.csv.gz"))}
  features 0..63
  label 64: class(10)
  scale 1 / 16
  reshape [8, 8]
  split train: 0.8, test: 0.2, stratified, seed: 42
}
model rows_rnn(x: [8, 8]) -> logits: [10] {
  lstm 8 return_sequences: true bidirectional: concat
  gru 6 go_backwards: true
  dense 10
}
model tiny_cnn(image: [8, 8, 1]) -> logits: [10] {
  conv2d 4 kernel: 3 relu
  maxpool2d 2
  flatten
  dense 10
}

train softmax_mlp on iris {
  loss cross_entropy(label_smoothing: 0.1)
  optimizer adam lr: 0.01
  epochs 4
  batch 16
  seed 5
  metrics accuracy
}
train softmax_mlp on iris {
  loss cross_entropy
  optimizer sgd lr: 0.2
  schedule cosine epochs: 4, min_lr: 0.01
  epochs 4
  batch 16
  seed 5
}
train softmax_mlp on iris_classes {
  loss sparse_cross_entropy
  optimizer sgd lr: 0.3, momentum: 0.5
  schedule step every: 1, factor: 0.5
  epochs 4
  batch 16
  seed 5
  metrics accuracy
}
train logits_mlp on iris {
  loss cross_entropy(from_logits: true, label_smoothing: 0.2)
  optimizer rmsprop lr: 0.01, momentum: 0.5
  schedule reduce_on_plateau factor: 0.5, patience: 1
  epochs 5
  batch 16
  seed 5
  metrics accuracy
  early_stopping monitor: val_accuracy, patience: 2, restore_best
}
train logits_mlp on iris_classes {
  loss sparse_cross_entropy(from_logits: true)
  optimizer rmsprop lr: 0.01, momentum: 0.3, centered
  epochs 3
  batch 16
  seed 5
}
train logits_mlp on iris_classes {
  loss sparse_cross_entropy(from_logits: true)
  optimizer sgd lr: 0.8
  epochs 6
  batch 8
  seed 5
  early_stopping patience: 1, restore_best
}
train cancer_logit on cancer {
  loss binary_cross_entropy(from_logits: true, label_smoothing: 0.1)
  optimizer adam lr: 0.01
  epochs 2
  batch 32
  seed 5
  metrics accuracy, precision, recall, f1
}
train cancer_prob on cancer {
  loss binary_cross_entropy(label_smoothing: 0.05)
  optimizer adamw lr: 0.01, weight_decay: 0.1
  epochs 2
  batch 32
  seed 5
}
train regressor on boston {
  loss mae
  optimizer adagrad lr: 0.1
  schedule exponential rate: 0.8
  epochs 2
  batch 32
  seed 5
  metrics mae, r2
}
train regressor on boston {
  loss huber(delta: 2)
  optimizer momentum lr: 0.01, nesterov: true
  epochs 2
  batch 32
  seed 5
}
train drop_mlp on iris_classes {
  loss sparse_cross_entropy(from_logits: true)
  optimizer adam lr: 0.01
  epochs 4
  batch 16
  seed 5
  metrics accuracy
}
train bn_dropout on digits {
  loss sparse_cross_entropy(from_logits: true)
  optimizer sgd lr: 0.05
  epochs 2
  batch 32
  seed 3
  metrics accuracy
}
train rows_rnn on digit_rows {
  loss sparse_cross_entropy(from_logits: true)
  optimizer adam lr: 0.01
  epochs 1
  batch 64
  seed 5
  metrics accuracy
}
train tiny_cnn on digits {
  loss sparse_cross_entropy(from_logits: true)
  optimizer adam lr: 0.01
  epochs 1
  batch 64
  seed 5
  metrics accuracy
}
`;

interface Case {
  label: string;
  file: CheckedFile;
  specPath: string;
  mod: Module;
  index: number;
  epochs?: number;
}

const cases: Case[] = [];
const SHIPPED: [string, number[], number?][] = [
  ["optimizers", [0, 1, 2, 3, 4, 5, 6]],
  ["iris", [0, 1]],
  ["boston_linear", [0], 2],
  ["breast_cancer", [0], 2],
  ["l2_comparison", [1], 2],
  ["lr_schedule", [3]],
  ["residual", [0]],
  ["digits", [0], 2],
];

beforeAll(async () => {
  await tf.setBackend("cpu");
  const host = new FileHost();
  for (const [name, indices, epochs] of SHIPPED) {
    const specPath = join(root, "specs", `${name}.nnspec`);
    const file = host.analyse(specPath, `specs/${name}.nnspec`);
    const mod = (await import(pathToFileURL(join(root, "generated", name, `${name}.ts`)).href)) as Module;
    for (const index of indices) cases.push({ label: `${name} #${index}`, file, specPath, mod, index, epochs: epochs ?? 3 });
  }
  mkdirSync(work, { recursive: true });
  const specPath = join(work, "extra.nnspec");
  writeFileSync(specPath, EXTRA);
  const built = await buildSpecs([specPath], { cwd: root, outRoot: join(work, "out") });
  expect(built.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.span.line}: ${d.message}`)).toEqual([]);
  expect(built.errors).toEqual([]);
  writeBuilt(built.files);
  const mod = (await import(pathToFileURL(join(work, "out", specStem(specPath), `${specStem(specPath)}.ts`)).href)) as Module;
  const file = host.analyse(specPath, specPath);
  file.checked.trains.forEach((t, index) => cases.push({ label: `extra #${index} (${t.model?.name}, ${t.loss?.kind}, ${t.optimizer?.kind}${t.schedule ? `, ${t.schedule.kind}` : ""})`, file, specPath, mod, index }));
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The interpreter's weights as tfjs tensors, through the saved tfjs weights format (float32 little endian, tfjs's order). */
function savedWeights(rm: RuntimeModel): tf.Tensor[] {
  const bytes = encodeWeights(rm);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  return weightSpecs(rm).map((w) => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++, off += 4) values[i] = view.getFloat32(off, true);
    return tf.tensor(values, w.shape);
  });
}

const close = (a: number, b: number, rel: number): boolean => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-6);

describe("generated code and the interpreter", () => {
  it("has its cases", () => expect(cases.length).toBeGreaterThanOrEqual(25));

  it("agree on losses and weights, case by case", async () => {
    const problems: string[] = [];
    const loaded = new Map<string, LoadedData>();
    for (const c of cases) {
      const t = c.file.checked.trains[c.index];
      const key = `${c.specPath}#${t.data!.name}`;
      if (!loaded.has(key)) loaded.set(key, (await loadData(t.data!, c.specPath)).data!);
      const data = loaded.get(key)!;
      const cfg = trainConfig(t, { epochs: c.epochs });
      const lowered = RuntimeModel.lower(c.file.checked.models.get(t.model!.name)!, { seed: cfg.seed });
      expect(lowered.errors, c.label).toEqual([]);
      const rm = lowered.model!;
      const gen = c.mod.TRAININGS[c.index];
      const model = gen.createModel();
      const initial = savedWeights(rm);
      model.setWeights(initial);
      tf.dispose(initial);
      gen.compile(model);
      const history = await gen.train(model, await gen.loadData(), { epochs: c.epochs });
      if (process.env.SHOW) console.log(c.label, history.epoch.length, JSON.stringify(history.history.val_loss ?? history.history.loss));
      const result = train(rm, { train: data.train, val: data.val }, cfg);

      const ours = history.history;
      if (history.epoch.length !== result.history.length) problems.push(`${c.label}: tfjs ran ${history.epoch.length} epochs, the interpreter ${result.history.length}`);
      result.history.forEach((r, e) => {
        // The metrics too, on both splits: precision, recall, F1, RMSE and R² pooled over the epoch (PooledScores).
        for (const k of Object.keys(r.values).filter((x) => x !== "loss" && x !== "val_loss")) {
          const a = Number(ours[k]?.[e]);
          const b = r.values[k];
          if (!(k in ours)) problems.push(`${c.label}: tfjs logs no ${k}`);
          else if (Math.abs(a - b) > 1e-4 * Math.max(1, Math.abs(b))) problems.push(`${c.label}: epoch ${e + 1} ${k} ${a} (tfjs) vs ${b} (interpreter)`);
        }
        for (const k of ["loss", "val_loss"]) {
          const a = Number(ours[k]?.[e]);
          const b = r.values[k];
          if (b !== undefined && !close(a, b, 1e-4)) problems.push(`${c.label}: epoch ${e + 1} ${k} ${a} (tfjs) vs ${b} (interpreter)`);
        }
      });
      const params = tfjsWeightOrder(rm);
      model.getWeights().forEach((w, i) => {
        const a = w.dataSync();
        const b = params[i].value;
        let scale = 1e-3;
        let worst = 0;
        for (let j = 0; j < b.length; j++) scale = Math.max(scale, Math.abs(b[j]));
        for (let j = 0; j < b.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
        if (a.length !== b.length || worst > 1e-4 * scale) problems.push(`${c.label}: weight ${params[i].id} differs by ${worst} (largest value ${scale})`);
      });
      model.optimizer.dispose();
      model.dispose();
    }
    expect(problems).toEqual([]);
  }, 60_000);

  it("load each other's trained weights and predict the same", async () => {
    const c = cases.find((x) => x.label.startsWith("extra #5"))!; // batchnorm: moving statistics travel too
    const t = c.file.checked.trains[c.index];
    const data = (await loadData(t.data!, c.specPath)).data!;
    const cfg = trainConfig(t);
    const gen = c.mod.TRAININGS[c.index];
    const x = tf.tensor(data.test.x, [data.test.n, ...data.test.featureShape]);
    const outputs = (m: tf.LayersModel) => (m.predict(x) as tf.Tensor).dataSync();
    const same = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).every((v, i) => Math.abs(v - b[i]) <= 1e-4 * Math.max(1, Math.abs(b[i])));

    // interpreter → generated
    const rm = RuntimeModel.lower(c.file.checked.models.get(t.model!.name)!, { seed: cfg.seed }).model!;
    train(rm, { train: data.train, val: data.val }, cfg);
    const fromInterpreter = gen.createModel();
    const w = savedWeights(rm);
    fromInterpreter.setWeights(w);
    tf.dispose(w);
    expect(same(outputs(fromInterpreter), predict(rm, data.test.x, data.test.n))).toBe(true);

    // generated → interpreter
    const trained = gen.createModel();
    gen.compile(trained);
    await gen.train(trained, data);
    const rm2 = RuntimeModel.lower(c.file.checked.models.get(t.model!.name)!, { seed: 99 }).model!;
    const params = tfjsWeightOrder(rm2);
    trained.getWeights().forEach((v, i) => params[i].value.set(v.dataSync()));
    expect(same(predict(rm2, data.test.x, data.test.n), outputs(trained))).toBe(true);
    tf.dispose([x]);
    fromInterpreter.dispose();
    trained.optimizer.dispose();
    trained.dispose();
  });
});
