import { Dim, elements, shapeText, type Shape } from "../../core/dims.ts";
import { isCall, type Json } from "../../core/json.ts";
import { INITIALIZER_NAMES } from "../../core/init.ts";
import type { ParamCount, ShapeContext, TfjsLayer } from "./types.ts";
import type { OnnxGraph } from "../onnx.ts";
import type { PropertySchema } from "../../core/options.ts";
import { DEFAULT_ALPHA } from "./activations/alpha.ts";
import { pyLiteral, type TorchLayout } from "../torch.ts";

export const ACTIVATIONS = ["linear", "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softmax"] as const;
export const INITIALIZERS = INITIALIZER_NAMES;

const callOf = (names: readonly string[]) => ({
  type: "object",
  required: ["call", "args", "options"],
  properties: { call: { enum: names }, args: { type: "array", maxItems: 1, items: { type: "number" } }, options: { type: "object" } },
});

export const activation: PropertySchema = {
  description: `an activation (${ACTIVATIONS.join(", ")})`,
  default: "linear",
  anyOf: [{ enum: [...ACTIVATIONS] }, callOf(["leaky_relu", "elu"])],
};
export const initializer = (dflt: string): PropertySchema => ({ description: `an initializer (${INITIALIZERS.join(", ")})`, default: dflt, anyOf: [{ enum: [...INITIALIZERS] }, callOf(INITIALIZERS)] });
export const positiveInt = (what: string, dflt?: number): PropertySchema => ({ description: `a positive integer (${what})`, type: "integer", minimum: 1, ...(dflt === undefined ? {} : { default: dflt }) });
export const regularizer: PropertySchema = { description: "a non-negative number", type: "number", minimum: 0, default: 0 };
export const bool = (dflt: boolean): PropertySchema => ({ description: "true or false", type: "boolean", default: dflt });
export const padding: PropertySchema = { description: "`valid` or `same`", enum: ["valid", "same"], default: "valid" };
/** An integer, or one integer per spatial axis. */
export const window = (what: string, axes: number, dflt?: number): PropertySchema => ({
  description: `a positive integer or a list of ${axes} (${what})`,
  anyOf: [{ type: "integer", minimum: 1 }, { type: "array", items: { type: "integer", minimum: 1 }, minItems: axes, maxItems: axes }],
  ...(dflt === undefined ? {} : { default: dflt }),
});

/** Options every weighted layer accepts. */
export const weightedOptions = (kernelDefault = "glorot_uniform"): Record<string, PropertySchema> => ({
  activation,
  use_bias: bool(true),
  kernel_init: initializer(kernelDefault),
  bias_init: initializer("zeros"),
  l1: regularizer,
  l2: regularizer,
  trainable: bool(true),
});

export const trainable = { trainable: bool(true) };

// ── shape helpers shared by the layer kinds ──

/** An integer-or-list option expanded to one integer per spatial axis. */
export function perAxis(v: Json | undefined, axes: number, dflt: number): number[] {
  if (typeof v === "number") return Array(axes).fill(v);
  if (Array.isArray(v) && v.length === axes && v.every((x) => typeof x === "number")) return v as number[];
  return Array(axes).fill(dflt);
}

/** Output length of a sliding window, exactly as TensorFlow.js computes it. */
export function windowOut(n: Dim, k: number, stride: number, dilation: number, pad: "valid" | "same"): Dim {
  if (pad === "same") return n.ceilDiv(stride);
  const eff = (k - 1) * dilation + 1;
  return n.sub(eff).floorDiv(stride).add(1);
}

/** Requires an input of exactly `rank` axes; reports with a hint otherwise. */
export function needRank(ctx: ShapeContext, layer: string, rank: number, what: string): Shape | undefined {
  const s = ctx.inputs[0];
  if (s.length === rank) return s;
  return ctx.error("rankMismatch", { layer, expected: `rank ${rank + 1} input ${what}`, got: shapeText(s) });
}

/** Reports a window output that is zero or negative. */
export function checkPositive(ctx: ShapeContext, layer: string, out: Dim, axis: string, input: Dim, k: number): boolean {
  const v = out.value;
  if (v !== undefined && v <= 0) {
    ctx.error("nonPositiveDim", { layer, size: v, why: `the ${axis} ${input} is smaller than the window ${k}` }, { help: "use `padding: same`, or a smaller kernel, pool or stride" });
    return false;
  }
  return true;
}

export function lastAxis(s: Shape): Dim {
  return s[s.length - 1] ?? Dim.of(1);
}

/** Parameters of a weighted layer: kernel of `fanIn × units` plus `units` biases. */
export function weightParams(fanIn: Dim, units: number, opts: Record<string, Json>): ParamCount | undefined {
  const f = fanIn.value;
  if (f === undefined) return undefined;
  return { trainable: f * units + (opts.use_bias === false ? 0 : units), nonTrainable: 0 };
}

