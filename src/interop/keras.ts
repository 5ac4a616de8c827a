/**
 * `nnspec import`: a TensorFlow.js Layers model (`model.json` + weights) or a Keras model config
 * (`model.to_json()`) as an nnspec spec and, with weights, a saved model that `eval`, `predict` and
 * `train --from` open. Pure: text and bytes in, text and bytes out; the CLI reads and writes.
 *
 * Each layer is read back by its kind's `keras` facet (src/kinds/layers); the spec is then checked as
 * any spec is, and its model saved again through the kinds' `tfjs()` mappings: every key of every
 * layer's config must come back with the value it had (or be one Keras writes with no effect, such as
 * a null constraint), so whatever the readers missed is reported with its JSON path, never dropped.
 */
import { parse } from "../syntax/parse.ts";
import { format as formatSpec } from "../format/printer.ts";
import { analyseParsed } from "../analyse.ts";
import { hasErrors } from "../diagnostics/diagnostic.ts";
import { renderDiagnostic } from "../diagnostics/render.ts";
import type { Json } from "../core/json.ts";
import { isName, valueText } from "../lang/values.ts";
import { withDefaults } from "../core/options.ts";
import { LAYERS } from "../kinds/layers/registry.ts";
import { initializerName, kerasObject, regularizerValues } from "../kinds/layers/keras.ts";
import type { KerasReader, LayerKind } from "../kinds/layers/types.ts";
import { concreteModel, type ConcreteModel } from "../check/concrete.ts";
import type { CheckedModel } from "../check/ir.ts";
import { modelTopology, type KerasLayer } from "../saved/save.ts";
import { manifestWeights } from "../saved/load.ts";

export type ImportFormat = "tfjs-layers" | "keras";

export interface ImportProblem {
  severity: "error" | "warning";
  /** Where in the JSON: `modelTopology.config.layers[3].config.activation`. */
  path: string;
  message: string;
}

export interface Imported {
  format: ImportFormat;
  /** The spec's text; set when there is no error. */
  spec?: string;
  /** The model's name in the spec. */
  model: string;
  problems: ImportProblem[];
  /** The checked model, its concrete form and each parameter's values (by the parameter's id), when the input had weights. */
  checked?: CheckedModel;
  concrete?: ConcreteModel;
  weights?: Map<string, Float32Array>;
  /** The input and output tensors' names in the spec, for nnspec.json. */
  inputs: string[];
  outputs: string[];
}

/** What `nnspec import` reads besides model.json: the weight files (concatenated in manifest order) and an nnspec.json beside it. */
export interface ImportInput {
  json: string;
  /** How the file is shown in messages. */
  shown: string;
  weights?: Uint8Array;
  /** nnspec.json of a model nnspec saved: its input and output names are kept. */
  sidecar?: { inputs?: { name: string }[]; outputs?: { name: string }[]; model?: string };
}

type Obj = Record<string, Json>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** A reference to a layer's output: the layer, and which of its outputs. */
interface Ref {
  layer: string;
  index: number;
}

/** One layer of the topology as read. */
interface Node {
  /** The layer's name in the JSON and in the spec. */
  original: string;
  name: string;
  className: string;
  config: Obj;
  inputs: Ref[];
  path: string;
  kind?: LayerKind;
  opts: Record<string, Json>;
  /** Outputs other layers read (0 is the layer's result). */
  used: Set<number>;
  /** A leaky relu or elu layer folded into this one's activation (`dense ... activation: leaky_relu(0.2)`). */
  folded?: Node;
  /** This layer is such an activation: it is no line of its own. */
  absorbed?: true;
}

interface InputDecl {
  original: string;
  name: string;
  dims: (number | null)[];
  int: boolean;
  path: string;
}

/** Keys Keras and tfjs write that say nothing about what a layer computes. */
const META = new Set(["name", "dtype", "batch_input_shape", "batch_shape", "input_shape", "batch_size", "input_dim", "input_length", "build_config", "module", "registered_name", "sparse", "ragged", "autocast", "trainable"]);

/** Values of keys nnspec never writes that leave a layer computing what nnspec computes. */
const NEUTRAL: Record<string, (v: Json) => boolean> = {
  data_format: (v) => v === "channels_last",
  groups: (v) => v === 1,
  implementation: () => true,
  // a Keras 3 layer norm lists its axis; -1 is nnspec's only axis
  axis: (v) => v === -1 || (Array.isArray(v) && v.length === 1 && v[0] === -1),
  dilation_rate: (v) => v === 1 || (Array.isArray(v) && v.every((x) => x === 1)),
  beta_initializer: (v) => kerasObject(v)?.className === "Zeros",
  gamma_initializer: (v) => kerasObject(v)?.className === "Ones",
  moving_mean_initializer: (v) => kerasObject(v)?.className === "Zeros",
  moving_variance_initializer: (v) => kerasObject(v)?.className === "Ones",
  merge_mode: (v) => v === "concat",
  activation: (v) => v === "linear",
  // an ELU layer's alpha of 1 (nnspec's mapping writes an ELU layer with no alpha then)
  alpha: (v) => v === 1,
  dropout: (v) => v === 0,
  recurrent_dropout: (v) => v === 0,
  // Keras 3 recurrent layers: which kernel runs them, not what they compute
  use_cudnn: () => true,
};

