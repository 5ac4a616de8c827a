import { elementwiseFlops, identityShape, noParams, trainable } from "../common.ts";
import { dropoutKernel } from "./kernel.ts";
import type { LayerKind } from "../types.ts";
import { pyLiteral } from "../../torch.ts";

export const dropout: LayerKind = {
  name: "dropout",
  doc: "During training, zeroes each value with probability `rate` and scales the rest by 1/(1 - rate); the identity at inference.",
  inputs: "one",
  role: "dropout",
  identity: true,
  mask: () => "keeps",
  args: { positional: ["rate"] },
  schema: {
    type: "object",
    properties: { rate: { description: "a probability in [0, 1)", type: "number", minimum: 0, exclusiveMaximum: 1 }, seed: { description: "an integer seed", type: "integer" }, ...trainable },
    required: ["rate"],
    additionalProperties: false,
  },
  shape: identityShape,
  params: noParams,
  flops: elementwiseFlops,
  tfjs: (opts) => ({ factory: "dropout", config: { rate: opts.rate, ...(typeof opts.seed === "number" ? { seed: opts.seed } : {}) } }),
  onnx: (_o, [x], _i, _out, g) => [g.op("Identity", [x])[0]],
  keras: { classes: ["Dropout"], options: (r) => ({ rate: r.config.rate, ...(typeof r.config.seed === "number" ? { seed: r.config.seed } : {}) }) },
  // the interpreter's masks, drawn from the layer's own stream (nt.Dropout)
  torch: (opts, _i, _o, layer) => ({
    module: `nt.Dropout(${pyLiteral(opts.rate)}, ${pyLiteral(layer)}${typeof opts.seed === "number" ? `, seed=${opts.seed}` : ""})`,
    layout: "any",
    call: ([x], self) => `${self}(${x})`,
  }),
  kernel: dropoutKernel,
};
