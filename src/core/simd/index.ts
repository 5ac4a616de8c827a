/**
 * Single-precision matrix products on WebAssembly SIMD (gemm.wat), for float32 buffers. The
 * operands are packed into the module's memory (A in panels of MR rows, B in panels of NR columns,
 * each step by step, padded with zeros), the product is summed there four lanes at a time in tiles
 * of MR × NR, k in blocks of KC steps, and the result is copied back with the bias added.
 * Where WebAssembly SIMD is missing, `simdGemm` declines and the caller's scalar loops run instead.
 *
 * Where shared memory exists (Node; a cross-origin-isolated page) the module's memory is shared,
 * and helper threads (src/node/threads.ts starts them) each take a band of C's rows of a large
 * product: every row is summed by one thread in the same order, so the result is the same, bit for
 * bit, for any number of threads. The first CONTROL bytes of the memory are the threads' mailbox.
 */
import type { Buf } from "../kernel.ts";
import { GEMM_WASM_BASE64, GEMM_WASM_SHARED_BASE64 } from "./bytes.ts";

interface Kernel {
  memory: WebAssembly.Memory;
  gemm: (m: number, n: number, k: number, a: number, b: number, c: number, kc: number) => void;
  f32: Float32Array;
  /** The module's bytes, when its memory is shared (for helpers to instantiate on it). */
  shared?: Uint8Array<ArrayBuffer>;
}

/** Bytes at the start of memory for the helpers' mailbox: [generation, done, -, session, then 8 ints per helper]. */
const CONTROL = 512;
const MAX_HELPERS = (CONTROL / 4 - 8) / 8;
/** Below this many multiply-adds a product runs on one thread (waking the others costs tens of µs). */
export const PARALLEL_MIN_WORK = 1 << 20;
let helpers = 0;
/** Products run on several threads so far (tests and benchmarks read it). */
let parallelRuns = 0;
export const parallelProducts = (): number => parallelRuns;

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

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const text = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function load(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    // shared memory where the platform allows it (a page that is not cross-origin isolated does not)
    const bytes = decode(GEMM_WASM_SHARED_BASE64);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    kernel = { memory, gemm: instance.exports.gemm as Kernel["gemm"], f32: new Float32Array(memory.buffer), shared: bytes };
  } catch {
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(decode(GEMM_WASM_BASE64)), {});
      const memory = instance.exports.memory as WebAssembly.Memory;
      kernel = { memory, gemm: instance.exports.gemm as Kernel["gemm"], f32: new Float32Array(memory.buffer) };
    } catch {
      kernel = null;
    }
  }
  return kernel;
}

/**
 * Starts a session of `n` helper threads (0: this thread alone) and returns its number, which each
 * helper's `helperLoop` receives: a helper of an earlier session returns as soon as it wakes, so it
 * never takes (or counts itself done for) a band of this one.
 */
function startHelpers(n: number): number {
  const k = load();
  helpers = k?.shared ? Math.max(0, Math.min(n, MAX_HELPERS)) : 0;
  if (!k?.shared) return 0;
  const box = new Int32Array(k.memory.buffer, 0, CONTROL / 4);
  const session = Atomics.add(box, 3, 1) + 1;
  Atomics.notify(box, 0);
  return session;
}

/**
 * A helper thread's loop, as source text (it runs in a worker of its own, Node's or a browser's):
 * wait for a new generation in the mailbox, run its band of the product, count itself done; return
 * once its session is over. `memory`, `bytes`, `index` (0-based) and `session` come from its start.
 */
export const HELPER_LOOP = `function helperLoop(memory, bytes, index, session) {
  const gemm = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.gemm;
  let seen = 0;
  for (;;) {
    let box = new Int32Array(memory.buffer, 0, ${CONTROL / 4});
    Atomics.wait(box, 0, seen);
    seen = Atomics.load(box, 0);
    if (Atomics.load(box, 3) !== session) return;
    box = new Int32Array(memory.buffer, 0, ${CONTROL / 4});
    const j = 8 + index * 8;
    if (box[j] > 0) gemm(box[j], box[j + 1], box[j + 2], box[j + 3], box[j + 4], box[j + 5], box[j + 6]);
    Atomics.store(box, j + 7, seen);
    Atomics.add(box, 1, 1);
    Atomics.notify(box, 1);
  }
}`;

