/**
 * Feature preprocessing: fitted on the training split only, then applied unchanged to validation,
 * test and (after training) to the rows `predict` is given. Pure: arrays in, `Float32Array` out.
 *
 * Per feature, in this order:
 *   1. categorical features (`onehot`) become one 0/1 output per category seen in the training split
 *      (categories sorted; one never seen in training encodes as all zeros); a `codes` feature is
 *      the position of its value in its list (a value not listed is missing);
 *   2. a missing numeric cell (NaN) is filled with the training mean (`missing mean`);
 *   3. `scale` multiplies every numeric feature by a constant;
 *   4. `standardize` subtracts the training mean and divides by the training standard deviation
 *      (population, ddof = 0, as scikit-learn's StandardScaler; a constant feature keeps divisor 1);
 *   5. `minmax` maps the training minimum and maximum onto `range` (default [0, 1]; a constant feature
 *      keeps divisor 1, as scikit-learn's MinMaxScaler).
 * Steps 2–5 compose to one affine map `a·v + b` per feature, applied in float64 and stored as float32.
 * A text feature (`text`) becomes `length` token ids instead (`text.ts`).
 *
 * `fit` returns a plain JSON-serialisable `FittedStats`: a trained model saves it next to its weights
 * and `transform` reapplies it to new data.
 */

import { encodeText, fitText, textLookup, type TextPlan, type TextStats } from "./text.ts";

/** A view of feature cells: no copy of the loaded table is made. */
export interface FeatureMatrix {
  /** Row-major storage, `values[row * stride + column]`; NaN marks a missing or text cell. */
  values: ArrayLike<number>;
  stride: number;
  /** The storage rows that make up this matrix, in order. */
  rows: ArrayLike<number>;
  /** The storage column of each feature, in order. */
  columns: ArrayLike<number>;
  /** The text of a cell that is not a number (undefined when it is a number or missing). */
  text?: (row: number, column: number) => string | undefined;
}

export interface FeaturePlan {
  /** One name per feature (per entry of `columns`). */
  names: string[];
  /** Feature positions to one-hot encode. */
  categorical?: number[];
  /** Fill missing numeric cells with the training mean. */
  fillMean?: boolean;
  scale?: number;
  /** Feature positions to standardize. */
  standardize?: number[];
  /** Feature positions to min-max scale, and the target range. */
  minmax?: { features: number[]; range?: [number, number] };
  /** The per-example shape; default [number of outputs]. One entry may be -1. */
  shape?: number[];
  /** A feature position read as text and turned into token ids. */
  text?: { feature: number; plan: TextPlan };
  /** Feature positions read as the position of their value in a list (`codes`). */
  codes?: { feature: number; values: string[] }[];
}

export interface FeatureStats {
  name: string;
  kind: "numeric" | "categorical" | "text";
  /** Categorical: the categories, in output order. */
  categories?: string[];
  /** Numeric from `codes`: the categories in code order (a cell is its value's position). */
  codes?: string[];
  /** Text: the tokenizer and its vocabulary. */
  text?: TextStats;
  /** Numeric: the training mean used for missing cells. */
  fill?: number;
  /** Numeric: standardize's training mean and standard deviation (after `scale`). */
  mean?: number;
  std?: number;
  /** Numeric: minmax's training minimum and maximum (after `scale` and `standardize`). */
  min?: number;
  max?: number;
}

/** What a trained model saves so `predict` reapplies the same transform. Plain JSON. */
export interface FittedStats {
  format: "nnspec-preprocess";
  version: 1;
  features: FeatureStats[];
  scale?: number;
  range?: [number, number];
  /** Output values per example. */
  width: number;
  /** Output names: a numeric feature's name, or `name=category`. */
  outputs: string[];
  /** Per-example shape (its product is `width`). */
  shape: number[];
  /** The label encoding, filled in by the loader (class names for reports and predictions). */
  label?: { kind: "class" | "onehot" | "binary" | "regression"; columns: string[]; classes?: number; classNames?: string[] };
}

