/**
 * The file side of saved models, shared by `nnspec train`, `eval` and `predict`: writing an output
 * folder atomically, reading a saved model's files, finding its model and data in a spec, and
 * reapplying its saved preprocessing to a data set. The pure parts live in src/runtime (save.ts,
 * load.ts) and src/data.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve as resolvePath } from "node:path";
import type { CheckedModel } from "../check/ir.ts";
import { selectColumns, tooWideText } from "../data/columns.ts";
import type { LoadedData, SplitData } from "../data/index.ts";
import { readTable, type ReadProblem } from "../data/node/read.ts";
import { transform, type FeatureMatrix, type FittedStats } from "../data/preprocess.ts";
import type { Table } from "../data/table.ts";
import { fill, hasErrors, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { renderDiagnostic, renderSummary } from "../diagnostics/render.ts";
import type { LineMap } from "../diagnostics/span.ts";
import { CATALOG } from "../diagnostics/catalog.ts";
import type { DataSpec } from "../lang/program.ts";
import type { Json } from "../lang/values.ts";
import { FileHost, type CheckedFile } from "../node/host.ts";
import { writeFile } from "../node/write.ts";
import { sha256 } from "../node/hash.ts";
import { sourceOf } from "../data/source.ts";
import type { Io } from "./common.ts";
import { applyWeights, parseSaved, weightPaths, type Result, type SavedModel } from "../saved/load.ts";
import { RuntimeModel } from "../runtime/model.ts";
import { isImported, MODEL_FILE, OUTPUT_FILES, SIDECAR_FILE, type Sidecar } from "../saved/save.ts";
import { loadData } from "../data/index.ts";
import { readTableCached } from "../node/host.ts";
import { taskOf } from "../kinds/metrics/kernel.ts";



const fail = <T>(error: string): Result<T> => ({ ok: false, error });

/**
 * Repairs what a run killed in the middle of writeFolderAtomic's swap left: `dir` moved aside as
 * `.<dir>.tmp-*.old` and the new run not yet in place. The moved-aside folder (the last complete
 * model) goes back to `dir`; temporary folders of interrupted runs are removed. Returns what it did.
 */
export function recoverInterrupted(abs: string): string[] {
  const parent = dirname(abs);
  const prefix = `.${basename(abs)}.tmp-`;
  // `.<dir>.tmp-<pid>-<hex>[.old]`: only those of processes no longer running (another run may be writing).
  const alive = (n: string): boolean => {
    const pid = Number(n.slice(prefix.length).split("-")[0]);
    if (!Number.isInteger(pid) || pid <= 0) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "EPERM";
    }
  };
  let stale: string[];
  try {
    stale = readdirSync(parent).filter((n) => n.startsWith(prefix) && !alive(n));
  } catch {
    return [];
  }
  if (!stale.length) return [];
  const done: string[] = [];
  if (!existsSync(abs)) {
    const old = stale.filter((n) => n.endsWith(".old")).sort((a, b) => statSync(join(parent, b)).mtimeMs - statSync(join(parent, a)).mtimeMs)[0];
    if (old) {
      renameSync(join(parent, old), abs);
      done.push(`restored ${abs} from ${old}, which an interrupted run had moved aside`);
      stale = stale.filter((n) => n !== old);
    }
  }
  for (const n of stale) rmSync(join(parent, n), { recursive: true, force: true });
  if (stale.length) done.push(`removed ${stale.length} temporary folder(s) of interrupted runs beside ${abs}`);
  return done;
}

/**
 * Writes `files` as the folder `dir`: into a fresh temporary folder beside it, then renamed into
 * place, so `dir` never holds a mix of old and new files or a half-written one. An existing `dir` is
 * replaced only when it holds nothing but files nnspec writes.
 */
