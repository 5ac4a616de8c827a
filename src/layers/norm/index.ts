import { bool, trainable } from "../common.ts";
import type { LayerKind } from "../types.ts";

const eps = { description: "a small positive number", type: "number", exclusiveMinimum: 0 };

export const batchnorm: LayerKind = {
  name: "batchnorm",
  doc: "Batch normalization over the last axis: normalizes with the batch's statistics in training and the moving averages at inference, then scales by gamma and shifts by beta.",
  inputs: "one",
  args: { positional: [] },
  schema: {
    type: "object",
    properties: {
      momentum: { description: "a number in [0, 1] (moving-average momentum)", type: "number", minimum: 0, maximum: 1, default: 0.99 },
      epsilon: { ...eps, default: 0.001 },
      center: bool(true),
      scale: bool(true),
      ...trainable,
    },
    additionalProperties: false,
  },
};

export const layernorm: LayerKind = {
  name: "layernorm",
  doc: "Layer normalization: normalizes each example over its last axis, then scales by gamma and shifts by beta.",
  inputs: "one",
  args: { positional: [] },
  schema: {
    type: "object",
    properties: { epsilon: { ...eps, default: 0.001 }, center: bool(true), scale: bool(true), ...trainable },
    additionalProperties: false,
  },
};
