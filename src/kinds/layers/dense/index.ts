import { Dim, shapeText } from "../../../core/dims.ts";
import type { Json } from "../../../core/json.ts";
import { ACTIVATIONS, onnxActivation, lastAxis, tfjsActivation, positiveInt, tfjsWeighted, torchActivation, weightedOptions, weightParams, withActivation } from "../common.ts";
import { kerasWeighted } from "../keras.ts";
import { pyLiteral } from "../../torch.ts";
import { denseKernel } from "./kernel.ts";
import type { LayerKind } from "../types.ts";

export const dense: LayerKind = {
  name: "dense",
  doc: "Fully connected layer: y = activation(x · W + b), applied to the last axis. `dense 64 relu` has 64 units and a relu.",
  inputs: "one",
  role: "weighted",
  args: { positional: ["units"], bareChoice: { option: "activation", values: ACTIVATIONS } },
  schema: { type: "object", properties: { units: positiveInt("units"), ...weightedOptions() }, required: ["units"], additionalProperties: false },
  shape(ctx) {
    const s = ctx.inputs[0];
    if (s.length === 0) return ctx.error("rankMismatch", { layer: "dense", expected: "an input with at least one axis", got: shapeText(s) });
    return [...s.slice(0, -1), Dim.of(ctx.opts.units as number)];
  },
  params: ([s], _o, opts) => weightParams(lastAxis(s), opts.units as number, opts),
  flops: ([s], out) => out.slice(0, -1).reduce((a, d) => a.mul(d), lastAxis(s).mul(2).mul(lastAxis(out))),
  // step by step over the leading axes; a parameterized activation is a second tfjs layer that refuses masks
  mask: (opts) => (tfjsActivation(opts.activation).then ? undefined : "keeps"),
  tfjs: (opts) => withActivation("dense", { units: opts.units, ...tfjsWeighted(opts) }, opts.activation),
  torch: (opts, [s]) => ({
    module: `nn.Linear(${s[s.length - 1]}, ${opts.units}, bias=${pyLiteral(opts.use_bias)})`,
    layout: "last",
    call: ([x], self) => torchActivation(opts.activation, `${self}(${x})`, "last"),
    weights: { kernel: { attr: "weight", convert: "transpose" }, bias: { attr: "bias", convert: "same" } },
  }),
  onnx(opts, [x], _i, _o, g) {
    const y = g.op("MatMul", [x, g.weight("kernel")])[0];
    return [onnxActivation(g, opts.activation as Json, g.has("bias") ? g.op("Add", [y, g.weight("bias")])[0] : y)];
  },
  keras: { classes: ["Dense"], options: (r) => ({ units: r.config.units, ...kerasWeighted(r) }) },
  kernel: denseKernel,
};
