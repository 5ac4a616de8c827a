import type { Diagnostic, DiagnosticSink, Fix, Label, TextEdit } from "../diagnostics/diagnostic.ts";
import { pointAt, type Span } from "../diagnostics/span.ts";
import type { DataSpec, LabelSpec, ModelSpec, NamedOptions, Options, Program, TrainSpec } from "../lang/program.ts";
import { isCall, type Json } from "../lang/values.ts";
import type * as A from "../syntax/ast.ts";
import { apportion, PARTS, quotas } from "../data/split.ts";
import { CLASS_METRICS, REGRESSION_METRICS } from "../kinds/metrics/index.ts";
import { LOSSES } from "../kinds/losses/index.ts";
import { category } from "../diagnostics/catalog.ts";
import { everyFeature, MAX_COLUMNS, selectColumns, tooWideText } from "../data/columns.ts";
import { FILE_COLUMN, fileListProblem, listsFiles, sourceOf } from "../data/source.ts";
import { closest } from "../util/suggest.ts";
import { Dim, elements, shapeText, type Shape } from "../core/dims.ts";
import { MAX_BUFFER } from "../core/kernel.ts";
import { numberOption } from "../core/options.ts";
import { statementValues, TRAIN_STATEMENTS, type DataFormat } from "../lang/statements.ts";
import type { CheckedLayer, CheckedModel, TensorInfo, DataLayout } from "./ir.ts";

/**
 * Cross-declaration checks: each `train MODEL on DATA` is checked for a model, a data set and a loss
 * that fit together (output units against the label, the output activation against `from_logits`,
 * the features against the model input), and each data block for a split that makes sense.
 */

// ── reading data files (the host does the I/O; checking never needs the data) ──

/** Where and how a data file is read, from the options of `from`. */
export interface HeaderRequest {
  format?: DataFormat;
  /** Whether the first row after `skip` names the columns (undefined: `header` not given, so no). */
  header?: boolean;
  skip: number;
  delimiter?: string;
}

/** What the first lines of a data file say. */
export interface DataHeader {
  /** The column names, when the file has a header row. */
  columns?: string[];
  /** Values per row (for IDX files, per example). */
  count: number;
  /** The number of rows, when the file says so (the sklearn metadata line `150,4,...`, an IDX header). */
  rows?: number;
}

/**
 * Reads the first lines of data files for the checker. Returns undefined when the file does not
 * exist (a missing file is not an error at check time), or `{ error }` when it cannot be read.
 */
export interface DataHost {
  /** `missing`: the file does not exist; `siblings` then lists the files beside where it was looked for. */
  readHeader(path: string, relativeTo: string, how: HeaderRequest): DataHeader | HeaderError | undefined;
  /**
   * Loads the data set as training would (the same loader) and returns what it reported and the
   * per-example feature shape it produced. Undefined when the host does not load data at check
   * time (too large, or no file system).
   */
  loadData?(spec: DataSpec): { layout?: DataLayout; diagnostics: readonly Diagnostic[] } | undefined;
}

export interface HeaderError {
  error: string;
  missing?: boolean;
  siblings?: string[];
}

// ── small helpers over spans and terms ──

/** From the start (or end) of `a` to the end (or start) of `b`. */
export function spanBetween(a: Span, aEnd: boolean, b: Span, bEnd: boolean): Span {
  const p = pointAt(a, aEnd);
  const q = pointAt(b, bEnd);
  return { start: p.start, end: q.start, line: p.line, col: p.col, endLine: q.line, endCol: q.col };
}
export const insertAt = (s: Span, end: boolean, newText: string): TextEdit => ({ span: pointAt(s, end), newText });

/** An edit that removes one term of a statement or layer, with the comma that joins it to its neighbours. */
export function removeTerm(terms: readonly A.Term[], i: number, headSpan: Span): TextEdit {
  const t = terms[i];
  if (i + 1 < terms.length) return { span: spanBetween(t.span, false, terms[i + 1].span, false), newText: "" };
  const before = i > 0 ? terms[i - 1].span : headSpan;
  return { span: spanBetween(before, true, t.span, true), newText: "" };
}

/** The index of the term whose value (or key) is at `span`. */
export function termAt(terms: readonly A.Term[], span: Span | undefined): number {
  if (!span) return -1;
  return terms.findIndex((t) => (t.value.span.start <= span.start && span.end <= t.value.span.end) || (t.key !== undefined && t.key.span.start === span.start));
}

/**
 * An edit that removes a layer's line, with its trailing comment. The checker has no source text, so
 * the end of the line is found from what starts the next line (the next layer or the model's `}`);
 * when blank or comment lines come between, only the layer itself is removed (its comment stays).
 */
export function removeLayer(model: ModelSpec, layer: A.Layer): TextEdit {
  const lineStart = (s: Span): Span => ({ start: s.start - (s.col - 1), end: s.start - (s.col - 1), line: s.line, col: 1, endLine: s.line, endCol: 1 });
  const i = model.node.body.indexOf(layer);
  const next = model.node.body[i + 1]?.span;
  const whole = model.node.span;
  // The model's closing `}` (its span ends just after it).
  const brace: Span = { start: whole.end - 1, end: whole.end, line: whole.endLine, col: whole.endCol - 1, endLine: whole.endLine, endCol: whole.endCol };
  const after = next ?? brace;
  const from = lineStart(layer.span);
  if (after.line === layer.span.endLine + 1) return { span: spanBetween(from, false, lineStart(after), false), newText: "" };
  return { span: spanBetween(from, false, layer.span, true), newText: "" };
}

const fmtNumber = (x: number): string => String(Number(x.toFixed(6)));
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

// ── the model's output head ──


/** How a model output is produced: its final activation and the layer that sets its width. */
export interface OutputHead {
  tensor: TensorInfo;
  /** The size of the last axis, when known. */
  units?: number;
  /** `linear` when nothing nonlinear follows the last weighted (or normalization) layer; `unknown` after a merge. */
  activation: string;
  /** The layer that applies the activation: a standalone activation layer, or the weighted layer with `activation:`. */
  actLayer?: CheckedLayer;
  /** Where the activation is written (the option value, or the standalone layer's kind). */
  actSpan?: Span;
  actStandalone: boolean;
  /** The dense layer whose `units` set the output width (only elementwise layers follow it). */
  unitsLayer?: CheckedLayer;
}

export function activationName(v: Json | undefined): string {
  if (v === undefined || v === null) return "linear";
  if (typeof v === "string") return v;
  if (isCall(v)) return v.call;
  return "unknown";
}

