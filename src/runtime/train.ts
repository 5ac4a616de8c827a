/**
 * The training loop: epochs of shuffled mini-batches, validation after each epoch, learning-rate
 * schedules, early stopping with restore of the best weights, metrics, and a stop with a diagnosis
 * when the loss turns NaN or infinite. Also evaluation and prediction. Pure: no files, no process;
 * the CLI reports progress through the hooks.
 */
import { epochOrder } from "../data/random.ts";
import type { CheckedTrain, EarlyStopping, NamedOpts, TrainConfig } from "../check/ir.ts";
import { numberOption as num } from "../core/options.ts";
import { labelWidthFor, lossKernel, regularize, type LossKernel } from "../kinds/losses/kernels.ts";
import { OPTIMIZERS, scheduledLr } from "../kinds/optimizers/index.ts";
import { HIGHER_IS_BETTER } from "../kinds/metrics/index.ts";
import { MetricAccumulator, type MetricReport } from "../kinds/metrics/kernel.ts";
import type { RuntimeModel } from "./model.ts";
import { Plan } from "./plan.ts";
import { TrainStep } from "./step.ts";
import { allocBuf, type Buf } from "../core/kernel.ts";

/** One split of a data set, as the data module loads it. */
export interface Split {
  x: Float32Array;
  /** Class indices (label shape []) or n × prod(labelShape) values. */
  y: ArrayLike<number>;
  n: number;
  featureShape: number[];
  labelShape: number[];
}

export type { EarlyStopping, TrainConfig };

/** The checked training configuration of a `train` block, with command-line overrides. */
export function trainConfig(spec: CheckedTrain, overrides: { epochs?: number; seed?: number; batch?: number } = {}): TrainConfig {
  if (!spec.config) throw new Error("internal: training a train block that did not check clean");
  const c = spec.config;
  return { ...c, epochs: overrides.epochs ?? c.epochs, batch: overrides.batch ?? c.batch, seed: overrides.seed ?? c.seed };
}

export interface EpochRecord {
  epoch: number;
  lr: number;
  /** `loss`, the training metrics, and `val_loss`/`val_<metric>` when there is a validation split. */
  values: Record<string, number>;
  seconds: number;
  samplesPerSecond: number;
}

export interface Stop {
  reason: "completed" | "early_stopping" | "non_finite";
  /** 1-based epoch and step (within the epoch) where training stopped. */
  epoch: number;
  step?: number;
  message: string;
}

export interface TrainResult {
  history: EpochRecord[];
  stop: Stop;
  /** 1-based epoch whose weights the model holds at the end. */
  bestEpoch?: number;
  /** Set when the monitored value fell back (e.g. `val_loss` without a validation split). */
  notes: string[];
}

export interface TrainHooks {
  onEpochStart?(epoch: number, batches: number): void;
  /** After each step; `running()` gives the epoch's metrics so far (computed on call, for a progress display). */
  onBatch?(epoch: number, step: number, batches: number, loss: number, running: () => Record<string, number>): void;
  onEpoch?(record: EpochRecord): void;
}

/** Why a run whose loss never came near its starting value probably diverged. */
function divergedNote(cfg: TrainConfig, initial: number, lowest: number): string {
  const lr = num(cfg.optimizer.opts, "lr");
  const usual = OPTIMIZERS.get(cfg.optimizer.name)?.usualLr;
  const range = usual ? ` (usual for ${cfg.optimizer.name}: ${usual[0]} to ${usual[1]})` : "";
  return `the training loss never came near its value before training: about ${initial.toPrecision(3)} at the start, at best ${lowest.toPrecision(3)}, ${Math.round(Math.log10(lowest / initial))} orders of magnitude higher; the learning rate ${lr}${range} is probably too high`;
}

