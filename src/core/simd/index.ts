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
  gemm: (...args: number[]) => void;
  f32: Float32Array;
  /** The module's bytes, when its memory is shared (for helpers to instantiate on it). */
  shared?: Uint8Array<ArrayBuffer>;
}

/** Bytes at the start of memory for the helpers' mailbox: [generation, done, -, session, then SLOT ints per helper]. */
const CONTROL = 1024;
/** A helper's slot: its band's ARGS arguments of `gemm`, then the generation it finished. */
const ARGS = 14;
const SLOT = 16;
const MAX_HELPERS = (CONTROL / 4 - 8) / SLOT;
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
    const j = 8 + index * ${SLOT};
    if (box[j] > 0) gemm(...box.subarray(j, j + ${ARGS}));
    Atomics.store(box, j + ${SLOT - 1}, seen);
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

/**
 * Runs `gemm(args)` on this thread and the helpers, each a band of C's rows (multiples of MR).
 * args: m, n, k, a, aps, ars, ass, b, bps, bss, c, KC, bias, flags (gemm.wat; offsets in bytes).
 */
function run(kr: Kernel, args: number[]): void {
  const [mp, np, k, a, aps, , , , , , c] = args;
  const T = kr.shared && helpers > 0 && mp * np * k >= PARALLEL_MIN_WORK ? Math.min(helpers + 1, mp / MR) : 1;
  if (T <= 1) return kr.gemm(...args);
  parallelRuns++;
  const per = Math.ceil(mp / MR / T) * MR;
  const box = new Int32Array(kr.memory.buffer, 0, CONTROL / 4);
  const band = (r0: number): number[] => {
    const band = args.slice();
    band[0] = Math.max(0, Math.min(mp, r0 + per) - r0);
    band[3] = a + (r0 / MR) * aps;
    band[10] = c + r0 * np * 4;
    return band;
  };
  Atomics.store(box, 1, 0);
  for (let h = 0; h < helpers; h++) box.set(band((h + 1) * per), 8 + h * SLOT);
  const gen = Atomics.add(box, 0, 1) + 1;
  Atomics.notify(box, 0);
  kr.gemm(...band(0));
  for (let done = Atomics.load(box, 1); done < helpers; done = Atomics.load(box, 1)) {
    if (Atomics.wait(box, 1, done, HELPER_TIMEOUT_MS) !== "timed-out") continue;
    // A helper that has not answered in that long is gone (killed, out of memory): this thread runs
    // the bands still missing (the same sums, so a late helper writes the same values) and the rest alone.
    for (let h = 0; h < helpers; h++) {
      const j = 8 + h * SLOT;
      if (Atomics.load(box, j + SLOT - 1) !== gen && box[j] > 0) kr.gemm(...box.subarray(j, j + ARGS));
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

/** Copies n values from src (at s) to dst (at d): one memcpy for long runs, a loop for short ones (a view costs more). */
function copy(dst: Float32Array, d: number, src: Buf, s: number, n: number): void {
  if (n >= 32 && src instanceof Float32Array) dst.set(src.subarray(s, s + n), d);
  else for (let j = 0; j < n; j++) dst[d + j] = src[s + j];
}

/**
 * B, and A stored transposed, are read in place (each step one row) while their rows are at most
 * this many floats: longer rows put each step of a panel on its own cache line, and power-of-two
 * row lengths on the same few sets of the first-level cache, so they are packed into panels then.
 * (A's own rows are read in place at any length: each of its 4 rows is read along.)
 */
const IN_PLACE_MAX = 64;

/**
 * The product of src/core/gemm.ts's contract, C (=|+=) bias + A · B (then relu where asked), on
 * SIMD; false (nothing done) when the buffers are not all float32, the product is small, or SIMD
 * is unavailable. Operands whose rows are contiguous are copied into the module's memory as they
 * are (one memcpy when they are contiguous as a whole) and read there in place; others are packed.
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
  relu = false,
): boolean {
  if (!enabled || m * n * k < SIMD_MIN_WORK || !(A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array)) return false;
  const kr = load();
  if (!kr) return false;
  const mp = Math.ceil(m / MR) * MR;
  const np = Math.ceil(n / NR) * NR;
  const a = CONTROL / 4;
  const b = a + mp * k;
  const bi = b + k * np;
  const c = bi + np;
  const H = heap(kr, c + mp * np);
  if (!H) return false;

  let aps: number, aRow: number, aStep: number;
  if (acs === 1) {
    // A's rows as they are, rows past m zero: A(i, p) at a + i·k + p.
    if (ars === k) H.set(A.subarray(aOff, aOff + m * k), a);
    else for (let i = 0; i < m; i++) copy(H, a + i * k, A, aOff + i * ars, k);
    H.fill(0, a + m * k, a + mp * k);
    [aps, aRow, aStep] = [MR * k, k, 1];
  } else if (ars === 1 && mp <= IN_PLACE_MAX) {
    // Aᵀ's rows (A's columns) as they are, padded to mp: A(i, p) at a + p·mp + i.
    if (acs === m && mp === m) H.set(A.subarray(aOff, aOff + k * m), a);
    else
      for (let p = 0; p < k; p++) {
        copy(H, a + p * mp, A, aOff + p * acs, m);
        H.fill(0, a + p * mp + m, a + (p + 1) * mp);
      }
    [aps, aRow, aStep] = [MR, 1, mp];
  } else {
    // Panels of MR rows, step by step: A(i, p) at a + (i − i mod MR)·k + p·MR + i mod MR, rows past m
    // zero (each copy reads along A's contiguous axis, if it has one).
    for (let i0 = 0; i0 < mp; i0 += MR) {
      const h = Math.min(MR, m - i0);
      if (ars === 1)
        for (let p = 0, q = a + i0 * k; p < k; p++, q += MR) {
          const src = aOff + i0 + p * acs;
          for (let r = 0; r < h; r++) H[q + r] = A[src + r];
          for (let r = h; r < MR; r++) H[q + r] = 0;
        }
      else
        for (let r = 0; r < MR; r++) {
          const src = aOff + (i0 + r) * ars;
          if (r >= h) for (let p = 0, q = a + i0 * k + r; p < k; p++, q += MR) H[q] = 0;
          else for (let p = 0, q = a + i0 * k + r; p < k; p++, q += MR) H[q] = A[src + p * acs];
        }
    }
    [aps, aRow, aStep] = [MR * k, 1, MR];
  }

  let bps: number, bStep: number;
  if (bcs === 1 && np <= IN_PLACE_MAX) {
    // B's rows as they are, padded to np: B(p, j) at b + p·np + j.
    if (brs === n && np === n) H.set(B.subarray(bOff, bOff + k * n), b);
    else
      for (let p = 0; p < k; p++) {
        copy(H, b + p * np, B, bOff + p * brs, n);
        H.fill(0, b + p * np + n, b + (p + 1) * np);
      }
    [bps, bStep] = [NR, np];
  } else {
    // Panels of NR columns, step by step: B(p, j) at b + (j − j mod NR)·k + p·NR + j mod NR; columns past n zero.
    // (Each copy reads along B's contiguous axis.)
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
    [bps, bStep] = [NR * k, NR];
  }

  if (bias !== null) {
    for (let j = 0; j < n; j++) H[bi + j] = bias[j];
    H.fill(0, bi + n, bi + np);
  }
  const whole = np === n && ldc === n;
  if (accumulate) {
    if (whole) H.set(C.subarray(cOff, cOff + m * n), c);
    else for (let i = 0; i < m; i++) copy(H, c + i * np, C, cOff + i * ldc, n);
  }

  const f = 4;
  run(kr, [mp, np, k, a * f, aps * f, aRow * f, aStep * f, b * f, bps * f, bStep * f, c * f, KC, bias === null ? 0 : bi * f, (accumulate ? 1 : 0) | (relu ? 2 : 0)]);

  if (whole) (C as Float32Array).set(H.subarray(c, c + m * n), cOff);
  else for (let i = 0; i < m; i++) copy(C as Float32Array, cOff + i * ldc, H, c + i * np, n);
  return true;
}
