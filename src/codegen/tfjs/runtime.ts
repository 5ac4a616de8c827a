/**
 * The TensorFlow.js helpers generated modules import (one copy here, not one per generated file):
 * split tensors, batches in the interpreter's order, learning-rate callbacks, AdamW, and metrics
 * computed as the interpreter computes them. Used only by code that `nnspec build` writes.
 */
import * as tf from "@tensorflow/tfjs";

export { MultiHeadAttention, PositionalEmbedding } from "./layers.ts";
import { resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { epochOrder, type LoadedData, type SplitData } from "../../data/runtime.ts";
import { meanAndSd } from "../../core/stats.ts";
import { classScores } from "../../kinds/metrics/kernel.ts";
import { dropoutRng, type Rng } from "../../core/rng.ts";
import type { Json } from "../../core/json.ts";
import { scheduledLr as scheduleRate } from "../../kinds/optimizers/index.ts";

/** The npm package of TensorFlow.js's WebAssembly backend (optional: a variable, so that nothing requires it). */
const WASM_PACKAGE = "@tensorflow/tfjs-backend-wasm";

/**
 * Switches TensorFlow.js to its WebAssembly backend when the package is installed (tens of times faster than
 * the pure-JS cpu backend at training here) and returns the backend's name; stays on cpu otherwise.
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so a conv2d could not train there: the kernel is
 * registered on top of wasm's Conv3DBackpropFilterV2, seeing each image as a volume one deep. Nor has it
 * UnsortedSegmentSum, the gradient of an embedding's lookup: registered as a plain loop on wasm's heap.
 */
export async function useFastestBackend(): Promise<string> {
  try {
    await import(WASM_PACKAGE);
  } catch {
    return tf.getBackend();
  }
  registerWasmConv2dFilterGradient();
  registerWasmSegmentSum();
  if (!(await tf.setBackend("wasm"))) await tf.setBackend("cpu");
  await tf.ready();
  return tf.getBackend();
}

interface Conv2dFilterGradientAttrs {
  strides: number | [number, number];
  pad: "valid" | "same" | number | unknown;
  dataFormat: "NHWC" | "NCHW";
  filterShape: [number, number, number, number];
}

/** What the kernel below needs of tfjs-backend-wasm's backend object. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/**
 * Registers Conv2DBackpropFilter for the wasm backend unless it has one (later tfjs versions may). Stride 1
 * goes through wasm's Conv3DBackpropFilterV2; that kernel is wrong for larger strides in 4.22, so those sum
 * the products directly on wasm's heap.
 */
export function registerWasmConv2dFilterGradient(): void {
  const conv3d = tf.getKernel("Conv3DBackpropFilterV2", "wasm");
  if (!conv3d || tf.getKernel("Conv2DBackpropFilter", "wasm")) return;
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = attrs as unknown as Conv2dFilterGradientAttrs;
      if (a.dataFormat === "NCHW" || (a.pad !== "valid" && a.pad !== "same" && typeof a.pad !== "number")) {
        throw new Error("Conv2DBackpropFilter on wasm: only NHWC with valid, same or numeric padding");
      }
      const [sh, sw] = typeof a.strides === "number" ? [a.strides, a.strides] : a.strides;
      if (sh === 1 && sw === 1) {
        // Views of the same buffers, one deep: [batch, 1, height, width, channels]. Nothing is copied.
        const deep = (t: tf.TensorInfo): tf.TensorInfo => ({ dataId: t.dataId, dtype: t.dtype, shape: [t.shape[0], 1, ...t.shape.slice(1)] });
        const dw = conv3d.kernelFunc({
          inputs: { x: deep(x), dy: deep(dy) },
          backend,
          attrs: { strides: [1, 1, 1], pad: a.pad, filterShape: [1, ...a.filterShape] } as unknown as tf.NamedAttrMap,
        }) as tf.TensorInfo;
        return { dataId: dw.dataId, dtype: dw.dtype, shape: [...a.filterShape] };
      }
      const heap = backend as unknown as WasmHeap;
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, [sh, sw], 1, a.pad as "valid" | "same" | number);
      const out = heap.makeOutput([...a.filterShape], "float32");
      filterGradient(heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(dy), heap.typedArrayFromHeap(out), info);
      return out;
    },
  });
}

