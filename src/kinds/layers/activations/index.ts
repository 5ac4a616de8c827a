import { numberOption, type PropertySchema } from "../../../core/options.ts";
import { DEFAULT_ALPHA } from "./alpha.ts";
import { defined, kerasAxes, kerasSlope } from "../keras.ts";
import { ACTIVATION_KERNELS } from "./kernel.ts";
import { elementwiseFlops, identityShape, noParams, onnxActivation, tfjsElu, torchActivation, trainable } from "../common.ts";
import type { LayerKind, ShapeContext, TfjsLayer } from "../types.ts";
import type { Shape } from "../../../core/dims.ts";
import type { Json } from "../../../core/json.ts";

const act = (
  name: string,
  doc: string,
  tfjs: (o: Record<string, Json>) => TfjsLayer,
  extra: Record<string, PropertySchema> = {},
  positional: string[] = [],
  shape: LayerKind["shape"] = identityShape,
  facts: Pick<LayerKind, "identity" | "saturates" | "mask"> = {},
  keras: LayerKind["keras"] = { classes: ["Activation"], options: (r) => (r.config.activation === name ? {} : undefined) },
): LayerKind => ({
  name,
  role: "activation",
  kernel: ACTIVATION_KERNELS[name],
  ...facts,
  doc,
  inputs: "one",
  args: { positional },
  schema: { type: "object", properties: { ...extra, ...trainable }, additionalProperties: false },
  shape,
  params: noParams,
  flops: elementwiseFlops,
  tfjs,
  keras,
  // as the activation a weighted layer would apply, its options as a call's
  onnx: (opts, [x], ins, _o, g) =>
    name === "softmax" && typeof opts.axis === "number" && opts.axis !== -1 && opts.axis !== ins[0].length
      ? [g.op("Softmax", [x], { axis: { i: opts.axis } })[0]]
      : [name === "linear" ? g.op("Identity", [x])[0] : onnxActivation(g, { call: name, args: typeof opts.alpha === "number" ? [opts.alpha] : [], options: {} } as unknown as Json, x)],
  // the layer as the same activation a weighted layer would apply, its options as a call's
  torch: (opts) => ({ layout: "any", call: ([x], _self, layout) => torchActivation({ call: name, args: typeof opts.alpha === "number" ? [opts.alpha] : [], options: {} } as unknown as Json, x, layout) }),
});
const activation = (a: string) => (): TfjsLayer => ({ factory: "activation", config: { activation: a } });

// TensorFlow.js's activation layer passes a padding mask on; its leakyReLU, elu and softmax layers refuse one.
const keeps: Pick<LayerKind, "mask"> = { mask: () => "keeps" };

export const relu = act("relu", "Rectified linear unit: max(0, x).", activation("relu"), {}, [], identityShape, keeps);
export const leaky_relu = act(
  "leaky_relu",
  `Leaky relu: x for x > 0, alpha·x otherwise (alpha defaults to ${DEFAULT_ALPHA.leaky_relu} as in TensorFlow.js).`,
  (o) => ({ factory: "leakyReLU", config: { alpha: numberOption(o, "alpha") } }),
  { alpha: { description: "a non-negative number", type: "number", minimum: 0, default: DEFAULT_ALPHA.leaky_relu } },
  ["alpha"],
  identityShape,
  {},
  { classes: ["LeakyReLU"], options: (r) => ({ alpha: kerasSlope(r) }) },
);
export const elu = act(
  "elu",
  "Exponential linear unit: x for x > 0, alpha·(eˣ − 1) otherwise. TensorFlow.js 4.22 supports alpha 1 only, so a model with another alpha cannot be exported to it.",
  (o) => tfjsElu(numberOption(o, "alpha")),
  { alpha: { description: "a positive number", type: "number", exclusiveMinimum: 0, default: DEFAULT_ALPHA.elu } },
  ["alpha"],
  identityShape,
  {},
  { classes: ["ELU"], options: (r) => defined({ alpha: typeof r.config.alpha === "number" ? r.config.alpha : undefined }) },
);
export const gelu = act("gelu", "Gaussian error linear unit: x·Φ(x), with the exact normal CDF Φ (erf), not the tanh approximation; TensorFlow.js 4.22's `gelu` activation is the same.", activation("gelu"), {}, [], identityShape, keeps);
export const sigmoid = act("sigmoid", "Logistic sigmoid 1/(1 + e⁻ˣ): squashes to (0, 1). Use on a binary or multi-label output.", activation("sigmoid"), {}, [], identityShape, { saturates: true, ...keeps });
export const tanh = act("tanh", "Hyperbolic tangent: squashes to (−1, 1).", activation("tanh"), {}, [], identityShape, { saturates: true, ...keeps });
/** Softmax's axis counts the batch as 0, as `concat`'s does; TensorFlow.js computes it over the last axis only. */
function softmaxShape(ctx: ShapeContext): Shape | undefined {
  const s = ctx.inputs[0];
  const axis = typeof ctx.opts.axis === "number" ? ctx.opts.axis : -1;
  const rank = s.length + 1;
  if (axis < -rank || axis >= rank) return ctx.error("invalidShapeArgument", { message: `\`softmax\` axis ${axis} is outside inputs of rank ${rank}` }, { at: "/axis" });
  if (axis !== -1 && axis !== rank - 1)
    return ctx.error("invalidShapeArgument", { message: `\`softmax\` over axis ${axis} of a rank-${rank} input is not supported: TensorFlow.js computes softmax over the last axis only` }, { at: "/axis", help: "omit `axis`: softmax runs over the last axis" });
  return s;
}

export const softmax = act(
  "softmax",
  "Softmax over the last axis: turns scores into probabilities that sum to 1. `axis` counts the batch as 0 (as in `concat`); only the last axis (-1) is supported, as in TensorFlow.js.",
  (o) => ({ factory: "softmax", config: { axis: numberOption(o, "axis") } }),
  { axis: { description: "an axis index (only the last axis, -1, is supported)", type: "integer", default: -1 } },
  [],
  softmaxShape,
  {},
  // a Keras 3 softmax writes its axis as a list
  { classes: ["Softmax"], options: (r) => defined({ axis: kerasAxes(r.config.axis) }) },
);
export const linear = act("linear", "The identity: no activation.", activation("linear"), {}, [], identityShape, { identity: true, ...keeps });
