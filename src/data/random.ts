/**
 * The one seeded PRNG of nnspec's data pipeline, and the shuffles built on it.
 *
 * This module is pure and self-contained (no imports, no Node APIs, no globals) so that the
 * interpreter and the generated TensorFlow.js code run the very same functions: the same seed gives
 * the same permutation, byte for byte, in any JavaScript engine. Only 32-bit integer arithmetic
 * (`Math.imul`, `>>>`) and correctly rounded IEEE-754 float64 operations are used, so no
 * engine-dependent rounding can creep in.
 *
 * The generator is **mulberry32** (Tommy Ettinger, public domain): a 32-bit state advanced by the
 * odd constant 0x6D2B79F5 and an xorshift-multiply output mix. Period 2^32, far more draws than any
 * shuffle here makes. (The same generator seeds the benchmarks' generated inputs.)
 */

/** A generator of uniformly distributed unsigned 32-bit integers. */
export type Rng = () => number;

const TWO_32 = 4294967296;

/**
 * A 32-bit seed from any finite integer: seeds in [-2^31, 2^32) are taken as 32-bit words (two's
 * complement for negatives); larger ones have their high bits mixed in.
 */
export function seed32(seed: number): number {
  if (!Number.isFinite(seed)) return 0;
  const s = Math.trunc(seed);
  const lo = s >>> 0;
  if (s >= -2147483648 && s < TWO_32) return lo;
  const hi = Math.floor(s / TWO_32) >>> 0;
  return (lo ^ fmix32(hi)) >>> 0;
}

/** mulberry32: returns the next unsigned 32-bit integer of the stream seeded with `seed`. */
export function mulberry32(seed: number): Rng {
  let a = seed32(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A float in [0, 1) with 32 random bits. */
export function uniform(next: Rng): number {
  return next() / TWO_32;
}

/**
 * An integer in [0, bound) by multiply-and-shift (Lemire's method without the rejection step). For
 * bound ≤ 2^21 the product is exact; above it IEEE-754 rounding is still deterministic in every engine,
 * and the bias stays below bound / 2^32.
 */
export function below(next: Rng, bound: number): number {
  return Math.floor((next() * bound) / TWO_32);
}

/** MurmurHash3's 32-bit finaliser: a bijective mix of 32 bits. */
export function fmix32(h: number): number {
  h >>>= 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A seed for an independent stream derived from `seed` and a stream number (an epoch, a fold), so
 * epoch 7's order can be computed without replaying epochs 0..6.
 */
export function deriveSeed(seed: number, stream: number): number {
  return fmix32((seed32(seed) ^ Math.imul((stream + 1) >>> 0, 0x9e3779b9)) >>> 0);
}

/** Fisher–Yates shuffle in place, drawing from the end of the array towards the front. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(a: T, next: Rng): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = below(next, i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** 0..n-1 in the order of a Fisher–Yates shuffle seeded with `seed`. */
export function permutation(n: number, seed: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return shuffleInPlace(a, mulberry32(seed));
}

/**
 * The order of the training rows in epoch `epoch` (0-based): a fresh permutation for every epoch,
 * derived from the one seed, so a run is reproducible and can resume at any epoch.
 */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  return permutation(n, deriveSeed(seed, epoch));
}
