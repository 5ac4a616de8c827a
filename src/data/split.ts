/**
 * Train/val/test splits, k-fold assignment and mini-batch order. Pure: row indices in, row indices
 * out, every random choice drawn from `random.ts`'s mulberry32 so the interpreter and the generated
 * TensorFlow.js code split the same rows the same way.
 *
 * Sizes. A part's value is a fraction of the rows when it is at most 1 and a row count when it is
 * larger (then it must be an integer); 1 itself is a count when another part is one (`train: 5,
 * test: 1`), else the fraction 1. Without `train`, train takes every row the other parts leave;
 * with all three given, rows they leave over are left out (`unused`), so `train: 1000, test: 200`
 * subsamples a large file. Fractional sizes are rounded by the largest-remainder method, so the parts
 * always add up to the rows.
 *
 * Stratified splits apportion every class on its own: each part receives the floor or the ceiling of
 * its share of each class (never more than one row off the exact proportion). Which parts receive the
 * ceilings is steered by how far each part is behind its overall share, which keeps the part totals
 * within a row or so of the unstratified sizes.
 *
 * Order. With shuffling (the default) one stream is drawn from the seed: the rows (of each class, in
 * ascending class order, when stratified) are shuffled and cut into train, val, test and unused in that
 * order; a stratified part is then shuffled again so its classes are mixed. Without shuffling the cut
 * follows the file's order (per class when stratified), which suits time series.
 */
import { deriveSeed, epochOrder, mulberry32, shuffleInPlace } from "./random.ts";

export type Part = "train" | "val" | "test";
export const PARTS: readonly Part[] = ["train", "val", "test"];

export interface SplitRequest {
  /** A fraction (≤ 1) or a row count (> 1). Missing: every row the other parts leave. */
  train?: number;
  val?: number;
  test?: number;
  /** Default true. */
  shuffle?: boolean;
  /** Default false; needs `strata`. */
  stratified?: boolean;
  /** Default 0. */
  seed?: number;
}

export interface SplitIndices {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
  /** Rows no part asked for (only when all of train, val and test are given and add up to less). */
  unused: Int32Array;
}

export type SplitProblem =
  /** A count above 1 that is not a whole number. */
  | { kind: "notInteger"; part: Part; value: number }
  /** The parts ask for more rows than there are. */
  | { kind: "overfull"; part: "total"; asked: number; rows: number; fractions: boolean }
  /** A part that was asked for (or train) would receive no row. */
  | { kind: "empty"; part: Part; rows: number; sizes: Record<Part, number> };

const EPS = 1e-9;

/** Snaps values within 1e-9 of an integer onto it, so 0.7 * 150 counts as 105. */
function snap(q: number): number {
  const r = Math.round(q);
  return Math.abs(q - r) < EPS * Math.max(1, Math.abs(q)) ? r : q;
}

/** The exact (real) number of rows each of train, val, test and unused asks for. */
export function quotas(n: number, req: SplitRequest): { quotas: number[] } | { problem: SplitProblem } {
  const q = [0, 0, 0, 0];
  let fractions = false;
  // 1 is a fraction (every row) unless another part is a count: `train: 5, test: 1` is one test row.
  const counts = PARTS.some((p) => (req[p] ?? 0) > 1);
  for (let i = 0; i < 3; i++) {
    const v = req[PARTS[i]];
    if (v === undefined) continue;
    if (!(v >= 0) || !Number.isFinite(v)) return { problem: { kind: "notInteger", part: PARTS[i], value: v } };
    if (v > 1 && !Number.isInteger(v)) return { problem: { kind: "notInteger", part: PARTS[i], value: v } };
    const isCount = v > 1 || (v === 1 && counts);
    if (!isCount) fractions = true;
    q[i] = snap(isCount ? v : v * n);
  }
  if (req.train === undefined) q[0] = snap(n - q[1] - q[2]);
  const total = snap(q[0] + q[1] + q[2]);
  if (q[0] < -EPS || total > n + EPS * Math.max(1, n)) {
    const asked = req.train === undefined ? q[1] + q[2] : total;
    return { problem: { kind: "overfull", part: "total", asked, rows: n, fractions } };
  }
  q[0] = Math.max(0, q[0]);
  q[3] = Math.max(0, snap(n - q[0] - q[1] - q[2]));
  return { quotas: q };
}

/** Largest-remainder rounding of `shares * total`, ties to the earlier part; the result sums to `total`. */
export function apportion(total: number, exact: readonly number[]): number[] {
  const floors = exact.map((x) => Math.floor(snap(x)));
  let units = total - floors.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: snap(x) - floors[i] })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; units > 0 && order.length; k = (k + 1) % order.length, units--) floors[order[k].i]++;
  return floors;
}

/**
 * Splits the rows 0..n-1. `strata` gives each row's class (a non-negative integer) for stratified
 * splits. Never throws; a request that cannot be met comes back as a `problem`.
 */
