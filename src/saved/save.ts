/**
 * Saving a trained model in the TensorFlow.js Layers format, so that `tf.loadLayersModel` opens it:
 *
 *   model.json    `modelTopology` (Keras JSON as tfjs-layers writes it) and `weightsManifest`
 *   weights.bin   every weight as float32, little endian, in tfjs's order (trainable weights layer by
 *                 layer, then the non-trainable ones: frozen layers' and batchnorm's moving statistics)
 *   nnspec.json   what tfjs has no place for: the fitted preprocessing, class names, the training
 *                 configuration, and the spec's name and hash
 *
 * Each layer's class name and config come from its kind's `tfjs()` mapping (the one code generation
 * and the differential tests use), converted the way tfjs-layers serializes a config: camelCase keys
 * become snake_case, initializer names become `{class_name, config}` objects. Pure: returns strings
 * and bytes; the CLI and `train.py` of the PyTorch target write the files. Models are described by
 * their concrete form (check/concrete.ts), which the interpreter's models extend with values.
 */
import { float32Bytes } from "../core/kernel.ts";
import { Dim } from "../core/dims.ts";
import type { FittedStats } from "../data/preprocess.ts";
import { LAYERS } from "../kinds/layers/registry.ts";
import { unsupportedIn } from "../kinds/layers/common.ts";
import { kerasClass, TFJS_CLASS_NAMES } from "../kinds/layers/keras.ts";
import type { TfjsLayer } from "../kinds/layers/types.ts";
import type { Json } from "../core/json.ts";
import { NNSPEC_VERSION } from "../core/version.ts";
import type { Task } from "../kinds/metrics/kernel.ts";
import { paramsOf, type ConcreteModel, type ConcreteParam } from "../check/concrete.ts";
import type { TrainConfig } from "../check/ir.ts";

export { NNSPEC_VERSION, TFJS_CLASS_NAMES };
/** The tfjs-layers version whose format these files follow (the one the tests load them with). */
export const TFJS_LAYERS_VERSION = "4.22.0";

export const MODEL_FILE = "model.json";
export const WEIGHTS_FILE = "weights.bin";
export const SIDECAR_FILE = "nnspec.json";

/**
 * The files a training run writes into its folder (nnspec's and train.py's); a folder holding
 * anything else is never replaced.
 */
export const OUTPUT_FILES: ReadonlySet<string> = new Set([MODEL_FILE, WEIGHTS_FILE, SIDECAR_FILE, "history.json", "history.csv", "curves.svg", "graph.svg", "report.txt", "report.json"]);


export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: "float32";
}

/** The JSON of one Keras layer in a functional model's topology. */
export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, Json>;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

export interface ModelTopology {
  class_name: "Model";
  config: { name: string; layers: KerasLayer[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] };
  keras_version: string;
  backend: "tensor_flow.js";
}

/** What `nnspec.json` holds. Plain JSON. */
export interface Sidecar {
  format: "nnspec-model";
  version: 1;
  generatedBy: string;
  /** The spec the model was trained from: its path as given, its name (the file name without `.nnspec`) and the SHA-256 of its text. */
  spec: { file: string; name: string; sha256: string };
  model: string;
  data: string;
  /** 1-based number of the `train` block. */
  train: number;
  config: TrainConfig;
  /** Epochs trained, and the epoch whose weights were saved. */
  epochs: number;
  bestEpoch?: number;
  task: Task;
  inputs: { name: string; shape: number[]; dtype: "float" | "int" }[];
  outputs: { name: string; shape: number[] }[];
  label: NonNullable<FittedStats["label"]> | { kind: string; columns: string[]; classes?: number; classNames?: string[] };
  classNames?: string[];
  /** The preprocessing fitted on the training split; `predict` and `eval` reapply it. */
  preprocess: FittedStats;
  /** Test-split loss and metrics at save time, when there was a test split. */
  test?: { loss: number; values: Record<string, number> };
}

/**
 * `nnspec.json` of a model `nnspec import` brought in: no data, preprocessing or training yet. The
 * spec's train block, once the user adds one, gives them (src/cli/saved.ts `savedMeta`).
 */
export interface ImportedSidecar {
  format: "nnspec-model";
  version: 1;
  generatedBy: string;
  spec: Sidecar["spec"];
  model: string;
  imported: { from: string; format: "tfjs-layers" | "keras" };
  inputs: Sidecar["inputs"];
  outputs: Sidecar["outputs"];
}

export const isImported = (meta: Sidecar | ImportedSidecar): meta is ImportedSidecar => "imported" in meta;

/** A parameter with its values, as saving needs it. */
export type ValuedParam = ConcreteParam & { value: ArrayLike<number> };

/**
 * The folder name a train block's model is saved under (`out/<spec>/<run>` by default, `<out>/<run>`
 * when several blocks run): the model's name, with the block's number when several blocks train it.
 */
