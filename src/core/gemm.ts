/**
 * Matrix products on flat buffers with arbitrary strides. Each panel of four columns of B is first
 * packed into a contiguous scratch of doubles, then a 4×4 register-blocked kernel sweeps the rows
 * of A against it: eight loads per sixteen multiply-adds, no stores in the inner loop, sums kept in
 * doubles.
 *
 *   C[i, j] (=|+=) bias[j] + Σ_p A[i, p] · B[p, j], then max(·, 0) where `relu` (a NaN stays NaN)
 *
 * A(i, p) is at aOff + i·ars + p·acs and B(p, j) at bOff + p·brs + j·bcs; C is row-major with row
 * stride ldc. The three layouts a dense or convolution layer needs:
 *   Y  = X · W     gemm(m, n, k, X, 0, k, 1, W, 0, n, 1, ...)
 *   dX = dY · Wᵀ   gemm(m, k, n, dY, 0, n, 1, W, 0, 1, n, ...)
 *   dW = Xᵀ · dY   gemm(k, n, m, X, 0, 1, k, dY, 0, n, 1, ...)
 */
import { simdColSums, simdGemm } from "./simd/index.ts";
import type { Buf } from "./kernel.ts";

/** The packed panel; grows to the largest k seen (the runtime is single-threaded). */
let pack = new Float64Array(4 * 1024);

export function gemm(
  m: number,
  n: number,
  k: number,
  A: Buf,
  aOff: number,
  ars: number,
  acs: number,
  B: Buf,
  bOff: number,
  brs: number,
  bcs: number,
  C: Buf,
  cOff: number,
  ldc: number,
  accumulate: boolean,
  bias: Buf | null = null,
  relu = false,
): void {
  // Float32 buffers go to WebAssembly SIMD where it is available and the product is large enough.
  if (simdGemm(m, n, k, A, aOff, ars, acs, B, bOff, brs, bcs, C, cOff, ldc, accumulate, bias, relu)) return;
  if (pack.length < 4 * k) pack = new Float64Array(4 * k);
  const P = pack;
  const k4 = 4 * k;
  for (let j = 0; j < n; j += 4) {
    // The panel's width: 4, or what is left; missing columns are packed as zeros and not stored.
    const w = n - j < 4 ? n - j : 4;
    let ib = bOff + j * bcs;
    for (let q = 0; q < k4; q += 4, ib += brs) {
      P[q] = B[ib];
      P[q + 1] = w > 1 ? B[ib + bcs] : 0;
      P[q + 2] = w > 2 ? B[ib + 2 * bcs] : 0;
      P[q + 3] = w > 3 ? B[ib + 3 * bcs] : 0;
    }
    const q0 = bias !== null ? bias[j] : 0;
    const q1 = bias !== null && w > 1 ? bias[j + 1] : 0;
    const q2 = bias !== null && w > 2 ? bias[j + 2] : 0;
    const q3 = bias !== null && w > 3 ? bias[j + 3] : 0;
    let i = 0;
    for (; i + 3 < m; i += 4) {
      let s00 = q0, s01 = q1, s02 = q2, s03 = q3;
      let s10 = q0, s11 = q1, s12 = q2, s13 = q3;
      let s20 = q0, s21 = q1, s22 = q2, s23 = q3;
      let s30 = q0, s31 = q1, s32 = q2, s33 = q3;
      let ia = aOff + i * ars;
      const r1 = ars;
      const r2 = 2 * ars;
      const r3 = 3 * ars;
      for (let q = 0; q < k4; q += 4) {
        const x0 = A[ia];
        const x1 = A[ia + r1];
        const x2 = A[ia + r2];
        const x3 = A[ia + r3];
        const b0 = P[q];
        const b1 = P[q + 1];
        const b2 = P[q + 2];
        const b3 = P[q + 3];
        s00 += x0 * b0; s01 += x0 * b1; s02 += x0 * b2; s03 += x0 * b3;
        s10 += x1 * b0; s11 += x1 * b1; s12 += x1 * b2; s13 += x1 * b3;
        s20 += x2 * b0; s21 += x2 * b1; s22 += x2 * b2; s23 += x2 * b3;
        s30 += x3 * b0; s31 += x3 * b1; s32 += x3 * b2; s33 += x3 * b3;
        ia += acs;
      }
      const c0 = cOff + i * ldc + j;
      store(C, c0, w, accumulate, relu, s00, s01, s02, s03);
      store(C, c0 + ldc, w, accumulate, relu, s10, s11, s12, s13);
      store(C, c0 + 2 * ldc, w, accumulate, relu, s20, s21, s22, s23);
      store(C, c0 + 3 * ldc, w, accumulate, relu, s30, s31, s32, s33);
    }
    for (; i < m; i++) {
      let s0 = q0, s1 = q1, s2 = q2, s3 = q3;
      let ia = aOff + i * ars;
      for (let q = 0; q < k4; q += 4) {
        const x = A[ia];
        s0 += x * P[q];
        s1 += x * P[q + 1];
        s2 += x * P[q + 2];
        s3 += x * P[q + 3];
        ia += acs;
      }
      store(C, cOff + i * ldc + j, w, accumulate, relu, s0, s1, s2, s3);
    }
  }
}

/** Writes (or adds) the first w of four sums at C[c..c+w), through relu where asked. */
function store(C: Buf, c: number, w: number, accumulate: boolean, relu: boolean, s0: number, s1: number, s2: number, s3: number): void {
  for (let j = 0; j < w; j++) {
    let v = j === 0 ? s0 : j === 1 ? s1 : j === 2 ? s2 : s3;
    if (accumulate) v += C[c + j];
    C[c + j] = relu ? Math.max(v, 0) : v;
  }
}

/** Column sums of an m×n row-major block: out[j] (=|+=) Σ_i A[i, j]. */
export function colSums(m: number, n: number, A: Buf, out: Buf, accumulate: boolean): void {
  if (!accumulate && simdColSums(m, n, A, out)) return;
  if (!accumulate) out.fill(0, 0, n);
  for (let i = 0; i < m; i++) {
    const o = i * n;
    for (let j = 0; j < n; j++) out[j] += A[o + j];
  }
}
