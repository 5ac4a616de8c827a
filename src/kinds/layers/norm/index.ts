import { pyLiteral } from "../../torch.ts";
import { batchnormKernel, layernormKernel } from "./kernel.ts";
import { booleanOption, numberOption } from "../../../core/options.ts";
import { shapeText } from "../../../core/dims.ts";
import { bool, elementwiseFlops, lastAxis, tfjsTrainable, trainable } from "../common.ts";
import type { KerasReader, LayerKind, ShapeContext } from "../types.ts";
import { defined } from "../keras.ts";

const eps = { description: "a small positive number", type: "number", exclusiveMinimum: 0 };
const needAxis = (layer: string) => (ctx: ShapeContext) =>
  ctx.inputs[0].length ? ctx.inputs[0] : ctx.error("rankMismatch", { layer, expected: "an input with at least one axis", got: shapeText(ctx.inputs[0]) });
const affine = (opts: Record<string, unknown>) => (opts.center === false ? 0 : 1) + (opts.scale === false ? 0 : 1);

/** A normalization's options, read under the same names; `axis` (-1, the only one) is compared by the importer. */
const normOptions = (r: KerasReader, keys: string[]) => defined(Object.fromEntries(keys.map((k) => [k, r.config[k] ?? undefined])));

export const batchnorm: LayerKind = {
  role: "norm",
  // as TensorFlow.js: a padding mask passes on, and padded steps count in batch norm's moments
  mask: () => "keeps",
  kernel: batchnormKernel,
  name: "batchnorm",
  doc: "Batch normalization over the last axis: normalizes with the batch's statistics in training and the moving averages at inference, then scales by gamma and shifts by beta.",
  inputs: "one",
  args: { positional: [] },
  schema: {
    type: "object",
    properties: {
      momentum: { description: "a number in [0, 1] (moving-average momentum)", type: "number", minimum: 0, maximum: 1, default: 0.99 },
      epsilon: { ...eps, default: 0.001 },
      center: bool(true),
      scale: bool(true),
      ...trainable,
    },
    additionalProperties: false,
  },
  shape: needAxis("batchnorm"),
  params([s], _o, opts) {
    const c = lastAxis(s).value;
    return c === undefined ? undefined : { trainable: affine(opts) * c, nonTrainable: 2 * c };
  },
  flops: elementwiseFlops,
  // at inference an affine map per channel (last axis): x·γ/√(var + ε) + (β − mean·γ/√(var + ε))
  onnx(opts, [x], _i, out, g) {
    const c = out[out.length - 1];
    const mean = g.param("moving_mean").values;
    const v = g.param("moving_variance").values;
    const gamma = g.has("gamma") ? g.param("gamma").values : new Float32Array(c).fill(1);
    const beta = g.has("beta") ? g.param("beta").values : new Float32Array(c);
    const eps = opts.epsilon as number;
    const a = Float64Array.from(gamma, (s, i) => s / Math.sqrt(v[i] + eps));
    const b = Float64Array.from(beta, (t, i) => t - mean[i] * a[i]);
    return [g.op("Add", [g.op("Mul", [x, g.floats(a, [c])])[0], g.floats(b, [c])])[0]];
  },
  keras: { classes: ["BatchNormalization"], options: (r) => normOptions(r, ["momentum", "epsilon", "center", "scale"]) },
  tfjs: (opts) => ({
    factory: "batchNormalization",
    config: { axis: -1, momentum: numberOption(opts, "momentum"), epsilon: numberOption(opts, "epsilon"), center: booleanOption(opts, "center"), scale: booleanOption(opts, "scale"), ...tfjsTrainable(opts) },
  }),
  torch: (opts, [s]) => ({
    module: `nt.BatchNorm(${s[s.length - 1]}, momentum=${pyLiteral(opts.momentum)}, eps=${pyLiteral(opts.epsilon)}, center=${pyLiteral(opts.center)}, scale=${pyLiteral(opts.scale)})`,
    layout: "any",
    call: ([x], self, layout) => `${self}(${x}, ${layout === "first" ? 1 : -1})`,
    weights: { gamma: { attr: "weight", convert: "same" }, beta: { attr: "bias", convert: "same" }, moving_mean: { attr: "running_mean", convert: "same" }, moving_variance: { attr: "running_var", convert: "same" } },
  }),
};

export const layernorm: LayerKind = {
  role: "norm",
  // as TensorFlow.js: a padding mask passes on, and padded steps count in batch norm's moments
  mask: () => "keeps",
  kernel: layernormKernel,
  name: "layernorm",
  doc: "Layer normalization: normalizes each example over its last axis, then scales by gamma and shifts by beta.",
  inputs: "one",
  args: { positional: [] },
  schema: {
    type: "object",
    properties: { epsilon: { ...eps, default: 0.001 }, center: bool(true), scale: bool(true), ...trainable },
    additionalProperties: false,
  },
  shape: needAxis("layernorm"),
  params([s], _o, opts) {
    const c = lastAxis(s).value;
    return c === undefined ? undefined : { trainable: affine(opts) * c, nonTrainable: 0 };
  },
  flops: elementwiseFlops,
  onnx(opts, [x], _i, out, g) {
    const c = out[out.length - 1];
    const scale = g.has("gamma") ? g.weight("gamma") : g.floats(new Float32Array(c).fill(1), [c]);
    const bias = g.has("beta") ? [g.weight("beta")] : [];
    return [g.op("LayerNormalization", [x, scale, ...bias], { axis: { i: -1 }, epsilon: { f: opts.epsilon as number } })[0]];
  },
  keras: { classes: ["LayerNormalization"], options: (r) => normOptions(r, ["epsilon", "center", "scale"]) },
  tfjs: (opts) => ({ factory: "layerNormalization", config: { axis: -1, epsilon: numberOption(opts, "epsilon"), center: booleanOption(opts, "center"), scale: booleanOption(opts, "scale"), ...tfjsTrainable(opts) } }),
  torch: (opts, [s]) => ({
    module: `nt.LayerNorm(${s[s.length - 1]}, eps=${pyLiteral(opts.epsilon)}, center=${pyLiteral(opts.center)}, scale=${pyLiteral(opts.scale)})`,
    layout: "last",
    call: ([x], self) => `${self}(${x})`,
    weights: { gamma: { attr: "weight", convert: "same" }, beta: { attr: "bias", convert: "same" } },
  }),
};