export function runName(trains: readonly { model?: { name: string } }[], i: number): string {
  const model = trains[i].model?.name ?? `train-${i + 1}`;
  return trains.filter((t) => t.model?.name === model).length > 1 ? `${model}-${i + 1}` : model;
}

/** Everything besides the weights that goes into `nnspec.json`. */
export type SaveInfo = Omit<Sidecar, "format" | "version" | "generatedBy" | "model" | "inputs" | "outputs">;

export interface SavedFiles {
  "model.json": string;
  "weights.bin": Uint8Array;
  "nnspec.json": string;
}

// ── tfjs-layers' config serialization ──

/** tfjs-layers' `toSnakeCase`: `kernelInitializer` → `kernel_initializer`. */
export function toSnakeCase(name: string): string {
  const s = name.replace(/(.)([A-Z][a-z0-9]+)/g, "$1_$2").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return s[0] !== "_" ? s : `private${s}`;
}

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * A tfjs layer config (camelCase, as `tf.layers.*` take it) in the form tfjs-layers writes to
 * model.json: keys and string values in snake_case (`convertTsToPythonic`), `{className, config}`
 * objects as `{class_name, config}`, and an initializer given by name (`heNormal`) as its class
 * (`{class_name: "HeNormal", config: {seed: null}}`).
 */
export function pythonicConfig(value: unknown, key?: string): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") {
    // The variance-scaling family (glorot, he, lecun) carries `seed: null`, as tfjs-layers writes it.
    if (key?.endsWith("_initializer")) return { class_name: pascal(value), config: /^(glorot|he|leCun)/.test(value) ? { seed: null } : {} };
    return toSnakeCase(value);
  }
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((v) => pythonicConfig(v, key));
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.className === "string" && Object.keys(o).every((k) => k === "className" || k === "config")) {
      return { class_name: o.className, config: (pythonicConfig(o.config ?? {}) ?? {}) as Json };
    }
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) continue;
      if (k === "name" && typeof v === "string") out.name = v;
      else {
        const pk = toSnakeCase(k);
        out[pk] = pythonicConfig(v, pk);
      }
    }
    return out;
  }
  throw new Error(`cannot serialize a ${typeof value} in a layer config`);
}

/** The tfjs layers an interpreter layer becomes: its kind's mapping, then any `then` layers (`<name>_then`). */
function tfjsChain(model: ConcreteModel, layerIndex: number): { name: string; spec: TfjsLayer }[] {
  const l = model.layers[layerIndex];
  const kind = LAYERS.get(l.info.kind);
  if (!kind) throw new Error(`layer \`${l.info.name}\`: unknown layer kind \`${l.info.kind}\``);
  let spec: TfjsLayer | undefined;
  try {
    spec = kind.tfjs(l.info.opts, l.info.inShapes.map((s) => s.map((d) => Dim.of(d))));
  } catch (e) {
    throw new Error(`layer \`${l.info.name}\` has no TensorFlow.js form: ${(e as Error).message}`);
  }
  const chain: { name: string; spec: TfjsLayer }[] = [];
  for (let name = l.info.name; spec; spec = spec.then, name = `${name}_then`) chain.push({ name, spec });
  return chain;
}

/** The Keras JSON topology of the model, as `model.toJSON()` of the equivalent tfjs model describes it. */
export function modelTopology(model: ConcreteModel): ModelTopology {
  const layers: KerasLayer[] = [];
  // The tfjs layer that produces each tensor (the last of a chain), and which of its outputs it is.
  const producer = new Map<number, [string, number]>();
  const ref = (t: number, where: string): [string, number] => producer.get(t) ?? missingTensor(model, t, where);
  for (const i of model.inputs) {
    const t = model.tensors[i];
    layers.push({
      name: t.name,
      class_name: "InputLayer",
      config: { batch_input_shape: [null, ...t.shape], dtype: t.dtype === "int" ? "int32" : "float32", sparse: false, name: t.name },
      inbound_nodes: [],
    });
    producer.set(i, [t.name, 0]);
  }
  model.layers.forEach((l, li) => {
    let inbound = l.inputs.map((t) => ref(t, l.info.name));
    const chain = tfjsChain(model, li);
    for (const { name, spec } of chain) {
      const classOf = (factory: string): string => {
        try {
          return kerasClass(factory);
        } catch (e) {
          throw new Error(`layer \`${l.info.name}\`: ${(e as Error).message}`);
        }
      };
      const className = classOf(spec.factory);
      const config = pythonicConfig(spec.config) as Record<string, Json>;
      config.name = name;
      config.trainable = spec.config.trainable !== false && l.info.opts.trainable !== false;
      if (spec.wraps) {
        config.layer = { class_name: classOf(spec.wraps.factory), config: { ...(pythonicConfig(spec.wraps.config) as Record<string, Json>), trainable: config.trainable } };
      }
      layers.push({ name, class_name: className, config, inbound_nodes: [inbound.map(([src, k]) => [src, 0, k, {}] as [string, number, number, Record<string, never>])] });
      inbound = [[name, 0]];
    }
    producer.set(l.output, inbound[0]);
    // a recurrent layer's states (`return_state`) are its outputs 1 and 2
    l.more?.forEach((t, k) => producer.set(t, [chain[0].name, k + 1]));
  });
  return {
    class_name: "Model",
    config: {
      name: model.name,
      layers,
      input_layers: model.inputs.map((i) => [producer.get(i)![0], 0, 0]),
      output_layers: model.outputs.map((o) => {
        const [name, k] = ref(o, "the outputs");
        return [name, 0, k];
      }),
    },
    keras_version: `tfjs-layers ${TFJS_LAYERS_VERSION}`,
    backend: "tensor_flow.js",
  };
}