/** A topology's layer list: `config.layers`, or the bare list of an old Sequential's `config`. */
function layersOf(topo: Obj): Json[] | undefined {
  const cfg = topo.config;
  return Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg.layers) ? cfg.layers : undefined;
}

/** The JSON path of layer `i` of the topology found at `base`. */
function layerPath(topo: Obj, base: string, i: number): string {
  return `${base ? `${base}.` : ""}config${Array.isArray(topo.config) ? "" : ".layers"}[${i}]`;
}

/** A Keras name as an nnspec name: other characters become `_`, and a leading digit gets `prefix`. */
function asName(s: string, prefix: string): string {
  const t = s.replace(/[^A-Za-z0-9_]/g, "_");
  return isName(t) ? t : `${prefix}${t}`;
}

/** A Keras layer or tensor name as an nnspec name, each distinct from those before. */
function nameMaker(): (original: string) => string {
  const taken = new Set<string>();
  return (original) => {
    const base = asName(original, "l_");
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
}

export function importModel(input: ImportInput): Imported {
  const problems: ImportProblem[] = [];
  const err = (path: string, message: string) => problems.push({ severity: "error", path, message });
  const fail = (path: string, message: string, format: ImportFormat = "keras"): Imported => (err(path, message), { format, model: "imported", problems, inputs: [], outputs: [] });
  let root: unknown;
  try {
    root = JSON.parse(input.json);
  } catch (e) {
    return fail("", `${input.shown} is not valid JSON (${(e as Error).message}): give the model.json TensorFlow.js saved, or the text of Keras's \`model.to_json()\``);
  }
  if (!isObject(root)) return fail("", `${input.shown} holds no JSON object: give the model.json TensorFlow.js saved, or the text of Keras's \`model.to_json()\``);
  let topo: unknown = root;
  let base = "";
  let format: ImportFormat = "keras";
  if (root.format === "graph-model" || ("modelTopology" in root && isObject(root.modelTopology) && "node" in root.modelTopology))
    return fail("format", "this is a TensorFlow.js graph model (converted from a SavedModel or a frozen graph): it holds operations, not layers; convert the Keras model itself (`tensorflowjs_converter --input_format keras model.h5 DIR`) and import that model.json", "tfjs-layers");
  if ("modelTopology" in root) {
    format = "tfjs-layers";
    topo = root.modelTopology;
    base = "modelTopology";
    // a Keras .h5 model converted by tensorflowjs_converter nests its topology once more
    if (isObject(topo) && isObject(topo.model_config)) {
      topo = topo.model_config;
      base = "modelTopology.model_config";
    }
  }
  if (!isObject(topo) || typeof topo.class_name !== "string")
    return fail(base, `${input.shown} has no model topology (\`class_name\` and \`config\`): give the model.json TensorFlow.js saved, or the text of Keras's \`model.to_json()\``, format);

  const makeName = nameMaker();
  const nodes: Node[] = [];
  const inputs: InputDecl[] = [];
  const byOriginal = new Map<string, Node | InputDecl>();
  const cls = topo.class_name;
  const cfg = topo.config;
  let modelName = "imported";
  let outputRefs: Ref[] = [];
  const layersPath = (i: number) => layerPath(topo, base, i);

  const inputDecl = (original: string, shape: Json | undefined, dtype: Json | undefined, path: string): InputDecl | undefined => {
    if (!Array.isArray(shape) || shape.length < 2 || !shape.every((d) => d === null || (typeof d === "number" && Number.isInteger(d) && d > 0))) {
      err(path, `the input \`${original}\` has no shape (\`batch_input_shape\` or \`batch_shape\`, such as [null, 4]): build the model with an input shape before saving it`);
      return undefined;
    }
    const dt = typeof dtype === "string" ? dtype : isObject(dtype) && isObject(dtype.config) && typeof dtype.config.name === "string" ? dtype.config.name : "float32";
    const d: InputDecl = { original, name: makeName(original), dims: shape.slice(1) as (number | null)[], int: /^u?int/.test(dt), path };
    inputs.push(d);
    byOriginal.set(original, d);
    return d;
  };

  const layerJson = (l: Json, i: number): { className: string; config: Obj; path: string } | undefined => {
    const path = layersPath(i);
    if (!isObject(l) || typeof l.class_name !== "string" || !isObject(l.config)) {
      err(path, "a layer without `class_name` and `config`: the file is damaged");
      return undefined;
    }
    return { className: l.class_name, config: l.config, path };
  };

  if (cls === "Sequential") {
    const list = layersOf(topo);
    if (!list) return fail(`${base ? `${base}.` : ""}config`, "a Sequential model without a list of layers: the file is damaged", format);
    if (isObject(cfg) && typeof cfg.name === "string") modelName = cfg.name;
    let prev: Ref | undefined;
    list.forEach((l, i) => {
      const j = layerJson(l, i);
      if (!j) return;
      const original = typeof j.config.name === "string" ? j.config.name : `layer_${i + 1}`;
      if (j.className === "InputLayer") {
        const d = inputDecl(original, j.config.batch_input_shape ?? j.config.batch_shape, j.config.dtype, `${j.path}.config`);
        if (d) prev = { layer: original, index: 0 };
        return;
      }
      if (!prev) {
        const shape = j.config.batch_input_shape ?? j.config.batch_shape ?? (Array.isArray(j.config.input_shape) ? [null, ...j.config.input_shape] : undefined);
        const buildShape = isObject(cfg) ? cfg.build_input_shape : undefined;
        const d = inputDecl("input", shape ?? buildShape, j.config.dtype, `${j.path}.config`);
        if (!d) return;
        prev = { layer: d.original, index: 0 };
      }
      const node: Node = { original, name: makeName(original), className: j.className, config: j.config, inputs: [prev], path: j.path, opts: {}, used: new Set() };
      nodes.push(node);
      byOriginal.set(original, node);
      prev = { layer: original, index: 0 };
    });
    if (prev) outputRefs = [prev];
  } else if (cls === "Model" || cls === "Functional") {
    if (!isObject(cfg) || !Array.isArray(cfg.layers)) return fail(`${base ? `${base}.` : ""}config`, "a functional model without `layers`: the file is damaged", format);
    if (typeof cfg.name === "string") modelName = cfg.name;
    cfg.layers.forEach((l, i) => {
      const j = layerJson(l, i);
      if (!j || !isObject(l)) return;
      const original = typeof l.name === "string" ? l.name : typeof j.config.name === "string" ? j.config.name : `layer_${i + 1}`;
      if (j.className === "InputLayer") {
        inputDecl(original, j.config.batch_input_shape ?? j.config.batch_shape, j.config.dtype, `${j.path}.config`);
        return;
      }
      const nodesJson = Array.isArray(l.inbound_nodes) ? l.inbound_nodes : [];
      if (nodesJson.length !== 1) {
        err(`${j.path}.inbound_nodes`, nodesJson.length ? `layer \`${original}\` is applied ${nodesJson.length} times (a shared layer): nnspec gives every application its own weights; give each use its own layer` : `layer \`${original}\` is not connected to anything`);
        return;
      }
      const refs = inboundRefs(nodesJson[0]);
      if (!refs) {
        err(`${j.path}.inbound_nodes[0]`, `layer \`${original}\` has inputs in a form nnspec does not read`);
        return;
      }
      const node: Node = { original, name: makeName(original), className: j.className, config: j.config, inputs: refs, path: j.path, opts: {}, used: new Set() };
      nodes.push(node);
      byOriginal.set(original, node);
    });
    outputRefs = refList(cfg.output_layers) ?? [];
    if (!outputRefs.length) err(`${base ? `${base}.` : ""}config.output_layers`, "the model names no outputs: the file is damaged");
  } else {
    return fail(`${base ? `${base}.` : ""}class_name`, `\`${cls}\` is not a model nnspec reads: give a Sequential or functional model (class Sequential, Model or Functional)`, format);
  }
  if (!inputs.length && !problems.length) err(`${base ? `${base}.` : ""}config`, "the model has no input layer and its first layer no `batch_input_shape`: build the model with an input shape before saving it");

  // Every layer's kind and options, each input known.
  for (const n of nodes) {
    for (const r of n.inputs) {
      const src = byOriginal.get(r.layer);
      if (!src) err(`${n.path}.inbound_nodes`, `layer \`${n.original}\` reads \`${r.layer}\`, which is not a layer of the model`);
      else if ("used" in src) src.used.add(r.index);
    }
    readLayer(n, problems);
  }
  for (const r of outputRefs) {
    const src = byOriginal.get(r.layer);
    if (src && "used" in src) src.used.add(r.index);
  }
  if (problems.some((p) => p.severity === "error")) return { format, model: asName(modelName, "m_"), problems, inputs: [], outputs: [] };

  foldActivations(nodes, outputRefs);
  // an input that only layers reading ids (embeddings) read holds ids
  for (const d of inputs) {
    const readers = nodes.filter((n) => n.inputs.some((r) => r.layer === d.original));
    if (readers.length && readers.every((n) => n.kind?.ints === "reads" && n.inputs[0].layer === d.original)) d.int = true;
  }
  // (references to a folded activation were moved to its owner)
  const tensorName = (r: Ref): string => {
    const src = byOriginal.get(r.layer)!;
    if (!("used" in src)) return src.name;
    return r.index === 0 ? src.name : `${src.name}_${STATE_NAMES[r.index - 1] ?? r.index}`;
  };

  // The names the sidecar of an nnspec model gives its inputs and outputs are kept.
  const side = input.sidecar;
  const inNames = inputs.map((d, i) => {
    const s = side?.inputs?.[i]?.name;
    return s && isName(s) ? s : d.name;
  });
  inputs.forEach((d, i) => (d.name = inNames[i]));
  const outNames = outputRefs.map((r, i) => {
    const s = side?.outputs?.[i]?.name;
    return s && isName(s) ? s : tensorName(r);
  });
  const name = asName(side?.model ?? modelName, "m_");
  const layers = nodes.filter((n) => !n.absorbed);
  const result: Imported = { format, model: name, problems, inputs: inNames, outputs: outNames };
  // Checked once to learn the outputs' shapes, which the signature then states.
  const first = checkSpec(specText(name, inputs, layers, outputRefs, outNames, tensorName, input.shown, format), name);
  if (!first.checked) return (err("", `the spec nnspec wrote for this model does not check:\n${first.errors}`), result);
  const outShapes = first.checked.outputs.map((t) => `[${t.shape.join(", ")}]`);
  // A positive `axis` (tfjs writes concatenate's so) that is the last one is the default, -1.
  const byName = new Map(first.checked.layers.map((l) => [l.spec.name, l]));
  for (const n of layers) {
    const rank = (byName.get(n.name)?.inputShapes[0]?.length ?? -2) + 1;
    if (typeof n.opts.axis === "number" && n.opts.axis === rank - 1) delete n.opts.axis;
  }
  const text = specText(name, inputs, layers, outputRefs, outNames, tensorName, input.shown, format, outShapes);
  const { checked, errors } = checkSpec(text, name);
  if (!checked) return (err("", `the spec nnspec wrote for this model does not check:\n${errors}`), result);
  result.checked = checked;

  const concrete = concreteModel(checked);
  if (!concrete.model) {
    err(inputs[0]?.path ?? "", `${concrete.errors.join("; ")}: nnspec needs every input dimension but the batch (an input of [null, null, 8] has an unknown length); rebuild the model with a fixed input length`);
    return result;
  }
  result.concrete = concrete.model;
  // Names in the spec → names in the JSON.
  const original = new Map<string, string>();
  for (const d of inputs) original.set(d.name, d.original);
  for (const n of layers) {
    original.set(n.name, n.original);
    if (n.folded) original.set(`${n.name}_then`, n.folded.original);
  }
  const rankOf = new Map(concrete.model.layers.map((l) => [l.info.name, (l.info.inShapes[0]?.length ?? 0) + 1]));
  for (const l of concrete.model.layers) rankOf.set(`${l.info.name}_then`, l.info.outShape.length + 1);
  compareTopology(topo, base, modelTopology(concrete.model).config.layers, original, problems, rankOf);
  if (input.weights && format === "tfjs-layers") {
    const weights = importWeights(root, input, concrete.model, original, problems);
    if (weights) result.weights = weights;
  }
  if (!problems.some((p) => p.severity === "error")) result.spec = formatSpec(parse(text).ast);
  return result;
}

/** Parses and checks a spec text; the model, or the errors as text. */
function checkSpec(text: string, model: string): { checked?: CheckedModel; errors: string } {
  const parsed = parse(text, "imported.nnspec");
  const a = analyseParsed(parsed, "imported.nnspec", { importModels: () => ({ error: "an imported spec imports nothing" }) }, { readHeader: () => undefined });
  const m = a.checked.models.get(model);
  if (hasErrors(a.diagnostics) || !m?.complete) {
    const sources = new Map([["imported.nnspec", parsed.lines]]);
    return { errors: [`${text}`, ...a.diagnostics.filter((d) => d.severity === "error").map((d) => renderDiagnostic(d, { color: false, sources }))].join("\n") };
  }
  return { checked: m, errors: "" };
}

/** Layers the kinds' mappings write under another class that compute the same. */
const SAME_CLASS: Record<string, string> = { Flatten: "Reshape" };

/** Every key of every layer's config, as read, against the model saved again from the spec. */
function compareTopology(topo: Obj, base: string, mine: KerasLayer[], original: Map<string, string>, problems: ImportProblem[], rankOf: Map<string, number>): void {
  const list = layersOf(topo) ?? [];
  const byName = new Map<string, { l: Obj; i: number }>();
  list.forEach((l, i) => {
    if (!isObject(l) || !isObject(l.config)) return;
    const n = typeof l.name === "string" ? l.name : typeof l.config.name === "string" ? l.config.name : undefined;
    if (n !== undefined) byName.set(n, { l, i });
  });
  const at = (i: number) => layerPath(topo, base, i);
  for (const m of mine) {
    if (m.class_name === "InputLayer") continue;
    const o = byName.get(original.get(m.name) ?? m.name);
    if (!o) continue;
    const path = at(o.i);
    const cls = o.l.class_name as string;
    if (cls !== m.class_name && SAME_CLASS[cls] !== m.class_name) {
      problems.push({ severity: "error", path: `${path}.class_name`, message: `layer \`${m.name}\`: read as a ${cls}, it would be saved as a ${m.class_name}` });
      continue;
    }
    if (SAME_CLASS[cls] === m.class_name) continue;
    compareConfig(o.l.config as Obj, m.config, `${path}.config`, `layer \`${original.get(m.name) ?? m.name}\` (${cls})`, problems, rankOf.get(m.name));
  }
}

/** `rank`: the layer's input rank with the batch, against which a positive `axis` is read. */
function compareConfig(theirs: Obj, mine: Obj, path: string, what: string, problems: ImportProblem[], rank?: number): void {
  for (const [k, v] of Object.entries(theirs)) {
    if (META.has(k)) continue;
    // Keras 3 writes a Bidirectional's backward layer out: the forward one reading backwards is what nnspec builds
    if (k === "backward_layer" && mirrors(v, theirs.layer)) continue;
    // Keras's Bidirectional sets it: padded steps of a sequence returned step by step are zeros there,
    // the last output in nnspec (as in TensorFlow.js); nothing else differs
    if (k === "zero_output_for_mask") {
      if (v === true && theirs.return_sequences === true)
        problems.push({ severity: "warning", path: `${path}.${k}`, message: `${what}: Keras outputs zeros at padded steps here, nnspec the last unpadded step's output (as TensorFlow.js); the two differ only on padded steps of a masked sequence` });
      continue;
    }
    if (k === "axis" && rank !== undefined && sameAxis(v, k in mine ? mine[k] : -1, rank)) continue;
    const here = `${path}.${k}`;
    const init = k.endsWith("_initializer");
    if (k in mine) {
      if (k === "layer" && isObject(v) && isObject(mine.layer) && isObject(v.config) && isObject(mine.layer.config)) {
        compareConfig(v.config, mine.layer.config, `${here}.config`, what, problems);
        continue;
      }
      if (sameValue(v, mine[k], init)) continue;
      if (k.endsWith("_regularizer") && JSON.stringify(regularizerValues(v)) === JSON.stringify(regularizerValues(mine[k]))) continue;
      problems.push({
        severity: init ? "warning" : "error",
        path: here,
        message: init
          ? `${what}: the initializer ${JSON.stringify(v)} has no nnspec form; the imported weights are used as they are, and training from scratch would start from ${JSON.stringify(mine[k])}`
          : `${what}: \`${k}: ${JSON.stringify(v)}\` has no nnspec form (nnspec's closest is ${JSON.stringify(mine[k])})`,
      });
      continue;
    }
    if (v === null || v === false || NEUTRAL[k]?.(v)) continue;
    problems.push(
      init
        ? { severity: "warning", path: here, message: `${what}: the initializer ${JSON.stringify(v)} is not carried over; the imported weights are used as they are` }
        : { severity: "error", path: here, message: `${what}: \`${k}: ${JSON.stringify(v)}\` has no nnspec form; rebuild the layer without it, or leave the layer out` },
    );
  }
}

/** Whether `backward` is `forward` reading the other way (the same config but for name and `go_backwards`). */
function mirrors(backward: Json | undefined, forward: Json | undefined): boolean {
  const [b, f] = [kerasObject(backward), kerasObject(forward)];
  if (!b || !f || b.className !== f.className) return false;
  const { name: _n, go_backwards: gb, ...bRest } = b.config;
  const { name: _m, go_backwards: gf, ...fRest } = f.config;
  return (gb === true) !== (gf === true) && sameValue(bRest as Json, fRest as Json, false);
}

/** Two axes (or one-axis lists) that name the same axis of an input of `rank` axes, the batch included. */
function sameAxis(a: Json | undefined, b: Json | undefined, rank: number): boolean {
  const one = (v: Json | undefined): number | undefined => {
    const x = Array.isArray(v) && v.length === 1 ? v[0] : v;
    return typeof x === "number" ? (x < 0 ? x + rank : x) : undefined;
  };
  return one(a) !== undefined && one(a) === one(b);
}

/** Equal as Keras means them: numbers to float precision, `[3, 3]` as 3, initializers by class and arguments (not seed). */
function sameValue(a: Json | undefined, b: Json | undefined, init: boolean): boolean {
  if (typeof a === "number" && typeof b === "number") return a === b || Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
  if (Array.isArray(a) && !Array.isArray(b)) return a.every((x) => sameValue(x, b, init));
  if (!Array.isArray(a) && Array.isArray(b)) return b.every((x) => sameValue(a, x, init));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i], init));
  if (isObject(a) && isObject(b)) {
    if (init) {
      // by name (a VarianceScaling is the glorot, he or lecun it equals), then any arguments but the seed
      if (initializerName(a) !== initializerName(b)) return false;
      const [x, y] = [kerasObject(a)!.config, kerasObject(b)!.config];
      if (kerasObject(a)!.className !== kerasObject(b)!.className) return true;
      const keys = new Set([...Object.keys(x), ...Object.keys(y)].filter((k) => k !== "seed"));
      return [...keys].every((k) => sameValue(x[k], y[k], false));
    }
    const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => k !== "module" && k !== "registered_name"));
    return [...keys].every((k) => sameValue(a[k], b[k], false));
  }
  // tfjs writes null for an unset flag
  return a === b || (a == null && b == null) || (a === null && b === false) || (a === false && b === null);
}

