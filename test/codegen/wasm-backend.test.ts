/**
 * The WebAssembly backend the generated modules train on (useFastestBackend in
 * src/codegen/tfjs/runtime.ts). tfjs-backend-wasm 4.22 lacks Conv2DBackpropFilter; the runtime
 * registers it on top of Conv3DBackpropFilterV2. Its gradients must equal tfjs-cpu's for every
 * stride, padding and shape a conv2d layer can have, and a generated CNN must train on it. The
 * generated code must train the same on wasm as on cpu (tfjs-wasm 4.22's float32 OneHot returns
 * zeros, which once erased every multiclass label there).
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { argMaxDecisions, registerWasmConv2dFilterGradient, splitTensors, useFastestBackend } from "../../src/codegen/tfjs/runtime.ts";
import { TRAININGS } from "../../generated/iris/iris.ts";

interface Case {
  batch: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  strides: [number, number];
  pad: "valid" | "same";
}

const CASES: Case[] = [
  { batch: 3, h: 9, w: 9, cin: 1, cout: 4, kh: 4, kw: 4, strides: [1, 1], pad: "valid" },
  { batch: 2, h: 8, w: 11, cin: 3, cout: 5, kh: 3, kw: 2, strides: [1, 1], pad: "same" },
  { batch: 4, h: 10, w: 7, cin: 2, cout: 3, kh: 3, kw: 3, strides: [2, 2], pad: "valid" },
  { batch: 1, h: 9, w: 12, cin: 4, cout: 2, kh: 2, kw: 5, strides: [2, 3], pad: "same" },
  { batch: 5, h: 6, w: 6, cin: 6, cout: 7, kh: 1, kw: 1, strides: [1, 1], pad: "valid" },
];

/** The filter's and the input's gradients of Σ conv2d(x, f) · r on the current backend. */
function gradients(c: Case, seed: number): { df: Float32Array; dx: Float32Array } {
  return tf.tidy(() => {
    const x = tf.randomNormal([c.batch, c.h, c.w, c.cin], 0, 1, "float32", seed) as tf.Tensor4D;
    const f = tf.randomNormal([c.kh, c.kw, c.cin, c.cout], 0, 1, "float32", seed + 1) as tf.Tensor4D;
    const y = tf.conv2d(x, f, c.strides, c.pad);
    const r = tf.randomNormal(y.shape, 0, 1, "float32", seed + 2);
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), r)))([x, f]);
    return { df: df.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  });
}