/** The shape with a -1 entry inferred; undefined when it cannot hold `width` values. */
export function resolveShape(shape: readonly number[] | undefined, width: number): number[] | undefined {
  if (!shape) return [width];
  const known = shape.filter((d) => d !== -1);
  const free = shape.length - known.length;
  if (free > 1 || known.some((d) => !Number.isInteger(d) || d < 1)) return undefined;
  const prod = known.reduce((a, b) => a * b, 1);
  if (free === 0) return prod === width ? [...shape] : undefined;
  if (prod === 0 || width % prod !== 0 || width / prod < 1) return undefined;
  return shape.map((d) => (d === -1 ? width / prod : d));
}

/** The category of a cell: its text, or a number written canonically; undefined when missing. */
export function categoryOf(m: FeatureMatrix, row: number, column: number): string | undefined {
  const t = m.text?.(row, column);
  if (t !== undefined) return t;
  const v = m.values[row * m.stride + column];
  return Number.isFinite(v) ? String(v) : undefined;
}

/** The text of a cell read as text: its text, or its number as written canonically; "" when empty. */
export function textOf(m: FeatureMatrix, row: number, column: number): string {
  const t = m.text?.(row, column);
  if (t !== undefined) return t;
  const v = m.values[row * m.stride + column];
  return v === v ? String(v) : "";
}

/** Sorts categories numerically when all are numbers, else by code unit; deterministic everywhere. */
export function sortCategories(cats: Iterable<string>): string[] {
  const all = [...cats];
  if (all.every((c) => c.trim() !== "" && Number.isFinite(Number(c)))) return all.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  return all.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface Affine {
  a: Float64Array;
  b: Float64Array;
  fill: Float64Array;
}

/** The per-feature affine maps of the numeric features (categorical entries are unused); NaN `fill`: none. */
export function affine(stats: FittedStats): Affine {
  const k = stats.features.length;
  const a = new Float64Array(k);
  const b = new Float64Array(k);
  const fill = new Float64Array(k).fill(NaN);
  const [lo, hi] = stats.range ?? [0, 1];
  stats.features.forEach((f, j) => {
    if (f.kind !== "numeric") return;
    let aj = stats.scale ?? 1;
    let bj = 0;
    if (f.fill !== undefined) fill[j] = f.fill;
    if (f.mean !== undefined && f.std !== undefined) {
      aj /= f.std;
      bj = (bj - f.mean) / f.std;
    }
    if (f.min !== undefined && f.max !== undefined) {
      const span = f.max - f.min || 1;
      const k2 = (hi - lo) / span;
      aj *= k2;
      bj = lo + (bj - f.min) * k2;
    }
    a[j] = aj;
    b[j] = bj;
  });
  return { a, b, fill };
}

/** Fits the plan on `m` (the training split). */
export function fit(raw: FeatureMatrix, plan: FeaturePlan): FittedStats {
  const m = plan.codes?.length ? coded(raw, new Map(plan.codes.map((c) => [c.feature, c.values]))) : raw;
  const k = m.columns.length;
  const n = m.rows.length;
  const cat = new Set(plan.categorical ?? []);
  const std = new Set(plan.standardize ?? []);
  const mm = new Set(plan.minmax?.features ?? []);
  const features: FeatureStats[] = plan.names.map((name, j) => ({ name, kind: plan.text?.feature === j ? "text" : cat.has(j) ? "categorical" : "numeric" }));
  for (const c of plan.codes ?? []) features[c.feature].codes = c.values;
  if (plan.text) {
    const j = plan.text.feature;
    const texts = function* () {
      for (let i = 0; i < n; i++) yield textOf(m, m.rows[i], m.columns[j]);
    };
    features[j].text = fitText(texts(), plan.text.plan);
  }
  const stats: FittedStats = { format: "nnspec-preprocess", version: 1, features, width: 0, outputs: [], shape: [] };
  if (plan.scale !== undefined && plan.scale !== 1) stats.scale = plan.scale;
  if (plan.minmax) stats.range = plan.minmax.range ?? [0, 1];

  // Categories.
  for (const j of cat) {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const c = categoryOf(m, m.rows[i], m.columns[j]);
      if (c !== undefined) seen.add(c);
    }
    features[j].categories = sortCategories(seen);
  }
  // Means of the raw values, for missing cells.
  if (plan.fillMean) {
    const { mean, count } = moments(m, features, () => 1, () => 0, new Float64Array(k).fill(NaN));
    features.forEach((f, j) => {
      if (f.kind === "numeric") f.fill = count[j] ? mean[j] : 0;
    });
  }
  // Standardize on the scaled values, then min-max on the standardized ones.
  if (std.size) {
    const aff = affine(stats);
    const { mean, variance } = moments(m, features, (j) => aff.a[j], (j) => aff.b[j], aff.fill);
    for (const j of std) {
      if (features[j].kind !== "numeric") continue;
      const sd = Math.sqrt(variance[j]);
      features[j].mean = mean[j];
      features[j].std = sd > 1e-12 * Math.max(1, Math.abs(mean[j])) ? sd : 1;
    }
  }
  if (mm.size) {
    const aff = affine(stats);
    const { min, max } = moments(m, features, (j) => aff.a[j], (j) => aff.b[j], aff.fill);
    for (const j of mm) {
      if (features[j].kind !== "numeric") continue;
      features[j].min = Number.isFinite(min[j]) ? min[j] : 0;
      features[j].max = Number.isFinite(max[j]) ? max[j] : 1;
    }
  }
  for (const f of features) {
    if (f.kind === "categorical") for (const c of f.categories ?? []) stats.outputs.push(`${f.name}=${c}`);
    else if (f.kind === "text") for (let i = 0; i < f.text!.length; i++) stats.outputs.push(`${f.name}[${i}]`);
    else stats.outputs.push(f.name);
  }
  stats.width = stats.outputs.length;
  stats.shape = resolveShape(plan.shape, stats.width) ?? [stats.width];
  return stats;
}