/**
 * A saved weight's name for the one nnspec declares: tfjs may add `_1` to make a name unique, and
 * names a wrapped layer's weights after that layer (`bi/forward_lstm_LSTM1/kernel` for nnspec's
 * `bi/forward_lstm/kernel`).
 */
function sameWeight(saved: string, want: string): boolean {
  const a = saved.replace(/_\d+$/, "").split("/");
  const b = want.split("/");
  return a.length === b.length && a[0] === b[0] && a[a.length - 1] === b[b.length - 1] && a.slice(1, -1).every((s, i) => s.startsWith(b[i + 1]));
}

/**
 * The weights of `model.json`'s manifest for each parameter of the imported model: found by the
 * layer's original name and the parameter's (tfjs saves each variable under its name before it made
 * it unique, so `dense/kernel`), each with the parameter's shape; every weight must be used.
 */
function importWeights(root: Obj, input: ImportInput, model: ConcreteModel, original: Map<string, string>, problems: ImportProblem[]): Map<string, Float32Array> | undefined {
  const fix = "the weight files must be the ones saved with this model.json";
  const read = manifestWeights(root, input.weights!, input.shown, "the weight files", fix);
  if (!read.ok) {
    problems.push({ severity: "error", path: "weightsManifest", message: read.error });
    return undefined;
  }
  const { specs, weights } = read.value;
  const out = new Map<string, Float32Array>();
  const used = new Set<string>();
  for (const l of model.layers) {
    const layer = original.get(l.info.name) ?? l.info.name;
    for (const p of l.params) {
      const want = `${layer}/${p.name}`;
      const found = weights.has(want) ? want : specs.find((s) => !used.has(s.name) && sameWeight(s.name, want))?.name;
      const spec = specs.find((s) => s.name === found);
      if (!found || !spec) {
        problems.push({ severity: "error", path: "weightsManifest", message: `there is no weight \`${want}\` (layer \`${layer}\`'s ${p.name}, ${p.shape.join("×")}); ${fix}` });
        continue;
      }
      if (spec.shape.length !== p.shape.length || spec.shape.some((d, i) => d !== p.shape[i])) {
        problems.push({ severity: "error", path: "weightsManifest", message: `weight \`${found}\` has shape [${spec.shape.join(", ")}], but layer \`${layer}\` needs [${p.shape.join(", ")}]; ${fix}` });
        continue;
      }
      used.add(found);
      out.set(p.id, weights.get(found)!);
    }
  }
  const extra = specs.filter((s) => !used.has(s.name));
  if (extra.length) problems.push({ severity: "error", path: "weightsManifest", message: `the weights ${extra.map((s) => `\`${s.name}\``).join(", ")} belong to no layer nnspec read; ${fix}` });
  return problems.some((p) => p.severity === "error") ? undefined : out;
}

const STATE_NAMES = ["h", "c"];


/** A node's inputs: Keras 2 / tfjs `[[name, node, index, kwargs], ...]` or Keras 3 `{args, kwargs}`. */
function inboundRefs(node: Json): Ref[] | undefined {
  if (Array.isArray(node)) {
    const refs: Ref[] = [];
    for (const e of node) {
      if (!Array.isArray(e) || typeof e[0] !== "string" || typeof e[2] !== "number") return undefined;
      refs.push({ layer: e[0], index: e[2] });
    }
    return refs;
  }
  if (isObject(node)) {
    const refs: Ref[] = [];
    const visit = (v: Json): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else if (isObject(v) && v.class_name === "__keras_tensor__" && isObject(v.config) && Array.isArray(v.config.keras_history)) {
        const [layer, , index] = v.config.keras_history;
        if (typeof layer === "string" && typeof index === "number") refs.push({ layer, index });
      }
    };
    visit(node.args ?? []);
    // tensors passed by keyword (an attention's `key`, a recurrent layer's `initial_state`), in order
    if (isObject(node.kwargs)) for (const v of Object.values(node.kwargs)) visit(v);
    return refs.length ? refs : undefined;
  }
  return undefined;
}

/** `input_layers` / `output_layers`: `[[name, node, index], ...]`, or Keras 3's single `[name, node, index]`. */
function refList(v: Json | undefined): Ref[] | undefined {
  if (!Array.isArray(v)) return undefined;
  if (typeof v[0] === "string") return typeof v[2] === "number" ? [{ layer: v[0], index: v[2] }] : undefined;
  const refs: Ref[] = [];
  for (const e of v) {
    if (!Array.isArray(e) || typeof e[0] !== "string" || typeof e[2] !== "number") return undefined;
    refs.push({ layer: e[0], index: e[2] });
  }
  return refs;
}

/** The layer's kind and options through the kinds' `keras` facets. */
function readLayer(n: Node, problems: ImportProblem[]): void {
  const candidates = [...LAYERS.values()].filter((k) => k.keras?.classes.includes(n.className));
  const reader = (config: Obj, path: string, local: ImportProblem[]): KerasReader => ({
    config,
    refuse: (key, why) => local.push({ severity: "error", path: `${path}.${key}`, message: `layer \`${n.original}\` (${n.className}): ${why}` }),
    warn: (key, why) => local.push({ severity: "warning", path: `${path}.${key}`, message: `layer \`${n.original}\` (${n.className}): ${why}` }),
    wrapped: (key) => {
      const o = kerasObject(config[key]);
      return o ? { className: o.className, reader: reader(o.config, `${path}.${key}.config`, local) } : undefined;
    },
  });
  for (const kind of candidates) {
    const local: ImportProblem[] = [];
    const opts = kind.keras!.options(reader(n.config, `${n.path}.config`, local));
    if (!opts) continue;
    problems.push(...local);
    n.kind = kind;
    n.opts = opts;
    if (n.config.trainable === false) n.opts.trainable = false;
    return;
  }
  const known = [...new Set([...LAYERS.values()].flatMap((k) => k.keras?.classes ?? []))].sort();
  const what = candidates.length ? `this ${n.className} (${JSON.stringify(n.config.activation ?? n.config.layer ?? {})})` : `the class \`${n.className}\``;
  problems.push({
    severity: "error",
    path: `${n.path}.class_name`,
    message: `layer \`${n.original}\`: nnspec has no layer for ${what}; it reads ${known.join(", ")}. ${HINTS[n.className] ?? "Replace the layer with one of those in the original model, or leave it out and import the rest"}`,
  });
}

