import { trainable } from "../common.ts";
import type { LayerKind } from "../types.ts";

export const reshape: LayerKind = {
  name: "reshape",
  doc: "Reshapes each example to the given shape; one dimension may be -1 and is inferred: `reshape [8, 8, 1]`.",
  inputs: "one",
  args: { positional: ["shape"] },
  schema: {
    type: "object",
    properties: {
      shape: { description: "a list of dimensions, such as [8, 8, 1]", type: "array", minItems: 1, items: { anyOf: [{ type: "integer", minimum: -1 }, { type: "string" }] } },
      ...trainable,
    },
    required: ["shape"],
    additionalProperties: false,
  },
};