/** Registers UnsortedSegmentSum for the wasm backend unless it has one: out[ids[i]] += x[i], row by row. */
export function registerWasmSegmentSum(): void {
  if (!tf.findBackendFactory("wasm") || tf.getKernel("UnsortedSegmentSum", "wasm")) return;
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const segments = (attrs as unknown as { numSegments: number }).numSegments;
      const heap = backend as unknown as WasmHeap & { typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array };
      const rows = segmentIds.shape.reduce((a, d) => a * d, 1);
      const inner = x.shape.slice(segmentIds.shape.length);
      const width = inner.reduce((a, d) => a * d, 1);
      const out = heap.makeOutput([segments, ...inner], x.dtype);
      const xs = heap.typedArrayFromHeap(x);
      const ids = heap.typedArrayFromHeap(segmentIds);
      const sum = heap.typedArrayFromHeap(out);
      sum.fill(0);
      for (let i = 0; i < rows; i++) {
        const id = ids[i];
        if (id < 0 || id >= segments) continue;
        for (let j = 0; j < width; j++) sum[id * width + j] += xs[i * width + j];
      }
      return out;
    },
  });
}

/** dW[kh, kw, ci, co] = Σ over batch and output positions of x at the tap times dy (NHWC). */
function filterGradient(x: Float32Array, dy: Float32Array, dw: Float32Array, c: tf.backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: ci, outHeight, outWidth, outChannels: co, filterHeight, filterWidth, strideHeight, strideWidth } = c;
  const { top, left } = c.padInfo;
  dw.fill(0);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const g = ((b * outHeight + oh) * outWidth + ow) * co;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight + kh - top;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth + kw - left;
            if (iw < 0 || iw >= inWidth) continue;
            const xi = ((b * inHeight + ih) * inWidth + iw) * ci;
            const wi = (kh * filterWidth + kw) * ci * co;
            for (let i = 0; i < ci; i++) {
              const xv = x[xi + i];
              const row = wi + i * co;
              for (let o = 0; o < co; o++) dw[row + o] += xv * dy[g + o];
            }
          }
        }
      }
    }
  }
}

/** The L1/L2 penalty of the model's current weights (every regularizer's loss, summed). */
export function penalty(model: tf.LayersModel): number {
  const total = tf.tidy(() => tf.addN(model.calculateLosses()));
  const value = total.dataSync()[0];
  total.dispose();
  return value;
}

/**
 * A split as tensors: features [n, ...featureShape] (int32 for an int model input); labels as class
 * indices one-hot over `classes` when given, else the label values [n, ...labelShape].
 */
export function splitTensors(split: SplitData, classes?: number, intFeatures = false): { x: tf.Tensor; y: tf.Tensor } {
  const x = tf.tensor(split.x, [split.n, ...split.featureShape], intFeatures ? "int32" : "float32");
  const y =
    classes === undefined
      ? tf.tensor(split.y, [split.n, ...split.labelShape], "float32")
      : tf.tidy(() => floatOneHot(tf.tensor(split.y, [split.n, ...split.labelShape], "int32"), classes));
  return { x, y };
}

/**
 * One-hot float32 rows. Made as int32 and cast: tfjs-wasm 4.22's OneHot with a float32 dtype returns
 * all zeros (every multiclass label would vanish on that backend).
 */
function floatOneHot(indices: tf.Tensor, classes: number): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.oneHot(indices, classes), "float32"));
}

/**
 * The training batches in the interpreter's order: each epoch a fresh permutation of the rows seeded by
 * (seed, epoch) (nnspec's epochOrder), cut into batches of `batchSize`, the last one smaller. fitDataset
 * opens one iterator per epoch, so the generator counts the epochs.
 */