export const noParams = (): ParamCount => ({ trainable: 0, nonTrainable: 0 });
export const identityShape = (ctx: ShapeContext): Shape => ctx.inputs[0];
/** One operation per element: activations, dropout and the like. */
export const elementwiseFlops = (_i: Shape[], out: Shape): Dim => elements(out);

/** An activation's name, written bare (`relu`) or as a call (`leaky_relu(0.2)`). */
const activationName = (a: Json | undefined): string | undefined => (typeof a === "string" ? a : a !== undefined && isCall(a) ? a.call : undefined);

/** The argument of an activation call: `leaky_relu(0.2)` or `leaky_relu(alpha: 0.2)`. */
function callAlpha(a: Json | undefined): number | undefined {
  if (a === undefined || !isCall(a)) return undefined;
  const v = a.args[0] ?? a.options.alpha;
  return typeof v === "number" ? v : undefined;
}

/**
 * The TensorFlow.js form of a weighted layer's `activation`. TensorFlow.js activation strings have no
 * parameter and no leaky relu, so `leaky_relu` (alpha 0.3 unless given) becomes a leakyReLU layer
 * applied right after: `then`. An elu with alpha ≠ 1 has no TensorFlow.js form (see `tfjsElu`).
 */
export function tfjsActivation(a: Json | undefined): { activation?: string; then?: TfjsLayer } {
  const name = activationName(a);
  if (name === undefined || name === "linear") return {};
  if (name === "leaky_relu") return { then: { factory: "leakyReLU", config: { alpha: callAlpha(a) ?? DEFAULT_ALPHA.leaky_relu } } };
  if (name === "elu") {
    const alpha = callAlpha(a) ?? DEFAULT_ALPHA.elu;
    return alpha === 1 ? { activation: "elu" } : { then: tfjsElu(alpha) };
  }
  return { activation: name };
}

/** TensorFlow.js 4.22 has elu with alpha 1 only: its activation takes no alpha and its ELU layer
 * throws "Non-default alpha value … is not supported". Another alpha is an ELU layer (Keras JSON)
 * marked `unsupported`. */
export function tfjsElu(alpha: number): TfjsLayer {
  if (alpha === 1) return { factory: "elu", config: {} };
  return { factory: "elu", config: { alpha }, unsupported: `elu with alpha ${alpha} cannot be built in TensorFlow.js, whose elu supports alpha 1 only` };
}

/** The first reason a layer's tfjs chain cannot be built, if any. */
export function unsupportedIn(spec: TfjsLayer | undefined): string | undefined {
  for (let s = spec; s; s = s.then) if (s.unsupported) return s.unsupported;
  return undefined;
}

/** A weighted layer's tfjs mapping with its activation folded in (or following as `then`). */
export function withActivation(factory: string, config: Record<string, unknown>, activation: Json | undefined): TfjsLayer {
  const { activation: a, then } = tfjsActivation(activation);
  return { factory, config: { ...config, ...(a ? { activation: a } : {}) }, ...(then ? { then } : {}) };
}

/** A serializable tfjs regularizer config (`tf.regularizers.l1l2`); tfjs rejects a bare `{l1, l2}`. */
export function tfjsRegularizer(opts: Record<string, Json>): Record<string, unknown> | undefined {
  const l1 = typeof opts.l1 === "number" ? opts.l1 : 0;
  const l2 = typeof opts.l2 === "number" ? opts.l2 : 0;
  return l1 || l2 ? { className: "L1L2", config: { l1, l2 } } : undefined;
}

/** `trainable: false` carried over to the tfjs layer (its weights move to the non-trainable list). */
export const tfjsTrainable = (opts: Record<string, Json>): Record<string, unknown> => (opts.trainable === false ? { trainable: false } : {});

const INIT_NAMES: Record<string, string> = {
  glorot_uniform: "glorotUniform",
  glorot_normal: "glorotNormal",
  he_uniform: "heUniform",
  he_normal: "heNormal",
  lecun_uniform: "leCunUniform",
  lecun_normal: "leCunNormal",
  zeros: "zeros",
  ones: "ones",
  random_normal: "randomNormal",
  random_uniform: "randomUniform",
  truncated_normal: "truncatedNormal",
  orthogonal: "orthogonal",
};
export function tfjsInit(v: Json | undefined, dflt: string): string {
  const name = typeof v === "string" ? v : v !== undefined && isCall(v) ? v.call : dflt;
  return INIT_NAMES[name] ?? INIT_NAMES[dflt];
}
/** Common tfjs config of weighted layers (activation handled by `withActivation`). */
export function tfjsWeighted(opts: Record<string, Json>, kernelKey = "kernelInitializer"): Record<string, unknown> {
  const c: Record<string, unknown> = { useBias: opts.use_bias !== false, [kernelKey]: tfjsInit(opts.kernel_init, "glorot_uniform"), biasInitializer: tfjsInit(opts.bias_init, "zeros") };
  const reg = tfjsRegularizer(opts);
  if (reg) c.kernelRegularizer = reg;
  return { ...c, ...tfjsTrainable(opts) };
}

