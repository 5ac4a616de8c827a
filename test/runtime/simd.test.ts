/**
 * The WebAssembly SIMD matrix product (src/core/simd/): its bytes match gemm.wat, and it
 * computes what the scalar loops of src/core/gemm.ts compute, for every layout, offset,
 * bias and accumulate flag the kernels use, and sizes that are not multiples of the tile.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { colSums, gemm } from "../../src/core/gemm.ts";
import { assemble, SIMD_DIR } from "../../src/core/simd/build.ts";
import { type Activation, fusedMultiplyAdd, parallelProducts, relaxedSimd, setHelperTimeout, SIMD_MIN_WORK, simdActivate, simdAdam, simdAvailable, simdColSums, simdLstmCell, simdLstmGates, simdConv, simdGemm, simdLinearBackward, simdMaxPool, simdMaxPoolBackward, placedBuffers, placer, spawnHelpers, stopHelpers, useFusedMultiplyAdd, useSimd } from "../../src/core/simd/index.ts";
import { int32, type KernelFactory, type LayerInfo } from "../../src/core/kernel.ts";
import { conv1dKernel, conv2dKernel } from "../../src/kinds/layers/conv/kernel.ts";
import { maxpool1dKernel, maxpool2dKernel } from "../../src/kinds/layers/pool/kernel.ts";
import { denseKernel } from "../../src/kinds/layers/dense/kernel.ts";
import { fnOf, lstmCell, lstmGates } from "../../src/kinds/layers/recurrent/kernel.ts";
import { bytesOf } from "./helpers.ts";
import { LAYERS } from "../../src/kinds/layers/registry.ts";
import { stopThreads, useThreads } from "../../src/node/threads.ts";
import { withDefaults } from "../../src/core/options.ts";
import { createOptimizer } from "../../src/kinds/optimizers/update.ts";

/** n values in [−1, 1) from a linear congruential generator seeded with `seed`. */
const seeded = (n: number, seed: number): Float32Array => {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
};

/** The first index where a and b differ in bits (Object.is), or -1 (no diff of long arrays to print). */
const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
};

/** Copies values into a buffer in the module's memory (held by `owner`) when `placed`, else into an ordinary one. */
const putter = (owner: object, placed: boolean) => {
  const place = placer(owner);
  return (v: Float32Array): Float32Array => {
    const b = (placed && place(v.length)) || new Float32Array(v.length);
    b.set(v);
    return b;
  };
};

/** The largest |a[i] − b[i]|. */
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

afterEach(() => {
  useSimd(true);
  useFusedMultiplyAdd(true);
});