function missingTensor(model: ConcreteModel, t: number, where: string): never {
  throw new Error(`tensor \`${model.tensors[t]?.name ?? t}\` (read by ${where}) has no producer`);
}

/** Parameters in tfjs's weight order: every trainable weight layer by layer, then the others. */
export function tfjsWeightOrder<P extends ConcreteParam>(model: ConcreteModel<P>): P[] {
  const ps = paramsOf(model);
  return [...ps.filter((p) => p.trainable), ...ps.filter((p) => !p.trainable)];
}

export function weightSpecs(model: ConcreteModel): WeightSpec[] {
  return tfjsWeightOrder(model).map((p) => ({ name: p.id, shape: [...p.shape], dtype: "float32" }));
}

/** Every weight as float32, little endian, in tfjs's order. */
export function encodeWeights(model: ConcreteModel<ValuedParam>): Uint8Array {
  return float32Bytes(tfjsWeightOrder(model).map((p) => p.value));
}

/** `model.json` as tfjs's file and HTTP handlers read it. */
export function modelJson(model: ConcreteModel, weightsPath = WEIGHTS_FILE): string {
  const json = {
    format: "layers-model",
    generatedBy: `nnspec ${NNSPEC_VERSION}`,
    convertedBy: null,
    modelTopology: modelTopology(model),
    weightsManifest: [{ paths: [weightsPath], weights: weightSpecs(model) }],
  };
  return JSON.stringify(json, null, 1) + "\n";
}

/**
 * Why tf.loadLayersModel cannot open the model's model.json, if it cannot: a layer whose Keras JSON
 * TensorFlow.js 4.22 does not build (an elu with alpha ≠ 1). nnspec itself reads it back.
 */
export function tfjsCannotLoad(model: ConcreteModel): string | undefined {
  for (let i = 0; i < model.layers.length; i++) {
    const why = unsupportedIn(tfjsChain(model, i)[0]?.spec);
    if (why) return `layer \`${model.layers[i].info.name}\`: ${why}`;
  }
  return undefined;
}

/** The model's inputs and outputs as nnspec.json lists them. */
function ioOf(model: ConcreteModel): Pick<Sidecar, "inputs" | "outputs"> {
  return {
    inputs: model.inputs.map((i) => ({ name: model.tensors[i].name, shape: model.tensors[i].shape, dtype: model.tensors[i].dtype })),
    outputs: model.outputs.map((o) => ({ name: model.tensors[o].name, shape: model.tensors[o].shape })),
  };
}

/** The three files of an imported model: its weights saved again in nnspec's layout, and what it came from. */
export function saveImported(model: ConcreteModel<ValuedParam>, info: Pick<ImportedSidecar, "spec" | "imported">): SavedFiles {
  const sidecar: ImportedSidecar = { format: "nnspec-model", version: 1, generatedBy: `nnspec ${NNSPEC_VERSION}`, spec: info.spec, model: model.name, imported: info.imported, ...ioOf(model) };
  return { "model.json": modelJson(model), "weights.bin": encodeWeights(model), "nnspec.json": JSON.stringify(sidecar, null, 1) + "\n" };
}

/** The three files of a saved model. Throws an Error naming the layer when it has no Keras JSON form. */
export function saveModel(model: ConcreteModel<ValuedParam>, info: SaveInfo): SavedFiles {
  const json = modelJson(model);
  const sidecar: Sidecar = {
    format: "nnspec-model",
    version: 1,
    generatedBy: `nnspec ${NNSPEC_VERSION}`,
    spec: info.spec,
    model: model.name,
    data: info.data,
    train: info.train,
    config: info.config,
    epochs: info.epochs,
    ...(info.bestEpoch !== undefined ? { bestEpoch: info.bestEpoch } : {}),
    task: info.task,
    ...ioOf(model),
    label: info.label,
    ...(info.classNames ? { classNames: info.classNames } : {}),
    preprocess: info.preprocess,
    ...(info.test ? { test: info.test } : {}),
  };
  return { "model.json": json, "weights.bin": encodeWeights(model), "nnspec.json": JSON.stringify(sidecar, null, 1) + "\n" };
}
