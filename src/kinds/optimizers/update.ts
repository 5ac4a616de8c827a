/**
 * Optimizer updates with TensorFlow.js's formulas, applied in place to each parameter:
 *
 * - sgd:       w −= lr·g
 * - momentum:  a = m·a + g;  w −= lr·a   (nesterov: w −= lr·(g + m·a));  `sgd momentum: m` is the same
 * - adagrad:   a += g²  (a starts at initial_accumulator);  w −= lr·g / √(a + 1e-7)
 * - rmsprop:   s = ρ·s + (1−ρ)·g²;  v = μ·v + lr·g / √(s + ε);  w −= v
 *              centered: c = ρ·c + (1−ρ)·g and √(s − c² + ε). (tfjs 4.22 computes √(s − (c² + ε)),
 *              which is NaN for any gradient that is exactly zero; we use TensorFlow's + ε.)
 * - adam:      m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²;  w −= lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 * - adamw:     w −= lr·λ·w (decoupled weight decay, as Keras applies it before the step), then adam
 */
import type { Json } from "../../core/json.ts";
import { booleanOption as bool, numberOption as num } from "../../core/options.ts";
import { allocBuf, type Buf } from "../../core/kernel.ts";
import { placer, simdAdam } from "../../core/simd/index.ts";

export interface Trainable {
  value: Buf;
  grad: Buf | null;
}

export interface Optimizer {
  readonly name: string;
  /** The learning rate the spec gave; schedules scale from it. */
  readonly baseLr: number;
  /** Applies one update with learning rate `lr` to every parameter that has a gradient. */
  step(lr: number): void;
  iterations: number;
}


/**
 * The optimizer's state for a parameter, shaped like it: float32 state lies in the SIMD module's
 * memory where it can (`place`, owned by the optimizer's parameters), so its update runs there.
 */
function like(b: Buf, fill = 0, place?: (n: number) => Float32Array | null): Buf {
  const out = allocBuf(b instanceof Float64Array ? "f64" : "f32", b.length, "the optimizer's state for a parameter", place);
  if (fill) out.fill(fill);
  return out;
}

export function createOptimizer(name: string, opts: Record<string, Json>, params: readonly Trainable[]): Optimizer {
  const baseLr = num(opts, "lr");
  const ps = params.filter((p) => p.grad !== null);
  const state = { name, baseLr, iterations: 0 };
  switch (name) {
    case "sgd":
    case "momentum": {
      const m = num(opts, "momentum");
      const nesterov = bool(opts, "nesterov");
      if (name === "sgd" && m === 0) {
        return {
          ...state,
          step(lr) {
            for (const p of ps) {
              const w = p.value;
              const g = p.grad!;
              for (let i = 0; i < w.length; i++) w[i] -= lr * g[i];
            }
            this.iterations++;
          },
        };
      }
      const acc = ps.map((p) => like(p.value));
      return {
        ...state,
        step(lr) {
          for (let k = 0; k < ps.length; k++) {
            const w = ps[k].value;
            const g = ps[k].grad!;
            const a = acc[k];
            for (let i = 0; i < w.length; i++) {
              const na = m * a[i] + g[i];
              a[i] = na;
              w[i] -= nesterov ? lr * (g[i] + na * m) : lr * na;
            }
          }
          this.iterations++;
        },
      };
    }
    case "adagrad": {
      const init = num(opts, "initial_accumulator");
      const acc = ps.map((p) => like(p.value, init));
      return {
        ...state,
        step(lr) {
          for (let k = 0; k < ps.length; k++) {
            const w = ps[k].value;
            const g = ps[k].grad!;
            const a = acc[k];
            for (let i = 0; i < w.length; i++) {
              const na = a[i] + g[i] * g[i];
              a[i] = na;
              w[i] -= (lr * g[i]) / Math.sqrt(na + 1e-7);
            }
          }
          this.iterations++;
        },
      };
    }
    case "rmsprop": {
      const rho = num(opts, "rho");
      const mom = num(opts, "momentum");
      const eps = num(opts, "epsilon");
      const centered = bool(opts, "centered");
      const ms = ps.map((p) => like(p.value));
      const mo = ps.map((p) => like(p.value));
      const mg = centered ? ps.map((p) => like(p.value)) : [];
      return {
        ...state,
        step(lr) {
          for (let k = 0; k < ps.length; k++) {
            const w = ps[k].value;
            const g = ps[k].grad!;
            const s = ms[k];
            const v = mo[k];
            const c = centered ? mg[k] : null;
            for (let i = 0; i < w.length; i++) {
              const gi = g[i];
              const ns = rho * s[i] + (1 - rho) * gi * gi;
              s[i] = ns;
              let denom: number;
              if (c) {
                const nc = rho * c[i] + (1 - rho) * gi;
                c[i] = nc;
                denom = Math.sqrt(Math.max(0, ns - nc * nc) + eps);
              } else denom = Math.sqrt(ns + eps);
              const nv = mom * v[i] + (lr * gi) / denom;
              v[i] = nv;
              w[i] -= nv;
            }
          }
          this.iterations++;
        },
      };
    }
    case "adam":
    case "adamw": {
      const b1 = num(opts, "beta1");
      const b2 = num(opts, "beta2");
      const eps = num(opts, "epsilon");
      const wd = name === "adamw" ? num(opts, "weight_decay") : 0;
      const place = placer(ps);
      const m1 = ps.map((p) => like(p.value, 0, place));
      const m2 = ps.map((p) => like(p.value, 0, place));
      let acc1 = b1;
      let acc2 = b2;
      return {
        ...state,
        step(lr) {
          const c1 = 1 / (1 - acc1);
          const c2 = 1 / (1 - acc2);
          const decay = 1 - lr * wd;
          const h = [b1, 1 - b1, b2, 1 - b2, c1, c2, lr, eps, wd ? decay : 1];
          for (let k = 0; k < ps.length; k++) {
            const w = ps[k].value;
            const g = ps[k].grad!;
            const m = m1[k];
            const v = m2[k];
            if (simdAdam(w, g, m, v, h)) continue;
            for (let i = 0; i < w.length; i++) {
              const gi = g[i];
              const nm = b1 * m[i] + (1 - b1) * gi;
              const nv = b2 * v[i] + (1 - b2) * gi * gi;
              m[i] = nm;
              v[i] = nv;
              const wi = wd ? w[i] * decay : w[i];
              w[i] = wi - (lr * nm * c1) / (Math.sqrt(nv * c2) + eps);
            }
          }
          acc1 *= b1;
          acc2 *= b2;
          this.iterations++;
        },
      };
    }
    default:
      throw new Error(`no update rule for the optimizer \`${name}\``);
  }
}
