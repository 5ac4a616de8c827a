/**
 * `nnspec predict FILE --model DIR --input CSV [--output CSV]`: runs a saved model on new rows.
 *
 * The input has the data block's feature columns, with a header row when the data block reads one
 * (after the block's `skip:` lines when it is the data file itself; `--skip N` says how many to skip):
 * with a header the features are found by name (other columns, such as the label, are ignored);
 * without one the input holds either exactly the feature columns, in order, or every column of the
 * data file (the features are then picked as the data block picks them). The saved preprocessing is
 * applied, and the output CSV holds the predicted class and each class's probability (class labels),
 * 0/1 and a probability per label (binary labels), or the predicted values (regression).
 */
import { args, usageFor, type Command } from "../common.ts";
import { shortList } from "../../util/list.ts";
import { sourceOf } from "../../data/source.ts";
import { dirname, resolve as resolvePath } from "node:path";
import { readTable, type SourceOptions } from "../../data/node/read.ts";
import { textOf, transform } from "../../data/preprocess.ts";
import { cellWhere, type Table } from "../../data/table.ts";
import type { DataSpec } from "../../lang/program.ts";
import type { Sidecar } from "../../saved/save.ts";
import { actForward, activationOf } from "../../kinds/layers/activations/kernel.ts";
import { predict } from "../../runtime/train.ts";
import { declaredColumns, featureColumns, joinNegativeValues, openTarget, readProblemText, tableMatrix, writeFileAtomic, type Io } from "../saved.ts";
import type { Result } from "../../saved/load.ts";
import type { RuntimeModel } from "../../runtime/model.ts";

export const PREDICT_USAGE = "nnspec predict FILE --model DIR --input CSV [--output|--out|-o CSV] [--skip N]";

/** Problems in the input's cells reported before giving up. */
const CELL_LIMIT = 10;

