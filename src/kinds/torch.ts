/**
 * How a layer kind is written in PyTorch: the submodule it owns, the expression its forward pass
 * computes, and where each of its interpreter parameters lives in the module. The code generator
 * (src/codegen/pytorch) only assembles these; the helpers named `nt.*` are in its nnspec_torch.py.
 *
 * Tensors are channels-last as in the interpreter, except between convolutions and pools, which
 * read channels-first: `layout` says which one a layer needs, and the generator permutes between.
 */
import type { Json } from "../core/json.ts";

export type TorchLayout = "first" | "last";

/** How an interpreter parameter becomes the module's tensor. */
export type TorchConvert =
  /** the same array */
  | "same"
  /** a dense kernel [in, out] → nn.Linear's weight [out, in] */
  | "transpose"
  /** a convolution kernel [...window, in, out] → [out, in, ...window] */
  | "channels_first"
  /** a GRU kernel [in, 3u] with Keras's gates (z, r, h) → nn.GRU's [3u, in] with (r, z, n) */
  | "gru_gates"
  /** a GRU's [2, 3u] biases (input, recurrent) → nn.GRU's bias_ih and bias_hh (two attributes) */
  | "gru_bias";

export interface TorchLayer {
  /** The submodule's constructor (`nn.Linear(4, 3)`), when the layer owns one. */
  module?: string;
  /** The layout the inputs must be in; `any` takes them as they come (elementwise layers). */
  layout: TorchLayout | "any";
  /** The forward expression: `self` is the submodule, `layout` the one the inputs arrive in, `mask`
   * (for a layer that uses one) a boolean [batch, steps] expression, true on the steps that count. */
  call(inputs: string[], self: string, layout: TorchLayout, mask?: string): string;
  /** Interpreter parameter name → the submodule's attribute holding it (attributes separated by a
   * space where the conversion gives several tensors), and how it converts. */
  weights?: Record<string, { attr: string; convert: TorchConvert }>;
}

/** A Python literal for a JSON value. */
/** A Python string literal, in the quotes black would choose: double unless single need fewer escapes. */
function pyString(s: string): string {
  const dq = JSON.stringify(s);
  const count = (c: string) => s.split(c).length - 1;
  if (count('"') <= count("'")) return dq;
  return `'${dq.slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

export function pyLiteral(v: Json | undefined): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return pyString(v);
  if (Array.isArray(v)) return `(${v.map(pyLiteral).join(", ")}${v.length === 1 ? "," : ""})`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${pyString(k)}: ${pyLiteral(x)}`)
    .join(", ")}}`;
}

/**
 * A loss or optimizer of the helper bound to its options: `partial(nt.huber, delta=1)`, or the bare
 * name when the kind has none. Every option is a keyword argument of the same name (a test checks
 * each helper's signature against the kind's schema).
 */
export function pyPartial(fn: string, opts: Readonly<Record<string, Json>>): string {
  const args = Object.entries(opts).map(([k, v]) => `${k}=${pyLiteral(v)}`);
  return args.length ? `partial(${fn}, ${args.join(", ")})` : fn;
}