export function outputHead(model: CheckedModel, tensor: TensorInfo): OutputHead {
  const head: OutputHead = { tensor, units: tensor.shape.length ? tensor.shape[tensor.shape.length - 1].value : undefined, activation: "", actStandalone: false };
  let t: TensorInfo | undefined = tensor;
  for (let guard = 0; t && guard < 10_000; guard++) {
    const p: CheckedLayer | undefined = t.producer;
    if (!p) {
      head.activation ||= "linear";
      break;
    }
    const kind = p.spec.kind.name;
    const role = p.spec.kind.role;
    if (role === "activation") {
      if (!head.activation && kind !== "linear") {
        head.activation = kind;
        head.actLayer = p;
        head.actSpan = p.spec.node.op.span;
        head.actStandalone = true;
      }
    } else if (role === "norm") {
      // A normalization is affine: whatever came before, what leaves it is not a probability.
      head.activation ||= "linear";
    } else if (role === "weighted") {
      if (!head.activation) {
        head.activation = activationName(p.spec.options.values.activation);
        if (head.activation !== "linear") {
          head.actLayer = p;
          head.actSpan = p.spec.options.spans.get("/activation");
        }
      }
      if (kind === "dense") head.unitsLayer = p;
      break;
    } else if (role !== "dropout") {
      head.activation ||= "unknown";
      break;
    }
    const next: string | undefined = p.spec.inputs[0];
    t = next !== undefined ? model.tensors.get(next) : undefined;
  }
  head.activation ||= "unknown";
  return head;
}

// ── data blocks ──

type Selector = Json;

interface ColumnSet {
  /** Column names, from `columns` or the file's header row. */
  names?: string[];
  /** How many columns the file has (or `columns` names). */
  count?: number;
  /** Where the names or the count came from, for messages. */
  source?: string;
}

/** What the checker knows about one data block. */
export interface DataInfo {
  spec: DataSpec;
  /** Values per example after feature selection (before `reshape`), when known. */
  features?: number;
  /** The span that says where the feature count comes from, and how. */
  featuresSpan?: Span;
  featuresWhy?: string;
  /** The per-example shape the model receives (after `reshape`), when known. */
  shape?: Shape;
  /** Label columns (for binary and regression labels), when known. */
  labelColumns?: number;
  rows?: number;
  file?: string;
  /** Set when the checker loaded the data as training will. */
  layout?: DataLayout;
}

/**
 * The columns a selector picks, as the loader picks them (src/data/columns.ts: each column once, in
 * order). Without the file's names a named column still counts as one, but its index is unknown.
 */
function selectorIndices(items: Selector[], cols: ColumnSet): { count?: number; indices?: number[] } {
  const sel = selectColumns(items, cols.names, cols.count ?? Infinity);
  if (!sel.problems.length) return { count: sel.indices.length, indices: sel.indices };
  if (!cols.names && sel.problems.every((p) => p.problem.kind === "unknown" && typeof items[p.item] === "string")) return { count: sel.indices.length + sel.problems.length };
  return {};
}

/** Warns of a column a selector picks more than once (the loader takes it once). */
function checkRepeats(items: Selector[], spans: Map<string, Span>, base: string, cols: ColumnSet, what: string, sink: DiagnosticSink, fallback: Span): void {
  const first = new Map<number, number>();
  items.forEach((it, k) => {
    const one = selectColumns([it], cols.names, cols.count ?? Infinity);
    for (const i of one.indices) {
      const before = first.get(i);
      if (before === undefined) {
        first.set(i, k);
        continue;
      }
      const name = cols.names?.[i] ? `\`${cols.names[i]}\`` : `column ${i}`;
      const span = spans.get(`${base}/${k}`) ?? spans.get(`${base}/${k}/from`) ?? fallback;
      const earlier = spans.get(`${base}/${before}`) ?? spans.get(`${base}/${before}/from`);
      sink.report("repeatedColumn", span, { column: name, what }, { labels: earlier ? [{ span: earlier, message: "first selected here" }] : [] });
      return;
    }
  });
}

/** Reports selector items that name columns the file (or `columns`) does not have. */
function checkSelector(items: Selector[], spans: Map<string, Span>, base: string, cols: ColumnSet, what: string, sink: DiagnosticSink, fallback: Span): boolean {
  let ok = true;
  const check = (v: Json, path: string): void => {
    const span = spans.get(path) ?? fallback;
    if (typeof v === "number") {
      if (cols.count !== undefined && v >= cols.count) {
        ok = false;
        sink.report("unknownColumn", span, { column: String(v), where: cols.source ?? "the file" }, { label: `${what}: no column ${v}`, help: `${cols.source ?? "the file"} has ${plural(cols.count, "column")}, numbered 0..${cols.count - 1}` });
      }
    } else if (typeof v === "string" && cols.names && !cols.names.includes(v)) {
      ok = false;
      const guess = closest(v, cols.names);
      sink.report("unknownColumn", span, { column: `\`${v}\``, where: cols.source ?? "the file" }, {
        label: `${what}: no such column`,
        help: guess ? `did you mean \`${guess}\`?` : `the columns are: ${cols.names.join(", ")}`,
        fixes: guess ? [{ title: `replace with \`${guess}\``, edits: [{ span, newText: guess }] }] : [],
      });
    }
  };
  items.forEach((it, i) => {
    const path = `${base}/${i}`;
    if (it && typeof it === "object" && !Array.isArray(it) && Array.isArray((it as { range?: Json[] }).range)) {
      const [a, b] = (it as { range: Json[] }).range;
      check(a, `${path}/from`);
      check(b, `${path}/to`);
      // A range of more columns than any table nnspec reads: reported without expanding it.
      if (ok && typeof a === "number" && typeof b === "number" && b - a + 1 > MAX_COLUMNS) {
        ok = false;
        sink.report("dataBadSelector", spans.get(path) ?? fallback, { message: tooWideText(`${a}..${b}`, b - a + 1), label: `${what}: too many columns` });
      }
    } else check(it, path);
  });
  return ok;
}

function stmt(d: DataSpec | TrainSpec, name: string): { node: A.Statement; options: Options } | undefined {
  return d.statements.get(name);
}

/**
 * Checks a data block against its files. `sound(statement)` says whether a statement checked
 * without error (a statement with an error is skipped, not read as absent); `whole` whether the
 * block has no error at all, which loading it as training would needs.
 */