/** Problems that stop training before it starts (label width, empty split). */
export function checkTrainable(model: RuntimeModel, cfg: TrainConfig, data: { train: Split; val?: Split }): string[] {
  const errors: string[] = [];
  const out = model.tensors[model.outputs[0]];
  const inp = model.tensors[model.inputs[0]];
  if (model.inputs.length !== 1 || model.outputs.length < 1) errors.push(`the interpreter trains models with one input and one output; \`${model.name}\` has ${model.inputs.length} and ${model.outputs.length}`);
  const feat = data.train.featureShape.reduce((a, d) => a * d, 1);
  if (inp && feat !== inp.size) errors.push(`the data has ${feat} feature values per example [${data.train.featureShape.join(", ")}], but \`${model.name}\`'s input \`${inp.name}\` takes ${inp.size} [${inp.shape.join(", ")}]`);
  if (out) {
    const have = data.train.labelShape.reduce((a, d) => a * d, 1);
    const want = labelWidthFor(cfg.loss.name, out.shape);
    const rowsPer = out.size / (out.shape[out.shape.length - 1] ?? 1);
    if (have !== want && !(cfg.loss.name === "cross_entropy" && have === rowsPer))
      errors.push(`the loss \`${cfg.loss.name}\` on the output [${out.shape.join(", ")}] needs ${want} label value(s) per example, but the data has ${have} [${data.train.labelShape.join(", ")}]`);
  }
  if (data.train.n === 0) errors.push("the training split is empty");
  return errors;
}

export { scheduledLr };

/** Copies examples `order[from..from+n)` of a split into the plan's input and label buffers. */
function gather(split: Split, order: Int32Array | null, from: number, n: number, x: Buf, y: Buf, fw: number, lw: number): void {
  const sx = split.x;
  const sy = split.y;
  for (let i = 0; i < n; i++) {
    const r = order ? order[from + i] : from + i;
    const xo = r * fw;
    const xi = i * fw;
    for (let j = 0; j < fw; j++) x[xi + j] = sx[xo + j];
    const yo = r * lw;
    const yi = i * lw;
    for (let j = 0; j < lw; j++) y[yi + j] = sy[yo + j];
  }
}

/**
 * The examples the loss before training is measured on: enough for its order of magnitude, which is
 * all the divergence note compares (over all of them, it cost the course CNN a quarter of an epoch).
 */
const INITIAL_SAMPLE = 2048;

/** min(n, k) rows spread evenly over n (all of them when n ≤ k). */
function evenlySpaced(n: number, k: number): Int32Array {
  const m = Math.min(n, k);
  return Int32Array.from({ length: m }, (_, i) => Math.floor((i * n) / m));
}

/** Loss (with the L1/L2 penalties) and metrics over a whole split, in inference mode. */
export class Evaluator {
  private readonly plan: Plan;
  private readonly labels: Buf;
  private readonly loss: LossKernel;
  readonly metrics: MetricAccumulator;
  private readonly lw: number;

  constructor(
    readonly model: RuntimeModel,
    readonly lossSpec: NamedOpts,
    readonly batch = 256,
    labelWidth?: number,
  ) {
    this.plan = new Plan(model, batch);
    const out = model.tensors[model.outputs[0]];
    this.lw = labelWidth ?? labelWidthFor(lossSpec.name, out.shape);
    this.labels = allocBuf(model.precision, batch * this.lw);
    this.loss = lossKernel({ name: lossSpec.name, opts: lossSpec.opts, outShape: out.shape, pred: this.plan.output(0), dPred: null, labels: this.labels, labelWidth: this.lw });
    this.metrics = new MetricAccumulator(lossSpec.name, lossSpec.opts, out.shape, this.lw);
  }

  /** Over every example of the split, or over the examples `rows` names. */
  run(split: Split, rows: Int32Array | null = null): { loss: number; report: MetricReport } {
    const fw = this.model.tensors[this.model.inputs[0]].size;
    const count = rows ? rows.length : split.n;
    this.metrics.reset();
    let total = 0;
    for (let at = 0; at < count; at += this.batch) {
      const n = Math.min(this.batch, count - at);
      gather(split, rows, at, n, this.plan.input(0), this.labels, fw, this.lw);
      this.plan.forward(n, false);
      total += this.loss.compute(n) * n;
      this.metrics.add(this.plan.output(0), this.labels, n);
    }
    return { loss: total / Math.max(1, count) + penalty(this.model), report: this.metrics.result() };
  }
}

/** The L1/L2 penalty of the current weights (added to reported losses, as Keras and tfjs do). */
export function penalty(model: RuntimeModel): number {
  return regularize(model.params, false);
}