/** What to do about the Keras layers people meet most that nnspec lacks. */
const HINTS: Record<string, string> = {
  ReLU: "An Activation('relu') layer computes the same: use that in the original model",
  Rescaling: "Scale the inputs in the data block instead (`scale 1/255`)",
  Normalization: "Standardize in the data block instead (`standardize`)",
  ZeroPadding2D: "Use `padding: same` on the convolution that follows",
  GaussianNoise: "It does nothing at inference: remove it before saving",
  SpatialDropout1D: "Use a Dropout layer",
  TimeDistributed: "nnspec's dense applies to the last axis of any input: unwrap the Dense",
};

/**
 * A LeakyReLU or ELU named `<layer>_then` right after a weighted layer without activation is that
 * layer's activation (nnspec saves `dense 8 activation: leaky_relu(0.2)` so).
 */
function foldActivations(nodes: Node[], outputs: Ref[]): void {
  const byName = new Map(nodes.map((n) => [n.original, n]));
  for (const n of nodes) {
    if (!n.kind || !n.original.endsWith("_then") || (n.kind.name !== "leaky_relu" && n.kind.name !== "elu")) continue;
    const owner = byName.get(n.original.slice(0, -"_then".length));
    if (!owner?.kind || owner.kind.role !== "weighted" || !("activation" in (owner.kind.schema.properties ?? {}))) continue;
    if (owner.opts.activation !== undefined && owner.opts.activation !== "linear") continue;
    if (n.inputs.length !== 1 || n.inputs[0].layer !== owner.original || n.inputs[0].index !== 0) continue;
    const readers = nodes.filter((m) => m !== n && m.inputs.some((r) => r.layer === owner.original));
    if (readers.length || outputs.some((r) => r.layer === owner.original)) continue;
    const alpha = n.opts.alpha;
    owner.opts.activation = typeof alpha === "number" ? { call: n.kind.name, args: [alpha], options: {} } : n.kind.name;
    owner.folded = n;
    n.absorbed = true;
    // readers of the activation layer now read the owner
    for (const m of nodes) m.inputs = m.inputs.map((r) => (r.layer === n.original ? { layer: owner.original, index: r.index } : r));
    for (const r of outputs) if (r.layer === n.original) r.layer = owner.original;
  }
}

