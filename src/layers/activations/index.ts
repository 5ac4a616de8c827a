import type { PropertySchema } from "../../lang/bind.ts";
import { trainable } from "../common.ts";
import type { LayerKind } from "../types.ts";

const act = (name: string, doc: string, extra: Record<string, PropertySchema> = {}, positional: string[] = []): LayerKind => ({
  name,
  doc,
  inputs: "one",
  args: { positional },
  schema: { type: "object", properties: { ...extra, ...trainable }, additionalProperties: false },
});

export const relu = act("relu", "Rectified linear unit: max(0, x).");
export const leaky_relu = act("leaky_relu", "Leaky relu: x for x > 0, alpha·x otherwise (alpha defaults to 0.3 as in TensorFlow.js).", { alpha: { description: "a non-negative number", type: "number", minimum: 0, default: 0.3 } }, ["alpha"]);
export const elu = act("elu", "Exponential linear unit: x for x > 0, alpha·(eˣ − 1) otherwise.", { alpha: { description: "a positive number", type: "number", exclusiveMinimum: 0, default: 1 } }, ["alpha"]);
export const gelu = act("gelu", "Gaussian error linear unit: x·Φ(x).");
export const sigmoid = act("sigmoid", "Logistic sigmoid 1/(1 + e⁻ˣ): squashes to (0, 1). Use on a binary or multi-label output.");
export const tanh = act("tanh", "Hyperbolic tangent: squashes to (−1, 1).");
export const softmax = act("softmax", "Softmax over the last axis: turns scores into probabilities that sum to 1.", { axis: { description: "an axis index", type: "integer", default: -1 } });
export const linear = act("linear", "The identity: no activation.");
