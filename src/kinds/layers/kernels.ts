/**
 * The interpreter's kernels by layer kind. Each kernel lives in its kind's folder next to the
 * kind's shape rule (`<kind>/kernel.ts`); this map is the one place that lists them.
 */
import type { KernelFactory } from "../../core/kernel.ts";
import { ACTIVATION_KERNELS } from "./activations/kernel.ts";
import { conv1dKernel, conv2dKernel } from "./conv/kernel.ts";
import { denseKernel } from "./dense/kernel.ts";
import { dropoutKernel } from "./dropout/kernel.ts";
import { embeddingKernel } from "./embedding/kernel.ts";
import { flattenKernel } from "./flatten/kernel.ts";
import { addKernel, concatKernel } from "./merge/kernel.ts";
import { batchnormKernel, layernormKernel } from "./norm/kernel.ts";
import { avgpool1dKernel, avgpool2dKernel, globalAvgpoolKernel, globalMaxpoolKernel, maxpool1dKernel, maxpool2dKernel } from "./pool/kernel.ts";
import { reshapeKernel } from "./reshape/kernel.ts";

export const KERNELS: ReadonlyMap<string, KernelFactory> = new Map<string, KernelFactory>([
  ["dense", denseKernel],
  ["conv1d", conv1dKernel],
  ["conv2d", conv2dKernel],
  ["maxpool1d", maxpool1dKernel],
  ["avgpool1d", avgpool1dKernel],
  ["maxpool2d", maxpool2dKernel],
  ["avgpool2d", avgpool2dKernel],
  ["global_maxpool1d", globalMaxpoolKernel],
  ["global_avgpool1d", globalAvgpoolKernel],
  ["global_maxpool2d", globalMaxpoolKernel],
  ["global_avgpool2d", globalAvgpoolKernel],
  ["flatten", flattenKernel],
  ["reshape", reshapeKernel],
  ["dropout", dropoutKernel],
  ["batchnorm", batchnormKernel],
  ["layernorm", layernormKernel],
  ["embedding", embeddingKernel],
  ["add", addKernel],
  ["concat", concatKernel],
  ...Object.entries(ACTIVATION_KERNELS),
]);
