/**
 * Activation kernels: the element-wise functions and their derivatives, shared by the standalone
 * activation layers and by the activations fused into dense and convolution layers.
 */
import { simdActivate } from "../../../core/simd/index.ts";
import type { Json } from "../../../core/json.ts";
import type { Buf, KernelFactory } from "../../../core/kernel.ts";
import { DEFAULT_ALPHA } from "./alpha.ts";

export enum ActKind {
  Linear,
  Relu,
  LeakyRelu,
  Elu,
  Gelu,
  Sigmoid,
  Tanh,
  Softmax,
}

export interface Act {
  kind: ActKind;
  name: string;
  alpha: number;
}

const KINDS: Record<string, [ActKind, number]> = {
  linear: [ActKind.Linear, 0],
  relu: [ActKind.Relu, 0],
  leaky_relu: [ActKind.LeakyRelu, DEFAULT_ALPHA.leaky_relu],
  elu: [ActKind.Elu, DEFAULT_ALPHA.elu],
  gelu: [ActKind.Gelu, 0],
  sigmoid: [ActKind.Sigmoid, 0],
  tanh: [ActKind.Tanh, 0],
  softmax: [ActKind.Softmax, 0],
};

export const ACTIVATION_NAMES = Object.keys(KINDS);

/** The activation an option names: `relu`, or a call such as `leaky_relu(0.2)` / `elu(alpha: 0.5)`. */
export function activationOf(v: Json | undefined, alpha?: Json): Act {
  let name = "linear";
  let a: Json | undefined = alpha;
  if (typeof v === "string") name = v;
  else if (v && typeof v === "object" && !Array.isArray(v) && typeof v.call === "string") {
    name = v.call;
    const args = Array.isArray(v.args) ? v.args : [];
    const options = v.options && typeof v.options === "object" && !Array.isArray(v.options) ? (v.options as Record<string, Json>) : {};
    a = args[0] ?? options.alpha ?? a;
  }
  const k = KINDS[name] ?? KINDS.linear;
  return { kind: k[0], name: KINDS[name] ? name : "linear", alpha: typeof a === "number" ? a : k[1] };
}

/** Whether the derivative needs the pre-activation values (it cannot be had from the output). */
export const needsPreactivation = (a: Act): boolean => a.kind === ActKind.Gelu || (a.kind === ActKind.LeakyRelu && a.alpha <= 0) || (a.kind === ActKind.Elu && a.alpha <= 0);

const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT2PI = 0.3989422804014327;

/** erf to double precision: Taylor series below 2.5, a continued fraction for erfc above. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return sum * 1.1283791670955126;
  }
  if (ax > 6) return x > 0 ? 1 : -1;
  let t = ax;
  for (let k = 60; k >= 1; k--) t = ax + k / 2 / t;
  const erfc = Math.exp(-ax * ax) / 1.7724538509055159 / t;
  return x > 0 ? 1 - erfc : erfc - 1;
}

/**
 * y = act(z) over `len` values from 0; softmax runs over consecutive rows of `width`. `y` may be `z`.
 */
export function actForward(a: Act, z: Buf, y: Buf, len: number, width: number): void {
  switch (a.kind) {
    case ActKind.Linear:
      if (y !== z) for (let i = 0; i < len; i++) y[i] = z[i];
      return;
    case ActKind.Relu:
      // Multiplied by 0 or 1, not branched: the signs are random, and a mispredicted branch per
      // value made this 4× slower (bench: 1.28M values, 10 → 2.6 ms). A NaN stays NaN, as in tfjs.
      for (let i = 0; i < len; i++) {
        const v = z[i];
        y[i] = v * +(v > 0);
      }
      return;
    case ActKind.LeakyRelu: {
      const al = a.alpha;
      for (let i = 0; i < len; i++) {
        const v = z[i];
        y[i] = v > 0 ? v : al * v;
      }
      return;
    }
    case ActKind.Elu: {
      const al = a.alpha;
      for (let i = 0; i < len; i++) {
        const v = z[i];
        y[i] = v > 0 ? v : al * Math.expm1(v);
      }
      return;
    }
    case ActKind.Gelu:
      for (let i = 0; i < len; i++) {
        const v = z[i];
        y[i] = 0.5 * v * (1 + erf(v * INV_SQRT2));
      }
      return;
    case ActKind.Sigmoid:
      if (simdActivate(z, y, 0, len, 1, len, [[0, len, "sigmoid"]])) return;
      // Finite for any v: exp(−v) overflows to ∞ only where the value is 0 anyway. No branch: the
      // signs of pre-activations are random, and a mispredicted branch costs more than the exp.
      for (let i = 0; i < len; i++) y[i] = 1 / (1 + Math.exp(-z[i]));
      return;
    case ActKind.Tanh:
      if (simdActivate(z, y, 0, len, 1, len, [[0, len, "tanh"]])) return;
      for (let i = 0; i < len; i++) y[i] = Math.tanh(z[i]);
      return;
    case ActKind.Softmax:
      for (let r = 0; r < len; r += width) {
        let mx = -Infinity;
        for (let j = 0; j < width; j++) if (z[r + j] > mx) mx = z[r + j];
        let s = 0;
        for (let j = 0; j < width; j++) {
          const e = Math.exp(z[r + j] - mx);
          y[r + j] = e;
          s += e;
        }
        const inv = 1 / s;
        for (let j = 0; j < width; j++) y[r + j] *= inv;
      }
      return;
  }
}