/**
 * Mean, variance (population), count, minimum and maximum of a·v + b per numeric feature, skipping
 * missing cells that have no fill. Sums are taken about the first row's value so the variance does
 * not cancel catastrophically for features with a large mean.
 */
function moments(m: FeatureMatrix, features: FeatureStats[], a: (j: number) => number, b: (j: number) => number, fill: Float64Array) {
  const k = features.length;
  const mean = new Float64Array(k);
  const variance = new Float64Array(k);
  const count = new Float64Array(k);
  const min = new Float64Array(k).fill(Infinity);
  const max = new Float64Array(k).fill(-Infinity);
  const numeric = features.map((f, j) => (f.kind === "numeric" ? j : -1)).filter((j) => j >= 0);
  const A = Float64Array.from(numeric, a);
  const B = Float64Array.from(numeric, b);
  const F = Float64Array.from(numeric, (j) => fill[j]);
  const C = Int32Array.from(numeric, (j) => m.columns[j]);
  const shift = new Float64Array(numeric.length).fill(NaN);
  const sum = new Float64Array(numeric.length);
  const sumSq = new Float64Array(numeric.length);
  const cnt = new Float64Array(numeric.length);
  const lo = new Float64Array(numeric.length).fill(Infinity);
  const hi = new Float64Array(numeric.length).fill(-Infinity);
  const { values, stride, rows } = m;
  for (let i = 0; i < rows.length; i++) {
    const base = rows[i] * stride;
    for (let t = 0; t < numeric.length; t++) {
      let v = values[base + C[t]];
      if (v !== v) {
        v = F[t];
        if (v !== v) continue;
      }
      const x = A[t] * v + B[t];
      if (shift[t] !== shift[t]) shift[t] = x;
      const d = x - shift[t];
      sum[t] += d;
      sumSq[t] += d * d;
      cnt[t]++;
      if (x < lo[t]) lo[t] = x;
      if (x > hi[t]) hi[t] = x;
    }
  }
  for (let t = 0; t < numeric.length; t++) {
    const j = numeric[t];
    const n = cnt[t];
    count[j] = n;
    min[j] = lo[t];
    max[j] = hi[t];
    if (n === 0) continue;
    const md = sum[t] / n;
    mean[j] = shift[t] + md;
    variance[j] = Math.max(0, sumSq[t] / n - md * md);
  }
  return { mean, variance, count, min, max };
}