export function analyseData(d: DataSpec, sink: DiagnosticSink, host?: DataHost, sound: (statement: string) => boolean = () => true, whole = true): DataInfo {
  const info: DataInfo = { spec: d };
  const from = stmt(d, "from");
  const source = sourceOf(d, "from");
  const path = source.path;
  const how: HeaderRequest = source.opts;
  const errorsBefore = sink.items.filter((x) => x.severity === "error").length;
  let header: DataHeader | undefined;
  const list = listsFiles(d, "from");
  if (list) {
    const problem = fileListProblem(d, "from");
    if (problem) sink.report("dataFileList", problem.span, { message: problem.message, label: problem.label });
  }
  if (path && host) {
    // Each file of a list is read like a single one; the table is the first's columns and `file`.
    const heads = source.paths.map((p, i) => {
      let r: DataHeader | HeaderError | undefined;
      try {
        r = host.readHeader(p, d.file, how);
      } catch (e) {
        r = { error: (e as Error).message };
      }
      if (r && "error" in r) {
        reportUnreadable(from!, p, r, sink, list ? `/path/${i}` : "/path");
        return undefined;
      }
      return r;
    });
    const known = heads.filter((h): h is DataHeader => h !== undefined);
    if (!list) header = heads[0];
    else if (known.length === heads.length && known.length)
      header = {
        columns: known[0].columns ? [...known[0].columns, FILE_COLUMN] : undefined,
        count: known[0].count + 1,
        ...(known.every((h) => h.rows !== undefined) ? { rows: known.reduce((a, h) => a + h.rows!, 0) } : {}),
      };
  }
  info.file = path;
  // `keep` drops rows: the file's row count no longer applies.
  info.rows = d.keep ? undefined : header?.rows;
  const labelsFile = source.labels;
  const shown = path ? `"${path}"` : "the file";

  // The columns: `columns` names them; else the file's header row; else only the file's count.
  const cols: ColumnSet = {};
  const columnsStmt = stmt(d, "columns");
  const named = columnsStmt?.options.values.names;
  if (Array.isArray(named) && named.every((x) => typeof x === "string")) {
    // `columns` names a listed file's own columns; `file` follows them.
    const extra = list ? 1 : 0;
    cols.names = list ? [...(named as string[]), FILE_COLUMN] : (named as string[]);
    // Indices count against the file when it can be read, even if `columns` disagrees with it.
    cols.count = header && how.format !== "idx" ? header.count : named.length + extra;
    cols.source = "`columns`";
    if (header && how.format !== "idx" && header.count - extra !== named.length) {
      sink.report("columnsCount", columnsStmt!.node.head.span, { named: named.length, file: shown, have: header.count - extra }, { labels: from ? [{ span: from.node.span, message: `${plural(header.count - extra, "column")} in this file` }] : [] });
    }
  } else if (header && how.format !== "idx") {
    cols.names = header.columns;
    cols.count = header.count;
    cols.source = shown;
  }

  const keepNode = d.keep ? d.node.body.find((s) => s.head.name === "keep") : undefined;
  if (d.keep && keepNode?.terms[0]?.key) checkSelector([d.keep.column], new Map([["/keep/0", keepNode.terms[0].key.span]]), "/keep", cols, "keep", sink, d.keep.span);
  for (const c of d.codes ?? []) checkSelector([c.column], new Map([["/codes/0", c.span]]), "/codes", cols, "codes", sink, c.span);

  // Labels: their columns count for binary and regression targets.
  const label = d.label;
  if (label) {
    if (label.columns.length) {
      const labelStmt = d.node.body.find((s) => s.head.name === "label");
      const known = labelsFile || !labelStmt || checkSelector(label.columns, labelSpans(labelStmt), "/columns", cols, "label", sink, label.span);
      info.labelColumns = known ? selectorIndices(label.columns, cols).count : undefined;
    } else if (labelsFile && host) {
      try {
        // As the loader reads it: the data file's format, delimiter and header, no lines skipped.
        const r = host.readHeader(labelsFile, d.file, { ...how, skip: 0 });
        info.labelColumns = r && !("error" in r) ? r.count : 1;
      } catch {
        info.labelColumns = 1;
      }
    } else info.labelColumns = 1;
  }

  // Features: the declaration, else every column that is not a label.
  const features = stmt(d, "features");
  const items = features?.options.values.columns;
  if (features && Array.isArray(items)) {
    const known = checkSelector(items, features.options.spans, "/columns", cols, "feature", sink, features.node.span);
    if (known) checkRepeats(items, features.options.spans, "/columns", cols, "features", sink, features.node.span);
    const sel = known ? selectorIndices(items, cols) : {};
    info.features = sel.count;
    info.featuresSpan = features.node.span;
    info.featuresWhy = sel.count !== undefined ? `${plural(sel.count, "feature")}` : undefined;
    const labelIdx = label && !labelsFile ? selectorIndices(label.columns, cols).indices : undefined;
    // a window's label is a later row: a feature's own future is no leak
    if (sel.indices && labelIdx && !stmt(d, "window")) {
      const overlap = labelIdx.find((i) => sel.indices!.includes(i));
      if (overlap !== undefined) {
        sink.report("labelInFeatures", features.node.span, { column: cols.names?.[overlap] ? `\`${cols.names[overlap]}\`` : String(overlap) }, { labels: [{ span: label!.span, message: "the label" }] });
        info.features = undefined;
      }
    }
  } else if (how.format === "idx" && header) {
    info.features = header.count;
    info.featuresSpan = from?.node.span;
    info.featuresWhy = `${plural(header.count, "value")} per example in this file`;
  } else if (cols.count !== undefined && label) {
    const labelCount = labelsFile ? 0 : label.columns.length ? selectorIndices(label.columns, cols).count : undefined;
    if (labelCount !== undefined) {
      info.features = cols.count - labelCount;
      info.featuresSpan = columnsStmt?.node.span ?? from?.node.span;
      info.featuresWhy = `${plural(info.features, "feature")}: ${plural(cols.count, "column")} less ${plural(labelCount, "label")}`;
    }
  }
  // Transforms name feature columns: the same columns must exist.
  for (const name of ["standardize", "minmax", "onehot"]) {
    if (!sound(name)) continue;
    const s = stmt(d, name);
    const its = s?.options.values.columns;
    if (!s || !Array.isArray(its)) continue;
    if (everyFeature(its, cols.names)) continue;
    checkSelector(its, s.options.spans, "/columns", cols, name, sink, s.node.span);
  }
  // One-hot encoding widens its columns by their number of categories, which only the data knows.
  if (stmt(d, "onehot")) info.features = undefined;
  // A text column becomes `length` token ids (without `length`, the longest training text's).
  const text = stmt(d, "text");
  if (text) {
    const length = text.options.values.length;
    info.features = typeof length === "number" ? length : undefined;
    info.featuresSpan = text.node.span;
    info.featuresWhy = typeof length === "number" ? `${plural(length, "token id")} per example` : undefined;
  }

  // reshape
  const reshape = stmt(d, "reshape");
  const target = reshape?.options.values.shape;
  if (reshape && Array.isArray(target) && target.every((x) => typeof x === "number")) {
    const dims = target as number[];
    const known = dims.filter((x) => x !== -1).reduce((a, b) => a * b, 1);
    const wild = dims.filter((x) => x === -1).length;
    const text = `[${dims.join(", ")}]`;
    if (info.features === undefined) {
      if (wild === 0) info.shape = dims.map((x) => Dim.of(x));
    } else if (wild > 1 || (wild === 0 && known !== info.features) || (wild === 1 && info.features % known !== 0)) {
      sink.report("reshapeFeatures", reshape.node.span, { target: text, need: wild ? `a multiple of ${known}` : String(known), data: d.name, have: info.features }, {
        labels: info.featuresSpan ? [{ span: info.featuresSpan, message: info.featuresWhy ?? "the features" }] : [],
      });
    } else info.shape = dims.map((x) => Dim.of(x === -1 ? info.features! / known : x));
  } else if (info.features !== undefined) info.shape = [Dim.of(info.features)];
  // a time series: each example is `size` rows of the features
  const win = stmt(d, "window")?.options.values.size;
  if (typeof win === "number" && info.features !== undefined && !reshape) info.shape = [Dim.of(win), Dim.of(info.features)];

  if (sound("split")) checkSplit(d, info, sink);
  // With the block sound so far, load the data as training will: whatever the loader would stop
  // at (text in a numeric column, missing values, empty splits) is reported now, and the feature
  // shape after one-hot encoding and reshaping is known exactly.
  if (whole && host?.loadData && sink.items.filter((x) => x.severity === "error").length === errorsBefore) {
    const loaded = host.loadData(d);
    if (loaded) {
      for (const x of loaded.diagnostics) sink.items.push({ ...x, file: sink.file });
      info.layout = loaded.layout;
      if (loaded.layout) {
        const shape = loaded.layout.featureShape;
        const n = shape.reduce((a, b) => a * b, 1);
        const onehot = stmt(d, "onehot");
        info.features = n;
        info.shape = shape.map((x) => Dim.of(x));
        info.featuresSpan = text?.node.span ?? onehot?.node.span ?? stmt(d, "features")?.node.span ?? from?.node.span;
        info.featuresWhy = text ? `${plural(n, "token id")} per example` : onehot ? `${plural(n, "feature value")} per example after one-hot encoding` : `${plural(n, "feature value")} per example`;
      }
    }
  }
  return info;
}

