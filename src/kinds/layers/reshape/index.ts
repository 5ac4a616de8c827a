import { Dim, elements, shapeText } from "../../../core/dims.ts";
import { noParams, trainable } from "../common.ts";
import { reshapeKernel } from "./kernel.ts";
import type { LayerKind } from "../types.ts";

export const reshape: LayerKind = {
  name: "reshape",
  doc: "Reshapes each example to the given shape; one dimension may be -1 and is inferred: `reshape [8, 8, 1]`.",
  inputs: "one",
  role: "reshape",
  ints: "passes",
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
  shape(ctx) {
    const raw = ctx.opts.shape as (number | string)[];
    const have = elements(ctx.inputs[0]);
    const dims: (Dim | undefined)[] = [];
    let infer = -1;
    for (let i = 0; i < raw.length; i++) {
      if (raw[i] === -1) {
        if (infer >= 0) return ctx.error("invalidShapeArgument", { message: "`reshape` may infer only one dimension: two are -1" }, { at: `/shape/${i}` });
        infer = i;
        dims.push(undefined);
        continue;
      }
      const d = ctx.dim(raw[i], `/shape/${i}`);
      if (!d) return undefined;
      if (d.value !== undefined && d.value <= 0) return ctx.error("invalidDimension", { text: String(d), why: "dimensions are positive (or -1 to infer one)" }, { at: `/shape/${i}` });
      dims.push(d);
    }
    const fixed = dims.reduce<Dim>((a, d) => (d ? a.mul(d) : a), Dim.of(1));
    const target = `[${raw.join(", ")}]`;
    if (infer >= 0) {
      const q = have.divBy(fixed);
      if (!q || (q.value !== undefined && q.value <= 0))
        return ctx.error("reshapeCount", { target, need: `a multiple of ${fixed}`, got: shapeText(ctx.inputs[0]), have: String(have) });
      dims[infer] = q;
    } else if (!fixed.equals(have)) {
      return ctx.error("reshapeCount", { target, need: String(fixed), got: shapeText(ctx.inputs[0]), have: String(have) });
    }
    return dims as Dim[];
  },
  params: noParams,
  flops: () => Dim.of(0),
  // 0 keeps the batch
  onnx: (_o, [x], _i, out, g) => [g.op("Reshape", [x, g.ints([0, ...out])])[0]],
  keras: { classes: ["Reshape"], options: (r) => ({ shape: r.config.target_shape }) },
  tfjs(opts, [input]) {
    // A symbolic target dimension (`n`) has no value in TensorFlow.js: it becomes the one inferred -1.
    const targetShape = (opts.shape as (number | string)[]).map((d) => (typeof d === "number" ? d : -1));
    const unknown = targetShape.filter((d) => d === -1).length;
    if (unknown > 1)
      throw new Error(`\`reshape [${(opts.shape as unknown[]).join(", ")}]\` cannot be built in TensorFlow.js: it infers at most one dimension, and this target has ${unknown} that are -1 or symbolic`);
    // tf.layers.reshape leaves a -1 unknown (null) when it builds, because it counts the batch as an
    // unknown dimension; with a known input size, give it the inferred value.
    const have = input ? elements(input).value : undefined;
    if (unknown === 1 && have !== undefined) {
      const rest = targetShape.reduce((a, d) => (d === -1 ? a : a * d), 1);
      if (have % rest === 0) return { factory: "reshape", config: { targetShape: targetShape.map((d) => (d === -1 ? have / rest : d)) } };
    }
    return { factory: "reshape", config: { targetShape } };
  },
  torch: (_opts, _i, out) => ({ layout: "last", call: ([x]) => `${x}.reshape(${x}.shape[0], ${out.join(", ")})` }),
  kernel: reshapeKernel,
};