/** Applies fitted statistics to `m`; returns rows × width float32 values. */
export function transform(raw: FeatureMatrix, stats: FittedStats): Float32Array {
  const lists = new Map(stats.features.flatMap((f, j): [number, string[]][] => (f.codes ? [[j, f.codes]] : [])));
  const m = lists.size ? coded(raw, lists) : raw;
  const n = m.rows.length;
  const width = stats.width;
  const out = new Float32Array(n * width);
  const { a, b, fill } = affine(stats);
  const k = stats.features.length;
  const offsets = new Int32Array(k);
  let off = 0;
  const lookups: (Map<string, number> | undefined)[] = stats.features.map((f, j) => {
    offsets[j] = off;
    if (f.kind === "categorical") {
      off += f.categories?.length ?? 0;
      return new Map((f.categories ?? []).map((c, i) => [c, i]));
    }
    if (f.kind === "text") {
      off += f.text!.length;
      return textLookup(f.text!);
    }
    off += 1;
    return undefined;
  });
  const texts = stats.features.map((f, j) => (f.kind === "text" ? j : -1)).filter((j) => j >= 0);
  const numeric = stats.features.map((f, j) => (f.kind === "numeric" ? j : -1)).filter((j) => j >= 0);
  const A = Float64Array.from(numeric, (j) => a[j]);
  const B = Float64Array.from(numeric, (j) => b[j]);
  const F = Float64Array.from(numeric, (j) => fill[j]);
  const C = Int32Array.from(numeric, (j) => m.columns[j]);
  const O = Int32Array.from(numeric, (j) => offsets[j]);
  const categorical = stats.features.map((f, j) => (f.kind === "categorical" ? j : -1)).filter((j) => j >= 0);
  const { values, stride, rows } = m;
  for (let i = 0; i < n; i++) {
    const base = rows[i] * stride;
    const o = i * width;
    for (let t = 0; t < numeric.length; t++) {
      let v = values[base + C[t]];
      if (v !== v) v = F[t];
      out[o + O[t]] = A[t] * v + B[t];
    }
    for (const j of categorical) {
      const c = categoryOf(m, rows[i], m.columns[j]);
      const at = c === undefined ? undefined : lookups[j]!.get(c);
      if (at !== undefined) out[o + offsets[j] + at] = 1;
    }
    for (const j of texts) encodeText(textOf(m, rows[i], m.columns[j]), stats.features[j].text!, lookups[j]!, out, o + offsets[j]);
  }
  return out;
}

/**
 * The matrix's cells (its rows and feature columns only, copied) with each `codes` feature's value
 * replaced by its position in its list (NaN, missing, for a value not listed).
 */
export function coded(m: FeatureMatrix, lists: ReadonlyMap<number, readonly string[]>): FeatureMatrix {
  const n = m.rows.length;
  const k = m.columns.length;
  const values = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) values[i * k + j] = m.values[m.rows[i] * m.stride + m.columns[j]];
  for (const [j, list] of lists) {
    const at = new Map(list.map((v, i) => [v, i]));
    for (let i = 0; i < n; i++) {
      const c = categoryOf(m, m.rows[i], m.columns[j]);
      values[i * k + j] = c === undefined ? NaN : (at.get(c) ?? NaN);
    }
  }
  const text = m.text;
  return { values, stride: k, rows: Int32Array.from({ length: n }, (_, i) => i), columns: Int32Array.from({ length: k }, (_, j) => j), ...(text ? { text: (r, c) => text(m.rows[r], m.columns[c]) } : {}) };
}

/**
 * A matrix from plain rows (as `predict` receives them): numbers, text for categorical features,
 * null / undefined / NaN for missing cells.
 */
export function matrixFromRows(rows: readonly (readonly (number | string | null | undefined)[])[]): FeatureMatrix {
  const k = rows.reduce((w, r) => Math.max(w, r.length), 0);
  const values = new Float64Array(rows.length * k).fill(NaN);
  const text = new Map<number, string>();
  rows.forEach((r, i) =>
    r.forEach((v, j) => {
      if (typeof v === "number") values[i * k + j] = v;
      else if (typeof v === "string") {
        const num = v.trim() === "" ? NaN : Number(v);
        if (Number.isFinite(num)) values[i * k + j] = num;
        else text.set(i * k + j, v);
      }
    }),
  );
  return {
    values,
    stride: k,
    rows: Int32Array.from({ length: rows.length }, (_, i) => i),
    columns: Int32Array.from({ length: k }, (_, j) => j),
    text: (row, column) => text.get(row * k + column),
  };
}