export function batchesInOrder(split: { x: tf.Tensor; y: tf.Tensor }, n: number, batchSize: number, seed: number): tf.data.Dataset<{ xs: tf.Tensor; ys: tf.Tensor }> {
  let epoch = 0;
  return tf.data.generator(function* () {
    const order = epochOrder(n, seed, epoch++);
    for (let from = 0; from < n; from += batchSize) {
      yield tf.tidy(() => {
        const rows = tf.tensor1d(order.subarray(from, Math.min(n, from + batchSize)), "int32");
        return { xs: tf.gather(split.x, rows), ys: tf.gather(split.y, rows) };
      });
    }
  });
}

/** The learning rate of 0-based epoch `epoch` under a schedule: the formula of the schedule's entry in nnspec's registry, which the interpreter uses too. */
export function scheduledLr(schedule: string, options: Record<string, Json>, base: number, epoch: number): number {
  return scheduleRate({ name: schedule, opts: options }, base, epoch);
}

/**
 * Sets the learning rate for the next steps. tfjs optimizers read `learningRate` on every step; SGD and
 * momentum keep it in a tensor too and have a setter. (`instanceof` cannot tell optimizers apart in tfjs.)
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  const o = optimizer as tf.Optimizer & { learningRate: number; setLearningRate?: (learningRate: number) => void };
  if (typeof o.setLearningRate === "function") o.setLearningRate(learningRate);
  else o.learningRate = learningRate;
}

/**
 * reduce_on_plateau as the interpreter does it: after `patience` epochs without the monitored value
 * improving on its best, multiply the rate by `factor` (not below `minLearningRate`) and wait again.
 */
export function reduceOnPlateau(
  model: tf.LayersModel,
  monitor: string,
  o: { learningRate: number; factor: number; patience: number; minLearningRate: number; higherIsBetter: boolean },
): tf.CustomCallbackArgs {
  let best = o.higherIsBetter ? -Infinity : Infinity;
  let wait = 0;
  let learningRate = o.learningRate;
  return {
    onEpochEnd: async (_epoch: number, logs?: tf.Logs) => {
      const value = logs?.[monitor];
      if (value === undefined) return;
      if (o.higherIsBetter ? value > best : value < best) {
        best = value;
        wait = 0;
      } else if (++wait >= o.patience) {
        learningRate = Math.max(learningRate * o.factor, o.minLearningRate);
        wait = 0;
        setLearningRate(model.optimizer, learningRate);
      }
    },
  };
}

/**
 * Early stopping as the interpreter does it: stop once the monitored value has not improved by more
 * than `minDelta` for `patience` epochs; with `restoreBest`, put back the weights (moving statistics
 * included) of the best epoch when training ends. (tf.callbacks.earlyStopping cannot restore weights.)
 */
export function earlyStopping(
  model: tf.LayersModel,
  monitor: string,
  o: { patience: number; minDelta: number; restoreBest: boolean; higherIsBetter: boolean },
): tf.CustomCallbackArgs {
  let best = o.higherIsBetter ? -Infinity : Infinity;
  let wait = 0;
  let bestWeights: tf.Tensor[] | undefined;
  return {
    onEpochEnd: async (_epoch: number, logs?: tf.Logs) => {
      const value = logs?.[monitor];
      if (value === undefined) return;
      if (o.higherIsBetter ? value > best + o.minDelta : value < best - o.minDelta) {
        best = value;
        wait = 0;
        if (o.restoreBest) {
          if (bestWeights) tf.dispose(bestWeights);
          bestWeights = model.getWeights().map((w) => w.clone());
        }
      } else if (++wait >= o.patience) model.stopTraining = true;
    },
    onTrainEnd: async () => {
      if (!bestWeights) return;
      model.setWeights(bestWeights);
      tf.dispose(bestWeights);
      bestWeights = undefined;
    },
  };
}

