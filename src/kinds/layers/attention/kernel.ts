/**
 * Multi-head attention over [steps, features] tensors, with Keras's weights: `query/kernel`
 * [Dq, H, Kd], `key/kernel` [Dk, H, Kd], `value/kernel` [Dv, H, Vd] (each with a bias [H, Kd] or
 * [H, Vd]) and `attention_output/kernel` [H, Vd, O] with bias [O].
 *
 *   Q = q·Wq + bq,  K = k·Wk + bk,  V = v·Wv + bv                       (one product over all rows)
 *   P_h = softmax(Q_h · K_hᵀ / √Kd)   over the keys a query may see      (per example and head)
 *   y = concat_h(dropout(P_h) · V_h) · Wo + bo
 *
 * A query sees no key after it (`causal`) and no padded key (a padding mask, self-attention only);
 * a query that sees none attends to every key evenly, as Keras's additive −1e9 leaves it. `dropout`
 * drops attention probabilities in training, drawn from the layer's stream in (example, head,
 * query, key) order and scaled by 1/(1 − rate).
 */
import { booleanOption, numberOption } from "../../../core/options.ts";
import { initSpec } from "../../../core/init.ts";
import { colSums, gemm } from "../../../core/gemm.ts";
import type { Buf, KernelFactory, LayerInfo, ParamDecl } from "../../../core/kernel.ts";

interface Dims {
  Tq: number;
  Tv: number;
  Dq: number;
  Dv: number;
  Dk: number;
  H: number;
  Kd: number;
  Vd: number;
  O: number;
}

/** Heads and each head's key and value widths: `value_dim` is `key_dim` unless given (Keras's rule). */
export function headWidths(opts: Readonly<Record<string, unknown>>): { H: number; Kd: number; Vd: number } {
  const Kd = opts.key_dim as number;
  return { H: opts.heads as number, Kd, Vd: typeof opts.value_dim === "number" ? opts.value_dim : Kd };
}

/** The shapes of query, value and key (key defaults to value, value to query). */
export function attentionDims(l: Pick<LayerInfo, "inShapes" | "opts" | "outShape">): Dims {
  const [q, v = q, k = v] = l.inShapes;
  return { Tq: q[0], Tv: v[0], Dq: q[1], Dv: v[1], Dk: k[1], ...headWidths(l.opts), O: l.outShape[1] };
}

