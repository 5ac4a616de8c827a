import type { PropertySchema } from "../../lang/bind.ts";
import { elementwiseFlops, identityShape, noParams, trainable } from "../common.ts";
import type { LayerKind, TfjsLayer } from "../types.ts";
import type { Json } from "../../lang/values.ts";

const act = (name: string, doc: string, tfjs: (o: Record<string, Json>) => TfjsLayer, extra: Record<string, PropertySchema> = {}, positional: string[] = []): LayerKind => ({
  name,
  doc,
  inputs: "one",
  args: { positional },
  schema: { type: "object", properties: { ...extra, ...trainable }, additionalProperties: false },
  shape: identityShape,
  params: noParams,
  flops: elementwiseFlops,
  tfjs,
});
const activation = (a: string) => (): TfjsLayer => ({ factory: "activation", config: { activation: a } });

export const relu = act("relu", "Rectified linear unit: max(0, x).", activation("relu"));
export const leaky_relu = act(
  "leaky_relu",
  "Leaky relu: x for x > 0, alpha·x otherwise (alpha defaults to 0.3 as in TensorFlow.js).",
  (o) => ({ factory: "leakyReLU", config: { alpha: o.alpha ?? 0.3 } }),
  { alpha: { description: "a non-negative number", type: "number", minimum: 0, default: 0.3 } },
  ["alpha"],
);
export const elu = act("elu", "Exponential linear unit: x for x > 0, alpha·(eˣ − 1) otherwise.", (o) => ({ factory: "elu", config: { alpha: o.alpha ?? 1 } }), { alpha: { description: "a positive number", type: "number", exclusiveMinimum: 0, default: 1 } }, ["alpha"]);
export const gelu = act("gelu", "Gaussian error linear unit: x·Φ(x).", activation("gelu"));
export const sigmoid = act("sigmoid", "Logistic sigmoid 1/(1 + e⁻ˣ): squashes to (0, 1). Use on a binary or multi-label output.", activation("sigmoid"));
export const tanh = act("tanh", "Hyperbolic tangent: squashes to (−1, 1).", activation("tanh"));
export const softmax = act("softmax", "Softmax over the last axis: turns scores into probabilities that sum to 1.", (o) => ({ factory: "softmax", config: { axis: o.axis ?? -1 } }), { axis: { description: "an axis index", type: "integer", default: -1 } });
export const linear = act("linear", "The identity: no activation.", activation("linear"));
