import { Dim, elements, shapeText } from "../../../core/dims.ts";
import { noParams, trainable } from "../common.ts";
import { flattenKernel } from "./kernel.ts";
import type { LayerKind } from "../types.ts";

export const flatten: LayerKind = {
  name: "flatten",
  doc: "Flattens every axis but the batch into one: [7, 7, 64] → [3136]. On an input that is already flat it does nothing.",
  inputs: "one",
  role: "reshape",
  ints: "passes",
  args: { positional: [] },
  schema: { type: "object", properties: { ...trainable }, additionalProperties: false },
  shape(ctx) {
    const s = ctx.inputs[0];
    if (s.length === 0) return ctx.error("rankMismatch", { layer: "flatten", expected: "an input with at least one axis", got: shapeText(s) });
    return [elements(s)];
  },
  params: noParams,
  flops: () => Dim.of(0),
  // tf.layers.flatten needs a rank of at least 2 per example and every dimension known; a reshape to
  // [n] (or [-1] when n is symbolic) is the same operation without those limits.
  keras: { classes: ["Flatten"], options: () => ({}) },
  onnx: (_o, [x], _i, _out, g) => [g.op("Flatten", [x], { axis: { i: 1 } })[0]],
  tfjs: (_opts, [s]) => (s && s.length >= 2 && s.every((d) => d.isKnown) ? { factory: "flatten", config: {} } : { factory: "reshape", config: { targetShape: [elements(s ?? []).value ?? -1] } }),
  torch: () => ({ layout: "last", call: ([x]) => `torch.flatten(${x}, 1)` }),
  kernel: flattenKernel,
};
