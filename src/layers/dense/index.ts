import { ACTIVATIONS, positiveInt, weightedOptions } from "../common.ts";
import type { LayerKind } from "../types.ts";

export const dense: LayerKind = {
  name: "dense",
  doc: "Fully connected layer: y = activation(x · W + b), applied to the last axis. `dense 64 relu` has 64 units and a relu.",
  inputs: "one",
  args: { positional: ["units"], bareChoice: { option: "activation", values: ACTIVATIONS } },
  schema: { type: "object", properties: { units: positiveInt("units"), ...weightedOptions() }, required: ["units"], additionalProperties: false },
};