/** Model outputs for every example of `x` (n × the output size), in inference mode. */
export function predict(model: RuntimeModel, x: ArrayLike<number>, n: number, batch = 256): Float32Array {
  const plan = new Plan(model, Math.max(1, Math.min(batch, n)));
  const fw = model.tensors[model.inputs[0]].size;
  const ow = model.tensors[model.outputs[0]].size;
  const out = allocBuf("f32", n * ow, `the predictions for ${n} examples`) as Float32Array;
  const inp = plan.input(0);
  for (let at = 0; at < n; at += plan.capacity) {
    const m = Math.min(plan.capacity, n - at);
    for (let i = 0; i < m * fw; i++) inp[i] = x[at * fw + i];
    plan.forward(m, false);
    out.set(plan.output(0).subarray(0, m * ow), at * ow);
  }
  return out;
}

function diagnose(cfg: TrainConfig, lr: number, data: Split, value: number, epoch: number, step: number): string {
  const what = Number.isNaN(value) ? "NaN" : "infinite";
  const causes: string[] = [];
  const usual = OPTIMIZERS.get(cfg.optimizer.name)?.usualLr;
  if (usual && lr > usual[1]) causes.push(`the learning rate ${lr} is above the usual range for ${cfg.optimizer.name} (${usual[0]} to ${usual[1]}): try ${usual[1] / 10}`);
  let maxAbs = 0;
  let bad = 0;
  for (let i = 0; i < data.x.length; i++) {
    const v = data.x[i];
    if (!Number.isFinite(v)) bad++;
    else if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
  }
  if (bad) causes.push(`the features hold ${bad} NaN or infinite value(s): use \`missing drop\` or \`missing mean\``);
  if (maxAbs > 1e3) causes.push(`the features are not scaled (largest |x| is ${maxAbs.toPrecision(3)}): add \`standardize\` to the data block`);
  if (!causes.length) causes.push(usual ? `the learning rate ${lr} may still be too high: try ${lr / 10}` : "try a lower learning rate");
  return `the loss became ${what} at epoch ${epoch}, step ${step}; likely cause: ${causes.join("; ")}`;
}

/**
 * Trains `model` in place. The same model, data, configuration and seed give bit-identical
 * weights, losses and predictions. On a NaN or infinite loss it stops and keeps the last good
 * weights (the current ones when finite, else those at the start of the epoch).
 */