/** What a helper thread is started with: `helperLoop(memory, bytes, index, session)`. */
export interface HelperStart {
  memory: WebAssembly.Memory;
  bytes: Uint8Array<ArrayBuffer>;
  index: number;
  session: number;
}

/**
 * Starts a session of helpers through the host's `spawn` (a Node worker thread, a browser's Web
 * Worker: either runs HELPER_LOOP with what it is given) so that `threads` threads share the
 * products; returns how many will (1 where memory cannot be shared or `threads` is 1).
 */
export function spawnHelpers(threads: number, spawn: (start: HelperStart) => void): number {
  const k = load();
  if (!k?.shared || threads <= 1) {
    stopHelpers();
    return 1;
  }
  const count = Math.min(threads - 1, MAX_HELPERS);
  const session = startHelpers(count);
  for (let index = 0; index < count; index++) spawn({ memory: k.memory, bytes: k.shared, index, session });
  return count + 1;
}

/** Ends the helpers' session: they return from their loops, and products run on this thread. */
export function stopHelpers(): void {
  const k = load();
  helpers = 0;
  if (!k?.shared) return;
  const box = new Int32Array(k.memory.buffer, 0, CONTROL / 4);
  Atomics.add(box, 3, 1);
  Atomics.add(box, 0, 1);
  Atomics.notify(box, 0);
}

/** Runs the packed product on this thread and the helpers, each a band of rows (multiples of MR). */
function run(kr: Kernel, mp: number, np: number, k: number, a: number, b: number, c: number): void {
  const T = kr.shared && helpers > 0 && mp * np * k >= PARALLEL_MIN_WORK ? Math.min(helpers + 1, mp / MR) : 1;
  if (T <= 1) return kr.gemm(mp, np, k, a * 4, b * 4, c * 4, KC);
  parallelRuns++;
  const per = Math.ceil(mp / MR / T) * MR;
  const box = new Int32Array(kr.memory.buffer, 0, CONTROL / 4);
  Atomics.store(box, 1, 0);
  for (let h = 0; h < helpers; h++) {
    const r0 = (h + 1) * per;
    const rows = Math.max(0, Math.min(mp, r0 + per) - r0);
    box.set([rows, np, k, (a + r0 * k) * 4, b * 4, (c + r0 * np) * 4, KC], 8 + h * 8);
  }
  const gen = Atomics.add(box, 0, 1) + 1;
  Atomics.notify(box, 0);
  kr.gemm(Math.min(per, mp), np, k, a * 4, b * 4, c * 4, KC);
  for (let done = Atomics.load(box, 1); done < helpers; done = Atomics.load(box, 1)) {
    if (Atomics.wait(box, 1, done, HELPER_TIMEOUT_MS) !== "timed-out") continue;
    // A helper that has not answered in that long is gone (killed, out of memory): this thread runs
    // the bands still missing (the same sums, so a late helper writes the same values) and the rest alone.
    for (let h = 0; h < helpers; h++) {
      const j = 8 + h * 8;
      if (Atomics.load(box, j + 7) !== gen && box[j] > 0) kr.gemm(box[j], box[j + 1], box[j + 2], box[j + 3], box[j + 4], box[j + 5], box[j + 6]);
    }
    helpers = 0;
    break;
  }
}

/** How long this thread waits for a helper's band before doing it itself. */
const HELPER_TIMEOUT_MS = 10_000;

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
  const a = CONTROL / 4;
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

  run(kr, mp, np, k, a, b, c);

  // A plain copy is one memcpy when the rows are laid out alike, else one per row.
  if (bias === null && !accumulate && np === n && ldc === n) {
    (C as Float32Array).set(H.subarray(c, c + m * n), cOff);
    return true;
  }
  for (let i = 0; i < m; i++) {
    const src = c + i * np;
    const dst = cOff + i * ldc;
    if (bias === null && !accumulate) {
      // (a view per row costs more than a short row's loop)
      if (n >= 32) (C as Float32Array).set(H.subarray(src, src + n), dst);
      else for (let j = 0; j < n; j++) C[dst + j] = H[src + j];
    } else if (bias !== null) {
      if (accumulate) for (let j = 0; j < n; j++) C[dst + j] += H[src + j] + bias[j];
      else for (let j = 0; j < n; j++) C[dst + j] = H[src + j] + bias[j];
    } else for (let j = 0; j < n; j++) C[dst + j] += H[src + j];
  }
  return true;
}