/** The spec: one model, a line per layer, options only where they differ from the kind's defaults. */
function specText(name: string, inputs: InputDecl[], nodes: Node[], outputs: Ref[], outNames: string[], tensorName: (r: Ref) => string, shown: string, format: ImportFormat, outShapes?: string[]): string {
  let unknown = 0;
  const unnamed = new Set<Node>();
  const kindOutputs = (n: Node): number => n.kind!.outputs?.(withDefaults(n.kind!.schema, n.opts)) ?? 1;
  const dims = (d: InputDecl): string => `${d.int ? "int" : ""}[${d.dims.map((x) => (x === null ? (unknown++ === 0 ? "steps" : `steps${unknown}`) : String(x))).join(", ")}]`;
  const sig = inputs.map((d) => `${d.name}: ${dims(d)}`).join(", ");
  const lines: string[] = [];
  let prev: string | undefined = inputs.length === 1 ? inputs[0].name : undefined;
  const outputByTensor = new Map(outputs.map((r, i) => [tensorName(r), outNames[i]]));
  // A layer named as nnspec names an unnamed one (`dense_2`: the second dense) is written without
  // its name where only the next line reads it, or it ends the model as its one output.
  const counts = new Map<string, number>();
  const readers = new Map<string, number>();
  for (const n of nodes) for (const t of new Set(n.inputs.map(tensorName))) readers.set(t, (readers.get(t) ?? 0) + 1);
  nodes.forEach((n, i) => {
    const k = (counts.get(n.kind!.name) ?? 0) + 1;
    counts.set(n.kind!.name, k);
    const next = nodes[i + 1];
    const last = i === nodes.length - 1;
    const readByNext = next !== undefined && next.kind!.inputs === "one" && !next.kind!.tensorOption && tensorName(next.inputs[0]) === n.name && next.inputs.length === 1;
    const reads = readers.get(n.name) ?? 0;
    const isOutput = outputByTensor.has(n.name);
    const quiet = n.name === `${n.kind!.name}_${k}` && (kindOutputs(n) === 1) && (isOutput ? last && outputs.length === 1 && reads === 0 : reads === 1 && readByNext);
    if (quiet) unnamed.add(n);
  });
  for (const n of nodes) {
    const kind = n.kind!;
    const ins = n.inputs.map(tensorName);
    const opts: Record<string, Json> = { ...n.opts };
    const terms: string[] = [];
    let head = "";
    if (kind.inputs === "many" || (kind.inputs === "some" && !(ins.length === 1 || ins.every((t) => t === ins[0])))) {
      terms.push(ins.join(", "));
    } else {
      if (kind.tensorOption && ins.length > 1) opts[kind.tensorOption] = ins.slice(1);
      if (ins[0] !== prev) head = `${ins[0]} -> `;
    }
    terms.push(...optionTerms(kind, opts));
    const outs = [n.name, ...Array.from({ length: (kind.outputs?.(withDefaults(kind.schema, opts)) ?? 1) - 1 }, (_, k) => `${n.name}_${STATE_NAMES[k] ?? k + 1}`)];
    const target = outs.map((t) => outputByTensor.get(t) ?? t);
    lines.push(`  ${unnamed.has(n) ? "" : `${target.join(", ")} = `}${head}${kind.name}${terms.length ? ` ${terms.join(" ")}` : ""}`);
    prev = target[0];
  }
  const typed = outNames.map((o, i) => (outShapes ? `${o}: ${outShapes[i]}` : o));
  const out = typed.length === 1 ? typed[0] : `(${typed.join(", ")})`;
  const source = format === "tfjs-layers" ? "a TensorFlow.js Layers model" : "a Keras model config";
  return `# Imported by \`nnspec import\` from ${shown} (${source}).\n# Add a data block (and a train block) to evaluate, fine-tune or predict from a CSV's named columns.\n\nmodel ${name}(${sig}) -> ${out} {\n${lines.join("\n")}\n}\n`;
}