// ── ONNX ──

/** `activation` applied to `x` in ONNX; softmax over the last axis. */
export function onnxActivation(g: OnnxGraph, a: Json | undefined, x: string): string {
  const name = activationName(a);
  switch (name) {
    case undefined:
    case "linear":
      return x;
    case "relu":
      return g.op("Relu", [x])[0];
    case "sigmoid":
      return g.op("Sigmoid", [x])[0];
    case "tanh":
      return g.op("Tanh", [x])[0];
    case "softmax":
      return g.op("Softmax", [x], { axis: { i: -1 } })[0];
    case "leaky_relu":
      return g.op("LeakyRelu", [x], { alpha: { f: callAlpha(a) ?? DEFAULT_ALPHA.leaky_relu } })[0];
    case "elu":
      return g.op("Elu", [x], { alpha: { f: callAlpha(a) ?? DEFAULT_ALPHA.elu } })[0];
    case "gelu": {
      // the exact form, x·Φ(x) = x·(1 + erf(x/√2))/2 (ONNX's Gelu operator needs opset 20)
      const e = g.op("Erf", [g.op("Div", [x, g.floats([Math.SQRT2], [])])[0]])[0];
      const half = g.op("Mul", [x, g.floats([0.5], [])])[0];
      return g.op("Mul", [half, g.op("Add", [e, g.floats([1], [])])[0]])[0];
    }
    default:
      throw new Error(`no ONNX form for the activation \`${name}\``);
  }
}

/** ONNX's `pads` for TensorFlow's "same" (more at the end when the total is odd); "valid": none. ONNX Runtime's
 * `auto_pad` refuses dilations, so the pads are always given. */
export function onnxPads(padding: unknown, sizes: number[], k: number[], stride: number[], dilation: number[]): number[] {
  if (padding !== "same") return Array(2 * sizes.length).fill(0);
  const p = samePads(sizes, k, stride, dilation);
  return [...p.map(([a]) => a), ...p.map(([, b]) => b)];
}

/** Runs a channels-first ONNX operator (Conv, MaxPool) on a channels-last tensor of `axes` spatial axes. */
export function channelsFirst(g: OnnxGraph, x: string, axes: number, body: (xf: string) => string): string {
  const to = axes === 2 ? [0, 3, 1, 2] : [0, 2, 1];
  const back = axes === 2 ? [0, 2, 3, 1] : [0, 2, 1];
  const y = body(g.op("Transpose", [x], { perm: { ints: to } })[0]);
  return g.op("Transpose", [y], { perm: { ints: back } })[0];
}

// ── PyTorch ──

/** The activation applied to `x` in PyTorch; softmax runs over the channel axis of `layout`. */
export function torchActivation(a: Json | undefined, x: string, layout: TorchLayout): string {
  const name = activationName(a);
  switch (name) {
    case undefined:
    case "linear":
      return x;
    case "relu":
      return `torch.relu(${x})`;
    case "sigmoid":
      return `torch.sigmoid(${x})`;
    case "tanh":
      return `torch.tanh(${x})`;
    case "gelu":
      return `F.gelu(${x})`;
    case "softmax":
      return `torch.softmax(${x}, dim=${layout === "first" ? 1 : -1})`;
    case "leaky_relu":
      return `F.leaky_relu(${x}, ${pyLiteral(callAlpha(a) ?? DEFAULT_ALPHA.leaky_relu)})`;
    case "elu":
      return `F.elu(${x}, ${pyLiteral(callAlpha(a) ?? DEFAULT_ALPHA.elu)})`;
    default:
      throw new Error(`no PyTorch form for the activation \`${name}\``);
  }
}

/** Zero padding TensorFlow's `same` adds before and after each window axis (more after when odd). */
export function samePads(sizes: number[], k: number[], stride: number[], dilation: number[]): [number, number][] {
  return sizes.map((n, i) => {
    const eff = (k[i] - 1) * dilation[i] + 1;
    const total = Math.max((Math.ceil(n / stride[i]) - 1) * stride[i] + eff - n, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  });
}

/** F.pad's argument: pairs for the last axis first. */
export const torchPadArg = (pads: [number, number][]): string => `(${[...pads].reverse().flat().join(", ")})`;
