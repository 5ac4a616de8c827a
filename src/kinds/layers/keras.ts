/**
 * Reading a layer's Keras JSON config back into nnspec options (`nnspec import`): the inverse of
 * the tfjs helpers in common.ts. A kind's `keras.options` only reads; the importer then saves the
 * imported model again through each kind's `tfjs()` mapping and compares every config key with the
 * one it read, so a value these readers miss is reported, never dropped.
 */
import type { Json } from "../../core/json.ts";
import { INITIALIZER_NAMES } from "../../core/init.ts";
import { DEFAULT_ALPHA } from "./activations/alpha.ts";
import type { KerasReader } from "./types.ts";

/**
 * The Keras class of each `tf.layers` factory a layer kind's mapping may name. A test builds every
 * entry with tfjs and compares `getClassName()`; a factory missing here is a save error, not a guess.
 */
export const TFJS_CLASS_NAMES: Readonly<Record<string, string>> = {
  dense: "Dense",
  conv1d: "Conv1D",
  conv2d: "Conv2D",
  maxPooling1d: "MaxPooling1D",
  averagePooling1d: "AveragePooling1D",
  maxPooling2d: "MaxPooling2D",
  averagePooling2d: "AveragePooling2D",
  globalMaxPooling1d: "GlobalMaxPooling1D",
  globalAveragePooling1d: "GlobalAveragePooling1D",
  globalMaxPooling2d: "GlobalMaxPooling2D",
  globalAveragePooling2d: "GlobalAveragePooling2D",
  flatten: "Flatten",
  reshape: "Reshape",
  dropout: "Dropout",
  batchNormalization: "BatchNormalization",
  layerNormalization: "LayerNormalization",
  embedding: "Embedding",
  activation: "Activation",
  leakyReLU: "LeakyReLU",
  elu: "ELU",
  softmax: "Softmax",
  add: "Add",
  concatenate: "Concatenate",
  bidirectional: "Bidirectional",
  simpleRNN: "SimpleRNN",
  lstm: "LSTM",
  gru: "GRU",
  // nnspec's own (src/codegen/tfjs/layers.ts), registered with tfjs under these names
  MultiHeadAttention: "MultiHeadAttention",
  PositionalEmbedding: "PositionalEmbedding",
};

/** The Keras class a tfjs factory builds. */
export function kerasClass(factory: string): string {
  const c = TFJS_CLASS_NAMES[factory];
  if (!c) throw new Error(`no TensorFlow.js class is known for \`tf.layers.${factory}\``);
  return c;
}

const isObject = (v: Json | undefined): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A `{class_name, config}` object's class and config (Keras 3 adds `module` and `registered_name`). */
export function kerasObject(v: Json | undefined): { className: string; config: Record<string, Json> } | undefined {
  if (!isObject(v) || typeof v.class_name !== "string") return undefined;
  return { className: v.class_name, config: isObject(v.config) ? v.config : {} };
}

/** `GlorotUniform` → `glorot_uniform`, `hardSigmoid` → `hard_sigmoid` (and `LeCunNormal` → `le_cun_normal`). */
export const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

/** Keras's activation names that nnspec's activations have, besides those spelled the same. */
const ACTIVATION_NAMES: Record<string, Json> = {
  linear: "linear",
  relu: "relu",
  elu: "elu",
  gelu: "gelu",
  sigmoid: "sigmoid",
  tanh: "tanh",
  softmax: "softmax",
  // Keras 3's string `leaky_relu` has its function's slope, 0.2
  leaky_relu: { call: "leaky_relu", args: [0.2], options: {} },
};

/** A weighted layer's `activation` (absent: linear). */
export function kerasActivation(r: KerasReader, key = "activation"): Json | undefined {
  const v = r.config[key];
  if (v === undefined || v === null) return undefined;
  const name = typeof v === "string" ? snake(v) : kerasObject(v)?.className;
  const a = name === undefined ? undefined : ACTIVATION_NAMES[name];
  if (a === undefined) r.refuse(key, `the activation ${JSON.stringify(v)} has no nnspec form (nnspec has ${Object.keys(ACTIVATION_NAMES).join(", ")})`);
  return a;
}