export function train(model: RuntimeModel, data: { train: Split; val?: Split }, cfg: TrainConfig, hooks: TrainHooks = {}): TrainResult {
  const tr = data.train;
  const val = data.val && data.val.n > 0 ? data.val : undefined;
  const batch = Math.max(1, Math.min(cfg.batch, tr.n));
  const lw = tr.labelShape.reduce((a, d) => a * d, 1);
  const step = new TrainStep(model, batch, cfg.loss, cfg.optimizer, lw);
  const outShape = model.tensors[model.outputs[0]].shape;
  const trainMetrics = new MetricAccumulator(cfg.loss.name, cfg.loss.opts, outShape, lw);
  const evaluator = val ? new Evaluator(model, cfg.loss, Math.max(batch, 256), lw) : undefined;
  const fw = model.tensors[model.inputs[0]].size;
  const notes: string[] = [];
  const history: EpochRecord[] = [];
  // The loss before any step: a run that never gets near it has diverged, even without a NaN.
  const initialLoss = tr.n > 0 ? new Evaluator(model, cfg.loss, Math.max(batch, 256), lw).run(tr, evenlySpaced(tr.n, INITIAL_SAMPLE)).loss : NaN;

  // What early stopping and reduce_on_plateau watch.
  const es = cfg.earlyStopping;
  let monitor = es?.monitor ?? (cfg.schedule?.name === "reduce_on_plateau" ? (val ? "val_loss" : "loss") : "val_loss");
  if (monitor.startsWith("val_") && !val && (es || cfg.schedule?.name === "reduce_on_plateau")) {
    const fallback = monitor.slice(4);
    notes.push(`there is no validation split, so \`${monitor}\` is watched on the training split (\`${fallback}\`)`);
    monitor = fallback;
  }
  const metricName = monitor.replace(/^val_/, "");
  const higher = HIGHER_IS_BETTER.has(metricName);
  const better = (a: number, b: number, delta: number) => (higher ? a > b + delta : a < b - delta);

  let best = higher ? -Infinity : Infinity;
  let bestEpoch: number | undefined;
  let bestWeights: Buf[] | undefined;
  let wait = 0;
  let plateauBest = best;
  let plateauWait = 0;
  let lr = step.optimizer.baseLr;
  let plateauLr = lr;
  let stop: Stop = { reason: "completed", epoch: cfg.epochs, message: `trained ${cfg.epochs} epoch(s)` };
  const batches = Math.ceil(tr.n / batch);
  const xb = step.plan.input(0);
  const yb = step.labels;
  const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

  const running = (): Record<string, number> => {
    const v = trainMetrics.result().values;
    return Object.fromEntries(cfg.metrics.filter((m) => m in v).map((m) => [m, v[m]]));
  };
  for (let e = 0; e < cfg.epochs; e++) {
    lr = cfg.schedule?.name === "reduce_on_plateau" ? plateauLr : scheduledLr(cfg.schedule, step.optimizer.baseLr, e);
    const order = epochOrder(tr.n, cfg.seed, e);
    const epochStart = model.snapshot();
    hooks.onEpochStart?.(e + 1, batches);
    trainMetrics.reset();
    let sum = 0;
    const t0 = now();
    let failed = false;
    for (let b = 0; b < batches; b++) {
      const from = b * batch;
      const n = Math.min(batch, tr.n - from);
      gather(tr, order, from, n, xb, yb, fw, lw);
      const loss = step.run(n, lr);
      if (!Number.isFinite(loss)) {
        if (!model.finite()) model.restore(epochStart);
        stop = { reason: "non_finite", epoch: e + 1, step: b + 1, message: diagnose(cfg, lr, tr, loss, e + 1, b + 1) };
        failed = true;
        break;
      }
      sum += loss * n;
      trainMetrics.add(step.plan.output(0), yb, n);
      hooks.onBatch?.(e + 1, b + 1, batches, loss, running);
    }
    if (failed) break;
    const seconds = (now() - t0) / 1000;
    const values: Record<string, number> = { loss: sum / tr.n };
    const tm = trainMetrics.result().values;
    for (const m of cfg.metrics) if (m in tm) values[m] = tm[m];
    if (evaluator && val) {
      const r = evaluator.run(val);
      values.val_loss = r.loss;
      for (const m of cfg.metrics) if (m in r.report.values) values[`val_${m}`] = r.report.values[m];
      if (!(`val_${metricName}` in values) && metricName in r.report.values) values[`val_${metricName}`] = r.report.values[metricName];
    }
    if (!(metricName in values) && metricName in tm) values[metricName] = tm[metricName];
    const record: EpochRecord = { epoch: e + 1, lr, values, seconds, samplesPerSecond: tr.n / Math.max(seconds, 1e-9) };
    history.push(record);
    hooks.onEpoch?.(record);

    const watched = values[monitor];
    if (cfg.schedule?.name === "reduce_on_plateau" && watched !== undefined) {
      const o = cfg.schedule.opts;
      if (better(watched, plateauBest, 0)) {
        plateauBest = watched;
        plateauWait = 0;
      } else if (++plateauWait >= num(o, "patience")) {
        plateauLr = Math.max(plateauLr * num(o, "factor"), num(o, "min_lr"));
        plateauWait = 0;
      }
    }
    if (es && watched !== undefined) {
      if (better(watched, best, es.minDelta)) {
        best = watched;
        bestEpoch = e + 1;
        wait = 0;
        if (es.restoreBest) bestWeights = model.snapshot();
      } else if (++wait >= es.patience) {
        stop = { reason: "early_stopping", epoch: e + 1, message: `\`${monitor}\` did not improve for ${es.patience} epoch(s) after epoch ${bestEpoch}` };
        break;
      }
    }
  }
  const lowest = Math.min(...history.map((h) => h.values.loss));
  if (Number.isFinite(initialLoss) && initialLoss > 0 && lowest > 100 * initialLoss) notes.push(divergedNote(cfg, initialLoss, lowest));
  if (es?.restoreBest && bestWeights && bestEpoch !== undefined) {
    model.restore(bestWeights);
    stop.message += `; restored the weights of epoch ${bestEpoch} (${monitor} ${best.toPrecision(4)})`;
    return { history, stop, bestEpoch, notes };
  }
  return { history, stop, bestEpoch: stop.reason === "non_finite" ? undefined : history.length, notes };
}

/** Loss and every applicable metric on one split. */
export function evaluate(model: RuntimeModel, split: Split, loss: NamedOpts): { loss: number; report: MetricReport } {
  const lw = split.labelShape.reduce((a, d) => a * d, 1);
  return new Evaluator(model, loss, 256, lw).run(split);
}
