import { shapeText } from "../../../core/dims.ts";
import { elementwiseFlops, initializer, identityShape, tfjsInit, tfjsTrainable, trainable } from "../common.ts";
import { pyLiteral } from "../../torch.ts";
import { defined, kerasInit } from "../keras.ts";
import { positionKernel, sinusoids } from "./kernel.ts";
import type { LayerKind } from "../types.ts";

export const positional_embedding: LayerKind = {
  name: "positional_embedding",
  doc: "Adds each step's position to a [steps, features] sequence, which attention alone cannot see: learned vectors, one per step (`positional_embedding`, keras_hub's PositionEmbedding), or fixed sinusoids (`positional_embedding sinusoidal`, the Transformer's).",
  inputs: "one",
  role: "weighted",
  mask: () => "keeps",
  args: { positional: [], bareChoice: { option: "mode", values: ["learned", "sinusoidal"] } },
  schema: {
    type: "object",
    properties: {
      mode: { description: "`learned` (trained vectors) or `sinusoidal` (fixed)", enum: ["learned", "sinusoidal"], default: "learned" },
      init: initializer("glorot_uniform"),
      max_wavelength: { description: "a positive number (the longest sinusoid's wavelength)", type: "number", exclusiveMinimum: 0, default: 10000 },
      ...trainable,
    },
    additionalProperties: false,
  },
  shape(ctx) {
    const s = ctx.inputs[0];
    if (s.length !== 2) return ctx.error("rankMismatch", { layer: "positional_embedding", expected: "a [steps, features] sequence", got: shapeText(s) });
    return identityShape(ctx);
  },
  params: ([s], _o, opts) => {
    if (opts.mode !== "learned") return { trainable: 0, nonTrainable: 0 };
    const [t, d] = [s[0].value, s[1].value];
    return t === undefined || d === undefined ? undefined : { trainable: t * d, nonTrainable: 0 };
  },
  flops: elementwiseFlops,
  tfjs: (opts) => ({
    factory: "PositionalEmbedding",
    custom: true,
    config: { mode: opts.mode, maxWavelength: opts.max_wavelength, ...(opts.mode === "learned" ? { embeddingsInitializer: tfjsInit(opts.init, "glorot_uniform") } : {}), ...tfjsTrainable(opts) },
  }),
  onnx: (opts, [x], [s], _out, g) => [g.op("Add", [x, opts.mode === "learned" ? g.weight("embeddings") : g.floats(sinusoids(s[0], s[1], opts.max_wavelength as number), s)])[0]],
  keras: {
    classes: ["PositionalEmbedding"],
    options: (r) => defined({ mode: r.config.mode ?? undefined, max_wavelength: r.config.max_wavelength ?? undefined, init: kerasInit(r, "embeddings_initializer") }),
  },
  torch: (opts, [s]) => ({
    module: `nt.PositionalEmbedding(${s[0]}, ${s[1]}, ${pyLiteral(opts.mode)}, ${pyLiteral(opts.max_wavelength)})`,
    layout: "last",
    call: ([x], self) => `${self}(${x})`,
    weights: { embeddings: { attr: "embeddings", convert: "same" } },
  }),
  kernel: positionKernel,
};
