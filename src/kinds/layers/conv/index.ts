import type { KernelFactory } from "../../../core/kernel.ts";
import { conv1dKernel, conv2dKernel } from "./kernel.ts";
import { Dim, elements } from "../../../core/dims.ts";
import type { Json } from "../../../core/json.ts";
import { permute } from "../../onnx.ts";
import { ACTIVATIONS, channelsFirst, onnxActivation, onnxPads, checkPositive, lastAxis, needRank, padding, perAxis, positiveInt, samePads, tfjsWeighted, torchActivation, torchPadArg, weightedOptions, weightParams, window, windowOut, withActivation } from "../common.ts";
import { defined, kerasAxes, kerasWeighted } from "../keras.ts";
import { pyLiteral } from "../../torch.ts";
import type { LayerKind } from "../types.ts";

const fmt = (v: number[]): string => (v.every((x) => x === v[0]) ? String(v[0]) : `[${v.join(", ")}]`);

const conv = (name: string, axes: number, doc: string, kernel: KernelFactory): LayerKind => ({
  name,
  role: "weighted",
  kernel,
  doc,
  inputs: "one",
  args: { positional: ["filters"], bareChoice: { option: "activation", values: ACTIVATIONS } },
  schema: {
    type: "object",
    properties: {
      filters: positiveInt("output channels"),
      kernel: window("kernel size", axes),
      stride: window("stride", axes, 1),
      padding,
      dilation: window("dilation rate", axes, 1),
      ...weightedOptions(),
    },
    required: ["filters", "kernel"],
    additionalProperties: false,
  },
  shape(ctx) {
    const s = needRank(ctx, name, axes + 1, axes === 2 ? "[height, width, channels]" : "[steps, channels]");
    if (!s) return undefined;
    const k = perAxis(ctx.opts.kernel, axes, 1);
    const st = perAxis(ctx.opts.stride, axes, 1);
    const dl = perAxis(ctx.opts.dilation, axes, 1);
    const pad = ctx.opts.padding === "same" ? "same" : "valid";
    // TensorFlow.js (like TensorFlow) convolves with either strides or dilations of 1, never both.
    if (st.some((x) => x > 1) && dl.some((x) => x > 1))
      return ctx.error(
        "invalidShapeArgument",
        { message: `\`${name}\` cannot combine a stride of ${fmt(st)} with a dilation of ${fmt(dl)}: TensorFlow.js needs one of them to be 1` },
        { at: "/dilation", help: "use `stride: 1` with the dilation, or follow the dilated convolution with a pooling layer" },
      );
    const out: Dim[] = [];
    for (let i = 0; i < axes; i++) {
      const o = windowOut(s[i], k[i], st[i], dl[i], pad);
      if (!checkPositive(ctx, name, o, axes === 2 ? ["height", "width"][i] : "length", s[i], (k[i] - 1) * dl[i] + 1)) return undefined;
      out.push(o);
    }
    return [...out, Dim.of(ctx.opts.filters as number)];
  },
  params([s], _o, opts) {
    const k = perAxis(opts.kernel, axes, 1).reduce((a, b) => a * b, 1);
    return weightParams(lastAxis(s).mul(k), opts.filters as number, opts);
  },
  flops([s], out, opts) {
    const k = perAxis(opts.kernel, axes, 1).reduce((a, b) => a * b, 1);
    return elements(out).mul(lastAxis(s)).mul(2 * k);
  },
  onnx(opts, [x], [s], _o, g) {
    const k = g.param("kernel");
    const [window, stride, dilation] = [perAxis(opts.kernel as Json, axes, 1), perAxis(opts.stride as Json, axes, 1), perAxis(opts.dilation as Json, axes, 1)];
    // [...window, in, out] → ONNX's [out, in, ...window]
    const w = permute(k.values, k.shape, axes === 2 ? [3, 2, 0, 1] : [2, 1, 0]);
    const y = channelsFirst(g, x, axes, (xf) =>
      g.op("Conv", [xf, g.floats(w.values, w.shape), ...(g.has("bias") ? [g.weight("bias")] : [])], {
        kernel_shape: { ints: window },
        strides: { ints: stride },
        dilations: { ints: dilation },
        pads: { ints: onnxPads(opts.padding, s.slice(0, axes), window, stride, dilation) },
      })[0],
    );
    return [onnxActivation(g, opts.activation as Json, y)];
  },
  keras: {
    classes: [axes === 1 ? "Conv1D" : "Conv2D"],
    options: (r) => ({
      filters: r.config.filters,
      ...defined({ kernel: kerasAxes(r.config.kernel_size), stride: kerasAxes(r.config.strides), padding: r.config.padding, dilation: kerasAxes(r.config.dilation_rate) }),
      ...kerasWeighted(r),
    }),
  },
  tfjs(opts) {
    const k = perAxis(opts.kernel, axes, 1);
    const st = perAxis(opts.stride, axes, 1);
    const dl = perAxis(opts.dilation, axes, 1);
    const config = {
      filters: opts.filters,
      kernelSize: axes === 1 ? k[0] : k,
      strides: axes === 1 ? st[0] : st,
      padding: opts.padding === "same" ? "same" : "valid",
      dilationRate: axes === 1 ? dl[0] : dl,
      ...tfjsWeighted(opts),
    };
    return withActivation(name, config, opts.activation);
  },
  torch(opts, [s]) {
    const k = perAxis(opts.kernel, axes, 1);
    const st = perAxis(opts.stride, axes, 1);
    const dl = perAxis(opts.dilation, axes, 1);
    const pads = opts.padding === "same" ? samePads(s.slice(0, axes), k, st, dl) : [];
    const padded = (x: string): string => (pads.some(([a, b]) => a || b) ? `F.pad(${x}, ${torchPadArg(pads)})` : x);
    const tuple = (v: number[]): string => pyLiteral(v);
    return {
      module: `nn.Conv${axes}d(${s[axes]}, ${opts.filters}, kernel_size=${tuple(k)}, stride=${tuple(st)}, dilation=${tuple(dl)}, bias=${pyLiteral(opts.use_bias)})`,
      layout: "first",
      call: ([x], self) => torchActivation(opts.activation, `${self}(${padded(x)})`, "first"),
      weights: { kernel: { attr: "weight", convert: "channels_first" }, bias: { attr: "bias", convert: "same" } },
    };
  },
});

export const conv1d = conv("conv1d", 1, "1-D convolution over [steps, channels]: `conv1d 32 kernel: 3 padding: same relu`. Output length is floor((n - k)/s) + 1 with valid padding, ceil(n/s) with same, where a dilation d makes the window (k - 1)·d + 1 wide. A stride and a dilation cannot both exceed 1 (TensorFlow.js supports one or the other).", conv1dKernel);
export const conv2d = conv("conv2d", 2, "2-D convolution over [height, width, channels] (channels last): `conv2d 32 kernel: 4 relu`. Output size is floor((n - k)/s) + 1 with valid padding, ceil(n/s) with same, where a dilation d makes the window (k - 1)·d + 1 wide. A stride and a dilation cannot both exceed 1 (TensorFlow.js supports one or the other).", conv2dKernel);
