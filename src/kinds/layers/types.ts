import type { Dim, Shape } from "../../core/dims.ts";
import type { Extra, Params } from "../../diagnostics/diagnostic.ts";
import type { MessageKey } from "../../diagnostics/catalog.ts";
import type { ArgShape, OptionsSchema } from "../../core/options.ts";
import type { Json } from "../../core/json.ts";
import type { KernelFactory } from "../../core/kernel.ts";
import type { TorchLayer } from "../torch.ts";
import type { OnnxMapping } from "../onnx.ts";

/** What a layer's shape rule sees: input shapes and its validated options. */
export interface ShapeContext {
  inputs: Shape[];
  opts: Record<string, Json>;
  /** Reads a dimension-valued option (a number or a symbolic expression such as `n * 2`). */
  dim(value: Json, path: string): Dim | undefined;
  /** Reports a shape problem at the layer (or at the option named by `at`) and returns undefined. */
  error(key: MessageKey, params: Params, extra?: Extra & { at?: string }): undefined;
}

export interface ParamCount {
  trainable: number;
  nonTrainable: number;
}

/** How the layer is built in TensorFlow.js: `tf.layers[factory](config)`. */
export interface TfjsLayer {
  factory: string;
  config: Record<string, unknown>;
  /** A layer applied right after this one, for what one tfjs layer cannot express: a parameterized
   * activation such as `dense 8 activation: leaky_relu(0.2)` becomes a dense and a leakyReLU layer. */
  then?: TfjsLayer;
  /** The layer a wrapper holds (`bidirectional` around an `lstm`): its `layer` config. */
  wraps?: TfjsLayer;
  /** A layer class of nnspec's TensorFlow.js helpers (src/codegen/tfjs/layers.ts), registered for
   * serialization under `factory`, instead of `tf.layers[factory]`. */
  custom?: true;
  /** Set when the config is valid Keras JSON that TensorFlow.js 4.22 cannot build (an elu with alpha ≠ 1):
   * saving writes it (nnspec reads it back), building tfjs layers or code stops with this reason. */
  unsupported?: string;
}

/** A Keras layer config being read back into nnspec options (`nnspec import`). */
export interface KerasReader {
  /** The layer's `config`, keys in snake_case as model.json and `model.to_json()` write them. */
  config: Record<string, Json>;
  /** The value at `key` has no nnspec form: the import stops, naming the key and this reason. */
  refuse(key: string, why: string): void;
  /** The value at `key` is not carried over, and the imported model computes the same anyway. */
  warn(key: string, why: string): void;
  /** A reader of the layer a wrapper holds (`Bidirectional`'s `layer`): its class and config. */
  wrapped(key: string): { className: string; reader: KerasReader } | undefined;
}

/** How a kind reads a Keras layer back: the classes it claims and its options from their config. */
export interface KerasImport {
  classes: readonly string[];
  /** The options, or undefined when this config belongs to another kind of the same class (an
   * `Activation` of another function). Options left out take their defaults. */
  options(r: KerasReader): Record<string, Json> | undefined;
}

/**
 * Everything nnspec knows about one layer kind, in one folder: argument schema, shape rule,
 * parameter count, FLOPs, its TensorFlow.js counterpart and the interpreter's kernel.
 */
/** What a layer does, for the checks and lints that reason about stacks of layers. */
/** How a layer kind treats a padding mask (see `LayerKind.mask`). */
export type MaskRule = "makes" | "keeps" | "uses" | "ends";
/** Whether a layer reads the mask (its kernel skips padded steps): a recurrent layer, self-attention. */
export const readsMask = (rule: MaskRule | undefined): boolean => rule === "uses" || rule === "ends";

export type LayerRole = "weighted" | "activation" | "norm" | "dropout" | "pool" | "reshape" | "merge";

export interface LayerKind {
  name: string;
  role: LayerRole;
  /** `reads`: takes integer ids (embedding); `passes`: carries integer inputs through unchanged (flatten, reshape). */
  ints?: "reads" | "passes";
  /** The identity at inference (dropout, linear): lints look through it. */
  identity?: true;
  /** An activation that saturates at both ends (sigmoid, tanh). */
  saturates?: true;
  /** Reads [steps, features] one step at a time and returns the last step, or every step with
   * `return_sequences: true` (simple_rnn, lstm, gru). */
  recurrent?: true;
  /**
   * How the layer treats the padding mask of `embedding ... mask_zero: true`, as TensorFlow.js does:
   * `makes` one from its ids, `keeps` it (works step by step, so its output carries the input's
   * mask), `uses` it and keeps it (a recurrent layer returning every step: a padded step leaves the
   * state unchanged) or `ends` it (uses it and returns one vector). Undefined: it drops the mask.
   */
  mask?(opts: Record<string, Json>): MaskRule | undefined;
  /** One paragraph for hover and `nnspec layers`. */
  doc: string;
  args: ArgShape;
  schema: OptionsSchema;
  /** `many` for layers that combine several named tensors (add, concat); `some` for a layer that
   * reads the tensor before it or the tensors it names (attention's query, value and key). */
  inputs: "one" | "many" | "some";
  /** An option whose value names further input tensors, read after the first (a recurrent layer's
   * `initial_state: [h, c]`). */
  tensorOption?: string;
  /** How many tensors the layer returns with these options (1 unless they ask for more: a recurrent
   * layer's `return_state` adds its states), each taken by a name before `=`. */
  outputs?(opts: Record<string, Json>): number;
  /** The per-example shapes of the outputs after the first, once `shape` gave the first. */
  moreShapes?(inputs: Shape[], output: Shape, opts: Record<string, Json>): Shape[];
  /** The per-example output shape, or undefined after reporting why there is none. */
  shape(ctx: ShapeContext): Shape | undefined;
  /** Parameter count, or undefined when it depends on a symbolic dimension. `trainable: false`
   * is applied by the checker, which moves every trainable parameter to the frozen count. */
  params(inputs: Shape[], output: Shape, opts: Record<string, Json>): ParamCount | undefined;
  /** Values per example of the largest buffer the kernel keeps besides its output (a recurrent
   * layer's gates at every step), when that can exceed the tensors: `check` bounds the batch by it. */
  workspace?(inputs: Shape[], output: Shape, opts: Record<string, Json>): Dim;
  /** Floating-point operations per example for the forward pass (a multiply-add counts 2). */
  flops(inputs: Shape[], output: Shape, opts: Record<string, Json>): Dim;
  /** The equivalent TensorFlow.js layer, for code generation and differential tests. Throws an Error
   * naming the problem when TensorFlow.js cannot express the layer. */
  tfjs(opts: Record<string, Json>, inputs: Shape[]): TfjsLayer;
  /** The PyTorch form, for code generation: per-example input and output shapes are known numbers.
   * Throws an Error naming the problem when PyTorch cannot express the layer. `masked`: its input
   * carries a padding mask, which `call` then receives. */
  torch(opts: Record<string, Json>, inputs: number[][], output: number[], layer: string, masked?: boolean): TorchLayer;
  /** The ONNX form (opset 17), for `nnspec export --format onnx`. */
  onnx: OnnxMapping;
  /** Reading the kind back from Keras JSON (`nnspec import`), the inverse of `tfjs`. */
  keras?: KerasImport;
  /** The interpreter's kernel. */
  kernel: KernelFactory;
}
