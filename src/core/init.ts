/**
 * Initializers with TensorFlow.js's defaults and distributions: variance scaling over the same fans
 * (`computeFans`, channels last), normals truncated at two standard deviations, `random_uniform`
 * in [-0.05, 0.05] and `random_normal`/`truncated_normal` with standard deviation 0.05.
 */
import type { Json } from "./json.ts";
import { Rng } from "./rng.ts";
import type { Buf, InitSpec } from "./kernel.ts";

export function fans(shape: readonly number[]): [number, number] {
  if (shape.length === 2) return [shape[0], shape[1]];
  if (shape.length >= 3 && shape.length <= 5) {
    let rf = 1;
    for (let i = 0; i < shape.length - 2; i++) rf *= shape[i];
    return [shape[shape.length - 2] * rf, shape[shape.length - 1] * rf];
  }
  let p = 1;
  for (const d of shape) p *= d;
  return [Math.sqrt(p), Math.sqrt(p)];
}

const VARIANCE: Record<string, { scale: number; mode: "in" | "avg"; dist: "uniform" | "normal" }> = {
  glorot_uniform: { scale: 1, mode: "avg", dist: "uniform" },
  glorot_normal: { scale: 1, mode: "avg", dist: "normal" },
  he_uniform: { scale: 2, mode: "in", dist: "uniform" },
  he_normal: { scale: 2, mode: "in", dist: "normal" },
  lecun_uniform: { scale: 1, mode: "in", dist: "uniform" },
  lecun_normal: { scale: 1, mode: "in", dist: "normal" },
};

/** Every initializer the interpreter implements: what a layer's `*_init` option accepts. */
export const INITIALIZER_NAMES: readonly string[] = [...Object.keys(VARIANCE), "zeros", "ones", "random_normal", "random_uniform", "truncated_normal", "orthogonal"];

const numArg = (spec: InitSpec, key: string, pos: number): number | undefined => {
  const v: Json | undefined = spec.options?.[key] ?? spec.args?.[pos];
  return typeof v === "number" ? v : undefined;
};

/**
 * The parameters of a random initializer, with TensorFlow.js's defaults: `random_uniform(0.1)` is
 * [-0.1, 0.1] (`minval:`/`maxval:` as in tfjs; default [-0.05, 0.05]); `random_normal(0.1)` and
 * `truncated_normal` take the standard deviation first (default 0.05) and `mean:` (default 0).
 * Undefined for the other initializers. The interpreter draws with these and the generated code
 * passes them to tfjs.
 */
export function randomInitArgs(spec: InitSpec): { minval: number; maxval: number } | { mean: number; stddev: number } | { gain: number } | undefined {
  if (spec.name === "random_uniform") {
    const a = numArg(spec, "limit", 0);
    return { minval: numArg(spec, "minval", -1) ?? (a !== undefined ? -a : -0.05), maxval: numArg(spec, "maxval", -1) ?? (a !== undefined ? a : 0.05) };
  }
  if (spec.name === "random_normal" || spec.name === "truncated_normal") return { mean: numArg(spec, "mean", -1) ?? 0, stddev: numArg(spec, "stddev", 0) ?? 0.05 };
  if (spec.name === "orthogonal") return { gain: numArg(spec, "gain", 0) ?? 1 };
  return undefined;
}

/**
 * `orthogonal(gain)` as TensorFlow.js defines it: the shape flattened to rows × the last axis, a
 * standard normal matrix of max × min of those, its QR factor Q with the signs of R's diagonal
 * (here modified Gram–Schmidt, whose R has a positive diagonal), transposed when there are fewer
 * rows than columns, times the gain.
 */
function orthogonal(out: Buf, shape: readonly number[], gain: number, rng: Rng): void {
  const cols = shape.length ? shape[shape.length - 1] : 1;
  const rows = shape.length ? out.length / cols : 1;
  const m = Math.max(rows, cols);
  const k = Math.min(rows, cols);
  // q: m × k, column j at q[j * m ...]
  const q = new Float64Array(m * k);
  for (let i = 0; i < m * k; i++) q[i] = rng.normal();
  for (let j = 0; j < k; j++) {
    const cj = j * m;
    for (let p = 0; p < j; p++) {
      const cp = p * m;
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[cp + i] * q[cj + i];
      for (let i = 0; i < m; i++) q[cj + i] -= dot * q[cp + i];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[cj + i] * q[cj + i];
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < m; i++) q[cj + i] /= norm;
  }
  // out[r][c]: Q[r][c] (rows ≥ cols) or Q[c][r] (fewer rows: the transpose)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (rows >= cols ? q[c * m + r] : q[r * m + c]);
}

/**
 * A parameter's initial values under a model seed: drawn from the seed's own stream for the
 * parameter (`layer/name`), so one layer's draws never depend on another's. The interpreter and
 * every code generator that starts from its weights call this.
 */
export function initialValues(out: Buf, id: string, shape: readonly number[], spec: InitSpec, seed: number): void {
  initialize(out, shape, spec, new Rng(seed, `init/${id}`));
}

/** Fills `out` (shape `shape`) from `rng`. Unknown names fall back to zeros. */
export function initialize(out: Buf, shape: readonly number[], spec: InitSpec, rng: Rng): void {
  const n = out.length;
  const vs = VARIANCE[spec.name];
  if (vs) {
    const [fi, fo] = fans(shape);
    const scale = vs.scale / Math.max(1, vs.mode === "in" ? fi : (fi + fo) / 2);
    if (vs.dist === "uniform") {
      const limit = Math.sqrt(3 * scale);
      for (let i = 0; i < n; i++) out[i] = -limit + 2 * limit * rng.uniform();
    } else {
      const sd = Math.sqrt(scale);
      for (let i = 0; i < n; i++) out[i] = sd * rng.truncatedNormal();
    }
    return;
  }
  switch (spec.name) {
    case "ones":
      out.fill(1);
      return;
    case "orthogonal":
      orthogonal(out, shape, (randomInitArgs(spec) as { gain: number }).gain, rng);
      return;
    case "unit_forget_bias": {
      // an LSTM's bias: `base` everywhere, then ones for the forget gate (the second quarter)
      initialize(out, shape, spec.options?.base !== undefined ? initSpec(spec.options.base) : { name: "zeros" }, rng);
      const u = n / 4;
      out.fill(1, u, 2 * u);
      return;
    }
    case "random_uniform": {
      const { minval: lo, maxval: hi } = randomInitArgs(spec) as { minval: number; maxval: number };
      for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.uniform();
      return;
    }
    case "random_normal":
    case "truncated_normal": {
      const { mean, stddev: sd } = randomInitArgs(spec) as { mean: number; stddev: number };
      const trunc = spec.name === "truncated_normal";
      for (let i = 0; i < n; i++) out[i] = mean + sd * (trunc ? rng.truncatedNormal() : rng.normal());
      return;
    }
    default:
      out.fill(0);
  }
}

/** An `InitSpec` from an option value: a name or a call such as `random_normal(0.1)`. */
/** An initializer option (its default already filled in by the binder): a name or a call. */
export function initSpec(v: Json | undefined): InitSpec {
  if (typeof v === "string") return { name: v };
  if (v && typeof v === "object" && !Array.isArray(v) && typeof v.call === "string") {
    return { name: v.call, args: Array.isArray(v.args) ? v.args : [], options: (v.options && typeof v.options === "object" && !Array.isArray(v.options) ? v.options : {}) as Record<string, Json> };
  }
  throw new Error(`internal: initializer option is ${JSON.stringify(v)} (its schema needs a default)`);
}
