/**
 * `nnspec import MODEL.json [--out DIR]`: a TensorFlow.js Layers model (model.json and the weight
 * files its manifest lists) or a Keras model config (`model.to_json()`) as `DIR/NAME.nnspec` and,
 * when there are weights, the saved model `DIR/NAME/` that eval, predict and `train --from` open.
 * Everything the spec cannot express is reported at once, by its JSON path; then nothing is written.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve as resolvePath } from "node:path";
import { importModel, type ImportInput } from "../../interop/keras.ts";
import { weightPaths } from "../../saved/load.ts";
import { saveImported, SIDECAR_FILE } from "../../saved/save.ts";
import { RuntimeModel } from "../../runtime/model.ts";
import { paramsOf } from "../../check/concrete.ts";
import { sha256 } from "../../node/hash.ts";
import { args, usageFor, type Command, type Io } from "../common.ts";
import { recoverFolder, writeFileAtomic, writeFolderAtomic } from "../saved.ts";

export const IMPORT_USAGE = "nnspec import MODEL.json [--out|-o DIR]";

/** The first line of every spec `nnspec import` writes: such a file may be written again. */
const MARK = "# Imported by `nnspec import`";

async function importCommand(argv: string[], io: Io): Promise<number> {
  const usage = usageFor(io, IMPORT_USAGE);
  let parsed;
  try {
    parsed = args(argv, { out: { type: "string", short: "o" } });
  } catch (e) {
    return usage((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usage(positionals.length ? "one model at a time" : "no model given: the model.json TensorFlow.js saved, or a file with Keras's `model.to_json()`");
  const path = positionals[0];
  const out = values.out ?? "imported";
  const error = (msg: string): number => (io.stderr.write(`error: ${msg}\n`), 1);

  let json: string;
  try {
    json = readFileSync(resolvePath(path), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return error(`cannot read ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? `it is a folder (give ${join(path, "model.json")})` : (e as Error).message}`);
  }
  const input: ImportInput = { json, shown: path };
  const dir = dirname(path);
  // The weight files a TensorFlow.js model.json lists, read from its folder.
  const looksTfjs = /"weightsManifest"/.test(json);
  if (looksTfjs) {
    const paths = weightPaths(dir, json);
    if (!paths.ok) return error(paths.error);
    const parts: Buffer[] = [];
    for (const p of paths.value) {
      try {
        parts.push(readFileSync(resolvePath(dir, p)));
      } catch {
        return error(`${join(dir, p)} is missing (${path} lists it among its weight files): copy it beside ${basename(path)}`);
      }
    }
    input.weights = new Uint8Array(Buffer.concat(parts));
  }
  // A model nnspec saved keeps its model, input and output names.
  const side = join(dir, SIDECAR_FILE);
  if (existsSync(resolvePath(side))) {
    try {
      const s = JSON.parse(readFileSync(resolvePath(side), "utf8"));
      if (s && typeof s === "object" && s.format === "nnspec-model") input.sidecar = s;
    } catch {
      io.stderr.write(`warning: ${side} is not valid JSON: the names of the model's inputs and outputs come from ${path}\n`);
    }
  }

  const r = importModel(input);
  for (const p of r.problems) io.stderr.write(`${p.severity}: ${path}${p.path ? ` at ${p.path}` : ""}: ${p.message}\n`);
  const errors = r.problems.filter((p) => p.severity === "error").length;
  if (errors || !r.spec) return error(`${errors} problem${errors === 1 ? "" : "s"} above: nothing was written`);

  const specPath = join(out, `${r.model}.nnspec`);
  const abs = resolvePath(specPath);
  if (existsSync(abs)) {
    let first = "";
    try {
      first = readFileSync(abs, "utf8").split("\n", 1)[0];
    } catch {
      // a folder or an unreadable file: not one this command wrote
    }
    if (!first.startsWith(MARK)) return error(`${specPath} exists and was not written by \`nnspec import\`: move it away, or import into another folder with --out DIR`);
  }
  const modelDir = join(out, r.model);
  if (r.weights && r.concrete) {
    const lowered = RuntimeModel.lower(r.checked!, { seed: 0 });
    if (!lowered.model) return error(lowered.errors.join("; "));
    for (const p of paramsOf(lowered.model)) p.value.set(r.weights.get(p.id)!);
    recoverFolder(modelDir, io);
    const files = saveImported(lowered.model, { spec: { file: specPath, name: r.model, sha256: sha256(r.spec) }, imported: { from: path, format: r.format } });
    const w = writeFolderAtomic(modelDir, files as unknown as Record<string, string | Uint8Array>);
    if (!w.ok) return error(w.error);
  }
  const w = writeFileAtomic(specPath, r.spec);
  if (!w.ok) return error(w.error);
  const params = r.checked!.layers.reduce((s, l) => s + (l.params?.trainable ?? 0) + (l.params?.nonTrainable ?? 0), 0);
  io.stdout.write(`wrote ${specPath} (model \`${r.model}\`: ${r.checked!.layers.length} layers, ${params.toLocaleString("en-US")} parameters)\n`);
  if (r.weights) {
    io.stdout.write(`wrote ${modelDir}/ (model.json, weights.bin, nnspec.json) with the imported weights\n`);
    io.stdout.write(`next: nnspec summary ${specPath}\n      nnspec predict ${specPath} --model ${modelDir} --input ROWS.csv\n`);
  } else {
    io.stdout.write(`${path} holds no weights (a Keras config): train the model with a data and a train block, e.g. \`nnspec train ${specPath}\`\n`);
  }
  return 0;
}

export const command: Command = { name: "import", summary: "import a TensorFlow.js or Keras model as a spec and a saved model", usage: IMPORT_USAGE, run: importCommand };