/** A data file that cannot be read, at its path, with the nearest file beside it as the fix. */
function reportUnreadable(from: { node: A.Statement; options: Options }, path: string, r: HeaderError, sink: DiagnosticSink, ptr = "/path"): void {
  const span = from.options.spans.get(ptr) ?? from.node.span;
  const slash = path.lastIndexOf("/");
  const dir = path.slice(0, slash + 1);
  const guess = r.missing && r.siblings ? closest(path.slice(slash + 1), r.siblings) : undefined;
  if (r.missing && !guess) {
    sink.report("dataFileNotFound", span, { path }, { help: "paths are relative to the spec's folder" });
    return;
  }
  sink.report("dataFileUnreadable", span, { path, reason: r.error }, {
    help: guess ? `did you mean \`${dir}${guess}\`?` : r.missing ? "paths are relative to the spec's folder" : undefined,
    fixes: guess ? [{ title: `use \`${dir}${guess}\``, edits: [{ span, newText: JSON.stringify(dir + guess) }] }] : [],
  });
}

function labelSpans(s: A.Statement): Map<string, Span> {
  // `label COLUMNS: KIND`: the resolver keeps no spans for the columns, so find them again.
  const exprs: A.Expr[] = [];
  if (s.terms.length === 1 && s.terms[0].key) exprs.push(s.terms[0].key);
  else if (s.terms.every((t) => !t.key)) exprs.push(...s.terms.slice(0, -1).map((t) => t.value));
  else {
    exprs.push(...s.terms.slice(0, -1).map((t) => t.value));
    const k = s.terms[s.terms.length - 1].key;
    if (k) exprs.push(k);
  }
  const spans = new Map<string, Span>();
  exprs.forEach((e, i) => {
    spans.set(`/columns/${i}`, e.span);
    if (e.kind === "range") {
      spans.set(`/columns/${i}/from`, e.from.span);
      spans.set(`/columns/${i}/to`, e.to.span);
    }
  });
  return spans;
}


function checkSplit(d: DataSpec, info: DataInfo, sink: DiagnosticSink): void {
  const split = stmt(d, "split");
  if (!split) return;
  const v = split.options.values;
  const spans = split.options.spans;
  const given = PARTS.filter((p) => typeof v[p] === "number").map((p) => ({ part: p, value: v[p] as number, span: spans.get(`/${p}`)! }));
  const label = d.label;
  if (v.stratified === true && label?.kind === "regression") {
    const i = termAt(split.node.terms, spans.get("/stratified"));
    sink.report("stratifiedRegression", spans.get("/stratified") ?? split.node.head.span, {}, {
      labels: [{ span: label.span, message: "a regression label" }],
      fixes: i >= 0 ? [{ title: "remove `stratified`", edits: [removeTerm(split.node.terms, i, split.node.head.span)] }] : [],
    });
  }
  if (stmt(d, "window"))
    for (const option of ["shuffle", "stratified"] as const) {
      // written out (shuffle's default is true), and not already refused for a regression label
      if (v[option] !== true || !spans.has(`/${option}`) || (option === "stratified" && label?.kind === "regression")) continue;
      const i = termAt(split.node.terms, spans.get(`/${option}`));
      sink.report("splitTimeOrder", spans.get(`/${option}`) ?? split.node.head.span, { option }, {
        labels: [{ span: stmt(d, "window")!.node.span, message: "a time series" }],
        fixes: i >= 0 ? [{ title: `remove \`${option}\``, edits: [removeTerm(split.node.terms, i, split.node.head.span)] }] : [],
      });
    }
  if (given.length === 0) return;
  // As the loader reads a split: a part is a fraction of the rows when at most 1 and a row count
  // when larger (a whole number); parts may mix. Without `train`, train takes the rest; with it, the
  // rows the parts leave over are not used.
  const notInteger = given.filter((g) => g.value > 1 && !Number.isInteger(g.value));
  for (const g of notInteger) sink.report("splitNotInteger", g.span, { part: g.part, value: g.value });
  if (notInteger.length) return;
  const trainGiven = given.some((g) => g.part === "train");
  const fractions = given.filter((g) => g.value <= 1);
  const fracSum = fractions.reduce((a, g) => a + g.value, 0);
  const allFractions = fractions.length === given.length;
  const kfold = typeof v.kfold === "number";
  const rows = info.rows;
  const where = info.file ? `"${info.file}"` : "the file";
  const partLabels = (unit: boolean): Label[] => given.map((g) => ({ span: g.span, message: `${g.part}: ${unit && g.value > 1 ? `${g.value} rows` : fmtNumber(g.value)}` }));
  if (!kfold && fracSum > 1 + 1e-6) {
    // Keep every part: take the excess from the largest (usually `train`), else scale them all down.
    const excess = fracSum - 1;
    const largest = fractions.reduce((a, g) => (g.value > a.value ? g : a));
    const fixes: Fix[] = [];
    if (largest.value - excess > 1e-9)
      fixes.push({ title: `set ${largest.part} to ${fmtNumber(largest.value - excess)} (every part keeps its rows)`, edits: [{ span: largest.span, newText: fmtNumber(largest.value - excess) }] });
    // Rounded, the scaled parts could add up to a hair over 1: the largest takes what the others leave.
    const scaled = fractions.map((g) => (g === largest ? 0 : Number(fmtNumber(g.value / fracSum))));
    const rest = 1 - scaled.reduce((a, b) => a + b, 0);
    fixes.push({ title: `scale every part by 1/${fmtNumber(fracSum)}`, edits: fractions.map((g, i) => ({ span: g.span, newText: fmtNumber(g === largest ? Math.floor(rest * 1e6) / 1e6 : scaled[i]) })) });
    sink.report("splitSum", split.node.head.span, { sum: fmtNumber(fracSum) }, {
      labels: partLabels(false).filter((_, i) => given[i].value <= 1),
      help: `make the fractions add up to 1: ${fixes.length > 1 ? `take ${fmtNumber(excess)} from \`${largest.part}\`, or scale them all` : "scale them all"}`,
      fixes,
    });
    return;
  }
  if (!kfold && allFractions && trainGiven && fracSum < 1 - 1e-6) {
    const rest = 1 - fracSum;
    const test = given.find((g) => g.part === "test");
    const fixes: Fix[] = [];
    if (test) fixes.push({ title: `set test to ${fmtNumber(test.value + rest)}`, edits: [{ span: test.span, newText: fmtNumber(test.value + rest) }] });
    else {
      const last = given.reduce((a, g) => (g.span.end > a.span.end ? g : a));
      const lastTerm = split.node.terms.find((t) => t.value.span.start === last.span.start);
      fixes.push({ title: `add \`test: ${fmtNumber(rest)}\``, edits: [insertAt(lastTerm?.span ?? last.span, true, `, test: ${fmtNumber(rest)}`)] });
    }
    sink.report("splitUnused", split.node.head.span, { sum: fmtNumber(fracSum), rest: fmtNumber(rest) }, {
      labels: partLabels(false),
      help: test ? "give the rest to `test` (or leave `train` out: it then takes every row the others leave)" : "add a `test` part for the rest (or leave `train` out: it then takes every row the others leave)",
      fixes,
    });
  }
  const empty = (part: string, detail: string, span: Span): void => {
    sink.report("splitEmpty", span, { part, detail });
  };
  const trainPart = given.find((g) => g.part === "train");
  if (trainPart && trainPart.value === 0) return empty("train", "`train: 0` leaves nothing to train on", trainPart.span);
  if (rows === undefined) {
    if (!kfold && !trainGiven && allFractions && Math.abs(fracSum - 1) <= 1e-6) empty("train", "the other parts take every row", split.node.head.span);
    return;
  }
  // The loader's own arithmetic, so check time and load time judge a split the same way.
  const req = Object.fromEntries(given.map((g) => [g.part, g.value]));
  const r = quotas(rows, req);
  if ("problem" in r) {
    if (r.problem.kind === "overfull") sink.report("splitTooLarge", split.node.head.span, { need: fmtNumber(r.problem.asked), file: where, rows }, { labels: partLabels(true) });
    return;
  }
  if (kfold || v.stratified === true) return; // the sizes of a stratified split depend on the classes
  const sizes = apportion(rows, r.quotas);
  for (let i = 0; i < 3; i++) {
    const g = given.find((x) => x.part === PARTS[i]);
    const asked = i === 0 || (g !== undefined && g.value > 0);
    if (asked && sizes[i] === 0) empty(PARTS[i], g ? `${g.value <= 1 ? fmtNumber(g.value) : g.value} of the ${rows} rows of ${where} rounds to no row` : `the other parts take all ${rows} rows of ${where}`, g?.span ?? split.node.head.span);
  }
}