/**
 * Adam with decoupled weight decay, as the interpreter (and Keras) applies it: before each Adam step,
 * every trained weight is multiplied by 1 − learningRate · weightDecay. TensorFlow.js has no AdamW.
 */
export class AdamW extends tf.AdamOptimizer {
  constructor(
    learningRate: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    private readonly weightDecay: number,
  ) {
    super(learningRate, beta1, beta2, epsilon);
  }

  override applyGradients(gradients: Parameters<tf.AdamOptimizer["applyGradients"]>[0]): void {
    const names = Array.isArray(gradients) ? gradients.map((g) => g.name) : Object.keys(gradients);
    const keep = 1 - this.learningRate * this.weightDecay;
    tf.tidy(() => {
      for (const name of names) {
        const v = tf.engine().registeredVariables[name];
        if (v) v.assign(tf.mul(v, keep));
      }
    });
    super.applyGradients(gradients);
  }
}

/**
 * Centered RMSprop as the interpreter (and TensorFlow) computes it: s = ρs + (1−ρ)g², c = ρc + (1−ρ)g,
 * m = μm + lr·g / √(max(0, s − c²) + ε), w −= m. tfjs 4.22's centered RMSprop divides by √(s − (c² + ε)),
 * which is NaN wherever the gradient has been constant. The base class runs uncentered and holds no state.
 */
export class CenteredRMSProp extends tf.RMSPropOptimizer {
  private readonly state = new Map<string, { s: tf.Variable; c: tf.Variable; m: tf.Variable }>();

  constructor(
    learningRate: number,
    private readonly rho: number,
    private readonly momentumRate: number,
    private readonly eps: number,
  ) {
    super(learningRate, rho, momentumRate, eps, false);
  }

  override applyGradients(gradients: Parameters<tf.RMSPropOptimizer["applyGradients"]>[0]): void {
    const pairs = Array.isArray(gradients) ? gradients.map((g) => [g.name, g.tensor] as const) : Object.entries(gradients);
    for (const [name, g] of pairs) {
      const w = tf.engine().registeredVariables[name];
      if (!w || !g) continue;
      let st = this.state.get(name);
      if (!st) {
        const zeros = (): tf.Variable => tf.tidy(() => tf.zerosLike(w).variable(false));
        st = { s: zeros(), c: zeros(), m: zeros() };
        this.state.set(name, st);
      }
      const { s, c, m } = st;
      tf.tidy(() => {
        const ns = tf.add(tf.mul(s, this.rho), tf.mul(tf.square(g), 1 - this.rho));
        const nc = tf.add(tf.mul(c, this.rho), tf.mul(g, 1 - this.rho));
        const denom = tf.sqrt(tf.add(tf.relu(tf.sub(ns, tf.square(nc))), this.eps));
        const nm = tf.add(tf.mul(m, this.momentumRate), tf.div(tf.mul(g, this.learningRate), denom));
        s.assign(ns);
        c.assign(nc);
        m.assign(nm);
        w.assign(tf.sub(w, nm));
      });
    }
    this.incrementIterations();
  }

  override dispose(): void {
    super.dispose();
    for (const st of this.state.values()) tf.dispose([st.s, st.c, st.m]);
    this.state.clear();
  }
}

interface SeededDropoutConfig {
  /** The layer's name in the spec: it names the layer's stream (see dropoutRng). */
  name: string;
  rate: number;
  /** The model's seed, and the layer's own `seed:` if it has one. */
  seed: number;
  layerSeed?: number;
}

