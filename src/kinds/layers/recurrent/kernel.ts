/**
 * Recurrent kernels: simple RNN, LSTM and GRU over [T, F] sequences, forward and backward through
 * time, with Keras's weights: `kernel` [F, G·u], `recurrent_kernel` [u, G·u] and `bias` [G·u] (a
 * GRU with `reset_after` has [2, 3u]: input and recurrent biases), gates in Keras's order (LSTM
 * i, f, c, o; GRU z, r, h).
 *
 * The input products of every step are one matrix product over all n·T rows; each step then adds
 * its recurrent product and applies the gates in place. Rows of the per-step buffers are indexed by
 * time (row i·T + t), so the weight gradients are again one product each; `go_backwards` only
 * changes the order the steps run in (and, with `return_sequences`, the order of the outputs, as in
 * Keras).
 *
 * With a padding mask (`embedding mask_zero`), a step whose id is 0 keeps the state (and the LSTM's
 * cell) as it was and outputs it again, as Keras's and TensorFlow.js's masked RNNs do.
 *
 * `dropout` and `recurrent_dropout` (training only) drop the same inputs and the same state units
 * at every step of a sequence: one mask per example for x_t and one for h_{t−1} in the recurrent
 * products (shared by the gates, as Keras's LSTM implementation 2), drawn from the layer's stream,
 * inputs first, kept where u ≥ rate and scaled by 1/(1 − rate) as the dropout layer does.
 */
import { booleanOption, numberOption } from "../../../core/options.ts";
import { initSpec } from "../../../core/init.ts";
import { colSums, gemm } from "../../../core/gemm.ts";
import { simdActivate, simdLstmCell, simdLstmGates } from "../../../core/simd/index.ts";
import type { Buf, KernelBinding, KernelFactory, LayerInfo, ParamDecl } from "../../../core/kernel.ts";

export type Cell = "simple_rnn" | "lstm" | "gru";

/** The activations a recurrent layer may use; each derivative is taken from the activation's output. */
export const RECURRENT_ACTIVATIONS = ["tanh", "sigmoid", "hard_sigmoid", "relu", "linear"] as const;

const enum Fn {
  Tanh,
  Sigmoid,
  HardSigmoid,
  Relu,
  Linear,
}

export const fnOf = (name: unknown): Fn => {
  const i = RECURRENT_ACTIVATIONS.indexOf(name as (typeof RECURRENT_ACTIVATIONS)[number]);
  if (i < 0) throw new Error(`internal: recurrent activation ${JSON.stringify(name)}`);
  return i as Fn;
};

/**
 * Each run's function in place over `rows` rows of `width` values (row i at off + i·stride), a run
 * being [start, len, f]: four at a time on SIMD where every f is the sigmoid or tanh and the buffer
 * float32 (Math's cost tens of ns a value), else value by value here.
 */
function activate(buf: Buf, off: number, stride: number, rows: number, width: number, runs: [number, number, Fn][]): void {
  const simd = runs.every(([, , f]) => f === Fn.Sigmoid || f === Fn.Tanh);
  if (simd && simdActivate(buf, buf, off, stride, rows, width, runs.map(([start, len, f]) => [start, len, f === Fn.Tanh ? "tanh" : "sigmoid"] as const))) return;
  for (const [start, len, f] of runs)
    for (let i = 0; i < rows; i++) for (let j = 0, r = off + i * stride + start; j < len; j++) buf[r + j] = apply(f, buf[r + j]);
}

function apply(f: Fn, x: number): number {
  switch (f) {
    case Fn.Tanh:
      return Math.tanh(x);
    case Fn.Sigmoid:
      return 1 / (1 + Math.exp(-x));
    case Fn.HardSigmoid:
      // TensorFlow.js's: clip(0.2·x + 0.5, 0, 1)
      return Math.max(0, Math.min(1, 0.2 * x + 0.5));
    case Fn.Relu:
      return x > 0 ? x : 0;
    default:
      return x;
  }
}

/** The derivative at the point whose output is y. */
function slope(f: Fn, y: number): number {
  switch (f) {
    case Fn.Tanh:
      return 1 - y * y;
    case Fn.Sigmoid:
      return y * (1 - y);
    case Fn.HardSigmoid:
      return y > 0 && y < 1 ? 0.2 : 0;
    case Fn.Relu:
      return y > 0 ? 1 : 0;
    default:
      return 1;
  }
}