// ── train blocks ──

const isRegressionLoss = (name: string): boolean => LOSSES.get(name)?.task === "regression";
const isClassificationLoss = (name: string): boolean => LOSSES.has(name) && !isRegressionLoss(name);

/** The label's kind, short: `class(3)`, `binary`, `binary ×5`, `regression`. */
export function labelText(l: LabelSpec, columns?: number): string {
  if (l.kind === "class" || l.kind === "onehot") return `${l.kind}(${l.classes ?? "?"})`;
  if (columns !== undefined && columns > 1) return `${l.kind} ×${columns}`;
  return l.kind;
}

/** The labels, for a sentence: `class(3) labels`, `5 binary label columns`, `regression labels`. */
function labelPhrase(l: LabelSpec, columns?: number): string {
  if ((l.kind === "binary" || l.kind === "regression") && columns !== undefined && columns > 1) return `${columns} ${l.kind} label columns`;
  return `${labelText(l)} labels`;
}

/** Where to point at something in the model: the model's own line when it is in this file, else the train line. */
function inModel(t: TrainSpec, model: ModelSpec, span: Span, message: string): { span: Span; labels: Label[] } {
  if (model.file === t.file) return { span, labels: [] };
  return { span: t.node.model?.span ?? t.node.span, labels: [{ span, message, file: model.file }] };
}

function lossLine(t: TrainSpec): A.Statement | undefined {
  return t.statements.get("loss")?.node;
}

/** An edit that turns `loss NAME` (or `loss NAME(...)`) into another loss, keeping its options. */
function replaceLoss(loss: NamedOptions, name: string): Fix {
  return { title: `use \`${name}\``, edits: [{ span: loss.kindSpan, newText: name }] };
}

/** An edit that sets `from_logits: true` on the loss. */
function setFromLogits(t: TrainSpec, loss: NamedOptions, value: boolean): TextEdit | undefined {
  const existing = loss.spans.get("/from_logits");
  if (existing) return { span: existing, newText: String(value) };
  const node = lossLine(t);
  const first = node?.terms[0];
  if (!first) return undefined;
  if (first.value.kind === "call") {
    const args = first.value.args;
    if (args.length) return insertAt(args[0].span, false, `from_logits: ${value}, `);
    return { span: spanBetween(first.value.callee.span, true, first.value.span, true), newText: `(from_logits: ${value})` };
  }
  return insertAt(loss.kindSpan, true, `(from_logits: ${value})`);
}

export function checkTrain(t: TrainSpec, checked: CheckedModel, info: DataInfo, sink: DiagnosticSink, sound: (statement: string) => boolean = () => true): void {
  const model = checked.spec;
  let single = checked.outputs.length === 1 && model.outputs.length === 1 ? checked.outputs[0] : undefined;
  if (model.outputs.length === 0 && checked.layers.length) {
    // Training needs an output; until one is declared, check the loss against the last layer's.
    const last = checked.layers[checked.layers.length - 1];
    single = checked.tensors.get(last.spec.name);
    const sig = model.node.inputs[model.node.inputs.length - 1];
    const shape = single ? `[${single.shape.map((d) => d.toString()).join(", ")}]` : "";
    // Right after the `)` that follows the last input.
    const paren = sig ? pointAt(sig.span, true) : undefined;
    sink.report("trainNoOutput", model.node.name?.span ?? model.node.span, { model: model.name }, {
      labels: t.node.model ? [{ span: t.node.model.span, message: "trained here" }] : [],
      help: `name the output after the inputs: \`-> y${shape ? `: ${shape}` : ""}\``,
      fixes: model.file === t.file && paren ? [{ title: "declare the last layer's output", edits: [{ span: { ...paren, start: paren.start + 1, end: paren.end + 1, col: paren.col + 1, endCol: paren.endCol + 1 }, newText: ` -> y${shape ? `: ${shape}` : ""}` }] }] : [],
    });
  }
  if (model.inputs.length > 1 || model.outputs.length > 1) {
    const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
    sink.report("trainSeveralInputsOutputs", t.node.model?.span ?? t.node.span, { model: model.name, inputs: count(model.inputs.length, "input"), outputs: count(model.outputs.length, "output") });
    return;
  }
  if (single?.mask) {
    const made = model.layers.find((x) => x.name === single!.mask!.layer);
    const site = inModel(t, model, model.node.name?.span ?? model.node.span, "trained here");
    sink.report("maskAtOutput", t.node.model?.span ?? t.node.span, { model: model.name, source: single.mask.layer }, { labels: made && model.file === t.file ? [{ span: made.options.spans.get("/mask_zero") ?? made.node.span, message: "the mask is made here" }] : site.labels });
  }
  if (single && t.loss && sound("loss")) checkLossAgainstOutput(t, model, outputHead(checked, single), t.loss, info.spec.label, info, sink);
  checkFeatures(t, model, checked, info, sink);
  checkTextIds(t, model, checked, info, sink);
  checkKnownDims(t, model, checked, info, sink);
  if (sound("metrics")) checkMetrics(t, info.spec.label, sink);
  if (sound("early_stopping")) checkEarlyStopping(t, info.spec, sink);
  if (sound("batch")) checkBatchFits(t, checked, sink);
}

