/**
 * The contract between the interpreter's plan and the kernels that live next to each layer kind
 * (`src/kinds/layers/<kind>/kernel.ts`). Pure TypeScript: no Node APIs, so the runtime also runs in a browser.
 */
import type { Json } from "./json.ts";
import type { Rng } from "./rng.ts";

/** Every buffer of one plan has the same element type: float32 for training, float64 for gradient checks. */
export type Buf = Float32Array | Float64Array;
export type Precision = "f32" | "f64";

/** The most values one typed array holds: the interpreter's (and TensorFlow.js's) bound on a buffer. */
export const MAX_BUFFER = 2 ** 31 - 1;

/** A buffer the machine would not give: what it was for and how big, never a bare RangeError. */
export class AllocationError extends Error {
  constructor(what: string, values: number, bytesPerValue: number, cause: unknown) {
    super(`cannot allocate ${what}: ${values.toLocaleString("en-US")} values (${gib(values * bytesPerValue)}); ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "AllocationError";
  }
}

const gib = (bytes: number): string => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

/** Integers over a scratch buffer from `alloc`, one per value it holds (indices a kernel keeps). */
export const int32 = (b: Buf): Int32Array => new Int32Array(b.buffer, b.byteOffset, b.length);

/**
 * A zeroed buffer of `size` values; float32 ones from `place` where it gives one (a `placer`: inside
 * the SIMD module's memory, where its kernels read and write them without copying).
 */
export function allocBuf(precision: Precision, size: number, what = "a buffer", place?: (n: number) => Float32Array | null): Buf {
  const placed = precision === "f32" ? place?.(size) : null;
  if (placed) return placed;
  try {
    return precision === "f64" ? new Float64Array(size) : new Float32Array(size);
  } catch (e) {
    if (e instanceof RangeError) throw new AllocationError(what, size, precision === "f64" ? 8 : 4, e);
    throw e;
  }
}

/** What a kernel knows about its layer: numeric per-example shapes (the batch is implicit). */
export interface LayerInfo {
  name: string;
  kind: string;
  opts: Record<string, Json>;
  inShapes: number[][];
  outShape: number[];
}

/** How a parameter starts: an initializer name (tfjs's defaults) with optional arguments. */
export interface InitSpec {
  name: string;
  args?: Json[];
  options?: Record<string, Json>;
}

/** One parameter of a layer, in TensorFlow.js's order and naming (kernel, bias, gamma, beta, ...). */
export interface ParamDecl {
  name: string;
  shape: number[];
  init: InitSpec;
  /** Moving statistics are not trained; `trainable: false` layers are frozen by the plan. */
  trainable: boolean;
  l1?: number;
  l2?: number;
}

/**
 * The buffers a kernel instance works on, fixed when a plan is built: every call then reads and
 * writes these and allocates nothing. Tensors hold `capacity` rows; a call processes the first `n`.
 */
export interface KernelBinding {
  layer: LayerInfo;
  capacity: number;
  precision: Precision;
  ins: Buf[];
  /** Per input: the ids whose zeros mark its padded steps (`embedding mask_zero`), for a layer that reads them; else null. */
  masks: (Buf | null)[];
  out: Buf;
  params: Buf[];
  /** Gradient buffers; null where no gradient is wanted (model inputs, frozen parameters). */
  dIns: (Buf | null)[];
  /** Per input: add into dIns[i] (another consumer already wrote it) rather than overwrite. */
  addIns: boolean[];
  /** Null when the plan is inference-only. */
  dOut: Buf | null;
  /** Its outputs after the first (a recurrent layer's final states with `return_state`), and their
   * gradients (null in an inference plan; zeros where nothing reads them). */
  more: Buf[];
  dMore: (Buf | null)[];
  /** Always overwritten by backward (a parameter belongs to one layer). */
  dParams: (Buf | null)[];
  alloc(size: number): Buf;
  /** The layer's own random stream (dropout masks). */
  rng: Rng;
}

export interface LayerKernel {
  forward(n: number, training: boolean): void;
  /** Reads dOut (and may overwrite it), writes or adds dIns, writes dParams. Called after forward(n, true). */
  backward(n: number): void;
}

export interface KernelFactory {
  /** Parameters, in TensorFlow.js's order. */
  params(layer: LayerInfo): ParamDecl[];
  bind(b: KernelBinding): LayerKernel;
}

/** Product of a shape's dimensions. */
export function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}



/** Arrays as consecutive little-endian float32 values: the bytes of weights.bin and of .npy data. */
export function float32Bytes(arrays: readonly ArrayLike<number>[], into?: Uint8Array, offset = 0): Uint8Array {
  const total = arrays.reduce((a, v) => a + v.length, 0);
  const out = into ?? new Uint8Array(total * 4);
  const view = new DataView(out.buffer, out.byteOffset + offset);
  let at = 0;
  for (const v of arrays) for (let i = 0; i < v.length; i++, at += 4) view.setFloat32(at, v[i], true);
  return out;
}