/** The options as terms: positional values first (in order, while each is given), a bare choice, then `key: value` where it is not the default. */
function optionTerms(kind: LayerKind, opts: Record<string, Json>): string[] {
  const props = kind.schema.properties ?? {};
  const given = Object.entries(opts).filter(([k, v]) => v !== undefined && JSON.stringify(props[k]?.default) !== JSON.stringify(v));
  const left = new Map(given);
  const terms: string[] = [];
  for (const p of kind.args.positional) {
    if (!left.has(p)) break;
    terms.push(valueText(left.get(p)!));
    left.delete(p);
  }
  const bare = kind.args.bareChoice;
  let choice: string | undefined;
  if (bare && typeof left.get(bare.option) === "string" && (bare.values as readonly string[]).includes(left.get(bare.option) as string)) {
    choice = left.get(bare.option) as string;
    left.delete(bare.option);
  }
  // required options, then the bare choice, then the rest: `conv2d 32 kernel: 3 relu l2: 0.01`
  const required = new Set(kind.schema.required ?? []);
  const keyed = (req: boolean) => [...left].filter(([k]) => required.has(k) === req).map(([k, v]) => `${k}: ${valueText(v)}`);
  for (const group of [keyed(true), choice ? [choice] : [], keyed(false)]) if (group.length) terms.push(group.join(", "));
  return terms;
}
