import { Dim } from "../../check/dims.ts";
import { initializer, positiveInt, regularizer, tfjsInit, trainable } from "../common.ts";
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
  shape: (ctx) => [...ctx.inputs[0], Dim.of(ctx.opts.dim as number)],
  params: (_i, _o, opts) => ({ trainable: (opts.vocab as number) * (opts.dim as number), nonTrainable: 0 }),
  flops: () => Dim.of(0),
  tfjs(opts) {
    const l1 = typeof opts.l1 === "number" ? opts.l1 : 0;
    const l2 = typeof opts.l2 === "number" ? opts.l2 : 0;
    return {
      factory: "embedding",
      config: { inputDim: opts.vocab, outputDim: opts.dim, embeddingsInitializer: tfjsInit(opts.init, "random_uniform"), ...(l1 || l2 ? { embeddingsRegularizer: { l1, l2 } } : {}) },
    };
  },
};
