/**
 * Generated TensorFlow.js code against a hand-written equivalent: the time to train the iris MLP
 * (4-16-3, adam lr 0.01, batch 16, `train iris_mlp` of specs/iris.nnspec) with the generated
 * module's `createIrisMlp` + `compileIrisMlp` + `trainIrisMlp` (fitDataset over the interpreter's
 * seeded batch order), and with the model, compile and `model.fit(..., { shuffle: true })` a person
 * would write by hand. Same data (the generated `loadIris()`), same epochs, cpu backend.
 *
 * Rounds alternate the two (BENCH_ROUNDS, default 5; BENCH_EPOCHS, default 200, the spec's) after a
 * warm-up round, and the medians are compared: the ratio generated / hand-written should be 1.0
 * within noise. The same comparison runs on the ten-class digits MLP (64-25-15-10, batch 32,
 * 1,437 rows, `train digits_multiclass`), where the per-batch work is larger.
 */
import * as tf from "@tensorflow/tfjs";
import * as digits from "../generated/digits/digits.ts";
import * as iris from "../generated/iris/iris.ts";
import type { LoadedData } from "../src/data/runtime.ts";
import { record } from "./timing.ts";

export const name = "codegen";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const EPOCHS = process.env.BENCH_EPOCHS ? Number(process.env.BENCH_EPOCHS) : undefined;

interface Case {
  label: string;
  epochs: number;
  batch: number;
  load(): Promise<LoadedData>;
  generated(data: LoadedData, epochs: number): Promise<void>;
  handWritten(data: LoadedData, epochs: number): Promise<void>;
}

/** What a person would write for a dense MLP with softmax cross-entropy on the logits. */
async function handWrittenMlp(data: LoadedData, units: number[], classes: number, lr: number, batchSize: number, epochs: number): Promise<void> {
  const model = tf.sequential();
  units.forEach((u, i) => model.add(tf.layers.dense({ units: u, activation: "relu", ...(i === 0 ? { inputShape: data.train.featureShape } : {}) })));
  model.add(tf.layers.dense({ units: classes }));
  model.compile({ loss: (y: tf.Tensor, p: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, p), optimizer: tf.train.adam(lr), metrics: ["accuracy"] });
  const x = tf.tensor(data.train.x, [data.train.n, ...data.train.featureShape]);
  const y = tf.oneHot(tf.tensor1d(data.train.y as Int32Array, "int32"), classes).toFloat();
  await model.fit(x, y, { epochs, batchSize, shuffle: true, verbose: 0 });
  tf.dispose([x, y]);
  model.optimizer.dispose();
  model.dispose();
}

const CASES: Case[] = [
  {
    label: "iris 4-16-3, batch 16, adam",
    epochs: 200,
    batch: 16,
    load: iris.loadIris,
    async generated(data, epochs) {
      const model = iris.createIrisMlp();
      iris.compileIrisMlp(model);
      await iris.trainIrisMlp(model, data, { epochs });
      model.optimizer.dispose();
      model.dispose();
    },
    handWritten: (data, epochs) => handWrittenMlp(data, [16], 3, 0.01, 16, epochs),
  },
  {
    label: "digits 64-25-15-10, batch 32, adam",
    epochs: 40,
    batch: 32,
    load: digits.loadDigits,
    async generated(data, epochs) {
      const model = digits.createDigitsMulticlass();
      digits.compileDigitsMulticlass(model);
      await digits.trainDigitsMulticlass(model, data, { epochs });
      model.optimizer.dispose();
      model.dispose();
    },
    handWritten: (data, epochs) => handWrittenMlp(data, [25, 15], 10, 0.001, 32, epochs),
  },
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function time(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

export async function run(): Promise<void> {
  await tf.setBackend("cpu");
  console.log(`tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}; ${ROUNDS} rounds after a warm-up, medians`);
  for (const c of CASES) {
    const data = await c.load();
    const epochs = EPOCHS ?? c.epochs;
    const steps = epochs * Math.ceil(data.train.n / c.batch);
    await c.generated(data, Math.min(epochs, 5));
    await c.handWritten(data, Math.min(epochs, 5));
    const gen: number[] = [];
    const hand: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate the order so drift (heat, GC) does not favour one side.
      if (r % 2 === 0) {
        gen.push(await time(() => c.generated(data, epochs)));
        hand.push(await time(() => c.handWritten(data, epochs)));
      } else {
        hand.push(await time(() => c.handWritten(data, epochs)));
        gen.push(await time(() => c.generated(data, epochs)));
      }
    }
    const g = median(gen);
    const h = median(hand);
    console.log(`${c.label}: ${epochs} epochs, ${data.train.n} rows, ${steps} steps`);
    console.log(`  generated     ${g.toFixed(3)} s  (${((g / steps) * 1e3).toFixed(3)} ms/step; min ${Math.min(...gen).toFixed(3)} s)`);
    console.log(`  hand-written  ${h.toFixed(3)} s  (${((h / steps) * 1e3).toFixed(3)} ms/step; min ${Math.min(...hand).toFixed(3)} s)`);
    console.log(`  ratio generated / hand-written: ${(g / h).toFixed(3)}`);
    record({ case: c.label, epochs, steps, generatedS: g, handWrittenS: h, ratio: g / h });
  }
}
