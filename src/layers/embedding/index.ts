import { initializer, positiveInt, regularizer, trainable } from "../common.ts";
import type { LayerKind } from "../types.ts";

export const embedding: LayerKind = {
  name: "embedding",
  doc: "Maps integer ids in [0, vocab) to learned vectors: `embedding 1000 64` turns [seq] into [seq, 64].",
  inputs: "one",
  args: { positional: ["vocab", "dim"] },
  schema: {
    type: "object",
    properties: { vocab: positiveInt("vocabulary size"), dim: positiveInt("embedding width"), init: initializer("random_uniform"), l1: regularizer, l2: regularizer, ...trainable },
    required: ["vocab", "dim"],
    additionalProperties: false,
  },
};
