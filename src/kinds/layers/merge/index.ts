import { addKernel, concatKernel } from "./kernel.ts";
import { Dim, elements, shapeText, type Shape } from "../../../core/dims.ts";
import { noParams, trainable } from "../common.ts";
import { defined } from "../keras.ts";
import type { LayerKind } from "../types.ts";

const inputsProp = { description: "two or more tensor names", type: "array", minItems: 2, items: { type: "string" } };

export const add: LayerKind = {
  role: "merge",
  // TensorFlow.js ANDs the inputs' masks; nnspec's come from one sequence's ids
  mask: () => "keeps",
  kernel: addKernel,
  name: "add",
  doc: "Adds two or more tensors of the same shape element by element: `s = add x, h` (a residual connection).",
  inputs: "many",
  args: { positional: [], rest: "inputs" },
  schema: { type: "object", properties: { inputs: inputsProp, ...trainable }, required: ["inputs"], additionalProperties: false },
  shape(ctx) {
    const [first, ...rest] = ctx.inputs;
    for (const s of rest)
      if (s.length !== first.length || s.some((d, i) => !d.equals(first[i])))
        return ctx.error("mergeMismatch", { layer: "add", detail: ctx.inputs.map(shapeText).join(" and ") }, { help: "make the widths equal, e.g. change the units of one branch or project it with a dense layer" });
    return first;
  },
  params: noParams,
  flops: (inputs, out) => elements(out).mul(inputs.length - 1),
  tfjs: () => ({ factory: "add", config: {} }),
  keras: { classes: ["Add"], options: () => ({}) },
  onnx: (_o, xs, _i, _out, g) => [g.op("Sum", xs)[0]],
  torch: () => ({ layout: "any", call: (xs) => xs.join(" + ") }),
};

export const concat: LayerKind = {
  role: "merge",
  // features joined step by step keep the steps' mask; steps joined would need a longer one
  mask: (opts) => (opts.axis === -1 ? "keeps" : undefined),
  kernel: concatKernel,
  name: "concat",
  doc: "Joins two or more tensors along an axis (the last by default): `c = concat a, b`. The axis counts the batch as 0, as in TensorFlow.js: on [h, w, c] inputs, `axis: 3` or `axis: -1` joins the channels and `axis: 1` or `axis: -3` the rows.",
  inputs: "many",
  args: { positional: [], rest: "inputs" },
  schema: {
    type: "object",
    properties: { inputs: inputsProp, axis: { description: "an axis index", type: "integer", default: -1 }, ...trainable },
    required: ["inputs"],
    additionalProperties: false,
  },
  shape(ctx) {
    const [first] = ctx.inputs;
    const rank = first.length;
    const axisOpt = typeof ctx.opts.axis === "number" ? ctx.opts.axis : -1;
    // Axis counts the batch as 0 in tfjs; -1 is the last axis.
    const axis = axisOpt < 0 ? rank + axisOpt : axisOpt - 1;
    if (axis < 0 || axis >= rank) return ctx.error("invalidShapeArgument", { message: `\`concat\` axis ${axisOpt} is outside inputs of rank ${rank + 1}` }, { at: "/axis" });
    const detail = () => ctx.inputs.map(shapeText).join(" and ");
    let joined = Dim.of(0);
    for (const s of ctx.inputs) {
      if (s.length !== rank || s.some((d, i) => i !== axis && !d.equals(first[i]))) return ctx.error("mergeMismatch", { layer: "concat", detail: detail() });
      joined = joined.add(s[axis]);
    }
    const out: Shape = first.map((d, i) => (i === axis ? joined : d));
    return out;
  },
  params: noParams,
  flops: () => Dim.of(0),
  // TensorFlow.js 4.22 computes the right shape for any negative axis when it builds, but its
  // concatenate kernel joins along the last axis for every negative axis (K.concatenate turns a
  // negative axis into the rank). A positive axis is exact in both, so negative axes are converted.
  tfjs(opts, inputs) {
    const axis = typeof opts.axis === "number" ? opts.axis : -1;
    const rank = inputs[0]?.length ?? 0;
    return { factory: "concatenate", config: { axis: axis < 0 && rank > 0 ? rank + 1 + axis : axis } };
  },
  onnx: (opts, xs, _i, _out, g) => [g.op("Concat", xs, { axis: { i: typeof opts.axis === "number" ? opts.axis : -1 } })[0]],
  // the axis counts the batch as 0 in both
  keras: { classes: ["Concatenate"], options: (r) => defined({ axis: typeof r.config.axis === "number" ? r.config.axis : undefined }) },
  torch: (opts) => ({ layout: "last", call: (xs) => `torch.cat([${xs.join(", ")}], dim=${typeof opts.axis === "number" ? opts.axis : -1})` }),
};