export function writeFolderAtomic(dir: string, files: Record<string, string | Uint8Array>): Result<void> {
  const abs = resolvePath(dir);
  const parent = dirname(abs);
  recoverInterrupted(abs);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (e) {
    return fail(`cannot create the folder ${dirname(dir)}: ${(e as Error).message}`);
  }
  const foreignIn = (): string | undefined => {
    if (!existsSync(abs)) return undefined;
    if (!statSync(abs).isDirectory()) return `${dir} exists and is not a folder; give another --out`;
    const foreign = readdirSync(abs).filter((n) => !OUTPUT_FILES.has(n));
    if (foreign.length)
      return `${dir} already holds files nnspec did not write (${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", …" : ""}); give an empty or new folder with --out, nothing was written`;
    return undefined;
  };
  const bad = foreignIn();
  if (bad) return fail(bad);
  let tmp: string;
  try {
    // mkdir (not mkdtemp, which makes it private) so that the folder gets the usual permissions.
    tmp = join(parent, `.${basename(abs)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
    mkdirSync(tmp);
  } catch (e) {
    return fail(`cannot write into ${dirname(dir)}: ${(e as Error).message}`);
  }
  try {
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tmp, name), data);
    // Another process may create or replace `dir` meanwhile: retry the swap a few times.
    for (let attempt = 0; ; attempt++) {
      const again = foreignIn();
      if (again) throw new Error(again);
      const old = existsSync(abs) ? `${tmp}.old` : undefined;
      try {
        if (old) renameSync(abs, old);
        try {
          renameSync(tmp, abs);
        } catch (e) {
          if (old) renameSync(old, abs);
          throw e;
        }
        if (old) rmSync(old, { recursive: true, force: true });
        return { ok: true, value: undefined };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (attempt < 5 && (code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOENT")) continue;
        throw e;
      }
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    return fail(`cannot write ${dir}: ${(e as Error).message}; nothing was written`);
  }
}

/** Writes one file atomically (src/node/write.ts). */
export function writeFileAtomic(path: string, data: string | Uint8Array): Result<void> {
  const w = writeFile(path, data);
  return w.ok ? { ok: true, value: undefined } : fail(w.error);
}

/** Reads a saved model's folder: model.json, the weight files its manifest lists, and nnspec.json. */
export function readSavedModel(dir: string): Result<SavedModel> {
  const abs = resolvePath(dir);
  recoverInterrupted(abs);
  const trainHint = `train one with \`nnspec train SPEC --out ${dir}\``;
  if (!existsSync(abs)) return fail(`no saved model at ${dir}: the folder does not exist; give the folder \`nnspec train\` wrote (it holds model.json, weights.bin and nnspec.json), or ${trainHint}`);
  if (!statSync(abs).isDirectory()) return fail(`${dir} is not a folder; --model takes the folder \`nnspec train\` wrote (it holds model.json, weights.bin and nnspec.json)`);
  const read = (name: string, what: string): Result<Buffer> => {
    const p = join(abs, name);
    if (!existsSync(p)) return fail(`${join(dir, name)} is missing${what}; ${dir} does not hold a complete saved model: ${trainHint}`);
    try {
      return { ok: true, value: readFileSync(p) };
    } catch (e) {
      return fail(`cannot read ${join(dir, name)}: ${(e as Error).message}`);
    }
  };
  const mj = read(MODEL_FILE, "");
  if (!mj.ok) return mj;
  const modelJson = mj.value.toString("utf8");
  const paths = weightPaths(dir, modelJson);
  if (!paths.ok) return paths;
  const parts: Buffer[] = [];
  for (const p of paths.value) {
    const w = read(p, ` (${MODEL_FILE} lists it)`);
    if (!w.ok) return w;
    parts.push(w.value);
  }
  if (!existsSync(join(abs, SIDECAR_FILE))) return fail(`${join(dir, SIDECAR_FILE)} is missing: ${dir} holds a model nnspec did not save; import it first with \`nnspec import ${join(dir, MODEL_FILE)}\`, then give the folder it writes`);
  const sc = read(SIDECAR_FILE, " (it holds the preprocessing statistics and class names)");
  if (!sc.ok) return sc;
  const weights = parts.length === 1 ? new Uint8Array(parts[0].buffer, parts[0].byteOffset, parts[0].byteLength) : new Uint8Array(Buffer.concat(parts));
  return parseSaved({ dir, modelJson, weights, sidecar: sc.value.toString("utf8") });
}

export interface SavedTarget {
  checked: CheckedModel;
  /** The spec as analysed. */
  file: CheckedFile;
  data: DataSpec;
  model: RuntimeModel;
  /** What the model was trained with; for an imported model, what the spec's train block gives it. */
  meta: Sidecar;
  /** Set when the spec's text differs from the one the model was trained from. */
  note?: string;
}

/** An imported model in a spec that does not train it yet: predictions read its inputs' values as they are. */
export interface RawTarget {
  checked: CheckedModel;
  /** The spec as analysed. */
  file: CheckedFile;
  model: RuntimeModel;
  raw: true;
  note?: string;
}

/**
 * The saved model's model and data block in `file` (the spec given on the command line), lowered and
 * filled with the saved weights. An imported model takes its data, preprocessing and loss from the
 * spec's train block for it (fitted now, as training would); without one it is `raw`.
 */
export async function loadTarget(file: CheckedFile, saved: SavedModel, dir: string): Promise<Result<SavedTarget | RawTarget>> {
  const meta = saved.meta;
  const imported = isImported(meta);
  const from = meta.spec?.file ? ` (it was ${imported ? "imported as" : "trained from"} ${meta.spec.file})` : "";
  const checked = file.checked.models.get(meta.model);
  if (!checked) return fail(`${file.path} has no model \`${meta.model}\`, the model saved in ${dir}; give the spec it was ${imported ? "imported as" : "trained from"}${from}`);
  const lowered = RuntimeModel.lower(checked, { seed: imported ? 0 : (meta.config.seed ?? 0) });
  if (!lowered.model) return fail(`${file.path}: model \`${meta.model}\`: ${lowered.errors.join("; ")}`);
  const applied = applyWeights(lowered.model, saved, dir, file.path);
  if (!applied.ok) return applied;
  // an imported spec is meant to change (a data and a train block join it)
  const note = !imported && meta.spec?.sha256 && meta.spec.sha256 !== sha256(file.text) ? `${file.path} has changed since the model in ${dir} was trained${from}; its model still matches the saved weights` : undefined;
  const model = lowered.model;
  if (!imported) {
    const data = file.checked.data.get(meta.data) ?? file.checked.trains.find((t) => t.model?.name === meta.model)?.data;
    if (!data) return fail(`${file.path} has no data block \`${meta.data}\`, the data the model in ${dir} was trained on; give the spec it was trained from${from}`);
    return { ok: true, value: { checked, file, data, model, meta, ...(note ? { note } : {}) } };
  }
  const i = file.checked.trains.findIndex((t) => t.model?.name === meta.model && t.data && t.config);
  if (i < 0) return { ok: true, value: { checked, file, model, raw: true, ...(note ? { note } : {}) } };
  const t = file.checked.trains[i];
  const loaded = await loadData(t.data!, resolvePath(file.path), { read: readTableCached });
  if (!loaded.data) {
    const sources = new Map<string, LineMap>([[file.path, file.lines]]);
    return fail(`data \`${t.data!.name}\` cannot be loaded:\n${loaded.diagnostics.map((d) => renderDiagnostic(d, { color: false, sources })).join("\n")}`);
  }
  const d = loaded.data;
  const cfg = t.config!;
  const full: Sidecar = {
    ...meta,
    data: t.data!.name,
    train: i + 1,
    config: cfg,
    epochs: 0,
    task: taskOf(cfg.loss.name, meta.outputs[0]?.shape ?? []),
    label: d.stats.label ?? d.label,
    ...(d.classNames ? { classNames: d.classNames } : {}),
    preprocess: d.stats,
  };
  return { ok: true, value: { checked, file, data: t.data!, model, meta: full, ...(note ? { note } : {}) } };
}

/**
 * The saved model in `dir` for the spec at `path`, as eval, predict and export open it: a repaired
 * interrupted save, the files read and checked, the spec analysed, the weights loaded. Undefined
 * after writing why not to stderr; a note (the spec has changed) goes there too.
 */
export async function openTarget(path: string, dir: string, io: Io): Promise<(SavedTarget | RawTarget) | undefined> {
  recoverFolder(dir, io);
  const saved = readSavedModel(dir);
  if (!saved.ok) return void io.stderr.write(`error: ${saved.error}\n`);
  const file = openSpec(path, io);
  if (!file) return undefined;
  const target = await loadTarget(file, saved.value, dir);
  if (!target.ok) return void io.stderr.write(`error: ${target.error}\n`);
  if (target.value.note) io.stderr.write(`note: ${target.value.note}\n`);
  return target.value;
}

// ── data with the saved preprocessing ──

/** The column names the data block gives (`columns`), if any. */
export function declaredColumns(spec: DataSpec): string[] | undefined {
  const c = spec.statements.get("columns")?.options.values.names;
  return Array.isArray(c) && c.every((x) => typeof x === "string") ? (c as string[]) : undefined;
}

/** The feature columns of a table laid out as the data block's file, as the loader selects them. */
export function featureColumns(spec: DataSpec, names: readonly string[] | undefined, width: number): Result<number[]> {
  const items = spec.statements.get("features")?.options.values.columns as Json[] | undefined;
  const labelsOwnFile = sourceOf(spec).labels !== undefined;
  if (items) {
    const sel = selectColumns(items, names, width);
    if (sel.problems.length) return fail(describeSelect(sel.problems[0].problem));
    return { ok: true, value: sel.indices };
  }
  const label = labelsOwnFile || !spec.label ? [] : selectColumns(spec.label.columns, names, width).indices;
  return { ok: true, value: Array.from({ length: width }, (_, i) => i).filter((i) => !label.includes(i)) };
}

function describeSelect(p: ReturnType<typeof selectColumns>["problems"][number]["problem"]): string {
  switch (p.kind) {
    case "unknown":
      return `there is no column \`${p.name}\``;
    case "outOfRange":
      return `there is no column ${p.index}`;
    case "backwards":
      return `the range \`${p.text}\` runs backwards`;
    case "invalid":
      return `\`${p.text}\` is not a column`;
    case "tooWide":
      return tooWideText(p.text, p.count);
  }
}

/** The preprocessing part of fitted statistics (the label is not part of it). */
function preprocessKey(s: FittedStats): string {
  const { label: _l, ...rest } = s;
  return JSON.stringify(rest);
}

/**
 * `data`'s split with `stats` (a saved model's preprocessing) applied. When the freshly fitted
 * statistics are the saved ones (the same data and split) the loaded split is returned as it is;
 * otherwise the split's rows are read again from the data file and transformed with `stats`.
 */
export async function withSavedStats(spec: DataSpec, specPath: string, data: LoadedData, split: "train" | "val" | "test", stats: FittedStats): Promise<Result<SplitData>> {
  const s = data[split];
  if (preprocessKey(data.stats) === preprocessKey(stats)) return { ok: true, value: s };
  const stmt = split === "test" && spec.statements.has("test_from") ? "test_from" : "from";
  const src = sourceOf(spec, stmt);
  if (!src.path) return fail(`data \`${spec.name}\` has no \`${stmt}\` file`);
  const abs = isAbsolute(src.path) ? src.path : resolvePath(dirname(resolvePath(specPath)), src.path);
  const r = await readTable(abs, src.path, src.opts);
  if (!("table" in r)) return fail(readProblemText(r.problems));
  const t = r.table;
  const cols = featureColumns(spec, declaredColumns(spec) ?? t.names, t.width);
  if (!cols.ok) return fail(`${src.path}: ${cols.error}`);
  if (cols.value.length !== stats.features.length)
    return fail(`data \`${spec.name}\` selects ${cols.value.length} feature columns, but the saved model's preprocessing has ${stats.features.length}; give the spec the model was trained from`);
  const x = transform(tableMatrix(t, s.rows, cols.value), stats);
  return { ok: true, value: { ...s, x, featureShape: stats.shape } };
}

export function tableMatrix(t: Table, rows: ArrayLike<number>, columns: ArrayLike<number>): FeatureMatrix {
  return { values: t.values, stride: t.width, rows, columns, text: (r, c) => t.text.get(r * t.width + c) };
}

/**
 * `--epochs -1` as `--epochs=-1`: node's parseArgs reads a value starting with `-` as an option and
 * says only that the option is "ambiguous"; joined, the value reaches the command's own check.
 */
export function joinNegativeValues(argv: readonly string[], options: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (options.includes(argv[i]) && i + 1 < argv.length && /^-\d/.test(argv[i + 1])) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** Read problems as text (no spec span: the file may come from the command line). */
export function readProblemText(problems: readonly ReadProblem[]): string {
  return problems.map((p) => fill(CATALOG[p.key].message, p.params)).join("; ");
}

export type { Io };

/** Analyses a spec given on the command line; on an unreadable file or errors, reports them and returns undefined. */
export function openSpec(path: string, io: Io): CheckedFile | undefined {
  let file: CheckedFile;
  try {
    file = new FileHost().analyse(resolvePath(path), path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    io.stderr.write(`error: cannot read ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : (e as Error).message}\n`);
    return undefined;
  }
  if (hasErrors(file.diagnostics)) {
    reportDiagnostics(file.diagnostics, file, io);
    return undefined;
  }
  return file;
}

/** Diagnostics (of the spec, or of loading its data) as code frames on stderr, then the summary line. */
export function reportDiagnostics(ds: readonly Diagnostic[], file: CheckedFile, io: Io): void {
  const color = !!io.stderr.isTTY;
  const sources = new Map<string, LineMap>([[file.path, file.lines]]);
  for (const d of ds) io.stderr.write(renderDiagnostic(d, { color, sources }) + "\n\n");
  const s = renderSummary(ds, color);
  if (s) io.stderr.write(`${s}\n`);
}

/** recoverInterrupted for a folder named on the command line, saying what it did. */
export function recoverFolder(dir: string, io: Io): void {
  for (const n of recoverInterrupted(resolvePath(dir))) io.stderr.write(`note: ${n}\n`);
}