/** A batch whose largest tensor no buffer could hold (each per-example size is already bounded). */
function checkBatchFits(t: TrainSpec, checked: CheckedModel, sink: DiagnosticSink): void {
  const batch = numberOption(statementValues(t.statements, TRAIN_STATEMENTS, "batch"), "size");
  let largest: [string, number] | undefined;
  for (const [name, info] of checked.tensors) {
    const n = info.shape.reduce((a, d) => a * (d.value ?? 1), 1);
    if (!largest || n > largest[1]) largest = [name, n];
  }
  // buffers a kernel keeps besides its output (a recurrent layer's gates at every step)
  for (const l of checked.layers) {
    const n = l.spec.kind.workspace?.(l.inputShapes, l.output, l.spec.options.full).value;
    if (n !== undefined && (!largest || n > largest[1])) largest = [l.spec.name, n];
  }
  if (!largest || largest[1] * batch <= MAX_BUFFER) return;
  const [tensor, n] = largest;
  const most = Math.floor(MAX_BUFFER / n);
  const written = t.statements.get("batch");
  const size = written?.options.spans.get("/size");
  sink.report("batchTooLarge", written?.node.span ?? t.node.model?.span ?? t.node.span, { batch, tensor, model: checked.spec.name, values: (n * batch).toExponential(2), limit: "2^31 − 1", most }, {
    fixes: size ? [{ title: `use batch ${most}`, edits: [{ span: size, newText: String(most) }] }] : [],
  });
}

function unitsFix(model: ModelSpec, head: OutputHead, want: number): { help: string; fixes?: Fix[] } {
  const span = head.unitsLayer?.spec.options.spans.get("/units");
  if (!span) return { help: `make the model output ${plural(want, "unit")}` };
  const edits: TextEdit[] = [{ span, newText: String(want) }];
  // The declared output shape (`-> [4]`) changes with it.
  const dims = model.outputs[0]?.sig.dims;
  const last = dims?.[dims.length - 1];
  if (last?.kind === "number" && last.value === head.units) edits.push({ span: last.span, newText: String(want) });
  return { help: `change the units of the last dense layer to ${want}`, fixes: [{ title: `change units to ${want}${edits.length > 1 ? " (and the declared output)" : ""}`, edits }] };
}

function checkLossAgainstOutput(t: TrainSpec, model: ModelSpec, head: OutputHead, loss: NamedOptions, label: LabelSpec | undefined, info: DataInfo | undefined, sink: DiagnosticSink): void {
  const outLayer = head.unitsLayer ?? head.tensor.producer;
  const outSpan = outLayer?.spec.node.span ?? model.node.name?.span ?? model.node.span;
  const units = head.units;
  const got = units !== undefined ? plural(units, "unit") : shapeText(head.tensor.shape);
  const sameFile = model.file === t.file;
  const lname = loss.kind;
  const lossNode = lossLine(t);
  const outSite = inModel(t, model, outSpan, `the output of \`${model.name}\`: ${got}`);
  const outLabel: Label = sameFile ? { span: outSpan, message: `the output: ${got}` } : outSite.labels[0];
  const lt = label ? labelPhrase(label, info?.labelColumns) : "";
  const labelLabels: Label[] = label ? [{ span: label.span, message: `labels: ${labelText(label, info?.labelColumns)}` }] : [];
  const lossLabels: Label[] = lossNode ? [{ span: lossNode.span, message: `loss: ${lname}` }] : [];

  // ── the loss against the label kind, then the number of output units ──
  let mismatched = false;
  if (label) {
    /** The loss does not fit the kind of label: reported at the loss, with the output and the label. */
    const mismatch = (key: "lossLabelMismatch" | "regressionLossOnClasses", suggestion: string, why: string, extraHelp?: string): void => {
      mismatched = true;
      sink.report(key, loss.kindSpan, { loss: lname, labels: lt }, {
        label: why,
        labels: [outLabel, ...labelLabels],
        help: `use \`${suggestion}\`${extraHelp ? `; ${extraHelp}` : ""}`,
        fixes: [replaceLoss(loss, suggestion)],
      });
    };
    /** The output has the wrong width: reported at the output, with the label and the loss. */
    const needUnits = (want: number | undefined, why: string): void => {
      if (want === undefined || units === undefined || units === want) return;
      sink.report("lossUnits", outSite.span, { loss: lname, labels: lt, want: plural(want, "output unit"), model: model.name, got }, {
        label: why,
        labels: [...outSite.labels, ...labelLabels, ...lossLabels],
        ...(sameFile ? unitsFix(model, head, want) : { help: `make \`${model.name}\` output ${plural(want, "unit")}` }),
      });
    };
    const k = info?.labelColumns;
    const classes = label.classes;
    if (lname === "sparse_cross_entropy") {
      if (label.kind === "class") needUnits(classes, `${got}; needs one per class`);
      else if (label.kind === "onehot") mismatch("lossLabelMismatch", "cross_entropy", "expects class indices, but the labels are one-hot vectors");
      else if (label.kind === "binary") {
        // 0/1 labels are class indices too: two softmax units work.
        if (!(k === 1 && units === 2)) mismatch("lossLabelMismatch", "binary_cross_entropy", "expects class indices, but the labels are binary columns", "it pairs with one sigmoid unit per label column");
      } else mismatch("lossLabelMismatch", "mse", "a classification loss, but the labels are continuous");
    } else if (lname === "cross_entropy") {
      if (label.kind === "onehot") needUnits(classes, `${got}; needs one per class`);
      else if (label.kind === "class") mismatch("lossLabelMismatch", "sparse_cross_entropy", "expects one-hot vectors, but the labels are class indices");
      else if (label.kind === "binary") mismatch("lossLabelMismatch", "binary_cross_entropy", "expects one-hot vectors, but the labels are binary columns");
      else mismatch("lossLabelMismatch", "mse", "a classification loss, but the labels are continuous");
    } else if (lname === "binary_cross_entropy") {
      if (label.kind === "binary") needUnits(k, `${got}; needs one per label column`);
      else if (label.kind === "class" && classes === 2) needUnits(1, `${got}; one sigmoid unit gives the probability of class 1`);
      else if (label.kind === "class" && classes !== undefined)
        mismatch("lossLabelMismatch", "sparse_cross_entropy", `expects labels 0 or 1, but there are ${classes} classes`, `the model then needs ${classes} output units`);
      else if (label.kind === "onehot") needUnits(classes, `${got}; needs one per class`);
      else if (label.kind === "regression") mismatch("lossLabelMismatch", "mse", "expects labels 0 or 1, but the labels are continuous");
    } else if (isRegressionLoss(lname)) {
      if (label.kind === "regression") needUnits(k, `${got}; needs one per target column`);
      else {
        const suggestion = label.kind === "class" ? "sparse_cross_entropy" : label.kind === "onehot" ? "cross_entropy" : "binary_cross_entropy";
        mismatch("regressionLossOnClasses", suggestion, "a regression loss on class labels", label.kind === "class" && classes ? `the model then needs ${classes} output units` : undefined);
        if (label.kind === "onehot") needUnits(classes, `${got}; needs one per class`);
        else if (label.kind === "binary") needUnits(k, `${got}; needs one per label column`);
        else needUnits(1, `${got}; \`${lname}\` compares one number with the class index`);
      }
    }
  }

  // ── the output activation against from_logits ──
  if (mismatched || !isClassificationLoss(lname) || head.activation === "unknown") return;
  const fromLogits = loss.values.from_logits === true;
  const probability = lname === "binary_cross_entropy" ? ["sigmoid", "softmax"] : ["softmax"];
  const actSpan = head.actSpan ?? head.actLayer?.spec.node.span;
  if (fromLogits && (head.activation === "softmax" || head.activation === "sigmoid") && actSpan) {
    const fixes: Fix[] = [];
    if (sameFile && head.actLayer) {
      if (head.actStandalone) fixes.push({ title: `remove the \`${head.activation}\` layer`, edits: [removeLayer(model, head.actLayer.spec.node)] });
      else {
        const i = termAt(head.actLayer.spec.node.terms, head.actSpan);
        if (i >= 0) fixes.push({ title: `remove \`${head.activation}\``, edits: [removeTerm(head.actLayer.spec.node.terms, i, head.actLayer.spec.node.op.span)] });
      }
    }
    const off = setFromLogits(t, loss, false);
    if (off) fixes.push({ title: "set `from_logits: false`", edits: [off] });
    const site = inModel(t, model, actSpan, `\`${head.activation}\` here`);
    sink.report("doubleActivation", site.span, { act: head.activation, loss: lname }, {
      labels: [...site.labels, ...labelLabels, { span: loss.spans.get("/from_logits") ?? loss.kindSpan, message: `\`from_logits: true\` applies ${head.activation} again` }],
      help: `keep one of them: remove the \`${head.activation}\` (the loss applies it) or set \`from_logits: false\``,
      fixes,
    });
    return;
  }
  if (!fromLogits && !probability.includes(head.activation)) {
    const linear = head.activation === "linear";
    const edit = linear ? setFromLogits(t, loss, true) : undefined;
    const where = actSpan ?? outSpan;
    const swap = lname !== "binary_cross_entropy" && head.activation === "sigmoid" && head.actSpan !== undefined && sameFile;
    const note = linear ? "no activation: raw scores" : head.activation === "sigmoid" ? "`sigmoid` gives probabilities that need not sum to 1" : `\`${head.activation}\` does not give probabilities`;
    sink.report("missingFromLogits", loss.spans.get("/from_logits") ?? loss.kindSpan, { loss: lname, model: model.name, what: linear ? "raw scores (no activation)" : `\`${head.activation}\` values` }, {
      labels: sameFile ? [{ span: where, message: note }] : inModel(t, model, where, note).labels,
      help: linear
        ? "say that the model outputs raw scores (logits) with `from_logits: true`: the loss then applies the softmax or sigmoid itself, in a numerically stable way"
        : swap
          ? "class probabilities come from `softmax`, which makes them sum to 1"
          : `end the model with ${probability.map((p) => `\`${p}\``).join(" or ")}, or with no activation and \`from_logits: true\``,
      fixes: edit ? [{ title: "add `from_logits: true`", edits: [edit] }] : swap ? [{ title: "use `softmax`", edits: [{ span: head.actSpan!, newText: "softmax" }] }] : [],
    });
  }
}

