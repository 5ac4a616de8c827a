/**
 * The interpreter's float32 work on WebAssembly SIMD (gemm.wat): matrix products, convolutions'
 * window gathering (im2col, col2im), max pooling, sigmoid and tanh, and a dense or conv layer's
 * backward pass in one call. Operands are read where they lie when they are in the module's memory
 * (a float32 plan's buffers, from `placer`) or copied into it (rows as they are, padded with zeros;
 * packed in panels where that reads better); products are summed there four lanes at a time in
 * tiles of MR × NR (4 × NR for the last rows), k in blocks of KC steps, with the bias and relu
 * applied in the same call (fused multiply-adds where relaxed SIMD runs), and results are written
 * in place or copied back. Where WebAssembly SIMD is missing, or a buffer is float64, each entry
 * declines and the caller's scalar loops run instead.
 *
 * Where shared memory exists (Node; a cross-origin-isolated page) the module's memory is shared,
 * and helper threads (src/node/threads.ts starts them) take chunks of C's rows of a large product,
 * or of images of a convolution's forward pass, its windows, max pooling and its gradient (each
 * chunk's own cells), or parts of a long sum over rows whose result is small (PART_ROWS; the parts
 * fixed by the row count, their sums added in order): every value is computed by one thread in the
 * same order, so the result is the same, bit for bit, for any number of threads. The first
 * CONTROL bytes of the memory are the threads' mailbox. Threads watch for their next work a moment
 * before they sleep (SPIN_MS).
 */
import type { Buf } from "../kernel.ts";
import { GEMM_FUSED_WASM_BASE64, GEMM_FUSED_WASM_SHARED_BASE64, GEMM_WASM_BASE64, GEMM_WASM_SHARED_BASE64 } from "./bytes.ts";

interface Kernel {
  memory: WebAssembly.Memory;
  gemm: (...args: number[]) => void;
  window: (...args: number[]) => void;
  maxpool: (...args: number[]) => void;
  conv: (...args: number[]) => void;
  panels: (src: number, ld: number, k: number, width: number, w: number, dst: number) => void;
  colsums: (src: number, ld: number, m: number, n: number, out: number) => void;
  relumask: (out: number, dz: number, y: number, m: number, n: number, sums: number) => void;
  poolback: (dx: number, dy: number, arg: number, n: number, z: number, zero: number) => void;
  zero: (dst: number, bytes: number) => void;
  tpanels: (src: number, ld: number, k: number, width: number, dst: number) => void;
  activate: (p: number, rows: number, ld: number, len: number, fn: number) => void;
  adam: (w: number, g: number, m: number, v: number, n: number, h: number) => void;
  lstmcell: (z: number, zs: number, hp: number, cp: number, ac: number, ss: number, c: number, h: number, n: number, u: number) => void;
  lstmback: (z: number, zs: number, cp: number, ac: number, ss: number, dh: number, dc: number, n: number, u: number) => void;
  f32: Float32Array;
  /** The memory's buffers (one per size it has had): a typed array over one of them lies in the memory. */
  views: WeakSet<ArrayBufferLike>;
  /** The top of the zone of placed buffers (floats; the zone starts at CONTROL), and its free blocks ([at, size], in order). */
  top: number;
  free: [number, number][];
  /** The module's bytes, when its memory is shared (for helpers to instantiate on it). */
  shared?: Uint8Array<ArrayBuffer>;
  /** Whether the kernel's multiply-adds are fused (relaxed SIMD). */
  fused: boolean;
}

/**
 * Bytes at the start of memory for the threads' mailbox: [generation, helpers done, next chunk,
 * session, chunk count, -, -, -], then SLOT ints per chunk of work.
 */
const CONTROL = 4096;
/** Placed buffers and each call's scratch regions start on a cache line (floats). */
const LINE = 16;
/** What helpers run: gemm.wat's exports, by number (a slot's first int is it plus one). */
const TASKS = ["gemm", "window", "maxpool", "conv", "poolback", "relumask", "colsums", "panels", "adam", "tpanels"] as const;
type Task = (typeof TASKS)[number];
/** A chunk's slot: the task, its arguments (at most ARGS), then the generation it was finished in. */
const ARGS = 28;
const SLOT = 32;
const MAX_CHUNKS = Math.floor((CONTROL / 4 - 8) / SLOT);
const MAX_HELPERS = 15;
/**
 * Work is cut into this many chunks per thread, which the threads take in turn: one that starts
 * late (a helper waking takes tens of µs) or runs slow takes fewer, so none waits long for the others.
 */
const CHUNKS_PER_THREAD = 4;
/**
 * Below this many multiply-adds a product runs on one thread: a helper usually sleeps when one comes
 * (the model's other work takes longer than SPIN_MS), and waking it costs tens of µs, about what
 * half of 2^21 multiply-adds takes (at 2^20 the phone MLP and the LSTM ran slower on two threads
 * than on one: 0.78-0.97x, 1.02-1.13x at 2^22).
 */
export const PARALLEL_MIN_WORK = 1 << 22;
/**
 * A product with a side shorter than this runs on one thread however large: it does few
 * multiply-adds per value it reads (a first convolution's 16-step windows, its kernel gradient's
 * 16 rows), so it is bound by memory, which the threads share (one thread for them measured
 * 2,050 → 2,350 samples/s for the course CNN on two threads).
 */
const PARALLEL_MIN_SIDE = 32;
/** How long a thread watches for its next work (a helper) or for the helpers to finish (this thread) before it sleeps. */
const SPIN_MS = 0.1;
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
 * floats, 16 KiB, stays in the first-level cache). 6 × 8 keeps 12 sums in flight, which the fused
 * multiply-add's latency needs (bench/README.md); the last 4 or 8 rows of m go in 4 × 8 tiles, so
 * m is only rounded up to an even number of rows (rowsFor), or to MR where A is packed in panels.
 */
const MR = 6;
const NR = 8;
const KC = 512;

/** The rows gemm.wat computes for m rows of A read in place: an even number, at least 4 (see gemm's tiles). */
const rowsFor = (m: number): number => Math.max(4, m + (m & 1));
/** The rows of A packed in panels of MR rows. */
const panelRows = (m: number): number => Math.ceil(m / MR) * MR;

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const text = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

const exportsOf = (instance: WebAssembly.Instance) => {
  const e = instance.exports as Record<string, Kernel["gemm"]>;
  return { gemm: e.gemm, window: e.window, maxpool: e.maxpool, conv: e.conv, panels: e.panels, colsums: e.colsums, relumask: e.relumask, poolback: e.poolback, zero: e.zero, tpanels: e.tpanels, activate: e.activate, adam: e.adam, lstmcell: e.lstmcell, lstmback: e.lstmback };
};

let fuseWanted = true;

/**
 * Whether this platform runs relaxed SIMD's fused multiply-add (V8 from 11.4: Node 22, Chrome 114;
 * Node 20 behind a flag, which src/node/wasm.ts sets).
 */