function maxRelative(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

describe("the wasm backend of generated code", () => {
  let before: string;
  beforeAll(async () => {
    await tf.ready();
    before = tf.getBackend();
  });
  afterAll(async () => {
    await tf.setBackend(before);
  });

  it("computes conv2d filter gradients equal to tfjs-cpu's", async () => {
    await tf.setBackend("cpu");
    const cpu = CASES.map((c, i) => gradients(c, 10 * i + 1));
    expect(await useFastestBackend()).toBe("wasm");
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBeDefined();
    CASES.forEach((c, i) => {
      const wasm = gradients(c, 10 * i + 1);
      expect(wasm.df.length).toBe(cpu[i].df.length);
      expect(maxRelative(wasm.df, cpu[i].df), JSON.stringify(c)).toBeLessThan(1e-5);
      expect(maxRelative(wasm.dx, cpu[i].dx), JSON.stringify(c)).toBeLessThan(1e-5);
    });
    // A second registration keeps the first.
    const k = tf.getKernel("Conv2DBackpropFilter", "wasm");
    registerWasmConv2dFilterGradient();
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBe(k);
  });

  it("trains a CNN without leaking tensors", async () => {
    expect(await useFastestBackend()).toBe("wasm");
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 6, kernelSize: 2, strides: 2, padding: "same", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    model.compile({ loss: (t: tf.Tensor, p: tf.Tensor) => tf.losses.softmaxCrossEntropy(t, p), optimizer: tf.train.adam(0.01) });
    const x = tf.randomUniform([32, 12, 12, 1], 0, 1, "float32", 5);
    // Labels a conv net can learn: which third of the image is brightest.
    const y = tf.tidy(() => {
      const thirds = tf.stack([x.slice([0, 0, 0, 0], [32, 4, 12, 1]).sum([1, 2, 3]), x.slice([0, 4, 0, 0], [32, 4, 12, 1]).sum([1, 2, 3]), x.slice([0, 8, 0, 0], [32, 4, 12, 1]).sum([1, 2, 3])], 1);
      return tf.oneHot(thirds.argMax(1), 3).toFloat();
    });
    const first = (await model.trainOnBatch(x, y)) as number;
    const tensors = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 60; i++) last = (await model.trainOnBatch(x, y)) as number;
    expect(tf.memory().numTensors).toBe(tensors);
    expect(last).toBeLessThan(first * 0.5);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("computes an embedding's gradient (UnsortedSegmentSum) equal to tfjs-cpu's, repeated and out-of-range ids included", async () => {
    const grads = () =>
      tf.tidy(() => {
        const table = tf.variable(tf.tensor2d(Array.from({ length: 18 }, (_, i) => Math.sin(i)), [6, 3]));
        const ids = tf.tensor2d([[1, 4, 1, 0], [5, 1, 2, 2]], [2, 4], "int32");
        const w = tf.tensor3d(Array.from({ length: 24 }, (_, i) => Math.cos(i * 0.7)), [2, 4, 3]);
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.gather(table, ids), w)) as tf.Scalar, [table]);
        const out = Array.from(grads[table.name].dataSync());
        table.dispose();
        return out;
      });
    await tf.setBackend("cpu");
    const cpu = grads();
    expect(await useFastestBackend()).toBe("wasm");
    expect(tf.getKernel("UnsortedSegmentSum", "wasm")).toBeDefined();
    expect(maxRelative(Float32Array.from(grads()), Float32Array.from(cpu))).toBeLessThan(1e-6);
    // the direct kernel too: ids outside [0, segments) add nothing
    const direct = tf.tidy(() => Array.from(tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6]]), tf.tensor1d([2, -1, 2], "int32"), 3).dataSync()));
    expect(direct).toEqual([0, 0, 0, 0, 6, 8]);
  });

  it("one-hot labels and decisions are right on wasm", async () => {
    expect(await useFastestBackend()).toBe("wasm");
    const { y } = splitTensors({ x: new Float32Array(3), y: new Float32Array([0, 2, 1]), n: 3, featureShape: [1], labelShape: [], rows: Int32Array.from([0, 1, 2]) }, 3);
    expect(y.dtype).toBe("float32");
    expect(y.arraySync()).toEqual([[1, 0, 0], [0, 0, 1], [0, 1, 0]]);
    const d = argMaxDecisions(y, tf.tensor2d([[0.1, 0.8, 0.1], [0, 0, 1], [0, 1, 0]]));
    expect(d.predicted.arraySync()).toEqual([[0, 1, 0], [0, 0, 1], [0, 1, 0]]);
    expect(d.actual.arraySync()).toEqual(y.arraySync());
    tf.dispose([y, d.predicted, d.actual]);
  });

  it("trains the generated iris MLP on wasm as on cpu", async () => {
    const t = TRAININGS.find((x) => x.name === "train iris_mlp on iris")!;
    const data = await t.loadData();
    const losses = async (backend: string): Promise<number[]> => {
      await tf.setBackend(backend);
      const model = t.createModel();
      t.compile(model);
      const h = await t.train(model, data, { epochs: 5 });
      model.optimizer.dispose();
      model.dispose();
      return h.history.loss.map(Number);
    };
    const cpu = await losses("cpu");
    expect(await useFastestBackend()).toBe("wasm");
    const wasm = await losses("wasm");
    expect(cpu[4]).toBeLessThan(cpu[0]);
    for (let e = 0; e < 5; e++) expect(Math.abs(wasm[e] - cpu[e]) / cpu[e]).toBeLessThan(1e-4);
  });
});
