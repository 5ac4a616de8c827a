/**
 * How a layer kind is written as ONNX operators (opset 17): each kind's `onnx` mapping adds nodes
 * through this interface and returns the names of its outputs; src/codegen/onnx assembles the graph
 * and encodes it. Tensors stay channels-last as in the interpreter; a kind whose ONNX operator reads
 * channels-first (Conv, MaxPool) transposes around it.
 */

/** A node attribute, typed as ONNX types it. */
export type OnnxAttr = { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] } | { strings: string[] };

export interface OnnxGraph {
  /** Adds a node of `type` named after the layer; returns the names of its `outputs` outputs. */
  op(type: string, inputs: string[], attrs?: Record<string, OnnxAttr>, outputs?: number): string[];
  /** A float32 constant of shape `dims`. */
  floats(values: ArrayLike<number>, dims: number[]): string;
  /** An int64 constant (shapes, axes, slice bounds); `dims` defaults to a vector. */
  ints(values: number[], dims?: number[]): string;
  /** The layer's parameter `name` as the interpreter declares it (`kernel`, `forward_lstm/bias`). */
  param(name: string): { values: Float32Array; shape: number[] };
  /** The parameter as a constant, its values as they are. */
  weight(name: string): string;
  /** For a layer that reads a padding mask (`embedding ... mask_zero: true`): the ids it comes from, 0 on padded steps. */
  ids?: string;
  /** Whether the layer declares the parameter (`bias` without `use_bias: false`). */
  has(name: string): boolean;
}

/**
 * A kind's ONNX form. `x`: its inputs' names, `ins`: their per-example shapes, `out`: its output's.
 * Returns the names of its outputs (the first, then a recurrent layer's states). Throws an Error
 * naming the problem when ONNX cannot express the layer.
 */
export type OnnxMapping = (opts: Record<string, unknown>, x: string[], ins: number[][], out: number[], g: OnnxGraph) => string[];

/** A row-major array's axes permuted: `perm[k]` is the source axis of the result's axis k. */
export function permute(values: ArrayLike<number>, shape: number[], perm: number[]): { values: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const srcStride = new Array<number>(rank);
  for (let k = rank - 1, s = 1; k >= 0; k--) {
    srcStride[k] = s;
    s *= shape[k];
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k] * srcStride[perm[k]];
    out[i] = values[src];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return { values: out, shape: outShape };
}