export function relaxedSimd(): boolean {
  try {
    return WebAssembly.validate(decode(GEMM_FUSED_WASM_BASE64));
  } catch {
    return false;
  }
}

const zone = (memory: WebAssembly.Memory) => {
  const f32 = new Float32Array(memory.buffer);
  return { memory, f32, views: new WeakSet([f32.buffer]), top: CONTROL / 4, free: [] as [number, number][] };
};

function load(): Kernel | null {
  if (kernel !== undefined) return kernel;
  const fused = fuseWanted && relaxedSimd();
  try {
    // shared memory where the platform allows it (a page that is not cross-origin isolated does not)
    const bytes = decode(fused ? GEMM_FUSED_WASM_SHARED_BASE64 : GEMM_WASM_SHARED_BASE64);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    kernel = { ...exportsOf(instance), ...zone(memory), shared: bytes, fused };
  } catch {
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(decode(fused ? GEMM_FUSED_WASM_BASE64 : GEMM_WASM_BASE64)), {});
      const memory = instance.exports.memory as WebAssembly.Memory;
      kernel = { ...exportsOf(instance), ...zone(memory), fused };
    } catch {
      kernel = null;
    }
  }
  return kernel;
}

/**
 * Chooses the fused multiply-add where the platform has it (the default) or the plain one (tests
 * compare the two), loading the module again on the next call; helper threads must be stopped
 * first. Returns the previous choice.
 */
export function useFusedMultiplyAdd(on: boolean): boolean {
  const was = fuseWanted;
  if (helpers > 0) throw new Error("useFusedMultiplyAdd: stop the helper threads first");
  fuseWanted = on;
  if (kernel && kernel.fused !== (on && relaxedSimd())) kernel = undefined;
  return was;
}

/** Whether products here use the fused multiply-add. */
export const fusedMultiplyAdd = (): boolean => load()?.fused ?? false;

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
 * wait for a new generation in the mailbox, take chunks of its work until none is left, count itself
 * done; return once its session is over. `memory`, `bytes`, `index` (0-based) and `session` come
 * from its start.
 */