/**
 * Dropout whose masks are the interpreter's: each training call draws one uniform number per value,
 * in order, from the interpreter's stream for the layer (dropoutRng), keeping a value when it is ≥ rate and scaling
 * it by 1/(1 − rate). tfjs's own dropout draws from Math.random, or repeats one mask when seeded.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = "SeededDropout";
  private readonly rate: number;
  private readonly seed: number;
  private readonly layerSeed?: number;
  private readonly rng: Rng;

  constructor(config: SeededDropoutConfig) {
    super({ name: config.name });
    this.rate = config.rate;
    this.seed = config.seed;
    this.layerSeed = config.layerSeed;
    this.rng = dropoutRng(config.seed, config.name, config.layerSeed);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return tf.clone(x);
    const keep = 1 / (1 - this.rate);
    const mask = new Float32Array(x.size);
    for (let i = 0; i < mask.length; i++) mask[i] = this.rng.uniform() >= this.rate ? keep : 0;
    return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, "float32")));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed, ...(this.layerSeed !== undefined ? { layerSeed: this.layerSeed } : {}) };
  }
}
tf.serialization.registerClass(SeededDropout);

/** 0/1 decisions, one column per class or label: `predicted` from the model's output, `actual` from the target. */
export interface Decisions {
  predicted: tf.Tensor;
  actual: tf.Tensor;
}

/** A multiclass output: the arg max of the output and of the one-hot target, one-hot over the classes. */
export function argMaxDecisions(yTrue: tf.Tensor, yPred: tf.Tensor): Decisions {
  const classes = yPred.shape[yPred.shape.length - 1] ?? 1;
  const oneHot = (t: tf.Tensor) => floatOneHot(tf.reshape(tf.argMax(t, -1), [-1]), classes);
  return { predicted: oneHot(yPred), actual: oneHot(yTrue) };
}

/** Binary and multi-label outputs: each output at or above `threshold` against each label at or above 0.5. */
export function thresholdDecisions(yTrue: tf.Tensor, yPred: tf.Tensor, threshold: number): Decisions {
  const labels = yPred.shape[yPred.shape.length - 1] ?? 1;
  const above = (t: tf.Tensor, at: number) => tf.reshape(tf.cast(tf.greaterEqual(t, at), "float32"), [-1, labels]);
  return { predicted: above(yPred, threshold), actual: above(yTrue, 0.5) };
}

/** The share of decisions that match their label. */
export function matchRate(d: Decisions): tf.Tensor {
  return tf.mean(tf.cast(tf.equal(d.predicted, d.actual), "float32"));
}

type MetricFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** A metric function under the name tfjs logs it by (a function's `name`). */
function named(name: string, f: MetricFn): MetricFn {
  Object.defineProperty(f, "name", { value: name });
  return f;
}

export type PooledScore = "precision" | "recall" | "f1" | "rmse" | "r2";

/**
 * Scores the interpreter computes over every example of an epoch (or split), where tfjs would average
 * per-batch values. Each is split into per-example rates that tfjs's batch-size-weighted mean pools
 * exactly (true/false positives and false negatives per column; squared error, y and y² per output),
 * logged under `pooled_…`; `finish` turns the pooled rates into the scores and removes them.
 * `decide` gives the 0/1 decisions of a classification output; none for a regression output.
 */
export class PooledScores {
  readonly metrics: MetricFn[] = [];
  /** The last batch's decisions: tfjs calls each of the 3·columns rate metrics with the same tensors. */
  private cached?: { yTrue: tf.Tensor; yPred: tf.Tensor; d: Decisions };

  constructor(
    private readonly scores: readonly PooledScore[],
    private readonly columns: number,
    private readonly decide?: (yTrue: tf.Tensor, yPred: tf.Tensor) => Decisions,
  ) {
    for (let k = 0; k < columns; k++) {
      const col = (t: tf.Tensor): tf.Tensor => tf.slice(tf.reshape(t, [t.shape[0] ?? -1, -1]), [0, k], [-1, 1]);
      if (decide) {
        const rate = (f: (p: tf.Tensor, a: tf.Tensor) => tf.Tensor): MetricFn => (t, p) =>
          tf.tidy(() => {
            const d = this.decisions(t, p);
            return tf.mean(f(col(d.predicted), col(d.actual)));
          });
        this.metrics.push(
          named(`pooled_tp_${k}`, rate((p, a) => tf.mul(p, a))),
          named(`pooled_fp_${k}`, rate((p, a) => tf.mul(p, tf.sub(1, a)))),
          named(`pooled_fn_${k}`, rate((p, a) => tf.mul(tf.sub(1, p), a))),
        );
      } else {
        this.metrics.push(
          named(`pooled_y_${k}`, (t) => tf.tidy(() => tf.mean(col(t)))),
          named(`pooled_yy_${k}`, (t) => tf.tidy(() => tf.mean(tf.square(col(t))))),
        );
      }
    }
    if (!decide) this.metrics.push(named("pooled_se", (t, p) => tf.tidy(() => tf.mean(tf.sum(tf.reshape(tf.squaredDifference(p, t), [t.shape[0] ?? -1, -1]), 1)))));
  }

  /** The decisions for a batch, computed once for all its rate metrics (kept until the next batch or `finish`). */
  private decisions(yTrue: tf.Tensor, yPred: tf.Tensor): Decisions {
    const c = this.cached;
    if (c && c.yTrue === yTrue && c.yPred === yPred) return c.d;
    if (c) tf.dispose([c.d.predicted, c.d.actual]);
    const [predicted, actual] = tf.tidy(() => {
      const d = this.decide!(yTrue, yPred);
      return [d.predicted, d.actual];
    });
    this.cached = { yTrue, yPred, d: { predicted: tf.keep(predicted), actual: tf.keep(actual) } };
    return this.cached.d;
  }

  /** Puts the scores into tfjs's logs (the training split's and the `val_` ones) in place of the pooled rates; returns the logs. */
  finish<L extends Record<string, unknown>>(logs: L | undefined): L | undefined {
    // The epoch (or evaluation) is over: its last decisions are not asked for again.
    if (this.cached) tf.dispose([this.cached.d.predicted, this.cached.d.actual]);
    this.cached = undefined;
    if (!logs) return logs;
    const out = logs as Record<string, unknown>;
    for (const prefix of ["", "val_"]) {
      const get = (name: string): number | undefined => (typeof out[`${prefix}pooled_${name}`] === "number" ? (out[`${prefix}pooled_${name}`] as number) : undefined);
      const values: Partial<Record<PooledScore, number>> = {};
      if (get("tp_0") !== undefined) {
        // The interpreter's per-class scores, from the pooled counts (as rates), averaged over the columns.
        const per = Array.from({ length: this.columns }, (_, k) => classScores(get(`tp_${k}`) ?? 0, get(`fp_${k}`) ?? 0, get(`fn_${k}`) ?? 0));
        const avg = (key: "precision" | "recall" | "f1"): number => per.reduce((a, c) => a + c[key], 0) / this.columns;
        Object.assign(values, { precision: avg("precision"), recall: avg("recall"), f1: avg("f1") });
      } else if (get("se") !== undefined) {
        const se = get("se")!;
        let ssTot = 0;
        for (let k = 0; k < this.columns; k++) ssTot += (get(`yy_${k}`) ?? 0) - (get(`y_${k}`) ?? 0) ** 2;
        Object.assign(values, { rmse: Math.sqrt(se / this.columns), r2: ssTot > 0 ? 1 - se / ssTot : 0 });
      } else continue;
      for (const s of this.scores) out[`${prefix}${s}`] = values[s];
      for (const key of Object.keys(out)) if (key.startsWith(`${prefix}pooled_`)) delete out[key];
    }
    return logs;
  }
}

/** What cross-validation needs of a generated train block. */
export interface FoldTraining {
  createModel(): tf.LayersModel;
  compile(model: tf.LayersModel): void;
  train(model: tf.LayersModel, data: LoadedData, options?: { epochs?: number }): Promise<tf.History>;
  evaluate(model: tf.LayersModel, data: LoadedData): Record<string, number>;
}

/**
 * `split kfold: K` as the interpreter does it: per fold a fresh model (the train block's seeded
 * initializers), trained on the fold's training rows with its held-out rows as validation, scored on
 * the held-out rows; then each score's mean and sample standard deviation. Empty without folds.
 */
export async function crossValidate(
  t: FoldTraining,
  data: LoadedData,
  options: { epochs?: number } = {},
): Promise<{ folds: Record<string, number>[]; mean: Record<string, number>; sd: Record<string, number> }> {
  const folds: Record<string, number>[] = [];
  for (const fold of data.folds ?? []) {
    const model = t.createModel();
    t.compile(model);
    const foldData: LoadedData = { ...data, train: fold.train, val: fold.val, test: fold.val };
    await t.train(model, foldData, options);
    folds.push(t.evaluate(model, foldData));
    model.optimizer.dispose();
    model.dispose();
  }
  return { folds, ...meanAndSd(folds) };
}

// ── what every generated module's registry and main() share ──

/** Options of a generated `train…()` function. */
export interface TrainOptions {
  /** Overrides the spec's epoch count (for a quick run). */
  epochs?: number;
  /** Overrides the seed of the batch order. */
  seed?: number;
  /** tfjs's fit verbosity: 0 silent (the default), 1 a line per epoch. */
  verbose?: number;
  /** Called after each epoch with the epoch (0-based) and tfjs's logs. */
  onEpochEnd?: (epoch: number, logs?: tf.Logs) => void | Promise<void>;
}

/** A train block of a spec, ready to run. */
export interface Training extends FoldTraining {
  name: string;
  /** Its line in the spec. */
  line: number;
  loadData(): Promise<LoadedData>;
  /** The model with the train block's seed. */
  createModel(): tf.LayersModel;
  train(model: tf.LayersModel, data: LoadedData, options?: TrainOptions): Promise<tf.History>;
}

/** A model of a spec, by its name in the spec. */
export interface ModelEntry {
  name: string;
  create: (seed?: number) => tf.LayersModel;
}

/**
 * A generated module's main(): runs every train block in order (cross-validating first where the
 * data block asks for folds) and prints the last epoch's values and the test metrics, on
 * TensorFlow.js's wasm backend when @tensorflow/tfjs-backend-wasm is installed (else on cpu). A spec
 * without train blocks prints each model's layers.
 */
export async function runSpec(models: readonly ModelEntry[], trainings: readonly Training[]): Promise<void> {
  if (trainings.length === 0) {
    for (const m of models) {
      const model = m.create();
      model.summary();
      model.dispose();
    }
    return;
  }
  console.log(`TensorFlow.js backend: ${await useFastestBackend()}`);
  const loaded = new Map<Training["loadData"], Promise<LoadedData>>();
  for (const t of trainings) {
    const pending = loaded.get(t.loadData) ?? t.loadData();
    loaded.set(t.loadData, pending);
    const data = await pending;
    if (data.folds) {
      const cv = await crossValidate(t, data);
      const scores = Object.keys(cv.mean).map((k) => `${k} ${cv.mean[k].toFixed(4)} ± ${cv.sd[k].toFixed(4)}`);
      console.log(`${t.name}: cross-validation (${cv.folds.length} folds, held-out rows, mean ± sd): ${scores.join(", ")}`);
    }
    const model = t.createModel();
    t.compile(model);
    const history = await t.train(model, data);
    const last = Object.entries(history.history).map(([k, v]) => `${k} ${Number(v[v.length - 1]).toFixed(4)}`);
    const test = Object.entries(t.evaluate(model, data)).map(([k, v]) => `${k} ${v.toFixed(4)}`);
    console.log(`${t.name} (line ${t.line}): ${history.epoch.length} epochs; ${last.join(", ")}; test: ${test.join(", ") || "no test split"}`);
    model.optimizer.dispose();
    model.dispose();
  }
}

/** Runs `main` when the module at `moduleUrl` is the program being run (`npx tsx …`), not when it is imported. */
export function runIfMain(moduleUrl: string, main: () => Promise<void>): void {
  if (process.argv[1] === undefined || resolvePath(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