/**
 * dz (=|+=) dy · act'(z), from the output y (and z where needed). `dz` may be `dy` when not adding.
 */
export function actBackward(a: Act, z: Buf | null, y: Buf, dy: Buf, dz: Buf, len: number, width: number, add: boolean): void {
  switch (a.kind) {
    case ActKind.Linear:
      if (add) for (let i = 0; i < len; i++) dz[i] += dy[i];
      else if (dz !== dy) for (let i = 0; i < len; i++) dz[i] = dy[i];
      return;
    case ActKind.Relu:
      // branch-free, as the forward pass
      if (add) {
        for (let i = 0; i < len; i++) dz[i] += dy[i] * +(y[i] > 0);
      } else for (let i = 0; i < len; i++) dz[i] = dy[i] * +(y[i] > 0);
      return;
    case ActKind.LeakyRelu: {
      const al = a.alpha;
      const src = z ?? y;
      for (let i = 0; i < len; i++) {
        const g = src[i] > 0 ? dy[i] : al * dy[i];
        if (add) dz[i] += g;
        else dz[i] = g;
      }
      return;
    }
    case ActKind.Elu: {
      const al = a.alpha;
      for (let i = 0; i < len; i++) {
        const pos = z ? z[i] > 0 : y[i] > 0;
        const d = pos ? 1 : z ? al * Math.exp(z[i]) : y[i] + al;
        const g = dy[i] * d;
        if (add) dz[i] += g;
        else dz[i] = g;
      }
      return;
    }
    case ActKind.Gelu:
      for (let i = 0; i < len; i++) {
        const v = z![i];
        const d = 0.5 * (1 + erf(v * INV_SQRT2)) + v * INV_SQRT2PI * Math.exp(-0.5 * v * v);
        const g = dy[i] * d;
        if (add) dz[i] += g;
        else dz[i] = g;
      }
      return;
    case ActKind.Sigmoid:
      for (let i = 0; i < len; i++) {
        const v = y[i];
        const g = dy[i] * v * (1 - v);
        if (add) dz[i] += g;
        else dz[i] = g;
      }
      return;
    case ActKind.Tanh:
      for (let i = 0; i < len; i++) {
        const v = y[i];
        const g = dy[i] * (1 - v * v);
        if (add) dz[i] += g;
        else dz[i] = g;
      }
      return;
    case ActKind.Softmax:
      for (let r = 0; r < len; r += width) {
        let s = 0;
        for (let j = 0; j < width; j++) s += dy[r + j] * y[r + j];
        for (let j = 0; j < width; j++) {
          const g = y[r + j] * (dy[r + j] - s);
          if (add) dz[r + j] += g;
          else dz[r + j] = g;
        }
      }
      return;
  }
}

/** A standalone activation layer (`relu`, `leaky_relu 0.2`, `softmax`, ...). */
export const activationKernel = (name: string): KernelFactory => ({
  params: () => [],
  bind(b) {
    const act = activationOf(name, b.layer.opts.alpha);
    const elems = b.layer.outShape.reduce((x, y) => x * y, 1);
    const width = b.layer.outShape[b.layer.outShape.length - 1] ?? 1;
    const x = b.ins[0];
    const y = b.out;
    return {
      forward(n) {
        actForward(act, x, y, n * elems, width);
      },
      backward(n) {
        const dx = b.dIns[0];
        if (!dx) return;
        actBackward(act, x, y, b.dOut!, dx, n * elems, width, b.addIns[0]);
      },
    };
  },
});

export const ACTIVATION_KERNELS: Record<string, KernelFactory> = Object.fromEntries(ACTIVATION_NAMES.map((n) => [n, activationKernel(n)]));

/** Per-example element count of a layer's output. */
