/**
 * Loading a saved model (save.ts) back into a model (the interpreter's), for `nnspec eval`, `nnspec predict` and
 * fine-tuning. The architecture comes from the spec (its checked model, lowered as for training, so
 * `trainable: false` layers stay frozen); the files give the weights, the preprocessing and the class
 * names. Everything is checked before a single weight is copied: a damaged `model.json`, a
 * `weights.bin` of the wrong size, weights that do not match the spec's model, or a spec whose model
 * has changed since the save are errors naming the file and the fix. Pure: bytes and text in.
 */
import type { FittedStats } from "../data/preprocess.ts";
import { DATA_STATEMENTS } from "../lang/statements.ts";
import type { Json } from "../core/json.ts";
import { paramsOf, type ConcreteModel, type ConcreteParam } from "../check/concrete.ts";
import { MODEL_FILE, modelTopology, SIDECAR_FILE, type ImportedSidecar, type KerasLayer, type ModelTopology, type Sidecar, type WeightSpec } from "./save.ts";

/** The files of a saved model as read from disk, with the paths to show in messages. */
export interface SavedArtifacts {
  /** The folder as the user gave it, for messages and fixes. */
  dir: string;
  modelJson: string;
  /** The weight files of the manifest, concatenated in manifest order. */
  weights: Uint8Array;
  sidecar: string;
}