export const attentionKernel: KernelFactory = {
  params(l) {
    const { Dq, Dv, Dk, H, Kd, Vd, O } = attentionDims(l);
    const bias = booleanOption(l.opts, "use_bias");
    const kernel = (name: string, shape: number[]): ParamDecl => ({ name, shape, init: initSpec(l.opts.kernel_init), trainable: true, l1: numberOption(l.opts, "l1"), l2: numberOption(l.opts, "l2") });
    const b = (name: string, shape: number[]): ParamDecl[] => (bias ? [{ name, shape, init: initSpec(l.opts.bias_init), trainable: true }] : []);
    return [
      kernel("query/kernel", [Dq, H, Kd]),
      ...b("query/bias", [H, Kd]),
      kernel("key/kernel", [Dk, H, Kd]),
      ...b("key/bias", [H, Kd]),
      kernel("value/kernel", [Dv, H, Vd]),
      ...b("value/bias", [H, Vd]),
      kernel("attention_output/kernel", [H, Vd, O]),
      ...b("attention_output/bias", [O]),
    ];
  },
  bind(b) {
    const l = b.layer;
    const { Tq, Tv, Dq, Dv, Dk, H, Kd, Vd, O } = attentionDims(l);
    const HK = H * Kd;
    const HV = H * Vd;
    const N = b.capacity;
    const bias = booleanOption(l.opts, "use_bias");
    const [Wq, bq, Wk, bk, Wv, bv, Wo, bo] = bias ? b.params : [b.params[0], null, b.params[1], null, b.params[2], null, b.params[3], null];
    const gi = bias ? [0, 1, 2, 3, 4, 5, 6, 7] : [0, -1, 1, -1, 2, -1, 3, -1];
    const causal = booleanOption(l.opts, "causal");
    const rate = numberOption(l.opts, "dropout");
    const scale = 1 / Math.sqrt(Kd);
    const q = b.ins[0];
    const v = b.ins[1] ?? q;
    const k = b.ins[2] ?? v;
    // padding: keys whose id is 0 (given for self-attention, where the keys are the query's steps)
    const ids = b.masks[0];
    const Qp = b.alloc(N * Tq * HK);
    const Kp = b.alloc(N * Tv * HK);
    const Vp = b.alloc(N * Tv * HV);
    const P = b.alloc(N * H * Tq * Tv);
    const D = rate > 0 ? b.alloc(N * H * Tq * Tv) : null;
    const PD = rate > 0 ? b.alloc(N * H * Tq * Tv) : null;
    const Oc = b.alloc(N * Tq * HV);
    const dO = b.alloc(N * Tq * HV);
    const dQ = b.alloc(N * Tq * HK);
    const dK = b.alloc(N * Tv * HK);
    const dV = b.alloc(N * Tv * HV);
    const dP = b.alloc(Tq * Tv);
    let dropped = false;
    const visible = (i: number, qi: number, j: number): boolean => !(causal && j > qi) && !(ids !== null && ids[i * Tv + j] === 0);
    const probs = (pi: number): Buf => (dropped ? PD! : P).subarray(pi, pi + Tq * Tv);

    return {
      forward(n, training) {
        gemm(n * Tq, HK, Dq, q, 0, Dq, 1, Wq, 0, HK, 1, Qp, 0, HK, false, bq);
        gemm(n * Tv, HK, Dk, k, 0, Dk, 1, Wk, 0, HK, 1, Kp, 0, HK, false, bk);
        gemm(n * Tv, HV, Dv, v, 0, Dv, 1, Wv, 0, HV, 1, Vp, 0, HV, false, bv);
        dropped = training && rate > 0;
        for (let i = 0; i < n; i++)
          for (let h = 0; h < H; h++) {
            const pi = (i * H + h) * Tq * Tv;
            // scores Q_h · K_hᵀ, then the softmax over the visible keys of each query
            gemm(Tq, Tv, Kd, Qp, i * Tq * HK + h * Kd, HK, 1, Kp, i * Tv * HK + h * Kd, 1, HK, P, pi, Tv, false);
            for (let a = 0; a < Tq; a++) {
              const row = pi + a * Tv;
              let max = -Infinity;
              for (let j = 0; j < Tv; j++) if (visible(i, a, j) && P[row + j] * scale > max) max = P[row + j] * scale;
              if (max === -Infinity) {
                P.fill(1 / Tv, row, row + Tv);
                continue;
              }
              let sum = 0;
              for (let j = 0; j < Tv; j++) {
                const e = visible(i, a, j) ? Math.exp(P[row + j] * scale - max) : 0;
                P[row + j] = e;
                sum += e;
              }
              for (let j = 0; j < Tv; j++) P[row + j] /= sum;
            }
            if (dropped) {
              const keep = 1 / (1 - rate);
              for (let e = pi; e < pi + Tq * Tv; e++) {
                D![e] = b.rng.uniform() >= rate ? keep : 0;
                PD![e] = P[e] * D![e];
              }
            }
            // this head's part of the concatenated outputs
            gemm(Tq, Vd, Tv, probs(pi), 0, Tv, 1, Vp, i * Tv * HV + h * Vd, HV, 1, Oc, i * Tq * HV + h * Vd, HV, false);
          }
        gemm(n * Tq, O, HV, Oc, 0, HV, 1, Wo, 0, O, 1, b.out, 0, O, false, bo);
      },

      backward(n) {
        const dy = b.dOut!;
        const dp = b.dParams;
        const grad = (slot: number) => (gi[slot] >= 0 ? dp[gi[slot]] : null);
        if (grad(6)) gemm(HV, O, n * Tq, Oc, 0, 1, HV, dy, 0, O, 1, grad(6)!, 0, O, false);
        if (grad(7)) colSums(n * Tq, O, dy, grad(7)!, false);
        gemm(n * Tq, HV, O, dy, 0, O, 1, Wo, 0, 1, O, dO, 0, HV, false);
        for (let i = 0; i < n; i++)
          for (let h = 0; h < H; h++) {
            const pi = (i * H + h) * Tq * Tv;
            const oq = i * Tq * HV + h * Vd;
            const ov = i * Tv * HV + h * Vd;
            // dV_h = Pᵀ · dO_h; dP = dO_h · V_hᵀ
            gemm(Tv, Vd, Tq, probs(pi), 0, 1, Tv, dO, oq, HV, 1, dV, ov, HV, false);
            gemm(Tq, Tv, Vd, dO, oq, HV, 1, Vp, ov, 1, HV, dP, 0, Tv, false);
            if (dropped) for (let e = 0; e < Tq * Tv; e++) dP[e] *= D![pi + e];
            // through the softmax: dS = P ⊙ (dP − Σ P·dP), scaled
            for (let a = 0; a < Tq; a++) {
              const row = pi + a * Tv;
              let dot = 0;
              for (let j = 0; j < Tv; j++) dot += P[row + j] * dP[a * Tv + j];
              let any = false;
              for (let j = 0; j < Tv; j++) any ||= visible(i, a, j);
              for (let j = 0; j < Tv; j++) dP[a * Tv + j] = any ? P[row + j] * (dP[a * Tv + j] - dot) * scale : 0;
            }
            // dQ_h = dS · K_h; dK_h = dSᵀ · Q_h
            gemm(Tq, Kd, Tv, dP, 0, Tv, 1, Kp, i * Tv * HK + h * Kd, HK, 1, dQ, i * Tq * HK + h * Kd, HK, false);
            gemm(Tv, Kd, Tq, dP, 0, 1, Tv, Qp, i * Tq * HK + h * Kd, HK, 1, dK, i * Tv * HK + h * Kd, HK, false);
          }
        if (grad(0)) gemm(Dq, HK, n * Tq, q, 0, 1, Dq, dQ, 0, HK, 1, grad(0)!, 0, HK, false);
        if (grad(1)) colSums(n * Tq, HK, dQ, grad(1)!, false);
        if (grad(2)) gemm(Dk, HK, n * Tv, k, 0, 1, Dk, dK, 0, HK, 1, grad(2)!, 0, HK, false);
        if (grad(3)) colSums(n * Tv, HK, dK, grad(3)!, false);
        if (grad(4)) gemm(Dv, HV, n * Tv, v, 0, 1, Dv, dV, 0, HV, 1, grad(4)!, 0, HV, false);
        if (grad(5)) colSums(n * Tv, HV, dV, grad(5)!, false);
        // the inputs' gradients, each input's in the order of the inputs (a second use adds)
        const into = (at: number, add: boolean, rows: number, width: number, d: Buf, W: Buf, cols: number) => {
          const dx = b.dIns[at];
          if (dx) gemm(rows, width, cols, d, 0, cols, 1, W, 0, 1, cols, dx, 0, width, add);
        };
        const ins = b.ins.length;
        into(0, b.addIns[0], n * Tq, Dq, dQ, Wq, HK);
        if (ins === 1) {
          into(0, true, n * Tv, Dk, dK, Wk, HK);
          into(0, true, n * Tv, Dv, dV, Wv, HV);
        } else if (ins === 2) {
          into(1, b.addIns[1], n * Tv, Dv, dV, Wv, HV);
          into(1, true, n * Tv, Dk, dK, Wk, HK);
        } else {
          into(1, b.addIns[1], n * Tv, Dv, dV, Wv, HV);
          into(2, b.addIns[2], n * Tv, Dk, dK, Wk, HK);
        }
      },
    };
  },
};