export function splitRows(n: number, req: SplitRequest, strata?: ArrayLike<number>): { split: SplitIndices } | { problem: SplitProblem } {
  const qr = quotas(n, req);
  if ("problem" in qr) return qr;
  const q = qr.quotas;
  const shuffle = req.shuffle ?? true;
  const next = mulberry32(req.seed ?? 0);
  let parts: Int32Array[];
  if (req.stratified && strata) {
    const groups = groupByClass(n, strata);
    const shares = q.map((x) => (n > 0 ? x / n : 0));
    const assigned = [0, 0, 0, 0];
    let cum = 0;
    // Each class's counts first (they do not depend on the shuffles), so each part is allocated once.
    const counts = groups.map((rows) => {
      cum += rows.length;
      const c = apportionClass(rows.length, shares, assigned, cum);
      for (let p = 0; p < 4; p++) assigned[p] += c[p];
      return c;
    });
    parts = assigned.map((total) => new Int32Array(total));
    const filled = [0, 0, 0, 0];
    groups.forEach((rows, g) => {
      if (shuffle) shuffleInPlace(rows, next);
      let at = 0;
      for (let p = 0; p < 4; p++) {
        const c = counts[g][p];
        parts[p].set(rows.subarray(at, at + c), filled[p]);
        filled[p] += c;
        at += c;
      }
    });
    if (shuffle) for (let p = 0; p < 3; p++) shuffleInPlace(parts[p], next);
  } else {
    const sizes = apportion(n, q);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    if (shuffle) shuffleInPlace(order, next);
    let at = 0;
    parts = sizes.map((size) => order.slice(at, (at += size)));
  }
  const sizes = { train: parts[0].length, val: parts[1].length, test: parts[2].length };
  for (let p = 0; p < 3; p++) {
    const part = PARTS[p];
    const asked = p === 0 || (req[part] ?? 0) > 0;
    if (asked && parts[p].length === 0) return { problem: { kind: "empty", part, rows: n, sizes } };
  }
  return { split: { train: parts[0], val: parts[1], test: parts[2], unused: parts[3] } };
}

/** Row indices grouped by class, classes ascending, rows in file order. */
export function groupByClass(n: number, strata: ArrayLike<number>): Int32Array[] {
  // Counted first, so a million rows fill arrays of their final size.
  const count = new Map<number, number>();
  for (let i = 0; i < n; i++) count.set(strata[i], (count.get(strata[i]) ?? 0) + 1);
  const classes = [...count.keys()].sort((a, b) => a - b);
  const groups = classes.map((c) => new Int32Array(count.get(c)!));
  const slot = new Map(classes.map((c, k) => [c, k]));
  const filled = new Int32Array(classes.length);
  for (let i = 0; i < n; i++) {
    const k = slot.get(strata[i])!;
    groups[k][filled[k]++] = i;
  }
  return groups;
}

/**
 * One class's rows among the parts: each part gets the floor or the ceiling of its share. The
 * ceilings go to the parts furthest behind their share of all rows seen so far.
 */
function apportionClass(nc: number, shares: readonly number[], assigned: readonly number[], cum: number): number[] {
  const exact = shares.map((s) => snap(s * nc));
  const counts = exact.map((x) => Math.floor(x));
  let units = nc - counts.reduce((a, b) => a + b, 0);
  if (units <= 0) return counts;
  const deficit = (p: number) => shares[p] * cum - (assigned[p] + counts[p]);
  const ranked = [0, 1, 2, 3].map((p) => ({ p, r: exact[p] - counts[p], d: deficit(p) }));
  const eligible = ranked.filter((x) => x.r > EPS).sort((a, b) => b.d - a.d || b.r - a.r || a.p - b.p);
  for (const e of eligible) {
    if (units === 0) break;
    counts[e.p]++;
    units--;
  }
  // Only floating-point noise can leave units over; give them to the parts with any share.
  const fallback = ranked.filter((x) => shares[x.p] > 0).sort((a, b) => b.d - a.d || a.p - b.p);
  for (let k = 0; units > 0 && fallback.length; k = (k + 1) % fallback.length, units--) counts[fallback[k].p]++;
  return counts;
}

/**
 * Assigns `rows` to `k` folds: the rows (per class when stratified) are shuffled with a stream derived
 * from the seed and dealt round-robin, so fold sizes, and each class's share of every fold, differ by
 * at most one row. Returns the held-out rows of each fold.
 */
export function kfoldRows(rows: ArrayLike<number>, k: number, opts: { seed?: number; shuffle?: boolean; strata?: ArrayLike<number> } = {}): Int32Array[] {
  const next = mulberry32(deriveSeed(opts.seed ?? 0, 0x4b464f4c));
  const n = rows.length;
  const order: number[] = [];
  if (opts.strata) {
    const strata = new Int32Array(n);
    for (let i = 0; i < n; i++) strata[i] = opts.strata[rows[i]];
    for (const g of groupByClass(n, strata)) {
      if (opts.shuffle ?? true) shuffleInPlace(g, next);
      for (const i of g) order.push(rows[i]);
    }
  } else {
    const o = Int32Array.from(rows as ArrayLike<number>);
    if (opts.shuffle ?? true) shuffleInPlace(o, next);
    order.push(...o);
  }
  const folds: number[][] = Array.from({ length: k }, () => []);
  order.forEach((r, i) => folds[i % k].push(r));
  return folds.map((f) => Int32Array.from(f));
}

/**
 * The mini-batches of one epoch: positions 0..n-1 (into the training split) in a per-epoch order
 * derived from the seed (`random.ts` `epochOrder`), cut into batches of `size`; the last batch holds
 * the remainder. Without shuffling every epoch runs in file order.
 */
export function epochBatches(n: number, size: number, seed: number, epoch: number, shuffle = true): Int32Array[] {
  let order: Int32Array;
  if (shuffle) order = epochOrder(n, seed, epoch);
  else {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  }
  const out: Int32Array[] = [];
  const b = Math.max(1, Math.floor(size));
  for (let at = 0; at < n; at += b) out.push(order.subarray(at, Math.min(n, at + b)));
  return out;
}