export const HELPER_LOOP = `function helperLoop(memory, bytes, index, session) {
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  const tasks = ${JSON.stringify(TASKS)}.map((name) => exports[name]);
  let seen = 0;
  for (;;) {
    let box = new Int32Array(memory.buffer, 0, ${CONTROL / 4});
    // (products come in quick succession while a model trains: a helper watching for the next one
    // starts on it at once, where waking from Atomics.wait takes tens of µs)
    const until = performance.now() + ${SPIN_MS};
    while (Atomics.load(box, 0) === seen && performance.now() < until);
    Atomics.wait(box, 0, seen);
    seen = Atomics.load(box, 0);
    if (Atomics.load(box, 3) !== session) return;
    box = new Int32Array(memory.buffer, 0, ${CONTROL / 4});
    const count = box[4];
    for (let i = Atomics.add(box, 2, 1); i < count; i = Atomics.add(box, 2, 1)) {
      const j = 8 + i * ${SLOT};
      tasks[box[j] - 1](...box.subarray(j + 1, j + 1 + ${ARGS}));
      Atomics.store(box, j + ${SLOT - 1}, seen);
    }
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
 * A long sum over rows (a first convolution's kernel gradient: 16 × 32 sums of 40,000 products; its
 * bias gradient) is cut into parts of about this many rows, fixed by the row count alone, each summed
 * on its own (threads take parts) and the parts' sums then added in order: the same bits on any
 * number of threads, and work for each thread where the result is too small to share out.
 */
const PART_ROWS = 8192;

/** The parts a sum over `rows` rows is cut into (1: not cut) and the rows of each but the last (a multiple of `unit`). */
function partsOf(rows: number, unit: number): { parts: number; per: number } {
  const parts = Math.max(1, Math.floor(rows / PART_ROWS));
  return { parts, per: Math.ceil(rows / parts / unit) * unit };
}

/** Runs `task` for each chunk, on the threads where the work is `big`, else in order on this one. */
function runChunks(kr: Kernel, task: Task, chunks: number[][], big: boolean): void {
  if (threadsFor(kr, big) > 1) return parallel(kr, task, chunks);
  const fn = kr[task] as (...args: number[]) => void;
  for (const args of chunks) fn(...args);
}

/** out[i] += the `parts` − 1 arrays of `size` floats at `from`, one after another, in order. */
function addParts(H: Float32Array, out: number, from: number, parts: number, size: number): void {
  for (let s = 1; s < parts; s++) {
    const p = from + (s - 1) * size;
    for (let i = 0; i < size; i++) H[out + i] += H[p + i];
  }
}

/** How many threads share a task of this size: the helpers and this one, or this one alone. */
const threadsFor = (kr: Kernel, big: boolean): number => (kr.shared && helpers > 0 && big ? helpers + 1 : 1);

/**
 * Runs `task` for each chunk of its arguments (gemm.wat's, byte offsets; at most MAX_CHUNKS), this
 * thread and the helpers taking chunks in turn, and returns when all are done.
 */
function parallel(kr: Kernel, task: Task, chunks: number[][]): void {
  const fn = kr[task] as (...args: number[]) => void;
  if (chunks.length === 1) return fn(...chunks[0]);
  parallelRuns++;
  const box = new Int32Array(kr.memory.buffer, 0, CONTROL / 4);
  const code = TASKS.indexOf(task) + 1;
  chunks.forEach((args, i) => {
    box[8 + i * SLOT] = code;
    box.set(args, 8 + i * SLOT + 1);
  });
  box[4] = chunks.length;
  Atomics.store(box, 2, 0);
  Atomics.store(box, 1, 0);
  const gen = Atomics.add(box, 0, 1) + 1;
  Atomics.notify(box, 0);
  for (let i = Atomics.add(box, 2, 1); i < chunks.length; i = Atomics.add(box, 2, 1)) {
    fn(...chunks[i]);
    Atomics.store(box, 8 + i * SLOT + SLOT - 1, gen);
  }
  const until = performance.now() + SPIN_MS;
  while (Atomics.load(box, 1) < helpers && performance.now() < until);
  for (let done = Atomics.load(box, 1); done < helpers; done = Atomics.load(box, 1)) {
    if (Atomics.wait(box, 1, done, helperTimeoutMs) !== "timed-out") continue;
    // A helper that has not answered in that long is gone (killed, out of memory): this thread runs
    // the chunks not finished (the same values, so a late helper writes the same) and the rest alone.
    chunks.forEach((args, i) => {
      if (Atomics.load(box, 8 + i * SLOT + SLOT - 1) !== gen) fn(...args);
    });
    helpers = 0;
    break;
  }
}

/** How many chunks work of `units` indivisible parts is cut into: CHUNKS_PER_THREAD per thread, or 1. */
function chunksFor(kr: Kernel, big: boolean, units: number): number {
  const T = threadsFor(kr, big);
  return T === 1 ? 1 : Math.max(1, Math.min(T * CHUNKS_PER_THREAD, MAX_CHUNKS, units));
}

/**
 * Runs `gemm(args)` on this thread and the helpers, in chunks of C's rows (MR of them per unit, the
 * last unit taking the rest, so each chunk is tiled as gemm.wat tiles a product).
 * args: m, n, k, a, arow, ars, ass, b, bcol, bss, c, KC, bias, flags (gemm.wat; offsets in bytes).
 */
function run(kr: Kernel, args: number[]): void {
  const [mp, np, k, a, arow, , , , , , c, , , flags] = args;
  const ldc = flags >>> 8 || np;
  const big = mp * np * k >= PARALLEL_MIN_WORK && Math.min(mp, np, k) >= PARALLEL_MIN_SIDE;
  const units = Math.max(1, Math.floor(mp / MR));
  const chunks = split(kr, units, big, (u0, count) => {
    const chunk = args.slice();
    const end = u0 + count === units ? mp : (u0 + count) * MR;
    chunk[0] = end - u0 * MR;
    chunk[3] = a + u0 * MR * arow;
    chunk[10] = c + u0 * MR * ldc * 4;
    return chunk;
  });
  parallel(kr, "gemm", chunks);
}

/**
 * Cuts `units` indivisible parts of a task (a product's rows, MR at a time; a batch's images) into
 * chunks for the threads, when the task is `big` enough to share: `chunk(u0, count)` gives the
 * arguments for parts [u0, u0 + count).
 */
function split(kr: Kernel, units: number, big: boolean, chunk: (u0: number, count: number) => number[]): number[][] {
  const K = chunksFor(kr, big, units);
  const per = Math.ceil(units / K);
  const chunks: number[][] = [];
  for (let u0 = 0; u0 < units; u0 += per) chunks.push(chunk(u0, Math.min(per, units - u0)));
  return chunks;
}

/** Below this many values moved, a window or pooling pass runs on one thread. */
const PARALLEL_MIN_VALUES = 1 << 16;

/** How long this thread waits for a helper's chunks before doing them itself. */
let helperTimeoutMs = 10_000;

/** Sets how long a product waits for a silent helper (tests shorten it); returns the previous value. */
export function setHelperTimeout(ms: number): number {
  const was = helperTimeoutMs;
  helperTimeoutMs = ms;
  return was;
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
 * Regions of the module's memory for one call, in floats after the mailbox, each starting on 16
 * bytes, and a float32 view that holds them all (the memory grown in 64 KiB pages as needed); null
 * when it cannot grow that far (wasm32 stops at 4 GiB), and the scalar loops run.
 */
function regions(k: Kernel, sizes: number[]): { at: number[]; H: Float32Array } | null {
  const at: number[] = [];
  let top = k.top;
  for (const size of sizes) {
    at.push(top);
    top += Math.ceil(size / LINE) * LINE;
  }
  return reach(k, top * 4) ? { at, H: k.f32 } : null;
}

/** Grows the memory to at least `bytes`; false where it cannot grow that far. */
function reach(k: Kernel, bytes: number): boolean {
  if (k.memory.buffer.byteLength >= bytes) return true;
  try {
    k.memory.grow(Math.ceil((bytes - k.memory.buffer.byteLength) / 65536));
  } catch {
    return false;
  }
  k.f32 = new Float32Array(k.memory.buffer);
  k.views.add(k.f32.buffer);
  return true;
}

/**
 * The zone of placed buffers stops at this many floats (of the memory's 1 GiB), so a call's
 * scratch regions above it always have room; past it buffers are allocated outside the module.
 */
const ZONE_MAX = (384 << 20) / 4;

interface Placed {
  kr: Kernel;
  /** [at, size] of each block, in floats. */
  blocks: number[];
}

/** Returns an owner's blocks to its zone once the owner is collected. */
const placements = new FinalizationRegistry<Placed>(({ kr, blocks }) => {
  for (let i = 0; i < blocks.length; i += 2) freeBlock(kr, blocks[i], blocks[i + 1]);
});

function freeBlock(kr: Kernel, at: number, size: number): void {
  const f = kr.free;
  let i = 0;
  while (i < f.length && f[i][0] < at) i++;
  f.splice(i, 0, [at, size]);
  if (i + 1 < f.length && at + size === f[i + 1][0]) f[i][1] += f.splice(i + 1, 1)[0][1];
  if (i > 0 && f[i - 1][0] + f[i - 1][1] === at) f[i - 1][1] += f.splice(i, 1)[0][1];
  const last = f[f.length - 1];
  if (last && last[0] + last[1] === kr.top) {
    kr.top = last[0];
    f.pop();
  }
}

/** The first free block of `size` floats, or the zone's top; -1 when the zone is full. */
function takeBlock(kr: Kernel, size: number): number {
  const f = kr.free;
  for (let i = 0; i < f.length; i++) {
    if (f[i][1] < size) continue;
    const at = f[i][0];
    f[i][0] += size;
    f[i][1] -= size;
    if (f[i][1] === 0) f.splice(i, 1);
    return at;
  }
  if (kr.top + size > ZONE_MAX) return -1;
  kr.top += size;
  return kr.top - size;
}

/**
 * An allocator of zeroed float32 buffers inside the module's memory, where it is shared (its views
 * then survive its growth): the entries here read and write such buffers where they lie instead
 * of copying them in and out. Its blocks return to the zone when `owner` is collected, so a
 * buffer (or a view of one) must not outlive its owner. It answers null where the memory is not
 * shared, SIMD is off, or the zone is full: allocate elsewhere then.
 */
export function placer(owner: object): (n: number) => Float32Array | null {
  const kr = enabled ? load() : null;
  if (!kr?.shared) return () => null;
  const placed: Placed = { kr, blocks: [] };
  placements.register(owner, placed);
  return (n) => {
    const size = Math.max(LINE, Math.ceil(n / LINE) * LINE);
    const at = takeBlock(kr, size);
    if (at < 0) return null;
    if (!reach(kr, (at + size) * 4)) {
      freeBlock(kr, at, size);
      return null;
    }
    placed.blocks.push(at, size);
    kr.zero(at * 4, size * 4);
    return kr.f32.subarray(at, at + n);
  };
}

/** Whether all these buffers lie in the module's memory (where the entries read and write them in place). */
export function placedBuffers(...bufs: (Buf | Int32Array)[]): boolean {
  const kr = load();
  return kr !== null && allPlaced(kr, ...bufs) !== null;
}

/** Where a buffer lies in the module's memory (in floats), or -1 when it lies outside. */
const placedAt = (kr: Kernel, b: Buf | Int32Array | null): number => (b !== null && kr.views.has(b.buffer) ? b.byteOffset >> 2 : -1);

/** Where each buffer lies in the module's memory (floats), or null when one lies outside. */
function allPlaced(kr: Kernel, ...bufs: (Buf | Int32Array)[]): number[] | null {
  const at = bufs.map((b) => placedAt(kr, b));
  return at.every((a) => a >= 0) ? at : null;
}

/** Copies n values from src (at s) to dst (at d): one memcpy for long runs, a loop for short ones (a view costs more). */
function copy(dst: Float32Array, d: number, src: Buf, s: number, n: number): void {
  if (n >= 32 && src instanceof Float32Array) dst.set(src.subarray(s, s + n), d);
  else for (let j = 0; j < n; j++) dst[d + j] = src[s + j];
}

/**
 * rows × len values of src (row i at off + i·stride) to dst at `at`, ld floats per row; into the
 * module's memory (`pad`) each row's columns past len are zeroed, out of it they are left alone.
 */
function copyRows(dst: Float32Array, at: number, ld: number, src: Buf, off: number, stride: number, rows: number, len: number, pad = true): void {
  if (ld === len && stride === len && src instanceof Float32Array) {
    dst.set(src.subarray(off, off + rows * len), at);
    return;
  }
  for (let i = 0; i < rows; i++) {
    copy(dst, at + i * ld, src, off + i * stride, len);
    if (pad && ld > len) dst.fill(0, at + i * ld + len, at + (i + 1) * ld);
  }
}

/**
 * B, and A stored transposed, are read in place (each step one row) while their rows are at most
 * this many floats: longer rows put each step of a panel on its own cache line, and power-of-two
 * row lengths on the same few sets of the first-level cache, so they are packed into panels then.
 * (A's own rows are read in place at any length: each of its 4 rows is read along.)
 */
const IN_PLACE_MAX = 64;

/**
 * How gemm.wat reads an operand: the panel holding A's row i (B's column j) at `at` + i·ps, its
 * rows (columns) rs apart within the panel, its steps of k ss apart (floats).
 */
interface Operand {
  at: number;
  ps: number;
  rs: number;
  ss: number;
}

/** A's rows, ld floats apart in the memory, read in place. */
const rowsOf = (at: number, ld: number): Operand => ({ at, ps: ld, rs: ld, ss: 1 });

/**
 * A's columns stored as rows (one per step of k, ld floats apart; mp are read, past A's rows they
 * are never copied out) at `at`: read in place, or packed by gemm.wat into panels of MR rows at
 * `scratch` (mp·k floats; mp is then panelRows', see aRows).
 */
function columnsOf(kr: Kernel, at: number, ld: number, k: number, mp: number, scratch: number): Operand {
  if (mp <= IN_PLACE_MAX) return { at, ps: 1, rs: 1, ss: ld };
  pack(kr, at, ld, k, mp, MR, scratch);
  return { at: scratch, ps: k, rs: 1, ss: MR };
}

/**
 * gemm.wat's `panels`: the first `width` columns of k rows at `at` (ld floats apart) into panels of
 * w columns at `dst`, threads taking runs of panels (a course CNN's conv2 windows for its kernel
 * gradient: 3.3 MB a batch).
 */
function pack(kr: Kernel, at: number, ld: number, k: number, width: number, w: number, dst: number): void {
  const chunks = split(kr, width / w, k * width >= PARALLEL_MIN_VALUES, (p0, count) => [(at + p0 * w) * 4, ld * 4, k, count * w, w, (dst + p0 * w * k) * 4]);
  parallel(kr, "panels", chunks);
}

/** The rows gemm.wat computes for m rows of A stored as columns: packed in panels past IN_PLACE_MAX (columnsOf). */
const aRows = (m: number): number => (rowsFor(m) <= IN_PLACE_MAX ? rowsFor(m) : panelRows(m));

/** B's rows (np floats each) at `at`: read in place, or packed by gemm.wat into panels at `scratch` (k·np floats). */
function bRowsOf(kr: Kernel, at: number, k: number, np: number, scratch: number): Operand {
  if (np <= IN_PLACE_MAX) return { at, ps: 1, rs: 0, ss: np };
  pack(kr, at, np, k, np, NR, scratch);
  return { at: scratch, ps: k, rs: 0, ss: NR };
}

/** Packs A(i, p) at off + i·ars + p·acs into panels of MR rows at `at` (the layouts with no contiguous axis to copy). */
function packA(H: Float32Array, at: number, m: number, mp: number, k: number, A: Buf, off: number, ars: number, acs: number): Operand {
  for (let i0 = 0; i0 < mp; i0 += MR)
    for (let r = 0; r < MR; r++) {
      const src = off + (i0 + r) * ars;
      if (i0 + r >= m) for (let p = 0, q = at + i0 * k + r; p < k; p++, q += MR) H[q] = 0;
      else for (let p = 0, q = at + i0 * k + r; p < k; p++, q += MR) H[q] = A[src + p * acs];
    }
  return { at, ps: k, rs: 1, ss: MR };
}

/**
 * B stored transposed (B(p, j) at off + j·bcs + p): its rows (B's columns) copied as they are to
 * `raw` (np rows of k, rows past n zero), then packed by the module into panels at `at`.
 */
function transposedB(kr: Kernel, H: Float32Array, raw: number, at: number, n: number, np: number, k: number, B: Buf, off: number, bcs: number): Operand {
  // B's columns read where they lie when it is in the memory and no zero columns are to be added
  const here = n === np ? placedAt(kr, B) : -1;
  if (here >= 0) tpack(kr, here + off, bcs, k, np, at);
  else {
    copyRows(H, raw, k, B, off, bcs, n, k);
    H.fill(0, raw + n * k, raw + np * k);
    tpack(kr, raw, k, k, np, at);
  }
  return { at, ps: k, rs: 0, ss: NR };
}

/** gemm.wat's `tpanels`: `width` rows of k (ld floats apart) at `at` into panels of NR columns at `dst`, threads taking runs of panels. */
function tpack(kr: Kernel, at: number, ld: number, k: number, width: number, dst: number): void {
  const chunks = split(kr, width / NR, k * width >= PARALLEL_MIN_VALUES, (p0, count) => [(at + p0 * NR * ld) * 4, ld * 4, k, count * NR, (dst + p0 * NR * k) * 4]);
  parallel(kr, "tpanels", chunks);
}

/** Packs B(p, j) at off + p·brs + j·bcs into panels of NR columns at `at` (B with no contiguous axis). */
function packB(H: Float32Array, at: number, n: number, np: number, k: number, B: Buf, off: number, brs: number, bcs: number): Operand {
  for (let j0 = 0; j0 < np; j0 += NR) {
    const panel = at + j0 * k;
    for (let jj = 0; jj < NR; jj++) {
      const src = off + (j0 + jj) * bcs;
      if (j0 + jj >= n) for (let p = 0, q = panel + jj; p < k; p++, q += NR) H[q] = 0;
      else for (let p = 0, q = panel + jj; p < k; p++, q += NR) H[q] = B[src + p * brs];
    }
  }
  return { at, ps: k, rs: 0, ss: NR };
}

/**
 * B(p, j) at off + p·brs + j·bcs into the memory: its rows as they are at `raw` (read in place or
 * packed into `packed` by the module), a transposed B packed by the module, others packed here.
 */
function placeB(kr: Kernel, H: Float32Array, raw: number, packed: number, n: number, np: number, k: number, B: Buf, off: number, brs: number, bcs: number): Operand {
  if (bcs === 1) {
    // read where they lie when B is in the memory with rows of np floats (a layer's weights)
    const here = brs === np ? placedAt(kr, B) : -1;
    if (here >= 0) return bRowsOf(kr, here + off, k, np, packed);
    copyRows(H, raw, np, B, off, brs, k, n);
    return bRowsOf(kr, raw, k, np, packed);
  }
  if (brs === 1) return transposedB(kr, H, raw, packed, n, np, k, B, off, bcs);
  return packB(H, packed, n, np, k, B, off, brs, bcs);
}

/** The bias at `at` (n values, zeros to np) for gemm.wat, or 0 (none). */
function placeBias(H: Float32Array, at: number, bias: Buf | null, n: number, np: number): number {
  if (bias === null) return 0;
  copyRows(H, at, np, bias, 0, n, 1, n);
  return at;
}

/** Runs C (=|+=) bias + A · B (relu where asked) on operands in the memory: C at c, ldc floats a row; bias at `bias` (0: none). */
function product(kr: Kernel, mp: number, np: number, k: number, A: Operand, B: Operand, c: number, bias: number, accumulate: boolean, relu: boolean, ldc = np): void {
  const f = 4;
  run(kr, [mp, np, k, A.at * f, A.ps * f, A.rs * f, A.ss * f, B.at * f, B.ps * f, B.ss * f, c * f, KC, bias * f, flagsFor(mp, np, k, accumulate, relu) | (ldc === np ? 0 : ldc << 8)]);
}

/** The widest row stride of C gemm.wat takes in its flags (floats); wider rows are copied. */
const MAX_LDC = (1 << 23) - 1;

/** The parts (see PART_ROWS) a product of mp × np × k is summed in: a long k where C has a side too short to share out by rows. */
const productParts = (mp: number, np: number, k: number): number => (Math.min(mp, np) < PARALLEL_MIN_SIDE ? partsOf(k, KC).parts : 1);

/**
 * C = A · B (no bias, relu or adding) summed in productParts(mp, np, k) parts of k: the first into C,
 * the others into `scratch` ((parts − 1)·mp·np floats), then added to C in order.
 */
function productInParts(kr: Kernel, mp: number, np: number, k: number, A: Operand, B: Operand, c: number, scratch: number): void {
  const parts = productParts(mp, np, k);
  if (parts === 1) return product(kr, mp, np, k, A, B, c, 0, false, false);
  const { per } = partsOf(k, KC);
  const f = 4;
  const chunks: number[][] = [];
  for (let s = 0, p0 = 0; s < parts; s++, p0 += per) {
    const steps = Math.min(per, k - p0);
    const to = s === 0 ? c : scratch + (s - 1) * mp * np;
    chunks.push([mp, np, steps, (A.at + p0 * A.ss) * f, A.ps * f, A.rs * f, A.ss * f, (B.at + p0 * B.ss) * f, B.ps * f, B.ss * f, to * f, KC, 0, flagsFor(mp, np, steps, false, false)]);
  }
  runChunks(kr, "gemm", chunks, mp * np * k >= PARALLEL_MIN_WORK);
  addParts(kr.f32, c, scratch, parts, mp * np);
}

/**
 * gemm.wat's flags for a product of mp × np × k: 1 adds to C, 2 applies relu, 4 tiles row by row
 * (each row's A tile passing every panel of B) where B's block of KC steps fits the second-level
 * cache and A is the larger: A is then read once instead of once per panel of B (the course CNN's
 * input gradient dz · wᵀ, 1600 × 512 × 64: 32.5 → 38 GFLOP/s).
 */
const flagsFor = (mp: number, np: number, k: number, accumulate: boolean, relu: boolean): number =>
  (accumulate ? 1 : 0) | (relu ? 2 : 0) | (np * Math.min(k, KC) * 4 <= L2_BYTES && mp > np ? 4 : 0);
/** What B's block may take of the second-level cache (Zen 2 has 512 KiB a core). */
const L2_BYTES = 256 << 10;

const isF32 = (...bufs: (Buf | null)[]): boolean => bufs.every((b) => b === null || b instanceof Float32Array);

/**
 * The product of src/core/gemm.ts's contract, C (=|+=) bias + A · B (then relu where asked), on
 * SIMD; false (nothing done) when the buffers are not all float32, the product is small, or SIMD
 * is unavailable. Operands with a contiguous axis are copied into the module's memory as they are
 * (one memcpy when they are contiguous as a whole) and read there in place or packed by the
 * module; others are packed here.
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
  if (!enabled || m * n * k < SIMD_MIN_WORK || !isF32(A, B, C)) return false;
  const kr = load();
  if (!kr) return false;
  // the rows of C computed: A's rows read in place, its columns in place or packed, or A packed here
  const mp = acs === 1 ? rowsFor(m) : ars === 1 ? aRows(m) : panelRows(m);
  const np = Math.ceil(n / NR) * NR;
  // C written where it lies when its rows and columns are the ones computed (its rows any distance
  // apart); A's rows read where they lie (rows past m, where mp > m, read what follows A: their
  // results are never copied out)
  const cIn = np === n && mp === m && ldc >= n && ldc <= MAX_LDC ? placedAt(kr, C) : -1;
  const aHere = acs === 1 ? placedAt(kr, A) : -1;
  const aIn = aHere >= 0 && (mp === m || cIn < 0) && aHere + aOff + (mp - 1) * ars + k <= kr.memory.buffer.byteLength / 4 ? aHere + aOff : -1;
  // A as copied, A packed, B as copied, B packed, the bias, C
  const mem = regions(kr, [aIn < 0 ? mp * k : 0, mp * k, k * np, k * np, np, cIn < 0 ? mp * np : 0]);
  if (!mem) return false;
  const { H, at } = mem;
  const [a, aPacked, b, bPacked, bi, cCopy] = at;
  const c = cIn < 0 ? cCopy : cIn + cOff;

  let opA: Operand;
  if (aIn >= 0) opA = rowsOf(aIn, ars);
  else if (acs === 1) {
    copyRows(H, a, k, A, aOff, ars, m, k);
    H.fill(0, a + m * k, a + mp * k);
    opA = rowsOf(a, k);
  } else if (ars === 1) {
    copyRows(H, a, mp, A, aOff, acs, k, m);
    opA = columnsOf(kr, a, mp, k, mp, aPacked);
  } else opA = packA(H, aPacked, m, mp, k, A, aOff, ars, acs);

  const opB = placeB(kr, H, b, bPacked, n, np, k, B, bOff, brs, bcs);
  if (accumulate && cIn < 0) copyRows(H, c, np, C, cOff, ldc, m, n);
  product(kr, mp, np, k, opA, opB, c, placeBias(H, bi, bias, n, np), accumulate, relu, cIn < 0 ? np : ldc);
  if (cIn < 0) copyRows(C as Float32Array, cOff, ldc, H, c, np, m, n, false);
  return true;
}

/** A sliding window over an input [n, h, w, c], channels last (src/kinds/layers/conv/kernel.ts computes it). */
export interface Window2d {
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padT: number;
  padL: number;
}

/** gemm.wat's `window` for g over x at `x` and rows of cols at `cols`, ld floats apart: dir 0 im2col, 1 col2im (adds). */
function slide(kr: Kernel, g: Window2d, n: number, x: number, cols: number, ld: number, dir: 0 | 1): void {
  const image = g.h * g.w * g.c * 4;
  const rows = g.oh * g.ow * ld * 4;
  const chunks = split(kr, n, n * g.oh * g.ow * ld >= PARALLEL_MIN_VALUES, (i0, count) => [x * 4 + i0 * image, cols * 4 + i0 * rows, ld * 4, count, g.h, g.w, g.c, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.padT, g.padL, dir]);
  parallel(kr, "window", chunks);
}

/**
 * A convolution's forward pass on SIMD: y[n, oh, ow, F] = bias + windows of x · w (then relu where
 * asked), the windows gathered inside the module's memory (im2col) and read there in place: into
 * `keep` (a row of kh·kw·c per output position) where it lies in the memory, and then "kept" is
 * returned, so the backward pass reads them there; else "done". False (nothing done) where gemm
 * would not run on SIMD.
 */
export function simdConv(g: Window2d, n: number, x: Buf, w: Buf, F: number, bias: Buf | null, relu: boolean, y: Buf, keep: Buf | null = null): false | "done" | "kept" {
  const m = n * g.oh * g.ow;
  const K = g.kh * g.kw * g.c;
  if (!enabled || m * F * K < SIMD_MIN_WORK || !isF32(x, w, y, bias)) return false;
  const kr = load();
  if (!kr) return false;
  const mp = rowsFor(m);
  const np = Math.ceil(F / NR) * NR;
  const size = n * g.h * g.w * g.c;
  // x read, and y written, where they lie in the memory (y when C's rows are its rows)
  const xIn = placedAt(kr, x);
  const yIn = mp === m && np === F ? placedAt(kr, y) : -1;
  const keepIn = mp === m ? placedAt(kr, keep) : -1;
  const mem = regions(kr, [xIn < 0 ? size : 0, keepIn < 0 ? mp * K : 0, K * np, K * np, np, yIn < 0 ? mp * np : 0]);
  if (!mem) return false;
  const { H, at } = mem;
  const [xCopy, aCopy, b, bPacked, bi, cCopy] = at;
  const xa = xIn < 0 ? xCopy : xIn;
  const a = keepIn < 0 ? aCopy : keepIn;
  const c = yIn < 0 ? cCopy : yIn;
  if (xIn < 0) H.set((x as Float32Array).subarray(0, size), xa);
  // (rows past m, which no image's windows fill)
  H.fill(0, a + m * K, a + mp * K);
  const B = placeB(kr, H, b, bPacked, F, np, K, w, 0, F, 1);
  const biasAt = placeBias(H, bi, bias, F, np);
  // Threads take chunks of images, each gathering its windows and multiplying them while they are
  // in its cache; a chunk's rows are even and at least 4, as gemm tiles them (the last takes the
  // product's rows past m)
  const P = g.oh * g.ow;
  let per = 1;
  while ((per * P) % 2 !== 0 || per * P < 4) per++;
  const image = g.h * g.w * g.c;
  const chunks = split(kr, Math.ceil(n / per), m * np * K >= PARALLEL_MIN_WORK, (u0, count) => {
    const i0 = u0 * per;
    const images = Math.min(count * per, n - i0);
    const rows = i0 + images === n ? mp - i0 * P : images * P;
    return [(xa + i0 * image) * 4, (a + i0 * P * K) * 4, images, g.h, g.w, g.c, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.padT, g.padL, rows, np, K, B.at * 4, B.ps * 4, B.ss * 4, (c + i0 * P * np) * 4, KC, biasAt * 4, flagsFor(mp, np, K, false, relu)];
  });
  parallel(kr, "conv", chunks);
  if (yIn < 0) copyRows(y as Float32Array, 0, F, H, c, np, m, F, false);
  return keepIn < 0 ? "done" : "kept";
}

/**
 * A convolution's (g, over n images) or a dense layer's (g null, over n rows) backward pass on SIMD
 * from dz, the gradient at its pre-activation output, or at its output y when `reluY` is y, relu's
 * output, whose gradient is applied here first: dw = xᵀ · dz (a convolution's windows of x, gathered
 * again), db = column sums of dz, dx (=|+=) dz · wᵀ (a convolution's scattered back to its windows,
 * col2im). Each of dw, db, dx is skipped where null; dz is copied into the module once for all of
 * them (or read where it lies). `windows`: a convolution's windows as simdConv kept them, or null
 * (gathered again). False (nothing done) where gemm would not run on SIMD.
 */
export function simdLinearBackward(g: Window2d | null, n: number, x: Buf, dz: Buf, reluY: Buf | null, w: Buf, F: number, dw: Buf | null, db: Buf | null, dx: Buf | null, addDx: boolean, windows: Buf | null = null): boolean {
  const m = g ? n * g.oh * g.ow : n;
  const K = w.length / F;
  if (!enabled || m * F * K < SIMD_MIN_WORK || !isF32(x, dz, reluY, w, dw, db, dx)) return false;
  const kr = load();
  if (!kr) return false;
  const mp = rowsFor(m);
  const np = Math.ceil(F / NR) * NR;
  // dw's rows: the windows' (x's) columns, read in place or packed
  const kp = aRows(K);
  const kn = Math.ceil(K / NR) * NR;
  const size = g ? n * g.h * g.w * g.c : m * K;
  // buffers read (dz, y, x) and written (dx) where they lie in the memory: dz and y when their rows
  // are the rows gemm.wat reads, a dense layer's dx when they are C's rows
  const rows = mp === m && np === F;
  const dzIn = rows ? placedAt(kr, dz) : -1;
  const yIn = rows ? placedAt(kr, reluY) : -1;
  const xIn = placedAt(kr, x);
  const dxIn = dx !== null && (g !== null || (mp === m && kn === K)) ? placedAt(kr, dx) : -1;
  // a dense layer's x, or a convolution's kept windows, read as dw's A in place (the last row's read
  // runs kp − K floats past it: C's rows past K, never copied)
  const colsIn = g === null ? xIn : placedAt(kr, windows);
  const inPlace = colsIn >= 0 && colsIn + (m - 1) * K + kp <= kr.memory.buffer.byteLength / 4;
  const dzOwn = dzIn < 0 || reluY !== null;
  // the kernel gradient's and the bias gradient's sums, where they are summed in parts
  const dwParts = dw === null ? 1 : productParts(kp, np, m);
  const rowParts = partsOf(m, 1);
  const mem = regions(kr, [
    g && xIn < 0 && dw && !inPlace ? size : 0,
    reluY && yIn < 0 ? m * np : 0,
    inPlace ? 0 : m * kp,
    dzOwn ? mp * np : 0,
    m * kp,
    m * np,
    kp * np,
    np,
    F * kn,
    F * kn,
    g === null && dxIn >= 0 ? 0 : mp * kn,
    g && dx && dxIn < 0 ? size : 0,
    (dwParts - 1) * kp * np,
    db === null ? 0 : (rowParts.parts - 1) * np,
  ]);
  if (!mem) return false;
  const { H, at } = mem;
  const [xCopy, yCopy, colsCopy, dzCopy, colsPacked, dzPacked, dwa, dba, wRaw, wPacked, dcolsCopy, dxCopy, dwSums, dbSums] = at;
  // dz, with relu's gradient applied: in place, or copied in (rows past m zero)
  let dza = dzIn;
  if (dzOwn) {
    dza = dzCopy;
    if (dzIn < 0) copyRows(H, dza, np, dz, 0, F, m, F);
    H.fill(0, dza + m * np, dza + mp * np);
  }
  // relu's mask (where it applies) and db's column sums in one pass over dz; threads take parts of
  // the rows, each summing its own
  if (reluY !== null || db !== null) {
    if (reluY !== null && yIn < 0) copyRows(H, yCopy, np, reluY, 0, F, m, F);
    const [src, ya] = [dzIn < 0 ? dza : dzIn, yIn < 0 ? yCopy : yIn];
    const { parts, per } = rowParts;
    const chunks: number[][] = [];
    for (let s = 0, r0 = 0; s < parts; s++, r0 += per) {
      const [rows, sums] = [Math.min(per, m - r0), db === null ? 0 : s === 0 ? dba : dbSums + (s - 1) * np];
      chunks.push(reluY !== null ? [(dza + r0 * np) * 4, (src + r0 * np) * 4, (ya + r0 * np) * 4, rows, np, sums * 4] : [(dza + r0 * np) * 4, np * 4, rows, np, sums * 4]);
    }
    runChunks(kr, reluY !== null ? "relumask" : "colsums", chunks, m * np >= PARALLEL_MIN_VALUES);
    if (db !== null) addParts(H, dba, dbSums, parts, np);
  }
  if (dw !== null) {
    let cols = colsCopy;
    let ld = kp;
    if (inPlace) {
      cols = colsIn;
      ld = K;
    } else if (g) {
      const xa = xIn < 0 ? xCopy : xIn;
      if (xIn < 0) H.set((x as Float32Array).subarray(0, size), xa);
      slide(kr, g, n, xa, cols, kp, 0);
    } else copyRows(H, cols, kp, x, 0, K, m, K);
    productInParts(kr, kp, np, m, columnsOf(kr, cols, ld, m, kp, colsPacked), bRowsOf(kr, dza, m, np, dzPacked), dwa, dwSums);
    copyRows(dw as Float32Array, 0, F, H, dwa, np, K, F, false);
  }
  if (db !== null) for (let j = 0; j < F; j++) db[j] = H[dba + j];
  if (dx !== null) {
    const dense = g === null;
    const dcols = dense && dxIn >= 0 ? dxIn : dcolsCopy;
    const add = dense && addDx;
    if (add && dxIn < 0) copyRows(H, dcols, kn, dx, 0, K, m, K);
    product(kr, mp, kn, F, rowsOf(dza, np), transposedB(kr, H, wRaw, wPacked, K, kn, F, w, 0, F), dcols, 0, add, false);
    if (dense) {
      if (dxIn < 0) copyRows(dx as Float32Array, 0, K, H, dcols, kn, m, K, false);
    } else {
      const xa = dxIn < 0 ? dxCopy : dxIn;
      if (!addDx) kr.zero(xa * 4, size * 4);
      else if (dxIn < 0) H.set((dx as Float32Array).subarray(0, size), xa);
      slide(kr, g, n, xa, dcols, kn, 1);
      if (dxIn < 0) (dx as Float32Array).set(H.subarray(xa, xa + size), 0);
    }
  }
  return true;
}

/**
 * Max pooling on SIMD (channels a multiple of 4): y[n, oh, ow, c] the maxima of g's windows of x,
 * arg the index in x each came from (the first of equal values). False (nothing done) otherwise.
 */
export function simdMaxPool(g: Window2d, n: number, x: Buf, y: Buf, arg: Int32Array): boolean {
  const size = n * g.h * g.w * g.c;
  const out = n * g.oh * g.ow * g.c;
  if (!enabled || g.c % 4 !== 0 || out < SIMD_MIN_WORK || !isF32(x, y)) return false;
  const kr = load();
  if (!kr) return false;
  const xIn = placedAt(kr, x);
  const yIn = placedAt(kr, y);
  const argIn = placedAt(kr, arg);
  const mem = regions(kr, [xIn < 0 ? size : 0, yIn < 0 ? out : 0, argIn < 0 ? out : 0]);
  if (!mem) return false;
  const { H, at } = mem;
  const xa = xIn < 0 ? at[0] : xIn;
  const ya = yIn < 0 ? at[1] : yIn;
  const aa = argIn < 0 ? at[2] : argIn;
  if (xIn < 0) H.set((x as Float32Array).subarray(0, size), xa);
  const image = g.h * g.w * g.c * 4;
  const pooled = g.oh * g.ow * g.c * 4;
  const chunks = split(kr, n, size >= PARALLEL_MIN_VALUES, (i0, count) => [xa * 4, xa * 4 + i0 * image, ya * 4 + i0 * pooled, aa * 4 + i0 * pooled, count, g.h, g.w, g.c, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.padT, g.padL]);
  parallel(kr, "maxpool", chunks);
  if (yIn < 0) (y as Float32Array).set(H.subarray(ya, ya + out), 0);
  if (argIn < 0) arg.set(new Int32Array(H.buffer, aa * 4, out), 0);
  return true;
}

/**
 * Max pooling's backward pass on SIMD: dx[arg[i]] += dy[i] for i < count, in order, after zeroing
 * dx's first `zero` values (0 or all of the batch's), over a batch of `images`, where all three lie
 * in the module's memory (arg as simdMaxPool wrote it, counting from x, and dx laid out as x); false
 * (nothing done) otherwise.
 */
export function simdMaxPoolBackward(dx: Buf, dy: Buf, arg: Int32Array, count: number, zero: number, images: number): boolean {
  const kr = enabled ? load() : null;
  if (!kr) return false;
  const [dxIn, dyIn, argIn] = [placedAt(kr, dx), placedAt(kr, dy), placedAt(kr, arg)];
  if (dxIn < 0 || dyIn < 0 || argIn < 0) return false;
  // threads take chunks of images: an image's maxima come from its own cells
  const [pooled, image] = [count / images, zero / images];
  const chunks = split(kr, images, zero + count >= PARALLEL_MIN_VALUES, (i0, n) => [dxIn * 4, (dyIn + i0 * pooled) * 4, (argIn + i0 * pooled) * 4, n * pooled, (dxIn + i0 * image) * 4, n * image * 4]);
  parallel(kr, "poolback", chunks);
  return true;
}

/**
 * Adam's update of one parameter on SIMD (src/kinds/optimizers/update.ts's formulas in its order, in
 * doubles two at a time: the same bits as its loop), threads taking runs of it where it is long:
 * h = [β₁, 1 − β₁, β₂, 1 − β₂, c₁, c₂, lr, ε, decay]. False (nothing done) unless w, its gradient
 * and both moments lie in the module's memory.
 */
export function simdAdam(w: Buf, g: Buf, m: Buf, v: Buf, h: readonly number[]): boolean {
  const kr = enabled ? load() : null;
  const at = kr && allPlaced(kr, w, g, m, v);
  if (!at) return false;
  const [wa, ga, ma, va] = at;
  const mem = regions(kr, [2 * h.length]);
  if (!mem) return false;
  const [ha] = mem.at;
  new Float64Array(kr.memory.buffer, ha * 4, h.length).set(h);
  const n = w.length;
  const chunks = split(kr, Math.ceil(n / 2), n >= PARALLEL_MIN_VALUES, (p0, count) => {
    const i = 2 * p0;
    return [(wa + i) * 4, (ga + i) * 4, (ma + i) * 4, (va + i) * 4, Math.min(2 * count, n - i), ha * 4];
  });
  parallel(kr, "adam", chunks);
  return true;
}

/**
 * An LSTM's step where every buffer lies in the module's memory (src/kinds/layers/recurrent/kernel.ts's
 * lstmCell with sigmoid gates and a tanh cell, to the same bits): from the gates (activated) at
 * Z[zOff + i·zs], c' = f·c + i·g, the old h and c to HP and CP and tanh(c') to AC (at sOff + i·ss),
 * h = o·tanh(c').
 * False (nothing done) where the loop would not activate on SIMD, or u is not a multiple of 4.
 */
export function simdLstmCell(Z: Buf, zOff: number, zs: number, HP: Buf, CP: Buf, AC: Buf, sOff: number, ss: number, c: Buf, h: Buf, n: number, u: number): boolean {
  const kr = enabled && n * u >= ACTIVATE_MIN && u % 4 === 0 ? load() : null;
  const at = kr && allPlaced(kr, Z, HP, CP, AC, c, h);
  if (!at) return false;
  const [z, hp, cp, ac, ca, ha] = at;
  kr.lstmcell((z + zOff) * 4, zs * 4, (hp + sOff) * 4, (cp + sOff) * 4, (ac + sOff) * 4, ss * 4, ca * 4, ha * 4, n, u);
  return true;
}

/**
 * An LSTM's gradients at its gates' inputs for one step, into Z, and the cell's gradient dc carried
 * back, where every buffer lies in the module's memory (kernel.ts's lstmGates with sigmoid gates and
 * a tanh cell, in doubles: the same bits). False (nothing done) otherwise or where u is odd.
 */
export function simdLstmGates(Z: Buf, zOff: number, zs: number, CP: Buf, AC: Buf, sOff: number, ss: number, dh: Buf, dc: Buf, n: number, u: number): boolean {
  const kr = enabled && u % 2 === 0 ? load() : null;
  const at = kr && allPlaced(kr, Z, CP, AC, dh, dc);
  if (!at) return false;
  const [z, cp, ac, dha, dca] = at;
  kr.lstmback((z + zOff) * 4, zs * 4, (cp + sOff) * 4, (ac + sOff) * 4, ss * 4, dha * 4, dca * 4, n, u);
  return true;
}

/**
 * out[j] = Σ_i A[i, j] over m rows of n (n a multiple of 4) on SIMD where both lie in the module's
 * memory: each column summed in row order in float32, as src/core/gemm.ts's colSums does (the same
 * bits). False (nothing done) otherwise.
 */
export function simdColSums(m: number, n: number, A: Buf, out: Buf): boolean {
  const kr = enabled && n % 4 === 0 && m * n >= ACTIVATE_MIN ? load() : null;
  const at = kr && allPlaced(kr, A, out);
  if (!at) return false;
  kr.colsums(at[0] * 4, n * 4, m, n, at[1] * 4);
  return true;
}

/** Below this many values an activation runs in the caller's loop. */
const ACTIVATE_MIN = 64;

/** A run of columns [start, start + len) of each row and the function applied to it. */
export type Activation = readonly [start: number, len: number, fn: "sigmoid" | "tanh"];

/**
 * dst = f(src) on SIMD for `rows` rows of `width` values (row i at off + i·stride in both; src and
 * dst may be one buffer), f given per run of columns (columns in no run are copied as they are):
 * float32 to about 1 ulp, where Math's double-precision sigmoid and tanh cost tens of ns a value.
 * All or nothing: false (nothing done) for float64 buffers, few values or no SIMD.
 */
export function simdActivate(src: Buf, dst: Buf, off: number, stride: number, rows: number, width: number, runs: readonly Activation[]): boolean {
  if (!enabled || rows * width < ACTIVATE_MIN || !isF32(src, dst)) return false;
  const kr = load();
  if (!kr) return false;
  // in place where the buffer lies in the memory (a run's tail is read four wide: up to 3 floats past it)
  const here = src === dst ? placedAt(kr, src) : -1;
  if (here >= 0 && here + off + (rows - 1) * stride + width + 3 <= kr.memory.buffer.byteLength / 4) {
    for (const [start, len, fn] of runs) kr.activate((here + off + start) * 4, rows, stride * 4, len, fn === "tanh" ? 1 : 0);
    return true;
  }
  // (one float past the rows: the last run's tail is read four wide)
  const mem = regions(kr, [rows * width + 4]);
  if (!mem) return false;
  const { H, at } = mem;
  const [a] = at;
  copyRows(H, a, width, src, off, stride, rows, width);
  for (const [start, len, fn] of runs) kr.activate((a + start) * 4, rows, width * 4, len, fn === "tanh" ? 1 : 0);
  copyRows(dst as Float32Array, off, stride, H, a, width, rows, width, false);
  return true;
}
