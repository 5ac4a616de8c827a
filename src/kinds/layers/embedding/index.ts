import { Dim } from "../../../core/dims.ts";
import { initializer, positiveInt, regularizer, tfjsInit, tfjsRegularizer, tfjsTrainable, trainable } from "../common.ts";
import { defined, kerasInit, kerasRegularizer } from "../keras.ts";
import { embeddingKernel } from "./kernel.ts";
import type { LayerKind } from "../types.ts";

export const embedding: LayerKind = {
  name: "embedding",
  doc: "Maps integer ids in [0, vocab) to learned vectors: `embedding 1000 64` turns [seq] into [seq, 64], and any shape [...] into [..., 64]. Its input is normally an `int` model input; float values are truncated to integers (as TensorFlow.js casts them). `mask_zero: true` marks id 0 as padding: recurrent layers leave their state unchanged on those steps (the layers between must work step by step).",
  inputs: "one",
  role: "weighted",
  ints: "reads",
  mask: (opts) => (opts.mask_zero === true ? "makes" : undefined),
  args: { positional: ["vocab", "dim"] },
  schema: {
    type: "object",
    properties: {
      vocab: positiveInt("vocabulary size"),
      dim: positiveInt("embedding width"),
      mask_zero: { description: "true or false (whether id 0 is padding: recurrent layers then skip those steps, as Keras's `mask_zero`)", type: "boolean", default: false },
      init: initializer("random_uniform"),
      l1: regularizer,
      l2: regularizer,
      ...trainable,
    },
    required: ["vocab", "dim"],
    additionalProperties: false,
  },
  shape: (ctx) => [...ctx.inputs[0], Dim.of(ctx.opts.dim as number)],
  params: (_i, _o, opts) => ({ trainable: (opts.vocab as number) * (opts.dim as number), nonTrainable: 0 }),
  flops: () => Dim.of(0),
  tfjs(opts) {
    const reg = tfjsRegularizer(opts);
    return {
      factory: "embedding",
      config: { inputDim: opts.vocab, outputDim: opts.dim, ...(opts.mask_zero === true ? { maskZero: true } : {}), embeddingsInitializer: tfjsInit(opts.init, "random_uniform"), ...(reg ? { embeddingsRegularizer: reg } : {}), ...tfjsTrainable(opts) },
    };
  },
  // ids truncated to integers, as the interpreter and tfjs read them
  onnx: (_o, [x], _i, _out, g) => [g.op("Gather", [g.weight("embeddings"), g.op("Cast", [x], { to: { i: 7 } })[0]])[0]],
  keras: {
    classes: ["Embedding"],
    options: (r) => ({ vocab: r.config.input_dim, dim: r.config.output_dim, ...defined({ mask_zero: r.config.mask_zero ?? undefined, init: kerasInit(r, "embeddings_initializer") }), ...kerasRegularizer(r, "embeddings_regularizer") }),
  },
  torch: (opts) => ({ module: `nn.Embedding(${opts.vocab}, ${opts.dim})`, layout: "last", call: ([x], self) => `${self}(${x}.long())`, weights: { embeddings: { attr: "weight", convert: "same" } } }),
  kernel: embeddingKernel,
};
