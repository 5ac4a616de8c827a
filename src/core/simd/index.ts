/**
 * Single-precision matrix products on WebAssembly SIMD (gemm.wat), for float32 buffers. The
 * operands are packed into the module's memory (A in panels of MR rows, B in panels of NR columns,
 * each step by step, padded with zeros), the product is summed there four lanes at a time in tiles
 * of MR × NR, k in blocks of KC steps, and the result is copied back with the bias added.
 * Where WebAssembly SIMD is missing, `simdGemm` declines and the caller's scalar loops run instead.
 */
import type { Buf } from "../kernel.ts";
import { GEMM_WASM_BASE64 } from "./bytes.ts";

interface Kernel {
  memory: WebAssembly.Memory;
  gemm: (m: number, n: number, k: number, a: number, b: number, c: number, kc: number) => void;
  f32: Float32Array;
}

let kernel: Kernel | null | undefined;
let enabled = true;

/** Below this many multiply-adds the packing costs more than the scalar loops. */
export const SIMD_MIN_WORK = 2048;
/**
 * The tile gemm.wat sums in registers, and the steps of k per block (a B panel's block, KC·NR
 * floats, 16 KiB, stays in the first-level cache). 4 × 8 measured fastest on V8 (bench/README.md):
 * larger tiles spill registers, unrolling the steps slows it down.
 */
const MR = 4;
const NR = 8;
const KC = 512;

function load(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const bytes = Uint8Array.from(atob(GEMM_WASM_BASE64), (ch) => ch.charCodeAt(0));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const memory = instance.exports.memory as WebAssembly.Memory;
    kernel = { memory, gemm: instance.exports.gemm as Kernel["gemm"], f32: new Float32Array(memory.buffer) };
  } catch {
    kernel = null;
  }
  return kernel;
}

/** Turns the SIMD path on or off (tests compare it with the scalar one); returns the previous setting. */
export function useSimd(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether products of float32 buffers run on WebAssembly SIMD here. */
export function simdAvailable(): boolean {
  return enabled && load() !== null;
}

/**
 * A float32 view of the module's memory of at least `floats` values (grown in 64 KiB pages as
 * needed); null when it cannot grow that far (wasm32 stops at 4 GiB), and the scalar loops run.
 */
function heap(k: Kernel, floats: number): Float32Array | null {
  const bytes = floats * 4;
  if (k.memory.buffer.byteLength < bytes) {
    try {
      k.memory.grow(Math.ceil((bytes - k.memory.buffer.byteLength) / 65536));
    } catch {
      return null;
    }
    k.f32 = new Float32Array(k.memory.buffer);
  }
  return k.f32;
}

/**
 * The product of src/core/gemm.ts's contract, C (=|+=) bias + A · B, on SIMD; false (nothing
 * done) when the buffers are not all float32, the product is small, or SIMD is unavailable.
 */
export function simdGemm(
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
  bias: Buf | null,
): boolean {
  if (!enabled || m * n * k < SIMD_MIN_WORK || !(A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array)) return false;
  const kr = load();
  if (!kr) return false;
  const mp = Math.ceil(m / MR) * MR;
  const np = Math.ceil(n / NR) * NR;
  const a = 0;
  const b = a + mp * k;
  const c = b + k * np;
  const H = heap(kr, c + mp * np);
  if (!H) return false;

  // A in panels of MR rows, step by step: A(i, p) at a + (i − i mod MR)·k + p·MR + i mod MR; rows past m are zero.
  // (Each copy reads along the operand's contiguous axis: along p for a row-major A, along i for Aᵀ.)
  for (let i0 = 0; i0 < mp; i0 += MR) {
    const panel = a + i0 * k;
    const h = Math.min(MR, m - i0);
    if (acs === 1 || ars !== 1) {
      for (let r = 0; r < MR; r++) {
        const src = aOff + (i0 + r) * ars;
        if (r >= h) for (let p = 0, q = panel + r; p < k; p++, q += MR) H[q] = 0;
        else if (acs === 1) for (let p = 0, q = panel + r; p < k; p++, q += MR) H[q] = A[src + p];
        else for (let p = 0, q = panel + r; p < k; p++, q += MR) H[q] = A[src + p * acs];
      }
    } else {
      for (let p = 0; p < k; p++) {
        const src = aOff + i0 + p * acs;
        const dst = panel + p * MR;
        for (let r = 0; r < h; r++) H[dst + r] = A[src + r];
        for (let r = h; r < MR; r++) H[dst + r] = 0;
      }
    }
  }
  // B in panels of NR columns, step by step: B(p, j) at b + (j − j mod NR)·k + p·NR + j mod NR; columns past n are zero.
  for (let j0 = 0; j0 < np; j0 += NR) {
    const panel = b + j0 * k;
    const w = Math.min(NR, n - j0);
    if (bcs === 1 || brs !== 1) {
      for (let p = 0; p < k; p++) {
        const src = bOff + p * brs + j0 * bcs;
        const dst = panel + p * NR;
        if (bcs === 1) for (let jj = 0; jj < w; jj++) H[dst + jj] = B[src + jj];
        else for (let jj = 0; jj < w; jj++) H[dst + jj] = B[src + jj * bcs];
        for (let jj = w; jj < NR; jj++) H[dst + jj] = 0;
      }
    } else {
      for (let jj = 0; jj < NR; jj++) {
        const src = bOff + (j0 + jj) * bcs;
        if (jj >= w) for (let p = 0, q = panel + jj; p < k; p++, q += NR) H[q] = 0;
        else for (let p = 0, q = panel + jj; p < k; p++, q += NR) H[q] = B[src + p];
      }
    }
  }

  kr.gemm(mp, np, k, a * 4, b * 4, c * 4, KC);

  for (let i = 0; i < m; i++) {
    const src = c + i * np;
    const dst = cOff + i * ldc;
    if (bias !== null) {
      if (accumulate) for (let j = 0; j < n; j++) C[dst + j] += H[src + j] + bias[j];
      else for (let j = 0; j < n; j++) C[dst + j] = H[src + j] + bias[j];
    } else if (accumulate) {
      for (let j = 0; j < n; j++) C[dst + j] += H[src + j];
    } else {
      for (let j = 0; j < n; j++) C[dst + j] = H[src + j];
    }
  }
  return true;
}
