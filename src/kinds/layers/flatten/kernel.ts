/** Flatten kernel: the data is already laid out row-major, so it is a copy each way. */
import { copyKernel } from "../reshape/kernel.ts";

export const flattenKernel = copyKernel;