/**
 * An initializer config's nnspec name (`GlorotUniform`, or the VarianceScaling it is, both
 * `glorot_uniform`), whether or not nnspec has it.
 */
export function initializerName(v: Json | undefined): string | undefined {
  const o = kerasObject(v);
  if (!o) return undefined;
  const name = snake(o.className).replace(/^le_cun/, "lecun");
  if (name !== "variance_scaling") return name;
  const { scale, mode, distribution } = o.config;
  const dist = distribution === "uniform" ? "uniform" : distribution === "normal" || distribution === "truncated_normal" ? "normal" : undefined;
  const fam = scale === 1 && mode === "fan_avg" ? "glorot" : scale === 2 && mode === "fan_in" ? "he" : scale === 1 && mode === "fan_in" ? "lecun" : undefined;
  return fam && dist ? `${fam}_${dist}` : name;
}

/** An initializer config as nnspec's name; another initializer is a warning (weights are loaded). */
export function kerasInit(r: KerasReader, key: string): Json | undefined {
  const v = r.config[key];
  const name = initializerName(v);
  if (name === undefined) return undefined;
  if (!INITIALIZER_NAMES.includes(name)) {
    r.warn(key, `the initializer ${kerasObject(v)!.className} has no nnspec form; the imported weights are used as they are, and training from scratch would start from the kind's default`);
    return undefined;
  }
  return name;
}

/** A regularizer config's factors (`L2(0.01)` and `L1L2(0, 0.01)` alike), or undefined when it is not one nnspec has. */
export function regularizerValues(v: Json | undefined): { l1: number; l2: number } | undefined {
  const o = kerasObject(v);
  if (!o || !["L1L2", "L1", "L2"].includes(o.className)) return undefined;
  const num = (k: string): number => (typeof o.config[k] === "number" ? (o.config[k] as number) : 0);
  return { l1: num("l1"), l2: num("l2") };
}

/** `kernel_regularizer` (L1L2, L1 or L2) as nnspec's `l1` and `l2`. */
export function kerasRegularizer(r: KerasReader, key: string): { l1?: number; l2?: number } {
  const o = kerasObject(r.config[key]);
  if (!o) return {};
  const f = regularizerValues(r.config[key]);
  if (!f) {
    r.refuse(key, `the regularizer ${o.className} has no nnspec form (nnspec has l1 and l2)`);
    return {};
  }
  return { ...(f.l1 ? { l1: f.l1 } : {}), ...(f.l2 ? { l2: f.l2 } : {}) };
}

/** What every weighted layer reads: activation, bias, initializers, regularizer. */
export function kerasWeighted(r: KerasReader, kernelKey = "kernel_initializer"): Record<string, Json> {
  const o: Record<string, Json | undefined> = {
    activation: kerasActivation(r),
    use_bias: typeof r.config.use_bias === "boolean" ? r.config.use_bias : undefined,
    kernel_init: kerasInit(r, kernelKey),
    bias_init: kerasInit(r, "bias_initializer"),
    ...kerasRegularizer(r, "kernel_regularizer"),
  };
  return defined(o);
}

/** The entries whose value is not undefined. */
export function defined(o: Record<string, Json | undefined>): Record<string, Json> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, Json>;
}

/** A per-axis value (`[3, 3]`) as nnspec writes it: one number when every axis has the same. */
export function kerasAxes(v: Json | undefined): Json | undefined {
  if (typeof v === "number") return v;
  if (Array.isArray(v) && v.length && v.every((x) => typeof x === "number")) return v.every((x) => x === v[0]) ? v[0] : v;
  return undefined;
}

/** A leaky relu's slope: tfjs and Keras 2 write `alpha`, Keras 3 `negative_slope`. */
export function kerasSlope(r: KerasReader): number {
  const v = r.config.negative_slope ?? r.config.alpha;
  return typeof v === "number" ? v : DEFAULT_ALPHA.leaky_relu;
}