describe("WebAssembly SIMD matrix product", () => {
  it("bytes.ts is up to date with gemm.wat (npm run wasm)", async () => {
    expect(readFileSync(join(SIMD_DIR, "bytes.ts"), "utf8")).toBe(await assemble());
  });

  it("is available on this Node", () => {
    expect(simdAvailable()).toBe(true);
  });

  it("fuses the kernel's multiply-adds where relaxed SIMD runs (test/setup.ts turns it on in Node 20), and not when told not to", () => {
    expect(relaxedSimd()).toBe(true);
    // Each row: −1·1 + (1 + 2⁻¹²)², exactly 2⁻¹¹ + 2⁻²⁴. Two roundings lose the 2⁻²⁴ (the square
    // rounds to 1 + 2⁻¹¹ first); one keeps it.
    const [m, n, k] = [32, 32, 2];
    const e = 1 + 2 ** -12;
    const A = Float32Array.from({ length: m * k }, (_, i) => (i % 2 ? e : -1));
    const B = Float32Array.from({ length: k * n }, (_, i) => (i < n ? 1 : e));
    const product = (fused: boolean): number[] => {
      useFusedMultiplyAdd(fused);
      const C = new Float32Array(m * n);
      expect(simdGemm(m, n, k, A, 0, k, 1, B, 0, n, 1, C, 0, n, false, null)).toBe(true);
      return [...new Set(C)];
    };
    expect(product(true)).toEqual([2 ** -11 + 2 ** -24]);
    expect(fusedMultiplyAdd()).toBe(true);
    expect(product(false)).toEqual([2 ** -11]);
    expect(fusedMultiplyAdd()).toBe(false);
  });

  it.each([true, false])("agrees with the scalar product for every layout (fused multiply-add: %s)", (fused) => {
    useFusedMultiplyAdd(fused);
    expect(fusedMultiplyAdd()).toBe(fused);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 70 }),
        fc.constantFrom("rows", "strided rows", "columns", "strided columns", "neither"),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 5 }),
        fc.integer(),
        (m, n, k, aLayout, transB, accumulate, withBias, relu, off, seed) => {
          // A is m×k: row-major, transposed, either with wider rows than needed, or interleaved with
          // another matrix (neither axis contiguous); B k×n likewise; C has a row stride larger than n.
          const [ars, acs, aLen] = {
            rows: [k, 1, m * k],
            "strided rows": [k + 2, 1, m * (k + 2)],
            columns: [1, m, m * k],
            "strided columns": [1, m + 1, k * (m + 1)],
            neither: [2 * k, 2, 2 * m * k],
          }[aLayout] as number[];
          const A = seeded(off + aLen, seed);
          const B = seeded(off + k * n, seed + 1);
          const bias = withBias ? seeded(n, seed + 2) : null;
          const [brs, bcs] = transB ? [1, k] : [n, 1];
          const ldc = n + 3;
          const start = seeded(off + m * ldc, seed + 3);
          const simd = Float32Array.from(start);
          const scalar = Float32Array.from(start);
          const used = simdGemm(m, n, k, A, off, ars, acs, B, off, brs, bcs, simd, off, ldc, accumulate, bias, relu);
          expect(used).toBe(m * n * k >= SIMD_MIN_WORK);
          if (!used) return;
          useSimd(false);
          gemm(m, n, k, A, off, ars, acs, B, off, brs, bcs, scalar, off, ldc, accumulate, bias, relu);
          useSimd(true);
          // Float32 sums of k products of values in [−1, 1], against float64 sums; outside the m×n
          // block (row padding, the offset) nothing changed; relu leaves no negative value.
          let worst = 0;
          const touched: number[] = [];
          for (let i = 0; i < simd.length; i++) {
            worst = Math.max(worst, Math.abs(simd[i] - scalar[i]));
            const col = (i - off) % ldc;
            if ((i < off || col >= n) && simd[i] !== start[i]) touched.push(i);
            else if (relu && i >= off && col < n && simd[i] < 0) touched.push(i);
          }
          expect(worst).toBeLessThan(1e-6 * (k + 1) * 4);
          expect(touched).toEqual([]);
        },
      ),
      { numRuns: 500, seed: 7 },
    );
  });

  it.each([true, false])("seeds the bias, adds to C and applies relu once across blocks of k (fused multiply-add: %s)", (fused) => {
    useFusedMultiplyAdd(fused);
    expect(fusedMultiplyAdd()).toBe(fused);
    // k beyond two blocks of KC (512) steps: the bias and C's values enter once, relu only at the end
    const [m, n, k] = [9, 24, 1100];
    const A = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i) * 0.1);
    const B = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.7) * 0.1);
    const bias = Float32Array.from({ length: n }, (_, j) => (j - 12) * 0.05);
    for (const accumulate of [false, true])
      for (const relu of [false, true]) {
        const simd = Float32Array.from({ length: m * n }, (_, i) => Math.sin(i * 1.3) * 0.5);
        const scalar = simd.slice();
        expect(simdGemm(m, n, k, A, 0, k, 1, B, 0, n, 1, simd, 0, n, accumulate, bias, relu)).toBe(true);
        useSimd(false);
        gemm(m, n, k, A, 0, k, 1, B, 0, n, 1, scalar, 0, n, accumulate, bias, relu);
        useSimd(true);
        const worst = maxDiff(simd, scalar);
        expect(worst, `accumulate ${accumulate}, relu ${relu}`).toBeLessThan(1e-5);
        if (relu) expect(scalar.some((v) => v === 0) && scalar.some((v) => v > 0)).toBe(true);
      }
  });

  it("reads A and B and writes C where they lie in the module's memory, with the copies' bits, touching nothing past C", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(8, 16, 24, 72, 13),
        fc.integer({ min: 1, max: 70 }),
        fc.constantFrom(0, 2),
        fc.constantFrom("rows", "transposed", "wide rows"),
        fc.constantFrom(0, 8, 13),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        fc.integer(),
        (m, n, k, aPad, bLayout, cPad, accumulate, withBias, relu, off, seed) => {
          const ars = k + aPad;
          const [brs, bcs, bLen] = { rows: [n, 1, k * n], "wide rows": [n + 8, 1, k * (n + 8)], transposed: [1, k, k * n] }[bLayout] as number[];
          // C's rows n floats apart or further (an LSTM writes its gates' inputs T·4u apart)
          const ldc = n + cPad;
          const values = { A: seeded(off + m * ars, seed), B: seeded(off + bLen, seed + 1), C: seeded(off + m * ldc + 16, seed + 3) };
          const bias = withBias ? seeded(n, seed + 2) : null;
          const run = (placed: boolean) => {
            const put = putter({}, placed);
            const [A, B, C] = [put(values.A), put(values.B), put(values.C)];
            const used = simdGemm(m, n, k, A, off, ars, 1, B, off, brs, bcs, C, off, ldc, accumulate, bias, relu);
            return { used, C: bytesOf(C) };
          };
          const copied = run(false);
          const inPlace = run(true);
          expect(inPlace.used).toBe(copied.used);
          // the same bits (so between C's rows the values as they were), and past its m rows too
          expect(inPlace.C.equals(copied.C)).toBe(true);
          expect(inPlace.C.subarray(4 * (off + (m - 1) * ldc + n)).equals(bytesOf(values.C.subarray(off + (m - 1) * ldc + n)))).toBe(true);
        },
      ),
      { numRuns: 300, seed: 11 },
    );
    // products the threads share: helpers read A and B and write C (rows 8 floats apart) where they
    // lie too; B as it is, and stored transposed with its columns k + 4 floats apart (a layer's
    // weights read for dx = dz · wᵀ: its panels packed by both threads)
    const [m, n, k, ldc] = [258, 256, 300, 264];
    const values = { A: seeded(m * k, 1), B: seeded(k * n, 2), Bt: seeded(n * (k + 4), 4), C: seeded(m * ldc + 8, 3) };
    const product = (transposed: boolean, placed: boolean, threads: number) => {
      useThreads(threads);
      const before = parallelProducts();
      try {
        const put = putter({}, placed);
        const [A, B, C] = [put(values.A), put(transposed ? values.Bt : values.B), put(values.C)];
        const [brs, bcs] = transposed ? [1, k + 4] : [n, 1];
        expect(simdGemm(m, n, k, A, 0, k, 1, B, 0, brs, bcs, C, 0, ldc, !transposed, null, !transposed)).toBe(true);
        return { C: bytesOf(C), shared: parallelProducts() - before };
      } finally {
        stopThreads();
      }
    };
    for (const transposed of [false, true]) {
      const [copied, inPlace] = [product(transposed, false, 1), product(transposed, true, 2)];
      // (shared: B's packing into panels and the product)
      expect([copied.shared, inPlace.shared]).toEqual([0, 2]);
      expect(inPlace.C.equals(copied.C), `transposed: ${transposed}`).toBe(true);
    }
  });

  it("copies a plain product out whole, or row by row, exactly where the scalar loops write", () => {
    // rows laid out alike (ldc = n, n a multiple of 8): one copy; wider rows (ldc > n, n ≥ 32): a copy per row
    for (const [m, n, k, ldc, off] of [
      [37, 64, 50, 64, 5],
      [9, 40, 33, 40, 0],
      [13, 48, 20, 51, 2],
    ]) {
      const A = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
      const B = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
      const simd = new Float32Array(off + m * ldc + 3).fill(7);
      const scalar = simd.slice();
      expect(simdGemm(m, n, k, A, 0, k, 1, B, 0, n, 1, simd, off, ldc, false, null)).toBe(true);
      useSimd(false);
      gemm(m, n, k, A, 0, k, 1, B, 0, n, 1, scalar, off, ldc, false);
      useSimd(true);
      for (let i = 0; i < simd.length; i++) expect(Math.abs(simd[i] - scalar[i]), `${m}×${n} at ${i}`).toBeLessThan(1e-4);
    }
  });

  it("leaves float64 buffers and small products to the scalar loops", () => {
    const a = new Float64Array(64 * 64);
    expect(simdGemm(64, 64, 64, a, 0, 64, 1, a, 0, 64, 1, new Float64Array(64 * 64), 0, 64, false, null)).toBe(false);
    const f = new Float32Array(16);
    expect(simdGemm(4, 4, 1, f, 0, 1, 1, f, 0, 4, 1, new Float32Array(16), 0, 4, false, null)).toBe(false);
    useSimd(false);
    const g = new Float32Array(64 * 64);
    expect(simdGemm(64, 64, 64, g, 0, 64, 1, g, 0, 64, 1, new Float32Array(64 * 64), 0, 64, false, null)).toBe(false);
  });

  it.each([true, false])("convolves, multiplies (dense) and max-pools as the scalar kernels do, forward and backward, in every geometry, on buffers inside the module's memory as on others (fused multiply-add: %s)", (fused) => {
    useFusedMultiplyAdd(fused);
    expect(fusedMultiplyAdd()).toBe(fused);
    // One layer bound to fresh buffers; forward and backward on SIMD or on the scalar loops. With
    // `placed`, the buffers a plan gives (tensors, gradients, scratch) lie in the module's memory.
    const runLayer = (kernel: KernelFactory, layer: LayerInfo, n: number, simd: boolean, addIns: boolean, seed: number, ties = false, placed = false) => {
      const owner = {};
      const place = placed ? placer(owner) : null;
      const buf = (v: Float32Array): Float32Array => {
        const b = place?.(v.length);
        if (!b) return v;
        b.set(v);
        return b;
      };
      const inSize = layer.inShapes[0].reduce((a, d) => a * d, 1);
      const outSize = layer.outShape.reduce((a, d) => a * d, 1);
      const params = kernel.params(layer).map((p, i) => seeded(p.shape.reduce((a, d) => a * d, 1), seed + 10 + i));
      const dParams = params.map((p) => new Float32Array(p.length).fill(9));
      // (with ties, values repeat within a window, as relu's zeros do)
      const x = buf(seeded(n * inSize, seed).map((v) => (ties ? Math.round(v * 2) : v)));
      const y = buf(new Float32Array(n * outSize).fill(7));
      const dOut = buf(seeded(n * outSize, seed + 1));
      const dx = buf(seeded(n * inSize, seed + 2));
      const alloc = (k: number) => buf(new Float32Array(k));
      const bound = kernel.bind({ layer, capacity: n, precision: "f32", ins: [x], masks: [null], out: y, params, dIns: [dx], addIns: [addIns], dOut, more: [], dMore: [], dParams, alloc, rng: null as never });
      useSimd(simd);
      bound.forward(n, true);
      bound.backward(n);
      useSimd(true);
      if (placed) expect(placedBuffers(x, y, dOut, dx), "the buffers lie in the module's memory").toBe(true);
      return [y, dx, ...dParams, ...(simd ? [dOut] : [])];
    };
    /** The same bits from the layer on buffers in the module's memory (read and written there) as on buffers copied in and out. */
    const samePlaced = (kernel: KernelFactory, layer: LayerInfo, n: number, addIns: boolean, seed: number, copied: Float32Array[], ties = false) => {
      const inPlace = runLayer(kernel, layer, n, true, addIns, seed, ties, true);
      inPlace.forEach((b, t) => expect(Array.from(b), `${layer.kind} buffer ${t} in place`).toEqual(Array.from(copied[t])));
    };
    const out = (size: number, k: number, st: number, d: number, same: boolean) => (same ? Math.ceil(size / st) : Math.floor((size - (k - 1) * d - 1) / st) + 1);
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 2 }),
        fc.boolean(),
        fc.constantFrom("linear", "relu", "tanh"),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 9 }),
        fc.integer(),
        (two, h0, w, c, F, kw, kh0, stride, dilation, same, activation, useBias, addIns, n, seed) => {
          const [h, kh] = two ? [h0, kh0] : [1, 1];
          const oh = out(h, kh, stride, dilation, same);
          const ow = out(w, kw, stride, dilation, same);
          if (oh < 1 || ow < 1) return;
          const opts = withDefaults(LAYERS.get(two ? "conv2d" : "conv1d")!.schema, { kernel: two ? [kh, kw] : [kw], stride, dilation, padding: same ? "same" : "valid", activation, use_bias: useBias });
          const inShapes = [two ? [h, w, c] : [w, c]];
          const conv = { name: "c", kind: two ? "conv2d" : "conv1d", inShapes, outShape: two ? [oh, ow, F] : [ow, F], opts } as unknown as LayerInfo;
          const kernel = two ? conv2dKernel : conv1dKernel;
          const simd = runLayer(kernel, conv, n, true, addIns, seed);
          const scalar = runLayer(kernel, conv, n, false, addIns, seed);
          samePlaced(kernel, conv, n, addIns, seed, simd);
          const K = kh * kw * c;
          for (let t = 0; t < scalar.length; t++) {
            const worst = maxDiff(simd[t], scalar[t]);
            // float32 sums (of up to K products forward, n·oh·ow for dw) against float64 ones
            expect(worst, `buffer ${t}`).toBeLessThan(1e-6 * (K + n * oh * ow + 1) * 4);
          }
          // a dense layer of F units over the input's rows of c values (the conv's activation, bias, addIns)
          const denseOpts = withDefaults(LAYERS.get("dense")!.schema, { units: F, activation, use_bias: useBias });
          const dense = { name: "d", kind: "dense", inShapes: [[h * w, c]], outShape: [h * w, F], opts: denseOpts } as unknown as LayerInfo;
          const ds = runLayer(denseKernel, dense, n, true, addIns, seed);
          const dd = runLayer(denseKernel, dense, n, false, addIns, seed);
          samePlaced(denseKernel, dense, n, addIns, seed, ds);
          for (let t = 0; t < dd.length; t++) {
            expect(maxDiff(ds[t], dd[t]), `dense buffer ${t}`).toBeLessThan(1e-6 * (c + n * h * w + 1) * 4);
          }
          // max pooling with the same window, stride and padding, over 8 to 40 channels (a multiple of 4,
          // so SIMD runs: 16 at a time, then 4 at a time)
          const cp = 4 * c + 4;
          const poh = out(h, kh, stride, 1, same);
          const pow = out(w, kw, stride, 1, same);
          if (poh < 1 || pow < 1) return;
          const pool = { name: "p", kind: "maxpool", inShapes: [two ? [h, w, cp] : [w, cp]], outShape: two ? [poh, pow, cp] : [pow, cp], opts: withDefaults(LAYERS.get(two ? "maxpool2d" : "maxpool1d")!.schema, { pool: two ? [kh, kw] : [kw], stride, padding: opts.padding }) } as unknown as LayerInfo;
          const pk = two ? maxpool2dKernel : maxpool1dKernel;
          const pooled = runLayer(pk, pool, 64, true, addIns, seed, true);
          const [py, pdx] = pooled;
          const [sy, sdx] = runLayer(pk, pool, 64, false, addIns, seed, true);
          samePlaced(pk, pool, 64, addIns, seed, pooled, true);
          // the same maxima, and the gradient to the same cells (ties go to the first)
          expect(Array.from(py)).toEqual(Array.from(sy));
          expect(Array.from(pdx)).toEqual(Array.from(sdx));
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });

  it("computes sigmoid and tanh to float32 accuracy, in place over runs of columns, touching nothing else", () => {
    // values across the whole range, the extremes, and the points where the methods change
    const special = [0, -0, 1e-8, -1e-8, 0.6249, 0.625, -0.625, 0.6251, 9, -9, 20, -20, 88, -88, 88.5, -88.5, 100, -100, 1e30, -1e30, Infinity, -Infinity, NaN];
    const values = [...special, ...Array.from({ length: 4000 }, (_, i) => (i - 2000) / 100)];
    // runs: columns [0, 3) sigmoid, [3, 8) tanh, [8, 9) sigmoid (tails of 3, 1 and 1), [9, 31) tanh
    // (eight at a time twice, four, a tail of 2), [31, 34) left as they are
    const runs: Activation[] = [[0, 3, "sigmoid"], [3, 5, "tanh"], [8, 1, "sigmoid"], [9, 22, "tanh"]];
    const width = 34;
    const active = 31;
    const rows = Math.ceil(values.length / 20);
    const stride = width + 2;
    const src = new Float32Array(rows * stride).fill(5);
    const cols = Array.from({ length: active }, (_, j) => j);
    let k = 0;
    for (let i = 0; i < rows; i++) for (const j of cols) src[i * stride + j] = values[k++ % values.length];
    const dst = src.slice();
    expect(simdActivate(src, dst, 0, stride, rows, width, runs)).toBe(true);
    const f32 = Math.fround;
    let worst = 0;
    const bad: string[] = [];
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < stride; j++) {
        const v = src[i * stride + j];
        const got = dst[i * stride + j];
        if (j >= active) {
          if (!Object.is(got, v)) bad.push(`untouched (${i}, ${j}) ${v} → ${got}`);
          continue;
        }
        const tanh = (j >= 3 && j < 8) || j >= 9;
        const want = f32(tanh ? Math.tanh(v) : 1 / (1 + Math.exp(-v)));
        if (Number.isNaN(want) !== Number.isNaN(got)) bad.push(`(${i}, ${j}) f(${v}) = ${got}, not ${want}`);
        else if (!Number.isNaN(want)) worst = Math.max(worst, Math.abs(got - want));
        // odd function: the sign of tanh follows x, even for −0
        if (tanh && v === 0 && !Object.is(got, v)) bad.push(`tanh(${Object.is(v, -0) ? "-0" : "0"}) = ${got}`);
      }
    expect(bad).toEqual([]);
    // a few float32 ulps (2^-24 ≈ 6e-8 relative) of values at most 1
    expect(worst).toBeLessThan(3e-7);
    expect(simdActivate(new Float64Array(256), new Float64Array(256), 0, 16, 16, 16, [[0, 16, "tanh"]])).toBe(false);
    // a buffer inside the module's memory is activated where it lies, to the same bits, the columns
    // past each run (the next run's, the untouched ones, the next row's) unchanged
    const owner = {};
    const inside = placer(owner)(src.length)!;
    inside.set(src);
    expect(simdActivate(inside, inside, 0, stride, rows, width, runs)).toBe(true);
    expect(firstDifference(inside, dst)).toBe(-1);
  });

  it("places buffers in the module's memory zeroed and apart, keeps them through its growth, and takes them back once their owner is collected", async () => {
    let owner: object | null = {};
    const place = placer(owner);
    // larger than all blocks placed before it together: no earlier free block can hold one
    const N = 1 << 22;
    const a = place(N)!;
    const b = place(10)!;
    expect(placedBuffers(a, b)).toBe(true);
    expect(a.every((v) => v === 0) && b.every((v) => v === 0)).toBe(true);
    expect(b.byteOffset >= a.byteOffset + a.byteLength || a.byteOffset >= b.byteOffset + b.byteLength).toBe(true);
    a.fill(1);
    b.fill(2);
    // a product whose scratch (right above them) grows the memory
    const big = new Float32Array(1500 * 1500).fill(0.5);
    expect(simdGemm(1500, 1500, 1500, big, 0, 1500, 1, big, 0, 1500, 1, new Float32Array(1500 * 1500), 0, 1500, false, null)).toBe(true);
    expect(placedBuffers(a, b)).toBe(true);
    expect(a.every((v) => v === 1) && b.every((v) => v === 2)).toBe(true);
    // a buffer placed for another owner lies above them while they are held (in the grown memory), in their place once not
    const at = a.byteOffset;
    const other = {};
    const above = placer(other)(N)!;
    expect(above.byteOffset).toBeGreaterThan(at);
    expect(above.buffer.byteLength).toBeGreaterThan(a.buffer.byteLength);
    owner = null;
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    const again = placer(other)(N)!;
    expect(again.byteOffset).toBeLessThanOrEqual(at);
    expect(again.every((v) => v === 0)).toBe(true);
  });

  it("gives the same bits on two threads as on one, whatever rows the last chunk tiles (6-row tiles, then 4 or 8 rows)", () => {
    // m = 32 (6·4 + 4 + 4) and 38 (6·5 + 4 + 4) end in two 4-row tiles, 64 (6·10 + 4) in one, 66 in
    // none; Aᵀ with 130 rows is packed in panels of 6 (132 rows); with relu and a bias, adding to C.
    const [n, k] = [64, 2100];
    const results = (threads: number) => {
      useThreads(threads);
      const before = parallelProducts();
      const out: Float32Array[] = [];
      for (const [m, transposed] of [[32, false], [38, false], [64, false], [66, false], [130, true]] as const) {
        const A = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37));
        const B = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11));
        const bias = Float32Array.from({ length: n }, (_, j) => j / n - 0.5);
        const C = Float32Array.from({ length: m * n }, (_, i) => Math.sin(i));
        const [ars, acs] = transposed ? [1, m] : [k, 1];
        const scalar = C.slice();
        expect(simdGemm(m, n, k, A, 0, ars, acs, B, 0, n, 1, C, 0, n, true, bias, true)).toBe(true);
        useSimd(false);
        gemm(m, n, k, A, 0, ars, acs, B, 0, n, 1, scalar, 0, n, true, bias, true);
        useSimd(true);
        expect(maxDiff(C, scalar), `m = ${m}`).toBeLessThan(1e-3);
        out.push(C);
      }
      const shared = parallelProducts() - before;
      stopThreads();
      return { out, shared };
    };
    const one = results(1);
    const two = results(2);
    expect(one.shared).toBe(0);
    // five products, and Aᵀ's panels packed on both threads
    expect(two.shared).toBe(6);
    two.out.forEach((c, i) => expect(Array.from(c), `product ${i}`).toEqual(Array.from(one.out[i])));
  });

  it("convolves in chunks of images on two threads with one thread's bits, whatever the rows per image and the batch", () => {
    // output positions per image: even (324), odd (289: chunks of 2 images), and 1 (chunks of 4);
    // odd batches end in a chunk that also computes the product's padding row
    const cases = [
      { h: 20, w: 20, c: 3, k: 3, F: 40, n: 13 },
      { h: 19, w: 19, c: 3, k: 3, F: 24, n: 23 },
      { h: 8, w: 8, c: 16, k: 8, F: 64, n: 65 },
    ];
    const results = (threads: number, placed: boolean) => {
      useThreads(threads);
      const before = parallelProducts();
      const owner = {};
      const place = placer(owner);
      const out = cases.map(({ h, w, c, k, F, n }, i) => {
        const oh = h - k + 1;
        const g = { h, w, c, oh, ow: oh, kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, padT: 0, padL: 0 };
        const x = seeded(n * h * w * c, i + 1);
        const wts = seeded(k * k * c * F, i + 2);
        const bias = seeded(F, i + 3);
        const y = (placed && place(n * oh * oh * F)) || new Float32Array(n * oh * oh * F);
        const xs = (placed && place(x.length)) || x;
        xs.set(x);
        expect(simdConv(g, n, xs, wts, F, bias, true, y)).toBe("done");
        // against the definition, in float64
        let worst = 0;
        for (let b = 0; b < n; b++)
          for (let oy = 0; oy < oh; oy++)
            for (let ox = 0; ox < oh; ox++)
              for (let f = 0; f < F; f++) {
                let sum = bias[f];
                for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) for (let ch = 0; ch < c; ch++) sum += x[((b * h + oy + ky) * w + ox + kx) * c + ch] * wts[((ky * k + kx) * c + ch) * F + f];
                worst = Math.max(worst, Math.abs(y[((b * oh + oy) * oh + ox) * F + f] - Math.max(sum, 0)));
              }
        expect(worst, `case ${i}`).toBeLessThan(1e-4);
        return y.slice();
      });
      const shared = parallelProducts() - before;
      stopThreads();
      return { out, shared };
    };
    const one = results(1, false);
    expect(one.shared).toBe(0);
    for (const placed of [false, true]) {
      const two = results(2, placed);
      expect(two.shared).toBe(cases.length);
      two.out.forEach((y, i) => expect(Array.from(y), `case ${i}${placed ? ", in place" : ""}`).toEqual(Array.from(one.out[i])));
    }
  });

  it("pools and sends max pooling's gradient back in chunks of images on two threads, as one thread and the plain loop do", () => {
    const [n, h, c] = [37, 25, 32];
    const g = { h, w: h, c, oh: 8, ow: 8, kh: 3, kw: 3, sh: 3, sw: 3, dh: 1, dw: 1, padT: 0, padL: 0 };
    const out = n * 8 * 8 * c;
    const run = (threads: number, add: boolean) => {
      const owner = {};
      const place = placer(owner);
      const x = place(n * h * h * c)!;
      x.set(seeded(x.length, 5).map((v) => Math.round(v * 3)));
      const [y, dy, dx] = [place(out)!, place(out)!, place(x.length)!];
      const arg = int32(place(out)!);
      dy.set(seeded(out, 6));
      dx.set(seeded(dx.length, 7));
      const before2 = dx.slice();
      useThreads(threads);
      const before = parallelProducts();
      let done: boolean[];
      try {
        done = [simdMaxPool(g, n, x, y, arg), simdMaxPoolBackward(dx, dy, arg, out, add ? 0 : x.length, n)];
      } finally {
        stopThreads();
      }
      const shared = parallelProducts() - before;
      expect(done).toEqual([true, true]);
      // the plain loop: zero (unless adding), then add each gradient at its maximum's cell
      const want = add ? before2 : new Float32Array(dx.length);
      for (let i = 0; i < out; i++) want[arg[i]] += dy[i];
      expect(firstDifference(dx, want)).toBe(-1);
      return { dx: dx.slice(), arg: arg.slice(), shared };
    };
    for (const add of [false, true]) {
      const one = run(1, add);
      const two = run(2, add);
      expect(one.shared).toBe(0);
      expect(two.shared).toBe(2);
      expect(firstDifference(two.arg, one.arg)).toBe(-1);
      expect(firstDifference(two.dx, one.dx)).toBe(-1);
    }
  });

  it("sums a first convolution's long kernel and bias gradients in parts, with relu or without: two threads give one thread's bits, and the definition's values", () => {
    // 40 images of 26 × 26 positions: 27,040 rows of 16 window values and 32 channels, summed in 3 parts
    const [n, h, k, F] = [40, 29, 4, 32];
    const oh = h - k + 1;
    const g = { h, w: h, c: 1, oh, ow: oh, kh: k, kw: k, sh: 1, sw: 1, dh: 1, dw: 1, padT: 0, padL: 0 };
    const m = n * oh * oh;
    const x = seeded(n * h * h, 1);
    const dz = seeded(m * F, 2);
    // relu's output: zero where about half the pre-activations were negative
    const y = seeded(m * F, 3).map((v) => Math.max(v, 0));
    const w = seeded(k * k * F, 4);
    // with relu's gradient applied from its output, and without (a linear convolution: the sums alone)
    for (const relu of [true, false]) {
      const run = (threads: number, placed: boolean) => {
        const owner = {};
        const put = putter(owner, placed);
        const [dw, db] = [new Float32Array(k * k * F), new Float32Array(F)];
        useThreads(threads);
        const before = parallelProducts();
        try {
          expect(simdLinearBackward(g, n, put(x), put(dz), relu ? put(y) : null, w, F, dw, db, null, false)).toBe(true);
        } finally {
          stopThreads();
        }
        return { dw, db, shared: parallelProducts() - before };
      };
      const one = run(1, false);
      expect(one.shared).toBe(0);
      // the definition, in float64
      const wantW = new Float64Array(k * k * F);
      const wantB = new Float64Array(F);
      for (let b = 0, r = 0; b < n; b++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < oh; ox++, r++)
            for (let f = 0; f < F; f++) {
              const d = !relu || y[r * F + f] > 0 ? dz[r * F + f] : 0;
              wantB[f] += d;
              for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) wantW[(ky * k + kx) * F + f] += x[(b * h + oy + ky) * h + ox + kx] * d;
            }
      expect(maxDiff(one.dw, wantW), `relu: ${relu}`).toBeLessThan(1e-3);
      expect(maxDiff(one.db, wantB), `relu: ${relu}`).toBeLessThan(1e-3);
      for (const placed of [false, true]) {
        const two = run(2, placed);
        const what = `${placed ? "in place" : "copied"}, relu: ${relu}`;
        // the windows' gathering, the mask's (or the sums') parts and the product's parts, each shared
        expect(two.shared, what).toBe(3);
        expect(firstDifference(two.dw, one.dw), what).toBe(-1);
        expect(firstDifference(two.db, one.db), what).toBe(-1);
      }
    }
  });

  it("updates Adam's weights and moments where they lie in the module's memory with the plain loop's bits, on one thread or two", () => {
    // odd lengths (the last value alone), one long enough for the threads to share
    const sizes = [70_001, 37, 1];
    const run = (name: "adam" | "adamw", placed: boolean, threads: number) => {
      const owner = {};
      const put = putter(owner, placed);
      const ps = sizes.map((n, i) => ({ value: put(seeded(n, 10 + i)), grad: put(seeded(n, 20 + i)) }));
      const opt = createOptimizer(name, { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weight_decay: 0.05 }, ps);
      useThreads(threads);
      const before = parallelProducts();
      try {
        for (let t = 0; t < 3; t++) {
          opt.step(0.01);
          // the next step's gradient
          for (const p of ps) for (let i = 0; i < p.grad.length; i++) p.grad[i] = Math.sin(p.value[i] * 7 + t);
        }
      } finally {
        stopThreads();
      }
      return { values: ps.map((p) => p.value.slice()), shared: parallelProducts() - before };
    };
    for (const name of ["adam", "adamw"] as const) {
      const plain = run(name, false, 1);
      const one = run(name, true, 1);
      const two = run(name, true, 2);
      expect(plain.shared + one.shared).toBe(0);
      // three steps, the long parameter shared each time
      expect(two.shared).toBe(3);
      sizes.forEach((_, i) => {
        expect(firstDifference(one.values[i], plain.values[i]), `${name}, parameter ${i}`).toBe(-1);
        expect(firstDifference(two.values[i], plain.values[i]), `${name}, parameter ${i}, two threads`).toBe(-1);
      });
    }
    // it declines buffers outside the memory (the loop runs then)
    const outside = new Float32Array(8);
    expect(simdAdam(outside, outside, outside, outside, [0.9, 0.1, 0.999, 0.001, 1, 1, 0.01, 1e-7, 1])).toBe(false);
  });

  it("runs an LSTM's step and its gates' gradients where the buffers lie in the module's memory, with the loop's bits", () => {
    const [tanh, sigmoid] = [fnOf("tanh"), fnOf("sigmoid")];
    for (const [n, u, T] of [
      [9, 8, 3],
      [16, 12, 2],
      [16, 4, 1],
    ]) {
      const Gu = 4 * u;
      // gates as the activations leave them (i, f, o in (0, 1), g in (−1, 1)); step t of T, each
      // example's steps T·Gu apart, the states' T·u apart
      const t = T - 1;
      const gates = seeded(n * T * Gu, 7 + u).map((v, k) => (Math.floor(k / u) % 4 === 2 ? v : (v + 1) / 2));
      const state = seeded(n * u, 3 + n);
      const [zOff, zs, sOff, ss] = [t * Gu, T * Gu, t * u, T * u];
      const step = (placed: boolean) => {
        const put = putter({}, placed);
        const b = { Z: put(gates), HP: put(new Float32Array(n * T * u)), CP: put(new Float32Array(n * T * u)), AC: put(new Float32Array(n * T * u)), c: put(state), h: put(seeded(n * u, 5)) };
        const simd = simdLstmCell(b.Z, zOff, zs, b.HP, b.CP, b.AC, sOff, ss, b.c, b.h, n, u);
        if (!simd) lstmCell(b.Z, zOff, zs, b.HP, b.CP, b.AC, sOff, ss, b.c, b.h, n, u, tanh);
        const d = { dh: put(seeded(n * u, 11)), dc: put(seeded(n * u, 12)) };
        const gradients = simdLstmGates(b.Z, zOff, zs, b.CP, b.AC, sOff, ss, d.dh, d.dc, n, u);
        if (!gradients) lstmGates(b.Z, zOff, zs, b.CP, b.AC, sOff, ss, d.dh, d.dc, n, u, tanh, sigmoid);
        return { simd, gradients, out: [b.CP, b.AC, b.c, b.h, b.Z, d.dc, b.HP].map((x) => bytesOf(x)) };
      };
      const loop = step(false);
      const simd = step(true);
      expect([loop.simd, loop.gradients, simd.simd, simd.gradients]).toEqual([false, false, true, true]);
      ["CP", "AC", "c", "h", "Z", "dc", "HP"].forEach((name, k) => expect(simd.out[k].equals(loop.out[k]), `${name}, n ${n}, u ${u}`).toBe(true));
      // every value was written: the state's gradient passed on is f·dc, not what was there
      expect(simd.out[5].equals(bytesOf(seeded(n * u, 12)))).toBe(false);
      // the state before the step is in HP at step t, each example's row T·u apart
      for (let i = 0; i < n; i++) expect(simd.out[6].subarray(4 * (sOff + i * ss), 4 * (sOff + i * ss + u)).equals(bytesOf(seeded(n * u, 5).subarray(i * u, (i + 1) * u)))).toBe(true);
    }
    // units not a multiple of 4 (the step) or odd (the gradients) stay in the loop
    const inside = placer({})(64 * 6 * 4)!;
    expect(simdLstmCell(inside, 0, 24, inside, inside, inside, 0, 6, inside, inside, 12, 6)).toBe(false);
    expect(simdLstmGates(inside, 0, 20, inside, inside, 0, 5, inside, inside, 12, 5)).toBe(false);
  });

  it("sums columns where they lie in the module's memory, in row order, with the loop's bits", () => {
    for (const [m, n] of [
      [1792, 256],
      [37, 12],
      [64, 6],
    ]) {
      // values of many magnitudes, so the order of the sums shows in the bits
      const A = seeded(m * n, m).map((v, i) => v * 10 ** ((i % 7) - 3));
      const sums = (placed: boolean) => {
        const put = putter({}, placed);
        const out = put(new Float32Array(n + 3).fill(9));
        colSums(m, n, put(A), out.subarray(1, n + 1), false);
        return out;
      };
      const [loop, placed] = [sums(false), sums(true)];
      expect(firstDifference(placed, loop), `${m}×${n}`).toBe(-1);
      expect([loop[0], loop[n + 1]]).toEqual([9, 9]);
    }
    const inside = placer({})(256)!;
    expect(simdColSums(16, 16, inside, inside.subarray(0, 16))).toBe(true);
    expect(simdColSums(16, 6, inside, inside.subarray(0, 6))).toBe(false);
    expect(simdColSums(16, 16, new Float32Array(256), inside.subarray(0, 16))).toBe(false);
  });

  it("finishes a product alone, with the same result, when a helper never answers", () => {
    const [m, n, k] = [256, 64, 256];
    const A = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
    const B = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
    const alone = new Float32Array(m * n);
    expect(simdGemm(m, n, k, A, 0, k, 1, B, 0, n, 1, alone, 0, n, false, null)).toBe(true);
    // a helper that is counted but never started (as one killed before it took its chunks)
    const was = setHelperTimeout(50);
    try {
      expect(spawnHelpers(2, () => {})).toBe(2);
      const before = parallelProducts();
      const shared = new Float32Array(m * n);
      expect(simdGemm(m, n, k, A, 0, k, 1, B, 0, n, 1, shared, 0, n, false, null)).toBe(true);
      expect(parallelProducts()).toBe(before + 1);
      expect(Array.from(shared)).toEqual(Array.from(alone));
      // and the next product runs on this thread without waiting
      const next = new Float32Array(m * n);
      simdGemm(m, n, k, A, 0, k, 1, B, 0, n, 1, next, 0, n, false, null);
      expect(parallelProducts()).toBe(before + 1);
      expect(Array.from(next)).toEqual(Array.from(alone));
    } finally {
      setHelperTimeout(was);
      stopHelpers();
    }
  });
});