/**
 * An LSTM's cell at one time step over n rows, from its gates i, f, g, o (activated) at
 * Z[zOff + r·zs], u apart: c' = f·c + i·g (c, n rows of u, updated), the old h and c to HP and CP
 * and act(c') to AC (at sOff + r·ss), h = o·act(c'). (simdLstmCell is this with act tanh, to the
 * same bits.)
 */
export function lstmCell(Z: Buf, zOff: number, zs: number, HP: Buf, CP: Buf, AC: Buf, sOff: number, ss: number, c: Buf, h: Buf, n: number, u: number, act: Fn): void {
  for (let i = 0; i < n; i++) HP.set(h.subarray(i * u, (i + 1) * u), sOff + i * ss);
  for (let i = 0; i < n; i++) {
    const zr = zOff + i * zs;
    const sr = sOff + i * ss;
    for (let j = 0; j < u; j++) {
      const cp = c[i * u + j];
      CP[sr + j] = cp;
      c[i * u + j] = AC[sr + j] = Z[zr + u + j] * cp + Z[zr + j] * Z[zr + 2 * u + j];
    }
  }
  activate(AC, sOff, ss, n, u, [[0, u, act]]);
  for (let i = 0; i < n; i++) {
    const zr = zOff + i * zs + 3 * u;
    const sr = sOff + i * ss;
    for (let j = 0; j < u; j++) h[i * u + j] = Z[zr + j] * AC[sr + j];
  }
}

/**
 * An LSTM's gradients at its gates' inputs at one time step, in place of the gates in Z (laid out as
 * lstmCell's), from dh at its output and dc, the cell's gradient from the step after, which becomes
 * the one passed on. (simdLstmGates is this with sigmoid gates and a tanh cell, to the same bits.)
 */
export function lstmGates(Z: Buf, zOff: number, zs: number, CP: Buf, AC: Buf, sOff: number, ss: number, dh: Buf, dc: Buf, n: number, u: number, act: Fn, rec: Fn): void {
  for (let i = 0; i < n; i++) {
    const zr = zOff + i * zs;
    const sr = sOff + i * ss;
    for (let j = 0; j < u; j++) {
      const ig = Z[zr + j];
      const fg = Z[zr + u + j];
      const gg = Z[zr + 2 * u + j];
      const og = Z[zr + 3 * u + j];
      const ac = AC[sr + j];
      const d = dh[i * u + j];
      const dcj = dc[i * u + j] + d * og * slope(act, ac);
      Z[zr + j] = dcj * gg * slope(rec, ig);
      Z[zr + u + j] = dcj * CP[sr + j] * slope(rec, fg);
      Z[zr + 2 * u + j] = dcj * ig * slope(act, gg);
      Z[zr + 3 * u + j] = d * ac * slope(rec, og);
      dc[i * u + j] = dcj * fg;
    }
  }
}

export const gatesOf = (cell: Cell): number => (cell === "lstm" ? 4 : cell === "gru" ? 3 : 1);

interface Dims {
  T: number;
  F: number;
  u: number;
  G: number;
}

const dimsOf = (l: LayerInfo, cell: Cell): Dims => {
  const [T, F] = l.inShapes[0];
  return { T, F, u: l.opts.units as number, G: gatesOf(cell) };
};

