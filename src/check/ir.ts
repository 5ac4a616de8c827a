import type { Json } from "../core/json.ts";
import type { LoadedData } from "../data/build.ts";
import type { DataSpec, LayerSpec, ModelSpec, Program, TrainSpec } from "../lang/program.ts";
import type { ParamCount } from "../kinds/layers/types.ts";
import type { Dim, Shape } from "../core/dims.ts";

/** The checked program: what the backends read. Shapes are per example; the batch is implicit. */

export interface CheckedLayer {
  spec: LayerSpec;
  inputShapes: Shape[];
  output: Shape;
  /** The shapes of its outputs after the first (`spec.more` names them). */
  more?: Shape[];
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
  /** Which of the producer's outputs it is, when not the first (1: a recurrent layer's h state). */
  index?: number;
  /** It carries a padding mask: the embedding that made it, the ids it reads (id 0 is padding), and
   * whether a recurrent layer has used it yet. */
  mask?: { layer: string; ids: string; used: boolean; merged?: string };
  /** A mask was dropped on the way here (by `by`): TensorFlow.js would still apply it downstream. */
  lostMask?: { layer: string; by: string };
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

/** A loss, optimizer or schedule: its kind and every option, defaults filled in. */
export interface NamedOpts {
  name: string;
  opts: Record<string, Json>;
}

export interface EarlyStopping {
  monitor: string;
  patience: number;
  minDelta: number;
  restoreBest: boolean;
}

/** Everything a backend needs to train: each value as written or its one default. */
export interface TrainConfig {
  loss: NamedOpts;
  optimizer: NamedOpts;
  schedule?: NamedOpts;
  epochs: number;
  batch: number;
  seed: number;
  metrics: string[];
  earlyStopping?: EarlyStopping;
}

export interface CheckedTrain extends TrainSpec {
  /** Undefined when the block lacks a loss or an optimizer that resolved (check reported it). */
  config?: TrainConfig;
}

/** A data block as the loader reads it: known when check loaded its files (see DataHost.loadData). */
export interface DataLayout {
  /** Per-example feature shape after every transform (one-hot widths, `reshape`). */
  featureShape: number[];
  /** The feature names after preprocessing (`color=red` for a one-hot output). */
  featureNames: string[];
  label: LoadedData["label"];
  classNames?: string[];
  /** Rows per part (`unused`: left out by count splits); `kfold` when cross-validating. */
  split: Pick<LoadedData["split"], "train" | "val" | "test" | "unused" | "kfold">;
  /** A text feature's id count (vocabulary, padding and out-of-vocabulary ids). */
  ids?: number;
}

export interface CheckedProgram {
  program: Program;
  models: Map<string, CheckedModel>;
  data: Map<string, DataSpec>;
  /** The layout of each data block whose files check loaded. */
  layouts: Map<string, DataLayout>;
  trains: CheckedTrain[];
}
