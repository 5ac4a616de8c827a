import type { DataSpec, LayerSpec, ModelSpec, Program, TrainSpec } from "../lang/program.ts";
import type { ParamCount } from "../kinds/layers/types.ts";
import type { Dim, Shape } from "../core/dims.ts";

/** The checked program: what the backends read. Shapes are per example; the batch is implicit. */

export interface CheckedLayer {
  spec: LayerSpec;
  inputShapes: Shape[];
  output: Shape;
  /** Undefined when it depends on a symbolic dimension. `trainable: false` already applied. */
  params?: ParamCount;
  flops: Dim;
}

export interface TensorInfo {
  name: string;
  shape: Shape;
  dtype: "float" | "int";
  /** The layer that produced it; undefined for a model input. */
  producer?: CheckedLayer;
}

export interface CheckedModel {
  spec: ModelSpec;
  inputs: TensorInfo[];
  /** Layers whose shapes could be computed, in order. */
  layers: CheckedLayer[];
  outputs: TensorInfo[];
  tensors: Map<string, TensorInfo>;
  /** Whether every layer and output checked without error. */
  complete: boolean;
}

export interface CheckedProgram {
  program: Program;
  models: Map<string, CheckedModel>;
  data: Map<string, DataSpec>;
  trains: TrainSpec[];
}
