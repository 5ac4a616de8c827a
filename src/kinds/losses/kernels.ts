/**
 * Loss kernels: each computes the mean loss of a batch and, in the same pass, its gradient with
 * respect to the model's output (already divided by the batch). Reductions follow TensorFlow.js:
 * squared, absolute, Huber and binary losses average over every output value; the categorical
 * ones sum over the last axis and average over the rest. Without `from_logits`, predictions are
 * clipped to [ε, 1 − ε] (ε = 1e-7) exactly as tfjs-layers does, and a clipped value passes no
 * gradient. With `from_logits`, softmax and cross-entropy are fused through log-sum-exp, so huge
 * logits give a large finite loss and never NaN.
 */
import type { Json } from "../../core/json.ts";
import { numberOption as num } from "../../core/options.ts";
import type { Buf } from "../../core/kernel.ts";

export const EPSILON = 1e-7;

export interface LossBinding {
  name: string;
  opts: Record<string, Json>;
  /** Per-example output shape. */
  outShape: number[];
  pred: Buf;
  /** Where the gradient goes; null for evaluation only. */
  dPred: Buf | null;
  /** Labels of the batch, `labelWidth` values per example. */
  labels: ArrayLike<number>;
  labelWidth: number;
}

export interface LossKernel {
  /** Mean loss over the first `n` examples; writes dPred when bound. */
  compute(n: number): number;
}

/** Label values per example a loss expects: class indices for the sparse loss, else one per output. */
export function labelWidthFor(name: string, outShape: readonly number[]): number {
  const elems = outShape.reduce((a, d) => a * d, 1);
  if (name === "sparse_cross_entropy") return elems / (outShape[outShape.length - 1] ?? 1);
  return elems;
}


export function lossKernel(b: LossBinding): LossKernel {
  const elems = b.outShape.reduce((a, d) => a * d, 1);
  const K = b.outShape[b.outShape.length - 1] ?? 1;
  const rowsPer = elems / K;
  const p = b.pred;
  const d = b.dPred;
  const y = b.labels;
  const logits = b.opts.from_logits === true;
  switch (b.name) {
    case "mse":
      return {
        compute(n) {
          const N = n * elems;
          let s = 0;
          for (let i = 0; i < N; i++) {
            const e = p[i] - y[i];
            s += e * e;
            if (d) d[i] = (2 * e) / N;
          }
          return s / N;
        },
      };
    case "mae":
      return {
        compute(n) {
          const N = n * elems;
          let s = 0;
          for (let i = 0; i < N; i++) {
            const e = p[i] - y[i];
            s += Math.abs(e);
            if (d) d[i] = (e > 0 ? 1 : e < 0 ? -1 : 0) / N;
          }
          return s / N;
        },
      };
    case "huber": {
      const delta = num(b.opts, "delta");
      return {
        compute(n) {
          const N = n * elems;
          let s = 0;
          for (let i = 0; i < N; i++) {
            const e = p[i] - y[i];
            const a = Math.abs(e);
            if (a <= delta) {
              s += 0.5 * e * e;
              if (d) d[i] = e / N;
            } else {
              s += delta * a - 0.5 * delta * delta;
              if (d) d[i] = (e > 0 ? delta : -delta) / N;
            }
          }
          return s / N;
        },
      };
    }
    case "binary_cross_entropy": {
      const ls = num(b.opts, "label_smoothing");
      return {
        compute(n) {
          const N = n * elems;
          let s = 0;
          for (let i = 0; i < N; i++) {
            const t = ls ? y[i] * (1 - ls) + 0.5 * ls : y[i];
            if (logits) {
              const x = p[i];
              s += Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
              if (d) d[i] = (sigmoid(x) - t) / N;
            } else {
              const v = p[i];
              const q = v < EPSILON ? EPSILON : v > 1 - EPSILON ? 1 - EPSILON : v;
              // tfjs: the clipped probability back to a logit, then sigmoid cross-entropy.
              const x = Math.log(q / (1 - q));
              s += Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
              if (d) d[i] = v >= EPSILON && v <= 1 - EPSILON ? (q - t) / (q * (1 - q)) / N : 0;
            }
          }
          return s / N;
        },
      };
    }
    case "cross_entropy":
    case "sparse_cross_entropy": {
      const sparse = b.name === "sparse_cross_entropy" || (b.labelWidth === rowsPer && K > 1 && b.labelWidth !== elems);
      const preclip = b.name === "sparse_cross_entropy" && !logits;
      // sparse_cross_entropy has no label_smoothing; cross_entropy fed class indices ignores it.
      const smooth = sparse ? 0 : num(b.opts, "label_smoothing");
      return {
        compute(n) {
          const rows = n * rowsPer;
          let s = 0;
          for (let r = 0; r < rows; r++) {
            const o = r * K;
            const cls = sparse ? Math.min(K - 1, Math.max(0, Math.trunc(y[r]))) : -1;
            if (logits) {
              let mx = -Infinity;
              for (let j = 0; j < K; j++) if (p[o + j] > mx) mx = p[o + j];
              let se = 0;
              for (let j = 0; j < K; j++) se += Math.exp(p[o + j] - mx);
              const lse = mx + Math.log(se);
              let ty = 0;
              let loss = 0;
              for (let j = 0; j < K; j++) {
                const t = target(y, o, j, K, cls, smooth);
                ty += t;
                loss += t * (lse - p[o + j]);
              }
              s += loss;
              if (d) for (let j = 0; j < K; j++) d[o + j] = (ty * Math.exp(p[o + j] - lse) - target(y, o, j, K, cls, smooth)) / rows;
            } else {
              s += probCrossEntropy(p, o, K, y, cls, smooth, preclip, d, 1 / rows);
            }
          }
          return s / rows;
        },
      };
    }
    default:
      throw new Error(`no kernel for the loss \`${b.name}\``);
  }
}