export interface SavedModel {
  topology: ModelTopology;
  weightSpecs: WeightSpec[];
  /** Each weight's values by name (`dense_1/kernel`). */
  weights: Map<string, Float32Array>;
  meta: Sidecar | ImportedSidecar;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

const fail = <T>(error: string): Result<T> => ({ ok: false, error });
const join = (dir: string, file: string): string => (dir.endsWith("/") ? `${dir}${file}` : `${dir}/${file}`);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The weight files `model.json`'s manifest lists, in order: each must be a plain file name inside the
 * model's folder. The CLI reads these (and only these) before `parseSaved`.
 */
export function weightPaths(dir: string, modelJsonText: string): Result<string[]> {
  const json = parseJson(modelJsonText, join(dir, MODEL_FILE));
  if (!json.ok) return json;
  const manifest = (json.value as Record<string, unknown>).weightsManifest;
  if (!Array.isArray(manifest)) return fail(`${join(dir, MODEL_FILE)} has no \`weightsManifest\`: it is not a TensorFlow.js Layers model; ${retrain(dir)}`);
  const paths: string[] = [];
  for (const g of manifest) {
    if (!isObject(g) || !Array.isArray(g.paths) || !g.paths.every((p) => typeof p === "string")) return fail(`${join(dir, MODEL_FILE)}: a \`weightsManifest\` entry has no list of \`paths\`; ${retrain(dir)}`);
    for (const p of g.paths as string[]) {
      if (!/^[A-Za-z0-9._-]+$/.test(p) || p === "." || p === "..") return fail(`${join(dir, MODEL_FILE)} names the weight file \`${p}\`, which is not a file name inside ${dir}; ${retrain(dir)}`);
      paths.push(p);
    }
  }
  return { ok: true, value: paths };
}

function retrain(dir: string): string {
  return `save the model again with \`nnspec train SPEC --out ${dir}\``;
}

function parseJson(text: string, shown: string): Result<unknown> {
  try {
    const v = JSON.parse(text);
    if (!isObject(v)) return fail(`${shown} does not hold a JSON object; the file is damaged: ${retrainHint(shown)}`);
    return { ok: true, value: v };
  } catch (e) {
    return fail(`${shown} is not valid JSON (${(e as Error).message}); the file is damaged or was cut short: ${retrainHint(shown)}`);
  }
}

function retrainHint(shown: string): string {
  const dir = shown.slice(0, Math.max(0, shown.lastIndexOf("/"))) || ".";
  return retrain(dir);
}

/**
 * The weights `weightsManifest` lists, read from `bytes` (the weight files concatenated in manifest
 * order): float32 only, every value present. `mj` and `files` name the files in messages, `fix` ends them.
 */
export function manifestWeights(json: Record<string, unknown>, bytes: Uint8Array, mj: string, files: string, fix: string): Result<{ specs: WeightSpec[]; weights: Map<string, Float32Array> }> {
  const specs: WeightSpec[] = [];
  if (!Array.isArray(json.weightsManifest)) return fail(`${mj} has no \`weightsManifest\`; ${fix}`);
  for (const g of json.weightsManifest as unknown[]) {
    if (!isObject(g) || !Array.isArray(g.weights)) return fail(`${mj}: a \`weightsManifest\` entry has no \`weights\` list; ${fix}`);
    for (const w of g.weights as unknown[]) {
      if (!isObject(w) || typeof w.name !== "string" || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0))
        return fail(`${mj}: a weight in \`weightsManifest\` lacks a name or a shape; ${fix}`);
      if ((w.dtype ?? "float32") !== "float32" || w.quantization !== undefined)
        return fail(`${mj}: weight \`${w.name}\` is ${w.quantization ? "quantized" : `\`${String(w.dtype)}\``}; nnspec reads float32 weights only; ${fix}`);
      specs.push({ name: w.name, shape: w.shape as number[], dtype: "float32" });
    }
  }
  const count = specs.reduce((s, w) => s + w.shape.reduce((x, d) => x * d, 1), 0);
  if (bytes.byteLength !== count * 4)
    return fail(`${files} holds ${bytes.byteLength} bytes, but ${mj} lists ${specs.length} weights of ${count} float32 values (${count * 4} bytes): the files come from different saves or one was cut short; ${fix}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const weights = new Map<string, Float32Array>();
  let off = 0;
  for (const w of specs) {
    const n = w.shape.reduce((x, d) => x * d, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++, off += 4) v[i] = view.getFloat32(off, true);
    if (weights.has(w.name)) return fail(`${mj} lists the weight \`${w.name}\` twice; ${fix}`);
    weights.set(w.name, v);
  }
  return { ok: true, value: { specs, weights } };
}

/** Parses and checks the three files; nothing about the spec yet. */
export function parseSaved(a: SavedArtifacts): Result<SavedModel> {
  const mj = join(a.dir, MODEL_FILE);
  const parsed = parseJson(a.modelJson, mj);
  if (!parsed.ok) return parsed;
  const json = parsed.value as Record<string, unknown>;
  if (json.format !== undefined && json.format !== "layers-model")
    return fail(`${mj} is a TensorFlow.js \`${String(json.format)}\`, not a Layers model (\`layers-model\`); ${retrain(a.dir)}`);
  const topo = json.modelTopology;
  if (!isObject(topo) || !isObject(topo.config) || !Array.isArray((topo.config as Record<string, unknown>).layers))
    return fail(`${mj} has no \`modelTopology\` with layers: it is not a TensorFlow.js Layers model; ${retrain(a.dir)}`);
  const paths = weightPaths(a.dir, a.modelJson);
  if (!paths.ok) return paths;
  const read = manifestWeights(json, a.weights, mj, paths.value.map((p) => join(a.dir, p)).join(" + "), retrain(a.dir));
  if (!read.ok) return read;
  const { specs, weights } = read.value;
  const sc = join(a.dir, SIDECAR_FILE);
  const side = parseJson(a.sidecar, sc);
  if (!side.ok) return side;
  const meta = side.value as Record<string, unknown>;
  if (meta.format !== "nnspec-model" || meta.version !== 1) return fail(`${sc} is not an nnspec model description (format \`nnspec-model\`, version 1); ${retrain(a.dir)}`);
  if ("imported" in meta) {
    if (!isObject(meta.imported) || typeof meta.model !== "string") return fail(`${sc} describes an imported model but does not name it; import the model again with \`nnspec import\``);
    return { ok: true, value: { topology: topo as unknown as ModelTopology, weightSpecs: specs, weights, meta: meta as unknown as ImportedSidecar } };
  }
  const pre = meta.preprocess as FittedStats | undefined;
  if (!isObject(pre) || pre.format !== "nnspec-preprocess" || !Array.isArray(pre.features) || !Array.isArray(pre.shape))
    return fail(`${sc} has no valid preprocessing statistics (\`preprocess\`); ${retrain(a.dir)}`);
  const badText = pre.features.find((f) => isObject(f) && f.kind === "text" && !validText(f.text));
  if (badText) return fail(`${sc}: the text feature \`${String(badText.name)}\` has no valid vocabulary and tokenizer (\`text\`); ${retrain(a.dir)}`);
  for (const k of ["model", "data"] as const) if (typeof meta[k] !== "string") return fail(`${sc} does not name the ${k}; ${retrain(a.dir)}`);
  if (!isObject(meta.config) || !isObject((meta.config as Record<string, unknown>).loss)) return fail(`${sc} has no training configuration (\`config\`); ${retrain(a.dir)}`);
  return { ok: true, value: { topology: topo as unknown as ModelTopology, weightSpecs: specs, weights, meta: meta as unknown as Sidecar } };
}

/**
 * How the spec's model differs from the saved topology (layer by layer, ignoring `trainable`, which
 * fine-tuning may change); undefined when they agree.
 */
export function topologyDifference(model: ConcreteModel, saved: ModelTopology): string | undefined {
  let mine: ModelTopology;
  try {
    mine = modelTopology(model);
  } catch (e) {
    return (e as Error).message;
  }
  const a = mine.config.layers;
  const b = saved.config.layers;
  const byName = new Map(b.map((l) => [l?.name, l]));
  for (const l of a) {
    const s = byName.get(l.name);
    if (!s) return `layer \`${l.name}\` (${l.class_name}) is not in the saved model`;
    if (s.class_name !== l.class_name) return `layer \`${l.name}\` is a ${l.class_name} here but a ${s.class_name} in the saved model`;
    const d = difference(strip(l), strip(s), "");
    if (d) return `layer \`${l.name}\`: ${d}`;
  }
  if (b.length !== a.length) {
    const extra = b.find((l) => !a.some((x) => x.name === l?.name));
    return extra ? `the saved model has a layer \`${extra.name}\` that this model lacks` : `the saved model has ${b.length} layers, this one ${a.length}`;
  }
  const io = (t: ModelTopology) => JSON.stringify([t.config.input_layers, t.config.output_layers]);
  if (io(mine) !== io(saved)) return `the inputs or outputs differ (${io(mine)} here, ${io(saved)} saved)`;
  return undefined;
}

function strip(l: KerasLayer): Json {
  const { trainable: _t, ...config } = l.config ?? {};
  return { config, inbound_nodes: l.inbound_nodes as unknown as Json };
}

function difference(a: Json | undefined, b: Json | undefined, path: string): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = difference((a as Record<string, Json>)[k], (b as Record<string, Json>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
  }
  return `${path || "value"} is ${JSON.stringify(a) ?? "absent"} in the spec but ${JSON.stringify(b) ?? "absent"} in the saved model`;
}

/**
 * Copies the saved weights into `model` (lowered from the spec). Every parameter must be saved with
 * its shape and every saved weight must belong to the model; otherwise nothing is copied and the
 * error says which weight and what to do. `where` names the spec for messages.
 */
export function applyWeights(model: ConcreteModel<ConcreteParam & { value: { set(v: ArrayLike<number>): void } }>, saved: SavedModel, dir: string, where: string): Result<void> {
  const mj = join(dir, MODEL_FILE);
  const fix = `the model \`${model.name}\` in ${where} is not the one saved in ${dir}: train it again (\`nnspec train ${where} --out ${dir}\`) or give the spec it was trained from${saved.meta.spec?.file ? ` (${saved.meta.spec.file})` : ""}`;
  const diff = topologyDifference(model, saved.topology);
  if (diff) return fail(`${diff}; ${fix}`);
  for (const p of paramsOf(model)) {
    const w = saved.weights.get(p.id);
    if (!w) return fail(`${mj} has no weight \`${p.id}\`; ${fix}`);
    const spec = saved.weightSpecs.find((s) => s.name === p.id)!;
    if (spec.shape.length !== p.shape.length || spec.shape.some((d, i) => d !== p.shape[i]))
      return fail(`${mj}: weight \`${p.id}\` has shape [${spec.shape.join(", ")}], the model needs [${p.shape.join(", ")}]; ${fix}`);
  }
  const names = new Set(paramsOf(model).map((p) => p.id));
  const extra = saved.weightSpecs.find((s) => !names.has(s.name));
  if (extra) return fail(`${mj} has a weight \`${extra.name}\` that the model does not; ${fix}`);
  for (const p of paramsOf(model)) p.value.set(saved.weights.get(p.id)!);
  return { ok: true, value: undefined };
}

/** A saved text feature's tokenizer: what `transform` reads. */
function validText(t: unknown): boolean {
  if (!isObject(t)) return false;
  const v = t as Record<string, unknown>;
  // the values the `text` statement allows
  const props = DATA_STATEMENTS.get("text")!.schema.properties;
  const oneOf = (k: string) => (props[k].enum as unknown[]).includes(v[k]);
  return (
    ["tokens", "case", "punctuation", "pad", "truncate"].every(oneOf) &&
    Number.isInteger(v.length) &&
    (v.length as number) >= 1 &&
    Array.isArray(v.vocabulary) &&
    v.vocabulary.every((x) => typeof x === "string")
  );
}