export async function predictCommand(argv: string[], io: Io): Promise<number> {
  const usage = usageFor(io, PREDICT_USAGE);
  let parsed;
  try {
    parsed = args(joinNegativeValues(argv, ["--skip"]), { model: { type: "string" }, input: { type: "string" }, output: { type: "string" }, out: { type: "string", short: "o" }, skip: { type: "string" } });
  } catch (e) {
    return usage((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usage(positionals.length ? "one spec file at a time" : "no file given");
  if (values.model === undefined) return usage("--model DIR is required: the folder `nnspec train` wrote");
  if (values.input === undefined) return usage("--input CSV is required: the rows to predict");
  let skipFlag: number | undefined;
  if (values.skip !== undefined) {
    if (!/^\d+$/.test(values.skip)) return usage(`--skip takes a whole number of lines, not \`${values.skip}\``);
    skipFlag = Number(values.skip);
  }
  if (values.output !== undefined && values.out !== undefined && values.output !== values.out) return usage("--out is short for --output: give one of them");
  const output = values.output ?? values.out;
  const path = positionals[0];
  const dir = values.model;
  const input = values.input;
  const error = (msg: string): number => (io.stderr.write(`error: ${msg}\n`), 1);

  const target = await openTarget(path, dir, io);
  if (!target) return 1;
  if ("raw" in target) return predictRaw(target.model, input, output, skipFlag ?? 0, io);
  const { model, data: dataSpec, meta } = target;
  const stats = meta.preprocess;

  // The input is read as the data block reads its file (header, delimiter). Its `skip:` lines apply
  // only when the input is that very file (new rows rarely carry its metadata lines); --skip overrides.
  // A `.csv` input is CSV even when the data file is whitespace-separated.
  const source = sourceOf(dataSpec);
  const src = source.opts;
  const ownFile = source.path !== undefined && resolvePath(dirname(resolvePath(path)), source.path) === resolvePath(input);
  const skip = skipFlag ?? (ownFile ? src.skip : 0);
  const asCsv = (src.format !== "whitespace" && src.format !== "lines") || /\.csv(\.gz)?$/i.test(input);
  const opts: SourceOptions = { format: asCsv ? "csv" : src.format, header: src.header, delimiter: asCsv && src.format !== "whitespace" && src.format !== "lines" ? src.delimiter : undefined, skip };
  const read = await readTable(resolvePath(input), input, opts);
  if (!("table" in read)) {
    // A row narrower or wider than the first is often a metadata line above the rows.
    const ragged = read.problems.some((p) => p.key === "dataRaggedRow");
    const hint = skip === 0 && ragged ? "; if its first lines are not rows (a metadata line, say), skip them with --skip N" : "";
    return error(`${readProblemText(read.problems)}${hint}`);
  }
  let table = read.table;
  // A first row that names the columns, where the data block reads none: read it as a header.
  if (!opts.header && namesColumns(table, meta, declaredColumns(dataSpec))) {
    const again = await readTable(resolvePath(input), input, { ...opts, header: true });
    if ("table" in again) {
      table = again.table;
      io.stderr.write(`note: the first row of ${input} names the columns: read as a header row\n`);
    }
  }
  if (table.n === 0) return error(`${input} has no rows to predict${opts.header ? " (after its header row)" : ""}`);
  const cols = inputColumns(table, dataSpec, meta, input);
  if (!cols.ok) return error(cols.error);
  const bad = badCells(table, cols.value, meta, input, !!opts.header);
  if (bad) return error(bad);

  const x = transform(tableMatrix(table, Int32Array.from({ length: table.n }, (_, i) => i), cols.value), stats);
  const inSize = model.tensors[model.inputs[0]].size;
  if (stats.width !== inSize) return error(`the preprocessing saved in ${dir} gives ${stats.width} values per row, but model \`${meta.model}\` takes ${inSize}; save the model again with \`nnspec train ${path} --out ${dir}\``);
  const out = predict(model, x, table.n);
  // Predictions from text start with the text they were made from.
  const textAt = stats.features.findIndex((f) => f.kind === "text");
  const echo = textAt < 0 ? undefined : { name: stats.features[textAt].name, values: Array.from({ length: table.n }, (_, r) => textOf(tableMatrix(table, [r], cols.value), r, cols.value[textAt])) };
  return writePredictions(predictionCsv(out, table.n, model.tensors[model.outputs[0]].size, meta, echo), table.n, output, io);
}

/** The predictions to stdout, or written to `output` in one piece. */
function writePredictions(csv: string, n: number, output: string | undefined, io: Io): number {
  if (output === undefined) {
    io.stdout.write(csv);
    return 0;
  }
  const w = writeFileAtomic(output, csv);
  if (!w.ok) return (io.stderr.write(`error: ${w.error}\n`), 1);
  io.stderr.write(`wrote ${n} prediction(s) to ${output}\n`);
  return 0;
}

/**
 * An imported model whose spec does not train it yet: each row of the input holds the model input's
 * values in order (a first row with text names the columns), and the output is the model's own.
 */
async function predictRaw(model: RuntimeModel, input: string, output: string | undefined, skip: number, io: Io): Promise<number> {
  const error = (msg: string): number => (io.stderr.write(`error: ${msg}\n`), 1);
  if (model.inputs.length !== 1) return error(`model \`${model.name}\` has ${model.inputs.length} inputs; predict reads one CSV: add a data block and a train block to the spec`);
  const inT = model.tensors[model.inputs[0]];
  const read = async (header: boolean) => readTable(resolvePath(input), input, { format: "csv", header, skip });
  let r = await read(false);
  if (!("table" in r)) return error(readProblemText(r.problems));
  let t = r.table;
  const firstRowText = t.n > 0 && Array.from({ length: t.width }, (_, c) => t.text.has(c)).some(Boolean);
  if (firstRowText) {
    r = await read(true);
    if (!("table" in r)) return error(readProblemText(r.problems));
    t = r.table;
    io.stderr.write(`note: the first row of ${input} names the columns: read as a header row\n`);
  }
  if (t.n === 0) return error(`${input} has no rows to predict`);
  const size = inT.size;
  const shape = `[${inT.shape.join(", ")}]`;
  if (t.width !== size)
    return error(`${input} has ${t.width} column${t.width === 1 ? "" : "s"}, but model \`${model.name}\` takes ${size} values per row (its input \`${inT.name}\` is ${shape}, read in row-major order); without a data block in the spec the columns are the input's values in order`);
  const problems: string[] = [];
  for (let i = 0; i < t.n * t.width && problems.length < CELL_LIMIT; i++) {
    if (t.values[i] === t.values[i]) continue;
    const where = cellWhere(t, Math.floor(i / t.width), i % t.width, t.names ?? []);
    problems.push(`${where}: ${t.text.has(i) ? `\`${t.text.get(i)}\` is not a number` : "the value is missing"}`);
  }
  if (problems.length) return error(`${problems.join("; ")}; an imported model reads numbers only: add a data block to the spec to encode text columns`);
  const x = Float32Array.from(t.values.subarray(0, t.n * t.width));
  const out = predict(model, x, t.n);
  const width = model.tensors[model.outputs[0]].size;
  const name = model.tensors[model.outputs[0]].name;
  const head = Array.from({ length: width }, (_, k) => (width === 1 ? name : `${name}_${k}`));
  const rows = [head.map(csvField).join(",")];
  for (let i = 0; i < t.n; i++) rows.push(Array.from(out.subarray(i * width, (i + 1) * width), (v) => num(v, 7)).join(","));
  return writePredictions(rows.join("\n") + "\n", t.n, output, io);
}

/** Whether the table's first row is every feature's name (or the data block's `columns`), all text. */
function namesColumns(t: Table, meta: Sidecar, declared: string[] | undefined): boolean {
  if (t.n === 0) return false;
  const row: string[] = [];
  for (let c = 0; c < t.width; c++) {
    const text = t.text.get(c);
    if (text === undefined) return false;
    row.push(text.trim());
  }
  const features = meta.preprocess.features.map((f) => f.name);
  return features.every((f) => row.includes(f)) || (declared !== undefined && declared.length === row.length && declared.every((d, i) => d === row[i]));
}

/** Which input column holds each feature of the saved preprocessing. */
function inputColumns(t: Table, spec: DataSpec, meta: Sidecar, input: string): Result<number[]> {
  const features = meta.preprocess.features.map((f) => f.name);
  const list = (xs: string[]) => shortList(xs, 8);
  if (t.names) {
    const at = features.map((f) => t.names!.indexOf(f));
    const missing = features.filter((_, j) => at[j] < 0);
    // A data block that renames the file's columns (`columns`) names the features by those names.
    const declared = declaredColumns(spec);
    if (missing.length && declared && declared.length === t.width) {
      const sel = featureColumns(spec, declared, t.width);
      if (sel.ok && sel.value.length === features.length) return sel;
    }
    if (missing.length)
      return {
        ok: false,
        error: `${input} has no column${missing.length > 1 ? "s" : ""} ${list(missing.map((m) => `\`${m}\``))}: its header names ${list(t.names.map((n) => `\`${n}\``))}, and the model takes the features ${list(features)}; add the missing columns under those names`,
      };
    return { ok: true, value: at };
  }
  if (t.width === features.length) return { ok: true, value: features.map((_, j) => j) };
  // Every column of the data file: pick the features as the data block does.
  const declared = declaredColumns(spec);
  const labelCols = sourceOf(spec).labels === undefined ? (spec.label?.columns.length ?? 0) : 0;
  const fileWidth = declared?.length ?? features.length + labelCols;
  if (t.width === fileWidth) {
    const sel = featureColumns(spec, declared, t.width);
    if (sel.ok && sel.value.length === features.length) return sel;
  }
  const whole = fileWidth !== features.length ? ` or the data file's ${fileWidth} columns${declared ? ` (${list(declared)})` : ""}` : "";
  return {
    ok: false,
    error: `${input} has ${t.width} column${t.width === 1 ? "" : "s"}, but model \`${meta.model}\` takes the ${features.length} feature columns of data \`${meta.data}\` (${list(features)}), in that order${whole}; without a header row the columns are matched by position`,
  };
}

/** A message for the first cells that cannot be read as the features they feed (text in a numeric feature, a missing value without `missing mean`). */
function badCells(t: Table, cols: number[], meta: Sidecar, input: string, header: boolean): string | undefined {
  const problems: string[] = [];
  let textInFirstRow = false;
  let missing = false;
  const features = meta.preprocess.features;
  // Name each input column after the feature it feeds, for messages.
  const names: (string | undefined)[] = t.names ? [...t.names] : Array.from({ length: t.width }, () => undefined);
  cols.forEach((c, j) => (names[c] ??= features[j].name));
  for (let r = 0; r < t.n && problems.length < CELL_LIMIT; r++) {
    for (let j = 0; j < cols.length && problems.length < CELL_LIMIT; j++) {
      const f = features[j];
      if (f.kind !== "numeric") continue;
      const idx = r * t.width + cols[j];
      const v = t.values[idx];
      if (f.codes) {
        const cell = v === v ? String(v) : t.text.get(idx);
        if (cell !== undefined && !f.codes.includes(cell)) {
          problems.push(`${cellWhere(t, r, cols[j], names)}: \`${cell}\` is not one of the codes of \`${f.name}\` (${f.codes.join(", ")})`);
          continue;
        }
        if (cell !== undefined) continue;
      }
      if (v === v) continue;
      const text = t.text.get(idx);
      if (text !== undefined) {
        problems.push(`${cellWhere(t, r, cols[j], names)}: \`${text}\` is not a number`);
        if (r === 0) textInFirstRow = true;
      } else if (f.fill === undefined) {
        problems.push(`${cellWhere(t, r, cols[j], names)}: the value of feature \`${f.name}\` is missing${t.markers.has(idx) ? ` (\`${t.markers.get(idx)}\`)` : ""}`);
        missing = true;
      }
    }
  }
  if (!problems.length) return undefined;
  const hint = !header && textInFirstRow
    ? "; if the first row names the columns, skip it with `--skip 1` (the data block reads its file without a header row)"
    : missing
      ? "; or train with `missing mean` in the data block, which fills missing values with the training mean"
      : "";
  return `${input} has cells the model cannot read:\n  ${problems.join("\n  ")}${problems.length >= CELL_LIMIT ? `\n  (stopped after ${CELL_LIMIT})` : ""}\nfix them${hint}`;
}

/** CSV-quotes a field when it needs it. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

const num = (v: number, digits: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(digits))) : String(v));

/** The predictions as CSV, by task: class and probabilities, 0/1 and probability per label, or values. */
export function predictionCsv(out: Float32Array, n: number, width: number, meta: Sidecar, echo?: { name: string; values: string[] }): string {
  const label = meta.preprocess.label ?? meta.label;
  const columns = label?.columns ?? [];
  const nameOf = (c: string | undefined, dflt: string) => (c === undefined || /^\d+$/.test(c) ? dflt : c);
  const logits = meta.config.loss.opts?.from_logits === true;
  const rows: string[][] = [];
  // Logits become probabilities through the interpreter's own softmax / sigmoid.
  const probabilities = (act: string): Float32Array => {
    if (!logits) return out;
    const p = new Float32Array(n * width);
    actForward(activationOf(act), out, p, n * width, width);
    return p;
  };
  if (meta.task === "multiclass" && (meta.outputs[0]?.shape.length ?? 1) === 1) {
    const K = width;
    const names = Array.from({ length: K }, (_, k) => meta.classNames?.[k] ?? label?.classNames?.[k] ?? String(k));
    rows.push([nameOf(columns[0], "class"), ...names.map((c) => `p_${c}`)]);
    const p = probabilities("softmax");
    for (let i = 0; i < n; i++) {
      const row = p.subarray(i * K, (i + 1) * K);
      let best = 0;
      for (let k = 1; k < K; k++) if (row[k] > row[best]) best = k;
      rows.push([names[best], ...Array.from(row, (v) => num(v, 6))]);
    }
  } else if (meta.task === "binary" || meta.task === "multilabel") {
    const names = Array.from({ length: width }, (_, k) => nameOf(columns[k], width === 1 ? "label" : `label_${k}`));
    rows.push([...names, ...names.map((c) => (width === 1 ? "probability" : `p_${c}`))]);
    const p = probabilities("sigmoid");
    for (let i = 0; i < n; i++) {
      const ps = Array.from(p.subarray(i * width, (i + 1) * width));
      rows.push([...ps.map((v) => (v >= 0.5 ? "1" : "0")), ...ps.map((v) => num(v, 6))]);
    }
  } else {
    const outName = meta.outputs[0]?.name ?? "y";
    const names = Array.from({ length: width }, (_, k) => (columns.length === width ? nameOf(columns[k], width === 1 ? outName : `${outName}_${k}`) : width === 1 ? outName : `${outName}_${k}`));
    rows.push(names);
    for (let i = 0; i < n; i++) rows.push(Array.from(out.subarray(i * width, (i + 1) * width), (v) => num(v, 7)));
  }
  if (echo) rows.forEach((r, i) => r.unshift(i === 0 ? echo.name : echo.values[i - 1]));
  return rows.map((r) => r.map(csvField).join(",")).join("\n") + "\n";
}

export const command: Command = { name: "predict", summary: "predict new rows (CSV in, CSV out) with a saved model", usage: PREDICT_USAGE, run: predictCommand };
