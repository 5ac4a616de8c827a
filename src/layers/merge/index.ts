import { trainable } from "../common.ts";
import type { LayerKind } from "../types.ts";

export const add: LayerKind = {
  name: "add",
  doc: "Adds two or more tensors of the same shape element by element: `s = add x, h` (a residual connection).",
  inputs: "many",
  args: { positional: [], rest: "inputs" },
  schema: {
    type: "object",
    properties: { inputs: { description: "two or more tensor names", type: "array", minItems: 2, items: { type: "string" } }, ...trainable },
    required: ["inputs"],
    additionalProperties: false,
  },
};

export const concat: LayerKind = {
  name: "concat",
  doc: "Joins two or more tensors along an axis (the last by default): `c = concat a, b`.",
  inputs: "many",
  args: { positional: [], rest: "inputs" },
  schema: {
    type: "object",
    properties: { inputs: { description: "two or more tensor names", type: "array", minItems: 2, items: { type: "string" } }, axis: { description: "an axis index", type: "integer", default: -1 }, ...trainable },
    required: ["inputs"],
    additionalProperties: false,
  },
};
