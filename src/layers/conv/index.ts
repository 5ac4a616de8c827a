import { ACTIVATIONS, padding, positiveInt, weightedOptions, window } from "../common.ts";
import type { LayerKind } from "../types.ts";

const conv = (name: string, axes: number, doc: string): LayerKind => ({
  name,
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
});

export const conv1d = conv("conv1d", 1, "1-D convolution over [steps, channels]: `conv1d 32 kernel: 3 padding: same relu`.");
export const conv2d = conv("conv2d", 2, "2-D convolution over [height, width, channels] (channels last): `conv2d 32 kernel: 4 relu`. Output size is floor((n - k)/s) + 1 with valid padding, ceil(n/s) with same.");
