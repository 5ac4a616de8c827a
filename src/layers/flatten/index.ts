import { trainable } from "../common.ts";
import type { LayerKind } from "../types.ts";

export const flatten: LayerKind = {
  name: "flatten",
  doc: "Flattens every axis but the batch into one: [7, 7, 64] → [3136].",
  inputs: "one",
  args: { positional: [] },
  schema: { type: "object", properties: { ...trainable }, additionalProperties: false },
};
