import { padding, trainable, window } from "../common.ts";
import type { LayerKind } from "../types.ts";

const pool = (name: string, axes: number, doc: string): LayerKind => ({
  name,
  doc,
  inputs: "one",
  args: { positional: ["pool"] },
  schema: {
    type: "object",
    properties: { pool: window("window size", axes, 2), stride: window("stride; defaults to the window size", axes), padding, ...trainable },
    additionalProperties: false,
  },
});

const globalPool = (name: string, doc: string): LayerKind => ({
  name,
  doc,
  inputs: "one",
  args: { positional: [] },
  schema: { type: "object", properties: { ...trainable }, additionalProperties: false },
});

export const maxpool1d = pool("maxpool1d", 1, "1-D max pooling over steps: `maxpool1d 2`.");
export const avgpool1d = pool("avgpool1d", 1, "1-D average pooling over steps: `avgpool1d 2`.");
export const maxpool2d = pool("maxpool2d", 2, "2-D max pooling: `maxpool2d 3` takes the maximum of each 3×3 window, stride 3 unless given.");
export const avgpool2d = pool("avgpool2d", 2, "2-D average pooling: `avgpool2d 2` averages each 2×2 window, stride 2 unless given.");
export const global_maxpool1d = globalPool("global_maxpool1d", "Maximum over all steps: [steps, c] → [c].");
export const global_avgpool1d = globalPool("global_avgpool1d", "Average over all steps: [steps, c] → [c].");
export const global_maxpool2d = globalPool("global_maxpool2d", "Maximum over height and width: [h, w, c] → [c].");
export const global_avgpool2d = globalPool("global_avgpool2d", "Average over height and width: [h, w, c] → [c].");