/** The target of class j in row offset o: one-hot from a class index (cls ≥ 0), else the (smoothed) label. */
function target(y: ArrayLike<number>, o: number, j: number, K: number, cls: number, smooth: number): number {
  if (cls >= 0) return j === cls ? 1 : 0;
  return smooth ? y[o + j] * (1 - smooth) + smooth / K : y[o + j];
}

const clip = (v: number): number => (v < EPSILON ? EPSILON : v > 1 - EPSILON ? 1 - EPSILON : v);
const inside = (v: number): boolean => v >= EPSILON && v <= 1 - EPSILON;

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * −Σ t·log(clip(p / Σp)) over one row, as tfjs-layers computes it from probabilities (`preclip`: the
 * sparse loss clips once more before normalizing). Writes the row's gradient times `scale`.
 */
function probCrossEntropy(p: Buf, o: number, K: number, y: ArrayLike<number>, cls: number, smooth: number, preclip: boolean, d: Buf | null, scale: number): number {
  let S = 0;
  for (let j = 0; j < K; j++) S += preclip ? clip(p[o + j]) : p[o + j];
  let loss = 0;
  let gq = 0;
  for (let j = 0; j < K; j++) {
    const v = preclip ? clip(p[o + j]) : p[o + j];
    const q = v / S;
    const t = target(y, o, j, K, cls, smooth);
    loss -= t * Math.log(clip(q));
    // g_j = dL/dq_j (zero where q was clipped); Σ g_j q_j for the normalization's Jacobian.
    if (d) gq += inside(q) ? -t / clip(q) * q : 0;
  }
  if (d) {
    for (let j = 0; j < K; j++) {
      const v = preclip ? clip(p[o + j]) : p[o + j];
      const q = v / S;
      const g = inside(q) ? -target(y, o, j, K, cls, smooth) / clip(q) : 0;
      let dv = (g - gq) / S;
      if (preclip && !inside(p[o + j])) dv = 0;
      d[o + j] = dv * scale;
    }
  }
  return loss;
}

/** A parameter with L1/L2 penalties (tfjs `l1l2`: l1·Σ|w| + l2·Σw²). */
export interface Regularized {
  value: Buf;
  grad: Buf | null;
  l1: number;
  l2: number;
}

/**
 * The total L1/L2 penalty of the parameters; with `addGradients`, also adds its gradient to each
 * parameter's gradient (frozen ones have none). Training and evaluation report the same penalty.
 */
export function regularize(params: readonly Regularized[], addGradients = true): number {
  let total = 0;
  for (const q of params) {
    if (!q.l1 && !q.l2) continue;
    const w = q.value;
    const g = addGradients ? q.grad : null;
    const l1 = q.l1;
    const l2 = q.l2;
    let a = 0;
    let s = 0;
    for (let i = 0; i < w.length; i++) {
      const v = w[i];
      a += Math.abs(v);
      s += v * v;
      if (g) g[i] += l1 * (v > 0 ? 1 : v < 0 ? -1 : 0) + 2 * l2 * v;
    }
    total += l1 * a + l2 * s;
  }
  return total;
}