function checkFeatures(t: TrainSpec, model: ModelSpec, checked: CheckedModel, info: DataInfo, sink: DiagnosticSink): void {
  if (model.inputs.length !== 1 || checked.inputs.length !== 1 || !info.shape) return;
  const want = checked.inputs[0].shape;
  const have = info.shape;
  const fits = want.length === have.length && want.every((d, i) => d.value === undefined || d.value === have[i].value);
  if (fits) return;
  const param = model.inputs[0].node as A.Param;
  const inputSpan = param.type?.span ?? param.span;
  const site = inModel(t, model, inputSpan, `\`${model.name}\` takes ${shapeText(want)}`);
  const labels: Label[] = [...site.labels];
  if (info.featuresSpan) labels.push({ span: info.featuresSpan, message: info.featuresWhy ?? "the features" });
  const reshape = stmt(info.spec, "reshape");
  if (reshape) labels.push({ span: reshape.node.span, message: `reshaped to ${shapeText(have)}` });
  if (t.node.data) labels.push({ span: t.node.data.span, message: `examples of ${shapeText(have)}` });
  let help: string | undefined;
  const fixes: Fix[] = [];
  const wantElems = elements(want).value;
  const sameFile = model.file === t.file;
  if (!reshape && have.length === 1 && want.length > 1 && wantElems === have[0].value && want.every((d) => d.isKnown)) {
    const text = `reshape [${want.map((d) => d.value).join(", ")}]`;
    help = `the model takes ${shapeText(want)}: reshape the ${have[0].value} features with \`${text}\` in data \`${info.spec.name}\``;
    const last = info.spec.node.body[info.spec.node.body.length - 1];
    if (last) fixes.push({ title: `add \`${text}\` to data \`${info.spec.name}\``, edits: [insertAt(last.span, true, `\n${" ".repeat(last.span.col - 1)}${text}`)] });
  } else if (reshape && wantElems !== undefined && wantElems === elements(have).value && want.every((d) => d.isKnown)) {
    const text = `[${want.map((d) => d.value).join(", ")}]`;
    const span = reshape.options.spans.get("/shape");
    help = `reshape to the model's input shape, ${text}`;
    if (span) fixes.push({ title: `reshape to ${text}`, edits: [{ span, newText: text }] });
  } else if (sameFile && want.length === 1 && have.length === 1 && param.type?.dims.length === 1) {
    const n = have[0].value!;
    help = `give the model ${plural(n, "input")}, or select ${plural(want[0].value ?? 0, "feature")} in data \`${info.spec.name}\``;
    fixes.push({ title: `change the input of \`${model.name}\` to [${n}]`, edits: [{ span: param.type.dims[0].span, newText: String(n) }] });
  }
  sink.report("featureCount", site.span, { data: info.spec.name, have: shapeText(have), model: model.name, want: shapeText(want) }, { labels, help, fixes });
}

/**
 * A text feature gives ids below its vocabulary's size (`vocab:`, else what the loader fitted): an
 * embedding reading them needs that many rows, or the ids past its table would look up nothing.
 */
function checkTextIds(t: TrainSpec, model: ModelSpec, checked: CheckedModel, info: DataInfo, sink: DiagnosticSink): void {
  const text = stmt(info.spec, "text");
  const input = checked.inputs[0];
  if (!text || !input) return;
  const written = text.options.values.vocab;
  const ids = typeof written === "number" ? Math.min(written, info.layout?.ids ?? written) : info.layout?.ids;
  if (ids === undefined) return;
  for (const l of model.layers) {
    if (l.kind.name !== "embedding" || !l.inputs.includes(input.name)) continue;
    const rows = l.options.values.vocab;
    if (typeof rows !== "number" || rows >= ids) continue;
    const span = l.options.spans.get("/vocab") ?? l.node.span;
    const site = inModel(t, model, span, `\`embedding ${rows}\` has ${plural(rows, "row")}`);
    const why = typeof written === "number" ? `\`vocab: ${written}\`` : "the vocabulary fitted on the training split";
    sink.report("embeddingTooFewIds", site.span, { layer: l.name, model: model.name, rows, data: info.spec.name, ids }, {
      labels: [...site.labels, { span: text.options.spans.get("/vocab") ?? text.node.span, message: `${why}: ids 0..${ids - 1}` }],
      help: `give the embedding ${ids} rows${typeof written === "number" ? "" : `, or limit the vocabulary with \`vocab: ${rows}\` in data \`${info.spec.name}\``}`,
      fixes: model.file === t.file && l.options.spans.has("/vocab") ? [{ title: `use \`embedding ${ids}\``, edits: [{ span, newText: String(ids) }] }] : [],
    });
  }
}

