/**
 * Single-precision matrix products on WebAssembly SIMD (gemm.wat), for float32 buffers. The
 * operands are packed into the module's memory (rows padded to 4, columns to 8, with zeros), the
 * product is summed there four lanes at a time, and the result is copied back with the bias added.
 * Where WebAssembly SIMD is missing, `simdGemm` declines and the caller's scalar loops run instead.
 */
import type { Buf } from "../kernel.ts";
import { GEMM_WASM_BASE64 } from "./bytes.ts";

interface Kernel {
  memory: WebAssembly.Memory;
  gemm: (m: number, n: number, k: number, a: number, b: number, c: number) => void;
  f32: Float32Array;
}

let kernel: Kernel | null | undefined;
let enabled = true;

/** Below this many multiply-adds the packing costs more than the scalar loops. */
export const SIMD_MIN_WORK = 2048;

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
  const m4 = (m + 3) & ~3;
  const n8 = (n + 7) & ~7;
  const a = 0;
  const b = a + m4 * k;
  const c = b + k * n8;
  const H = heap(kr, c + m4 * n8);
  if (!H) return false;

  // A, row by row; the padding rows are zero. (Plain loops: subarray views would allocate per call.)
  for (let i = 0; i < m; i++) {
    const src = aOff + i * ars;
    const dst = a + i * k;
    if (acs === 1) for (let p = 0; p < k; p++) H[dst + p] = A[src + p];
    else for (let p = 0; p < k; p++) H[dst + p] = A[src + p * acs];
  }
  for (let q = a + m * k; q < a + m4 * k; q++) H[q] = 0;

  // B, row by row, each padded with zeros to n8 columns.
  for (let p = 0; p < k; p++) {
    const src = bOff + p * brs;
    const dst = b + p * n8;
    if (bcs === 1) for (let j = 0; j < n; j++) H[dst + j] = B[src + j];
    else for (let j = 0; j < n; j++) H[dst + j] = B[src + j * bcs];
    for (let j = n; j < n8; j++) H[dst + j] = 0;
  }

  kr.gemm(m4, n8, k, a * 4, b * 4, c * 4);

  for (let i = 0; i < m; i++) {
    const src = c + i * n8;
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
