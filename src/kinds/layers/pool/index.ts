import type { KernelFactory } from "../../../core/kernel.ts";
import { avgpool1dKernel, avgpool2dKernel, globalAvgpoolKernel, globalMaxpoolKernel, maxpool1dKernel, maxpool2dKernel } from "./kernel.ts";
import { Dim, elements } from "../../../core/dims.ts";
import type { Json } from "../../../core/json.ts";
import { channelsFirst, onnxPads, checkPositive, lastAxis, needRank, noParams, padding, perAxis, samePads, trainable, window, windowOut } from "../common.ts";
import { defined, kerasAxes, kerasClass } from "../keras.ts";
import { pyLiteral } from "../../torch.ts";
import type { LayerKind } from "../types.ts";

const pool = (name: string, axes: number, tf: string, doc: string, kernel: KernelFactory): LayerKind => ({
  name,
  role: "pool",
  kernel,
  doc,
  inputs: "one",
  args: { positional: ["pool"] },
  schema: {
    type: "object",
    properties: { pool: window("window size", axes, 2), stride: window("stride; defaults to the window size", axes), padding, ...trainable },
    additionalProperties: false,
  },
  shape(ctx) {
    const s = needRank(ctx, name, axes + 1, axes === 2 ? "[height, width, channels]" : "[steps, channels]");
    if (!s) return undefined;
    const p = perAxis(ctx.opts.pool, axes, 2);
    const st = ctx.opts.stride === undefined ? p : perAxis(ctx.opts.stride, axes, 1);
    const pad = ctx.opts.padding === "same" ? "same" : "valid";
    const out: Dim[] = [];
    for (let i = 0; i < axes; i++) {
      const o = windowOut(s[i], p[i], st[i], 1, pad);
      if (!checkPositive(ctx, name, o, axes === 2 ? ["height", "width"][i] : "length", s[i], p[i])) return undefined;
      out.push(o);
    }
    return [...out, lastAxis(s)];
  },
  params: noParams,
  flops: (_i, out, opts) => elements(out).mul(perAxis(opts.pool, axes, 2).reduce((a, b) => a * b, 1)),
  onnx(opts, [x], [s], _o, g) {
    const p = perAxis(opts.pool as Json, axes, 2);
    const st = opts.stride === undefined ? p : perAxis(opts.stride as Json, axes, 1);
    // AveragePool leaves padding out of the count, as TensorFlow does
    const op = name.startsWith("max") ? "MaxPool" : "AveragePool";
    const pads = onnxPads(opts.padding, s.slice(0, axes), p, st, p.map(() => 1));
    return [channelsFirst(g, x, axes, (xf) => g.op(op, [xf], { kernel_shape: { ints: p }, strides: { ints: st }, pads: { ints: pads } })[0])];
  },
  keras: {
    classes: [kerasClass(tf)],
    options(r) {
      const pool = kerasAxes(r.config.pool_size);
      const stride = kerasAxes(r.config.strides ?? r.config.pool_size);
      // the stride defaults to the window
      return defined({ pool, stride: JSON.stringify(stride) === JSON.stringify(pool) ? undefined : stride, padding: r.config.padding });
    },
  },
  tfjs(opts) {
    const p = perAxis(opts.pool, axes, 2);
    const st = opts.stride === undefined ? p : perAxis(opts.stride, axes, 1);
    return { factory: tf, config: { poolSize: axes === 1 ? p[0] : p, strides: axes === 1 ? st[0] : st, padding: opts.padding === "same" ? "same" : "valid" } };
  },
  torch(opts, [s]) {
    const p = perAxis(opts.pool, axes, 2);
    const st = opts.stride === undefined ? p : perAxis(opts.stride, axes, 1);
    const pads = opts.padding === "same" ? samePads(s.slice(0, axes), p, st, p.map(() => 1)) : p.map((): [number, number] => [0, 0]);
    const fn = name.startsWith("max") ? "max_pool" : "avg_pool";
    return { layout: "first", call: ([x]) => `nt.${fn}(${x}, ${pyLiteral(p)}, ${pyLiteral(st)}, ${pyLiteral(pads.flat())})` };
  },
});

const globalPool = (name: string, axes: number, tf: string, doc: string, kernel: KernelFactory): LayerKind => ({
  name,
  role: "pool",
  kernel,
  doc,
  inputs: "one",
  args: { positional: [] },
  schema: { type: "object", properties: { ...trainable }, additionalProperties: false },
  shape(ctx) {
    const s = needRank(ctx, name, axes + 1, axes === 2 ? "[height, width, channels]" : "[steps, channels]");
    return s ? [lastAxis(s)] : undefined;
  },
  params: noParams,
  flops: ([s]) => elements(s),
  onnx: (_o, [x], _i, _out, g) => [g.op(name.includes("max") ? "ReduceMax" : "ReduceMean", [x], { axes: { ints: Array.from({ length: axes }, (_, i) => i + 1) }, keepdims: { i: 0 } })[0]],
  keras: { classes: [kerasClass(tf)], options: () => ({}) },
  tfjs: () => ({ factory: tf, config: {} }),
  torch: () => {
    const fn = name.includes("max") ? "amax" : "mean";
    return { layout: "any", call: ([x], _self, layout) => `${x}.${fn}(dim=${pyLiteral(Array.from({ length: axes }, (_, i) => i + (layout === "first" ? 2 : 1)))})` };
  },
});

export const maxpool1d = pool("maxpool1d", 1, "maxPooling1d", "1-D max pooling over steps: `maxpool1d 2`.", maxpool1dKernel);
export const avgpool1d = pool("avgpool1d", 1, "averagePooling1d", "1-D average pooling over steps: `avgpool1d 2`.", avgpool1dKernel);
export const maxpool2d = pool("maxpool2d", 2, "maxPooling2d", "2-D max pooling: `maxpool2d 3` takes the maximum of each 3×3 window, stride 3 unless given.", maxpool2dKernel);
export const avgpool2d = pool("avgpool2d", 2, "averagePooling2d", "2-D average pooling: `avgpool2d 2` averages each 2×2 window, stride 2 unless given.", avgpool2dKernel);
export const global_maxpool1d = globalPool("global_maxpool1d", 1, "globalMaxPooling1d", "Maximum over all steps: [steps, c] → [c].", globalMaxpoolKernel);
export const global_avgpool1d = globalPool("global_avgpool1d", 1, "globalAveragePooling1d", "Average over all steps: [steps, c] → [c].", globalAvgpoolKernel);
export const global_maxpool2d = globalPool("global_maxpool2d", 2, "globalMaxPooling2d", "Maximum over height and width: [h, w, c] → [c].", globalMaxpoolKernel);
export const global_avgpool2d = globalPool("global_avgpool2d", 2, "globalAveragePooling2d", "Average over height and width: [h, w, c] → [c].", globalAvgpoolKernel);