export function recurrentKernel(cell: Cell): KernelFactory {
  return {
    params(l) {
      const { F, u, G } = dimsOf(l, cell);
      const resetAfter = cell === "gru" && booleanOption(l.opts, "reset_after");
      const one = (prefix: string): ParamDecl[] => {
        const p: ParamDecl[] = [
          { name: `${prefix}kernel`, shape: [F, G * u], init: initSpec(l.opts.kernel_init), trainable: true, l1: numberOption(l.opts, "l1"), l2: numberOption(l.opts, "l2") },
          { name: `${prefix}recurrent_kernel`, shape: [u, G * u], init: initSpec(l.opts.recurrent_init), trainable: true },
        ];
        if (booleanOption(l.opts, "use_bias")) {
          const base = initSpec(l.opts.bias_init);
          const init = cell === "lstm" && booleanOption(l.opts, "unit_forget_bias") ? { name: "unit_forget_bias", options: { base: l.opts.bias_init } } : base;
          p.push({ name: `${prefix}bias`, shape: resetAfter ? [2, G * u] : [G * u], init, trainable: true });
        }
        return p;
      };
      // tfjs's names inside its Bidirectional wrapper: forward_<inner>/kernel, backward_<inner>/kernel
      return mergeOf(l.opts) === "off" ? one("") : [...one(`forward_${cell}/`), ...one(`backward_${cell}/`)];
    },
    bind(b) {
      const l = b.layer;
      const { T, u } = dimsOf(l, cell);
      const merge = mergeOf(l.opts);
      const goBackwards = booleanOption(l.opts, "go_backwards");
      if (merge === "off") {
        const d = direction(cell, b, b.params, goBackwards, b.out, true);
        return { forward: (n, training) => d.forward(n, training), backward: (n) => d.backward(n, b.dOut!, b.dParams, b.addIns[0]) };
      }
      // Keras's Bidirectional: a second layer running the other way, its sequence output reversed
      // into time order, then merged
      const seq = booleanOption(l.opts, "return_sequences");
      const half = b.params.length / 2;
      const per = (seq ? T : 1) * u;
      const N = b.capacity;
      const yF = b.alloc(N * per);
      const yB = b.alloc(N * per);
      const dF = b.alloc(N * per);
      const dB = b.alloc(N * per);
      const fwd = direction(cell, b, b.params.slice(0, half), goBackwards, yF);
      const bwd = direction(cell, b, b.params.slice(half), !goBackwards, yB);
      const steps = seq ? T : 1;
      // where the backward layer's value for output step s is
      const back = (i: number, s: number, j: number) => (i * steps + (seq ? steps - 1 - s : s)) * u + j;
      return {
        forward(n, training) {
          fwd.forward(n, training);
          bwd.forward(n, training);
          const y = b.out;
          for (let i = 0; i < n; i++)
            for (let s = 0; s < steps; s++)
              for (let j = 0; j < u; j++) {
                const f = yF[(i * steps + s) * u + j];
                const r = yB[back(i, s, j)];
                if (merge === "concat") {
                  y[(i * steps + s) * 2 * u + j] = f;
                  y[(i * steps + s) * 2 * u + u + j] = r;
                } else y[(i * steps + s) * u + j] = merge === "sum" ? f + r : merge === "ave" ? (f + r) / 2 : f * r;
              }
        },
        backward(n) {
          const dy = b.dOut!;
          for (let i = 0; i < n; i++)
            for (let s = 0; s < steps; s++)
              for (let j = 0; j < u; j++) {
                const at = (i * steps + s) * u + j;
                const bt = back(i, s, j);
                if (merge === "concat") {
                  dF[at] = dy[(i * steps + s) * 2 * u + j];
                  dB[bt] = dy[(i * steps + s) * 2 * u + u + j];
                } else {
                  const g = dy[at];
                  dF[at] = merge === "sum" ? g : merge === "ave" ? g / 2 : g * yB[bt];
                  dB[bt] = merge === "sum" ? g : merge === "ave" ? g / 2 : g * yF[at];
                }
              }
          fwd.backward(n, dF, b.dParams.slice(0, half), b.addIns[0]);
          bwd.backward(n, dB, b.dParams.slice(half), true);
        },
      };
    },
  };
}

export type Merge = "off" | "concat" | "sum" | "mul" | "ave";
/** How a layer merges its backward twin (`off`: it has none), from its options. */
export const mergeOf = (opts: Readonly<Record<string, unknown>>): Merge => (typeof opts.bidirectional === "string" ? (opts.bidirectional as Merge) : "off");

interface Direction {
  forward(n: number, training: boolean): void;
  backward(n: number, dOut: Buf, dParams: (Buf | null)[], addDx: boolean): void;
}