/** Training allocates every tensor: a symbolic dimension left in the model cannot be trained. */
function checkKnownDims(t: TrainSpec, model: ModelSpec, checked: CheckedModel, info: DataInfo, sink: DiagnosticSink): void {
  const open = [...checked.tensors.values()].find((x) => x.shape.some((d) => d.value === undefined));
  if (!open) return;
  const input = checked.inputs.find((x) => x.shape.some((d) => d.value === undefined));
  const symbol = (input ?? open).shape.find((d) => d.value === undefined)!.toString();
  const i = input ? checked.inputs.indexOf(input) : -1;
  const param = i >= 0 ? (model.inputs[i]?.node as A.Param | undefined) : undefined;
  const span = param?.type?.span ?? param?.span ?? t.node.model?.span ?? t.node.span;
  const site = inModel(t, model, span, `\`${(input ?? open).name}\` is ${shapeText((input ?? open).shape)}`);
  // the data's shape, where it fits the declared one
  const have = info.shape;
  const fits = input && have && have.length === input.shape.length && input.shape.every((d, k) => d.value === undefined || d.value === have[k].value);
  const want = fits ? `${input.dtype === "int" ? "int" : ""}[${have.map((d) => d.value).join(", ")}]` : "";
  const fixes: Fix[] = fits && param?.type && model.file === t.file ? [{ title: `declare \`${input.name}\` as ${want}`, edits: [{ span: param.type.span, newText: want }] }] : [];
  sink.report(
    "trainSymbolicDim",
    site.span,
    { model: model.name, tensor: (input ?? open).name, shape: shapeText((input ?? open).shape), symbol, want: fits ? `\`${input.name}: ${want}\`, the shape data \`${info.spec.name}\` gives` : "numbers for every dimension" },
    { labels: site.labels, fixes },
  );
}

function checkMetrics(t: TrainSpec, label: LabelSpec | undefined, sink: DiagnosticSink): void {
  const m = t.statements.get("metrics");
  const names = m?.options.values.names;
  if (!m || !Array.isArray(names)) return;
  const task = label ? (label.kind === "regression" ? "regression" : "classification") : t.loss ? (isRegressionLoss(t.loss.kind) ? "regression" : isClassificationLoss(t.loss.kind) ? "classification" : undefined) : undefined;
  if (!task) return;
  const why: Label[] = label ? [{ span: label.span, message: `labels: ${labelText(label)}` }] : t.loss && lossLine(t) ? [{ span: lossLine(t)!.span, message: `loss: ${t.loss.kind}` }] : [];
  names.forEach((n, i) => {
    if (typeof n !== "string") return;
    const span = m.options.spans.get(`/names/${i}`);
    if (!span) return;
    const term = termAt(m.node.terms, span);
    const fixes = term >= 0 && names.length > 1 ? [{ title: `remove \`${n}\``, edits: [removeTerm(m.node.terms, term, m.node.head.span)] }] : [];
    if (task === "regression" && CLASS_METRICS.includes(n)) sink.report("metricNeedsClasses", span, { metric: n }, { labels: why, help: `for a regression use ${REGRESSION_METRICS.map((x) => `\`${x}\``).join(", ")}`, fixes });
    else if (task === "classification" && REGRESSION_METRICS.includes(n)) sink.report("metricOnClasses", span, { metric: n }, { labels: why, help: `for a classification use ${CLASS_METRICS.map((x) => `\`${x}\``).join(", ")}`, fixes });
  });
}

function checkEarlyStopping(t: TrainSpec, data: DataSpec | undefined, sink: DiagnosticSink): void {
  const es = t.statements.get("early_stopping");
  if (!es || !data) return;
  const monitor = typeof es.options.values.monitor === "string" ? es.options.values.monitor : "val_loss";
  if (!monitor.startsWith("val_")) return;
  const split = data.statements.get("split");
  if (!split) return;
  const v = split.options.values;
  if (typeof v.kfold === "number" || (typeof v.val === "number" && v.val > 0)) return;
  sink.report("noValidationSplit", es.options.spans.get("/monitor") ?? es.node.head.span, { monitor, data: data.name }, {
    labels: [{ span: split.node.span, message: "no `val` part" }],
    help: "add a `val` part to the split (as in `split train: 0.7, val: 0.15, test: 0.15`), or monitor `loss`",
  });
}

/**
 * Runs every cross-declaration check of a file. `clean` tells whether a declaration is free of
 * errors: a data block, model or train with an error of its own is not checked against the others.
 */
/** The data statements that decide which columns are read and the examples' shape. */
const SHAPING = ["from", "test_from", "columns", "label", "features", "keep", "onehot", "reshape"];

export function checkCrossDecl(
  program: Program,
  models: Map<string, CheckedModel>,
  sink: DiagnosticSink,
  host?: DataHost,
  clean: (span: Span) => boolean = () => true,
  errorsIn: (span: Span) => readonly Diagnostic[] = () => [],
): Map<string, DataInfo> {
  const infos = new Map<string, DataInfo>();
  /** Whether a block's statement checked without error (an absent one is sound). */
  const soundIn = (block: DataSpec | TrainSpec) => (n: string) => {
    const s = block.statements.get(n);
    return !s || clean(s.node.span);
  };
  for (const [name, d] of program.data) {
    // An error in one statement hides only what reads it; the statements that decide the examples'
    // shape must all be sound for the rest to mean anything.
    const sound = soundIn(d);
    if (!SHAPING.every(sound) || (d.node.name && !clean(d.node.name.span))) continue;
    // Every error must sit in a statement that was read (a syntax error or an unknown statement may
    // have dropped one, which would then look absent).
    const read = [...d.statements].filter(([n]) => !SHAPING.includes(n)).map(([, s]) => s.node.span);
    const inBlock = errorsIn(d.node.span);
    const placed = inBlock.every((e) => {
      const c = category(e.code);
      return c !== "lexical" && c !== "syntax" && read.some((s) => e.span.start >= s.start && e.span.start < Math.max(s.end, s.start + 1));
    });
    if (!placed) continue;
    infos.set(name, analyseData(d, sink, host, sound, inBlock.length === 0));
  }
  for (const t of program.trains) {
    // An error in one statement of the block hides only the checks that read that statement.
    const refs = [t.node.model?.span, t.node.data?.span].filter((s): s is Span => s !== undefined);
    if (!refs.every(clean) || !t.model || !t.data || !(t.model.file !== program.file || clean(t.model.node.span))) continue;
    const info = infos.get(t.data.name);
    const checked = models.get(t.model.name);
    if (!info || info.spec !== t.data || !checked || checked.spec !== t.model) continue;
    checkTrain(t, checked, info, sink, soundIn(t));
  }
  return infos;
}
