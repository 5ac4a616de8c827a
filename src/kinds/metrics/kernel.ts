/**
 * Metrics over predictions, accumulated batch by batch without allocating: accuracy, precision,
 * recall and F1 per class and macro-averaged, the confusion matrix, and for regression MSE, MAE,
 * RMSE and R². The task follows from the loss: categorical losses compare the argmax with the class,
 * binary cross-entropy thresholds each output at 0.5 (at 0 for logits), the rest are regression.
 */
import type { Json } from "../../core/json.ts";
import type { Buf } from "../../core/kernel.ts";
import { LOSSES } from "../losses/index.ts";

export type Task = "multiclass" | "binary" | "multilabel" | "regression";

export interface ClassStats {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface MetricReport {
  task: Task;
  n: number;
  values: Record<string, number>;
  /** Rows: true class, columns: predicted class (multiclass and binary). */
  confusion?: number[][];
  /** Per class (multiclass, binary) or per label (multilabel). */
  perClass?: ClassStats[];
}

export function taskOf(loss: string, outShape: readonly number[]): Task {
  const K = outShape[outShape.length - 1] ?? 1;
  const task = LOSSES.get(loss)?.task ?? "regression";
  if (task === "binary") return K === 1 && outShape.length <= 1 ? "binary" : "multilabel";
  return task;
}

/** Where a yes/no output turns from no to yes: 0 for logits, 0.5 for probabilities. */
export function decisionThreshold(lossOpts: Readonly<Record<string, Json>>): number {
  return lossOpts.from_logits === true ? 0 : 0.5;
}

export class MetricAccumulator {
  readonly task: Task;
  private readonly K: number;
  private readonly elems: number;
  private readonly threshold: number;
  private readonly sparseLabels: boolean;
  private readonly confusion: Float64Array;
  private n = 0;
  // regression / multilabel sums
  private sse = 0;
  private sae = 0;
  private count = 0;
  private sumY: Float64Array;
  private sumY2: Float64Array;
  private correct = 0;

  constructor(loss: string, lossOpts: Record<string, Json>, outShape: readonly number[], labelWidth: number) {
    this.task = taskOf(loss, outShape);
    this.K = outShape[outShape.length - 1] ?? 1;
    this.elems = outShape.reduce((a, d) => a * d, 1);
    this.threshold = decisionThreshold(lossOpts);
    this.sparseLabels = this.task === "multiclass" && labelWidth !== this.elems;
    const classes = this.task === "multiclass" ? this.K : this.task === "binary" ? 2 : this.task === "multilabel" ? this.K : 0;
    // multilabel: per label [tp, fp, fn, tn]
    this.confusion = new Float64Array(this.task === "multilabel" ? 4 * classes : classes * classes);
    this.sumY = new Float64Array(this.task === "regression" ? this.elems : 0);
    this.sumY2 = new Float64Array(this.task === "regression" ? this.elems : 0);
  }

  reset(): void {
    this.n = 0;
    this.sse = 0;
    this.sae = 0;
    this.count = 0;
    this.correct = 0;
    this.confusion.fill(0);
    this.sumY.fill(0);
    this.sumY2.fill(0);
  }

  /** Adds n examples: predictions (n × outShape) and their labels. */
  add(pred: Buf, labels: ArrayLike<number>, n: number): void {
    const K = this.K;
    const E = this.elems;
    this.n += n;
    switch (this.task) {
      case "multiclass": {
        const rows = (n * E) / K;
        for (let r = 0; r < rows; r++) {
          const o = r * K;
          let best = 0;
          for (let j = 1; j < K; j++) if (pred[o + j] > pred[o + best]) best = j;
          let truth: number;
          if (this.sparseLabels) truth = Math.trunc(labels[r]);
          else {
            truth = 0;
            for (let j = 1; j < K; j++) if (labels[o + j] > labels[o + truth]) truth = j;
          }
          if (truth < 0 || truth >= K) continue;
          this.confusion[truth * K + best]++;
          if (truth === best) this.correct++;
          this.count++;
        }
        return;
      }
      case "binary":
        for (let i = 0; i < n; i++) {
          const p = pred[i] >= this.threshold ? 1 : 0;
          const t = labels[i] >= 0.5 ? 1 : 0;
          this.confusion[t * 2 + p]++;
          if (p === t) this.correct++;
          this.count++;
        }
        return;
      case "multilabel":
        for (let i = 0; i < n * E; i++) {
          const p = pred[i] >= this.threshold;
          const t = labels[i] >= 0.5;
          const k = (i % K) * 4;
          if (p && t) this.confusion[k]++;
          else if (p) this.confusion[k + 1]++;
          else if (t) this.confusion[k + 2]++;
          else this.confusion[k + 3]++;
          if (p === t) this.correct++;
          this.count++;
        }
        return;
      case "regression":
        for (let i = 0; i < n * E; i++) {
          const e = pred[i] - labels[i];
          this.sse += e * e;
          this.sae += Math.abs(e);
          const j = i % E;
          this.sumY[j] += labels[i];
          this.sumY2[j] += labels[i] * labels[i];
        }
        this.count += n * E;
        return;
    }
  }

  /** The accumulated metrics: every one that applies to the task. */
  result(): MetricReport {
    const values: Record<string, number> = {};
    const rep: MetricReport = { task: this.task, n: this.n, values };
    if (this.task === "regression") {
      const mse = this.sse / Math.max(1, this.count);
      values.mse = mse;
      values.rmse = Math.sqrt(mse);
      values.mae = this.sae / Math.max(1, this.count);
      // R² averaged over outputs (sklearn's uniform average): 1 − SS_res / SS_tot per output.
      const E = this.elems;
      const perOut = this.n;
      let sst = 0;
      for (let j = 0; j < E; j++) sst += this.sumY2[j] - (this.sumY[j] * this.sumY[j]) / Math.max(1, perOut);
      values.r2 = sst > 0 ? 1 - this.sse / sst : 0;
      return rep;
    }
    values.accuracy = this.correct / Math.max(1, this.count);
    const per: ClassStats[] = [];
    if (this.task === "multilabel") {
      for (let k = 0; k < this.K; k++) {
        const [tp, fp, fn] = [this.confusion[4 * k], this.confusion[4 * k + 1], this.confusion[4 * k + 2]];
        per.push(classScores(tp, fp, fn));
      }
    } else {
      const C = this.task === "binary" ? 2 : this.K;
      const cm: number[][] = [];
      for (let t = 0; t < C; t++) cm.push(Array.from(this.confusion.subarray(t * C, (t + 1) * C)));
      rep.confusion = cm;
      for (let c = 0; c < C; c++) {
        let fp = 0;
        let fn = 0;
        for (let o = 0; o < C; o++) {
          if (o === c) continue;
          fp += cm[o][c];
          fn += cm[c][o];
        }
        per.push(classScores(cm[c][c], fp, fn));
      }
    }
    rep.perClass = per;
    if (this.task === "binary") {
      // The positive class (1), as Keras reports precision and recall for a binary output.
      values.precision = per[1].precision;
      values.recall = per[1].recall;
      values.f1 = per[1].f1;
    } else {
      values.precision = mean(per.map((s) => s.precision));
      values.recall = mean(per.map((s) => s.recall));
      values.f1 = mean(per.map((s) => s.f1));
    }
    return rep;
  }
}

/** Precision, recall and F1 of one class from its counts; 0 where a ratio is 0/0. */
export function classScores(tp: number, fp: number, fn: number): ClassStats {
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, support: tp + fn };
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