/**
 * One pass over the sequence (in time order, or backwards), writing its output to `y`. With
 * `states` it starts from the binding's inputs after the first (`initial_state`: h, then an LSTM's
 * c), when given, and writes its final states to `b.more` (`return_state`); backward then adds
 * their gradients to the last step's and passes the first step's on to the initial states.
 */
function direction(cell: Cell, b: KernelBinding, params: Buf[], backwards: boolean, y: Buf, states = false): Direction {
  const l = b.layer;
  const { T, F, u, G } = dimsOf(l, cell);
  const Gu = G * u;
  const seq = booleanOption(l.opts, "return_sequences");
  const resetAfter = cell === "gru" && booleanOption(l.opts, "reset_after");
  const act = fnOf(l.opts.activation);
  const rec = cell === "simple_rnn" ? Fn.Linear : fnOf(l.opts.recurrent_activation);
  // an LSTM with Keras's activations: its step can run in the SIMD module (simdLstmCell)
  const moduleCell = cell === "lstm" && act === Fn.Tanh && rec === Fn.Sigmoid;
  const N = b.capacity;
  const [W, U, bias] = params;
  const biasIn = bias ? (resetAfter ? bias.subarray(0, Gu) : bias) : null;
  const biasRec = bias && resetAfter ? bias.subarray(Gu, 2 * Gu) : null;
  const x = b.ins[0];
  // Z: the gates' inputs, then their outputs, then (backward) the gradients at their inputs
  const Z = b.alloc(N * T * Gu);
  // the state before each time step, and the running state
  const HP = b.alloc(N * T * u);
  const h = b.alloc(N * u);
  const CP = cell === "lstm" ? b.alloc(N * T * u) : null;
  const AC = cell === "lstm" ? b.alloc(N * T * u) : null;
  const c = cell === "lstm" ? b.alloc(N * u) : null;
  const MH = resetAfter ? b.alloc(N * T * Gu) : null;
  const RH = cell === "gru" && !resetAfter ? b.alloc(N * T * u) : null;
  const dh = b.alloc(N * u);
  const dhNext = b.alloc(N * u);
  const dcNext = cell === "lstm" ? b.alloc(N * u) : null;
  const drh = RH ? b.alloc(N * u) : null;
  const timeOf = (s: number): number => (backwards ? T - 1 - s : s);
  const rateX = numberOption(l.opts, "dropout");
  const rateH = numberOption(l.opts, "recurrent_dropout");
  // masks (one row per example), the masked inputs, and the masked state the products read
  const mX = rateX > 0 ? b.alloc(N * F) : null;
  const XD = mX ? b.alloc(N * T * F) : null;
  const DX = mX ? b.alloc(N * T * F) : null;
  const mH = rateH > 0 ? b.alloc(N * u) : null;
  const hm = mH ? b.alloc(N * u) : null;
  const HM = mH ? b.alloc(N * T * u) : null;
  const dhp = mH ? b.alloc(N * u) : null;
  let maskedX = false;
  let maskedH = false;
  // padding (`embedding mask_zero`): a step whose id is 0 leaves the state as it was, as in Keras
  const ids = b.masks[0];
  const padded = (i: number, t: number): boolean => ids !== null && ids[i * T + t] === 0;
  const dhKeep = ids ? b.alloc(N * u) : null;
  const dcKeep = ids && cell === "lstm" ? b.alloc(N * u) : null;
  // `initial_state` and `return_state`
  const h0 = states && b.ins.length > 1 ? b.ins[1] : null;
  const c0 = states && cell === "lstm" && b.ins.length > 2 ? b.ins[2] : null;
  const hOut = states ? (b.more[0] ?? null) : null;
  const cOut = states && cell === "lstm" ? (b.more[1] ?? null) : null;
  const dhOut = states ? (b.dMore[0] ?? null) : null;
  const dcOut = states && cell === "lstm" ? (b.dMore[1] ?? null) : null;
  const draw = (mask: Buf, len: number, rate: number) => {
    const keep = 1 / (1 - rate);
    for (let i = 0; i < len; i++) mask[i] = b.rng.uniform() >= rate ? keep : 0;
  };

  return {
    forward(n, training) {
      maskedX = training && mX !== null;
      maskedH = training && mH !== null;
      if (maskedX) {
        draw(mX!, n * F, rateX);
        for (let i = 0; i < n; i++) for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) XD![(i * T + t) * F + f] = x[(i * T + t) * F + f] * mX![i * F + f];
      }
      if (maskedH) draw(mH!, n * u, rateH);
      gemm(n * T, Gu, F, maskedX ? XD! : x, 0, F, 1, W, 0, Gu, 1, Z, 0, Gu, false, biasIn);
      if (h0) h.set(h0.subarray(0, n * u));
      else h.fill(0, 0, n * u);
      if (c0) c!.set(c0.subarray(0, n * u));
      else c?.fill(0, 0, n * u);
      // what the recurrent products read: the state, or the state with its units dropped
      const hr = maskedH ? hm! : h;
      for (let s = 0; s < T; s++) {
        const t = timeOf(s);
        // (an LSTM's step copies its state into HP itself)
        if (cell !== "lstm") for (let i = 0; i < n; i++) HP.set(h.subarray(i * u, (i + 1) * u), (i * T + t) * u);
        if (maskedH) {
          for (let k = 0; k < n * u; k++) hm![k] = h[k] * mH![k];
          for (let i = 0; i < n; i++) HM!.set(hm!.subarray(i * u, (i + 1) * u), (i * T + t) * u);
        }
        if (cell === "simple_rnn") {
          gemm(n, u, u, hr, 0, u, 1, U, 0, u, 1, Z, t * u, T * u, true);
          activate(Z, t * u, T * u, n, u, [[0, u, act]]);
          for (let i = 0; i < n; i++) h.set(Z.subarray((i * T + t) * u, (i * T + t + 1) * u), i * u);
        } else if (cell === "lstm") {
          gemm(n, Gu, u, hr, 0, u, 1, U, 0, Gu, 1, Z, t * Gu, T * Gu, true);
          activate(Z, t * Gu, T * Gu, n, Gu, [[0, 2 * u, rec], [2 * u, u, act], [3 * u, u, rec]]);
          const simd = moduleCell && simdLstmCell(Z, t * Gu, T * Gu, HP, CP!, AC!, t * u, T * u, c!, h, n, u);
          if (!simd) lstmCell(Z, t * Gu, T * Gu, HP, CP!, AC!, t * u, T * u, c!, h, n, u, act);
        } else if (resetAfter) {
          gemm(n, Gu, u, hr, 0, u, 1, U, 0, Gu, 1, MH!, t * Gu, T * Gu, false, biasRec);
          for (let i = 0; i < n; i++) for (let j = 0, zr = (i * T + t) * Gu; j < 2 * u; j++) Z[zr + j] += MH![zr + j];
          activate(Z, t * Gu, T * Gu, n, Gu, [[0, 2 * u, rec]]);
          for (let i = 0; i < n; i++) for (let j = 0, zr = (i * T + t) * Gu; j < u; j++) Z[zr + 2 * u + j] += Z[zr + u + j] * MH![zr + 2 * u + j];
          activate(Z, t * Gu, T * Gu, n, Gu, [[2 * u, u, act]]);
          for (let i = 0; i < n; i++) {
            const zr = (i * T + t) * Gu;
            for (let j = 0; j < u; j++) {
              const z = Z[zr + j];
              h[i * u + j] = z * h[i * u + j] + (1 - z) * Z[zr + 2 * u + j];
            }
          }
        } else {
          // z and r from h; the candidate from r·h
          gemm(n, 2 * u, u, hr, 0, u, 1, U, 0, Gu, 1, Z, t * Gu, T * Gu, true);
          activate(Z, t * Gu, T * Gu, n, Gu, [[0, 2 * u, rec]]);
          for (let i = 0; i < n; i++) {
            const zr = (i * T + t) * Gu;
            const sr = (i * T + t) * u;
            for (let j = 0; j < u; j++) RH![sr + j] = Z[zr + u + j] * hr[i * u + j];
          }
          gemm(n, u, u, RH!, t * u, T * u, 1, U, 2 * u, Gu, 1, Z, t * Gu + 2 * u, T * Gu, true);
          activate(Z, t * Gu, T * Gu, n, Gu, [[2 * u, u, act]]);
          for (let i = 0; i < n; i++) {
            const zr = (i * T + t) * Gu;
            for (let j = 0; j < u; j++) {
              const z = Z[zr + j];
              h[i * u + j] = z * h[i * u + j] + (1 - z) * Z[zr + 2 * u + j];
            }
          }
        }
        if (ids)
          for (let i = 0; i < n; i++) {
            if (!padded(i, t)) continue;
            h.set(HP.subarray((i * T + t) * u, (i * T + t + 1) * u), i * u);
            c?.set(CP!.subarray((i * T + t) * u, (i * T + t + 1) * u), i * u);
          }
        if (seq) for (let i = 0; i < n; i++) y.set(h.subarray(i * u, (i + 1) * u), (i * T + s) * u);
      }
      if (!seq) y.set(h.subarray(0, n * u), 0);
      hOut?.set(h.subarray(0, n * u));
      cOut?.set(c!.subarray(0, n * u));
    },

    backward(n, dOut, dParams, addDx) {
      // the gradient at what the products read, and the unit mask it passes back through
      const pp = maskedH ? dhp! : dhNext;
      const throughMask = (add: boolean) => {
        if (!maskedH) return;
        for (let k = 0; k < n * u; k++) dhNext[k] = (add ? dhNext[k] : 0) + dhp![k] * mH![k];
      };
      const HR = maskedH ? HM! : HP;
      // the final states' gradients join the last step's
      if (dhOut) dhNext.set(dhOut.subarray(0, n * u));
      else dhNext.fill(0, 0, n * u);
      if (dcOut) dcNext!.set(dcOut.subarray(0, n * u));
      else dcNext?.fill(0, 0, n * u);
      for (let s = T - 1; s >= 0; s--) {
        const t = timeOf(s);
        dh.set(dhNext.subarray(0, n * u));
        if (seq) for (let i = 0; i < n; i++) for (let j = 0; j < u; j++) dh[i * u + j] += dOut[(i * T + s) * u + j];
        else if (s === T - 1) for (let k = 0; k < n * u; k++) dh[k] += dOut[k];
        // a padded step passed its state through: its gradient goes straight on, its gates get none
        if (ids)
          for (let i = 0; i < n; i++) {
            if (!padded(i, t)) continue;
            for (let j = 0; j < u; j++) {
              dhKeep![i * u + j] = dh[i * u + j];
              dh[i * u + j] = 0;
              if (dcKeep) {
                dcKeep[i * u + j] = dcNext![i * u + j];
                dcNext![i * u + j] = 0;
              }
            }
          }
        if (cell === "simple_rnn") {
          for (let i = 0; i < n; i++) {
            const zr = (i * T + t) * u;
            for (let j = 0; j < u; j++) Z[zr + j] = dh[i * u + j] * slope(act, Z[zr + j]);
          }
          gemm(n, u, u, Z, t * u, T * u, 1, U, 0, 1, u, pp, 0, u, false);
          throughMask(false);
        } else if (cell === "lstm") {
          const simd = moduleCell && simdLstmGates(Z, t * Gu, T * Gu, CP!, AC!, t * u, T * u, dh, dcNext!, n, u);
          if (!simd) lstmGates(Z, t * Gu, T * Gu, CP!, AC!, t * u, T * u, dh, dcNext!, n, u, act, rec);
          gemm(n, u, Gu, Z, t * Gu, T * Gu, 1, U, 0, 1, Gu, pp, 0, u, false);
          throughMask(false);
        } else if (resetAfter) {
          for (let i = 0; i < n; i++) {
            const zr = (i * T + t) * Gu;
            const sr = (i * T + t) * u;
            for (let j = 0; j < u; j++) {
              const z = Z[zr + j];
              const r = Z[zr + u + j];
              const hh = Z[zr + 2 * u + j];
              const d = dh[i * u + j];
              const dz = d * (HP[sr + j] - hh) * slope(rec, z);
              const dah = d * (1 - z) * slope(act, hh);
              const mhh = MH![zr + 2 * u + j];
              const dr = dah * mhh * slope(rec, r);
              Z[zr + j] = MH![zr + j] = dz;
              Z[zr + u + j] = MH![zr + u + j] = dr;
              Z[zr + 2 * u + j] = dah;
              MH![zr + 2 * u + j] = dah * r;
              dhNext[i * u + j] = d * z;
            }
          }
          gemm(n, u, Gu, MH!, t * Gu, T * Gu, 1, U, 0, 1, Gu, pp, 0, u, !maskedH);
          throughMask(true);
        } else {
          // z's and the candidate's gradients first; the candidate's reaches r and h through r·h
          for (let i = 0; i < n; i++) {
            const zr = (i * T + t) * Gu;
            const sr = (i * T + t) * u;
            for (let j = 0; j < u; j++) {
              const z = Z[zr + j];
              const hh = Z[zr + 2 * u + j];
              const d = dh[i * u + j];
              Z[zr + 2 * u + j] = d * (1 - z) * slope(act, hh);
              Z[zr + j] = d * (HP[sr + j] - hh) * slope(rec, z);
              dhNext[i * u + j] = d * z;
            }
          }
          gemm(n, u, u, Z, t * Gu + 2 * u, T * Gu, 1, U, 2 * u, 1, Gu, drh!, 0, u, false);
          for (let i = 0; i < n; i++) {
            const zr = (i * T + t) * Gu;
            const sr = (i * T + t) * u;
            for (let j = 0; j < u; j++) {
              const r = Z[zr + u + j];
              Z[zr + u + j] = drh![i * u + j] * HR[sr + j] * slope(rec, r);
              if (maskedH) dhp![i * u + j] = drh![i * u + j] * r;
              else dhNext[i * u + j] += drh![i * u + j] * r;
            }
          }
          gemm(n, u, 2 * u, Z, t * Gu, T * Gu, 1, U, 0, 1, Gu, pp, 0, u, true);
          throughMask(true);
        }
        if (ids)
          for (let i = 0; i < n; i++) {
            if (!padded(i, t)) continue;
            dhNext.set(dhKeep!.subarray(i * u, (i + 1) * u), i * u);
            if (dcKeep) dcNext!.set(dcKeep.subarray(i * u, (i + 1) * u), i * u);
          }
      }
      // what reached the state before the first step is the initial states' gradient
      const pass = (into: Buf | null, from: Buf, add: boolean) => {
        if (!into) return;
        for (let k = 0; k < n * u; k++) into[k] = add ? into[k] + from[k] : from[k];
      };
      if (h0) pass(b.dIns[1], dhNext, b.addIns[1]);
      if (c0) pass(b.dIns[2], dcNext!, b.addIns[2]);
      const rows = n * T;
      const dW = dParams[0];
      if (dW) gemm(F, Gu, rows, maskedX ? XD! : x, 0, 1, F, Z, 0, Gu, 1, dW, 0, Gu, false);
      const dU = dParams[1];
      if (dU) {
        if (cell === "gru" && resetAfter) gemm(u, Gu, rows, HR, 0, 1, u, MH!, 0, Gu, 1, dU, 0, Gu, false);
        else if (cell === "gru") {
          gemm(u, 2 * u, rows, HR, 0, 1, u, Z, 0, Gu, 1, dU, 0, Gu, false);
          gemm(u, u, rows, RH!, 0, 1, u, Z, 2 * u, Gu, 1, dU, 2 * u, Gu, false);
        } else gemm(u, Gu, rows, HR, 0, 1, u, Z, 0, Gu, 1, dU, 0, Gu, false);
      }
      const db = dParams[2];
      if (db) {
        colSums(rows, Gu, Z, db, false);
        if (resetAfter) colSums(rows, Gu, MH!, db.subarray(Gu), false);
      }
      const dx = b.dIns[0];
      if (dx && !maskedX) gemm(rows, F, Gu, Z, 0, Gu, 1, W, 0, 1, Gu, dx, 0, F, addDx);
      else if (dx) {
        gemm(rows, F, Gu, Z, 0, Gu, 1, W, 0, 1, Gu, DX!, 0, F, false);
        const add = addDx;
        for (let i = 0; i < n; i++)
          for (let k = 0; k < T * F; k++) {
            const at = i * T * F + k;
            const g = DX![at] * mX![i * F + (k % F)];
            dx[at] = add ? dx[at] + g : g;
          }
      }
    },
  };
}
