/**
 * From parsed tables to training tensors, following a `data` block: column selection, the `keep`
 * filter, the `missing` policy, label encoding, the split, and preprocessing fitted on the training
 * split only. Pure (no Node APIs): the interpreter and the generated TensorFlow.js code both call it.
 *
 * Every problem becomes a diagnostic at the statement that led to it (the `from` line for the file's
 * contents, the selector for an unknown column), with the file, line and column in the message.
 * Nothing is half-loaded: on any error the result is undefined.
 */
import type { MessageKey } from "../diagnostics/catalog.ts";
import type { DiagnosticSink, Extra, Fix, Label, Params } from "../diagnostics/diagnostic.ts";
import { pointAt, type Span } from "../diagnostics/span.ts";
import type { DataSpec, LabelSpec } from "../lang/program.ts";
import { valueText, type Json } from "../lang/values.ts";
import { shortList } from "../util/list.ts";
import { closest } from "../util/suggest.ts";
import { DATA_STATEMENTS, statementValues } from "../lang/statements.ts";
import { everyFeature, selectColumns, tooWideText, type SelectProblem } from "./columns.ts";
import { fit, resolveShape, sortCategories, transform, type FeatureMatrix, type FeaturePlan, type FittedStats } from "./preprocess.ts";
import { kfoldRows, splitRows, type SplitProblem, type SplitRequest } from "./split.ts";
import { cellWhere, partOf, type Table } from "./table.ts";
import type { TextPlan } from "./text.ts";

/** One split's tensors. */
export interface SplitData {
  /** n × prod(featureShape) features, row-major. */
  x: Float32Array;
  /** Class indices (`class` labels, shape []) or n × prod(labelShape) values. */
  y: Float32Array | Int32Array;
  n: number;
  featureShape: number[];
  labelShape: number[];
  /** Each example's data row (0-based, counting rows after the header) in its source file. */
  rows: Int32Array;
}

export interface Provenance {
  file: string;
  labels?: string;
  /** Data rows in the file (after `skip` and the header). */
  rowsRead: number;
  /** Rows left after `keep` and `missing drop`. */
  rowsKept: number;
  droppedByKeep: number;
  droppedMissing: number;
}

export interface LoadedData {
  name: string;
  train: SplitData;
  val: SplitData;
  test: SplitData;
  /** `split kfold: K`: each fold's training and held-out rows, preprocessing fitted on the fold's training rows. `train` then holds every non-test row. */
  folds?: { train: SplitData; val: SplitData; stats: FittedStats }[];
  /** The names of the features after preprocessing (`color=red` for one-hot outputs). */
  featureNames: string[];
  /** Class names, for `class` and `onehot` labels. */
  classNames?: string[];
  label: { kind: LabelSpec["kind"]; columns: string[]; classes?: number };
  /** The fitted preprocessing (plain JSON): saved with a trained model, reapplied by `predict`. */
  stats: FittedStats;
  split: { train: number; val: number; test: number; unused: number; seed: number; shuffle: boolean; stratified: boolean; kfold?: number };
  provenance: { source: Provenance; test?: Provenance };
}

/** A data file and its optional labels file, as read for `from` or `test_from`. */
export interface Source {
  stmt: "from" | "test_from";
  data: Table;
  labels?: Table;
}

/** Cell-level problems reported per load before giving up on the rest. */
export const CELL_PROBLEM_LIMIT = 10;

interface Layout {
  names?: string[];
  labelTableNames?: string[];
  labelInFile: boolean;
  labelCols: number[];
  labelColNames: string[];
  features: number[];
  featureNames: string[];
  categorical: Set<number>;
  /** The feature position `text` reads, and how. */
  text?: { feature: number; plan: TextPlan };
  /** Feature positions. */
  standardize?: number[];
  minmax?: number[];
  keep?: { inLabels: boolean; col: number; nums: Set<number>; strs: Set<string> };
  /** `codes`: feature position → its list and where the statement wrote it. */
  codes: Map<number, { values: string[]; listSpan: Span }>;
}

interface Rows {
  kept: Int32Array;
  read: number;
  byKeep: number;
  byMissing: number;
}

interface Labels {
  /** Per kept row (main then test): class index, or -1 where there is none. */
  strata?: Int32Array[];
  y: (Float32Array | Int32Array)[];
  k: number;
  shape: number[];
  classNames?: string[];
}

class Stop extends Error {}

/** Builds the data set; undefined when anything is wrong (the sink then holds the errors). */
export function buildDataset(spec: DataSpec, main: Source, test: Source | undefined, sink: DiagnosticSink): LoadedData | undefined {
  try {
    return new Builder(spec, sink).run(main, test);
  } catch (e) {
    if (e instanceof Stop) return undefined;
    throw e;
  }
}

class Builder {
  private errors = 0;
  private cellProblems = 0;
  private readonly policy: "error" | "drop" | "mean";
  /** `codes` values already reported, by column and value. */
  private readonly unknownCodes = new Set<string>();

  constructor(
    private readonly spec: DataSpec,
    private readonly sink: DiagnosticSink,
  ) {
    this.policy = statementValues(spec.statements, DATA_STATEMENTS, "missing").policy as "error" | "drop" | "mean";
  }

  // ── spans and reporting ──

  private stmtSpan(name: string): Span {
    return this.spec.statements.get(name)?.node.span ?? this.spec.node.name?.span ?? this.spec.node.span;
  }
  private optSpan(name: string, ptr: string): Span {
    return this.spec.statements.get(name)?.options.spans.get(ptr) ?? this.stmtSpan(name);
  }
  /** Where the statement names the file (of a list: the one `row` comes from). */
  private fileSpan(src: Source, inLabels = false, row?: number): Span {
    if (inLabels && src.labels) return this.optSpan(src.stmt, "/labels");
    const parts = src.data.parts;
    if (parts && row !== undefined) return this.optSpan(src.stmt, `/path/${partOf(src.data, row)}`);
    return this.optSpan(src.stmt, "/path");
  }
  private values(name: string): Record<string, Json> | undefined {
    return this.spec.statements.get(name)?.options.values;
  }

  private report(key: MessageKey, span: Span, params: Params, extra: Extra = {}): void {
    const d = this.sink.report(key, span, params, extra);
    if (d.severity === "error") this.errors++;
  }

  /** A problem with one cell; stops the load after CELL_PROBLEM_LIMIT of them. */
  private cell(key: MessageKey, span: Span, params: Params, extra: Extra = {}): void {
    this.report(key, span, params, extra);
    if (++this.cellProblems >= CELL_PROBLEM_LIMIT) {
      const last = this.sink.items[this.sink.items.length - 1];
      last.notes.push(`stopped after ${CELL_PROBLEM_LIMIT} problems in the data; there may be more`);
      throw new Stop();
    }
  }

  private checkpoint(): void {
    if (this.errors) throw new Stop();
  }

  // ── the steps ──

  run(main: Source, test: Source | undefined): LoadedData | undefined {
    const label = this.spec.label;
    if (!label) {
      this.report("missingStatement", this.spec.node.name?.span ?? this.spec.node.span, { block: "data", name: this.spec.name, statement: "label" });
      return undefined;
    }
    if ((label.kind === "class" || label.kind === "onehot") && label.classes === undefined) {
      this.report("dataBadLabel", label.span, { message: `${label.kind} labels need the number of classes, as in \`${label.kind}(3)\`` });
      return undefined;
    }
    const layout = this.layout(main, label);
    this.checkpoint();
    if (test) this.sameLayout(main, test, layout);
    this.checkpoint();
    const mainRows = this.rows(main, layout, label);
    const testRows = test ? this.rows(test, layout, label) : undefined;
    this.checkpoint();
    for (const [src, r] of [[main, mainRows], [test, testRows]] as const) {
      if (!src || !r || r.kept.length) continue;
      const after = r.read === 0 ? "" : r.byKeep === r.read ? " after `keep`" : r.byMissing ? " after dropping the rows with missing values" : " after `keep` and `missing drop`";
      this.report("dataNoRows", this.fileSpan(src), { path: src.data.path, after });
    }
    this.checkpoint();
    const sources = test && testRows ? [{ src: main, rows: mainRows }, { src: test, rows: testRows }] : [{ src: main, rows: mainRows }];
    const labels = this.encodeLabels(sources, layout, label);
    this.checkpoint();
    return this.splitAndTransform(main, mainRows, test, testRows, layout, label, labels);
  }

  /** Column names, label and feature columns, transform columns and the keep filter. */
  private layout(main: Source, label: LabelSpec): Layout {
    const data = main.data;
    if (data.width === 0) {
      this.report("dataNoRows", this.fileSpan(main), { path: data.path, after: "" });
      throw new Stop();
    }
    let names = data.names;
    const columns = this.values("columns")?.names as string[] | undefined;
    if (columns) {
      // A list of files adds `file` after the columns `columns` names.
      const own = data.parts ? data.width - 1 : data.width;
      if (columns.length !== own) this.report("dataColumnCount", this.stmtSpan("columns"), { names: columns.length, path: data.path, count: own }, { labels: [{ span: this.fileSpan(main), message: `${own} columns here` }] });
      names = data.parts ? [...columns, data.names![own]] : columns;
    }
    const lt = main.labels;
    if (lt && lt.n !== data.n) {
      this.report("dataRowCountMismatch", this.fileSpan(main, true), { path: data.path, rows: data.n, labels: lt.path, labelRows: lt.n });
    }
    this.checkpoint();

    // Label columns: from the labels file, or from the data file.
    let labelCols: number[];
    const labelTable = lt ?? data;
    const labelTableNames = lt ? lt.names : names;
    if (label.columns.length === 0) {
      if (!lt) {
        this.report("dataBadLabel", label.span, { message: `\`label ${label.kind}\` names no column: give one, as in \`label species: ${label.kind}${label.classes ? `(${label.classes})` : ""}\`, or read the labels from their own file with \`labels:\` on \`from\`` });
        throw new Stop();
      }
      labelCols = Array.from({ length: lt.width }, (_, i) => i);
    } else {
      const sel = selectColumns(label.columns, labelTableNames, labelTable.width);
      for (const p of sel.problems) this.selectProblem(p.problem, label.span, false, labelTable, labelTableNames);
      labelCols = sel.indices;
    }
    this.checkpoint();
    const labelColNames = labelCols.map((c) => labelTableNames?.[c] ?? (lt ? (lt.width === 1 ? "label" : `label ${c}`) : String(c)));
    const needOne = label.kind === "class" || (label.kind === "onehot" && labelCols.length !== label.classes);
    if (needOne && labelCols.length !== 1) {
      this.report("dataBadLabel", label.span, { message: `a ${label.kind}(${label.classes}) label is one column${label.kind === "onehot" ? ` (or ${label.classes} one-hot columns)` : ""}, but ${labelCols.length} are selected` });
    }
    if (labelCols.length === 0) this.report("dataBadLabel", label.span, { message: "the label selects no column" });

    // Features: as given, or every column of the data file but the label.
    let features: number[];
    const fstmt = this.values("features");
    if (fstmt) {
      const sel = selectColumns(fstmt.columns as Json[], names, data.width);
      for (const p of sel.problems) this.selectProblem(p.problem, this.optSpan("features", `/columns/${p.item}`), true, data, names);
      features = sel.indices;
      // a window's label is a later row: forecasting a feature's own future is no leak
      if (!lt && !this.values("window")) {
        const both = features.filter((c) => labelCols.includes(c));
        if (both.length)
          this.report("dataBadSelector", this.stmtSpan("features"), { message: `column${both.length > 1 ? "s" : ""} ${both.map((c) => `\`${names?.[c] ?? c}\``).join(", ")} ${both.length > 1 ? "are" : "is"} both a feature and the label`, label: "the features include the label" }, {
            labels: [{ span: label.span, message: "the label" }],
            help: "a model that sees its label as an input learns nothing useful: leave the label out of `features`",
          });
      }
    } else {
      features = [];
      for (let c = 0; c < data.width; c++) if (lt || !labelCols.includes(c)) features.push(c);
    }
    if (!features.length && !this.errors) this.report("dataBadSelector", fstmt ? this.stmtSpan("features") : label.span, { message: "no feature columns are left", label: "no features" });
    const featureNames = features.map((c) => names?.[c] ?? String(c));

    // Transforms name feature columns.
    const positions = (stmt: string): number[] | undefined => {
      const v = this.values(stmt);
      if (!v) return undefined;
      const items = v.columns as Json[] | undefined;
      if (!items || everyFeature(items, names)) return features.map((_, i) => i);
      const sel = selectColumns(items, names, data.width);
      for (const p of sel.problems) this.selectProblem(p.problem, this.optSpan(stmt, `/columns/${p.item}`), true, data, names);
      const out: number[] = [];
      for (const c of sel.indices) {
        const at = features.indexOf(c);
        if (at < 0) {
          const item = items.findIndex((it) => selectColumns([it], names, data.width).indices.includes(c));
          this.report("dataNotFeature", this.optSpan(stmt, `/columns/${Math.max(0, item)}`), { statement: stmt, name: names?.[c] ?? String(c) });
        } else out.push(at);
      }
      return out;
    };
    const categorical = new Set(positions("onehot") ?? []);
    const text = this.textFeature(names, data, features, featureNames);
    if (text && categorical.has(text.feature)) this.report("dataBadSelector", this.stmtSpan("onehot"), { message: `\`onehot\` names \`${featureNames[text.feature]}\`, which \`text\` reads`, label: "a text column" });
    const numericOnly = (stmt: string): number[] | undefined => {
      const p = positions(stmt);
      if (!p) return undefined;
      const explicit = !everyFeature(this.values(stmt)?.columns as Json[] | undefined, names);
      if (explicit)
        for (const j of p)
          if (categorical.has(j) || text?.feature === j) this.report("dataBadSelector", this.stmtSpan(stmt), { message: `\`${stmt}\` names \`${featureNames[j]}\`, which \`${categorical.has(j) ? "onehot" : "text"}\` encodes`, label: categorical.has(j) ? "a one-hot column" : "a text column" });
      return p.filter((j) => !categorical.has(j) && text?.feature !== j);
    };
    const standardize = numericOnly("standardize");
    const minmax = numericOnly("minmax");

    // keep COLUMN: [values]
    let keep: Layout["keep"];
    if (this.spec.keep) {
      const k = this.spec.keep;
      const sel = selectColumns([k.column], names, data.width);
      let inLabels = false;
      let col = sel.indices[0];
      if (col === undefined && lt && typeof k.column === "string") {
        const s2 = selectColumns([k.column], lt.names, lt.width);
        if (s2.indices.length) {
          inLabels = true;
          col = s2.indices[0];
        }
      }
      if (col === undefined) for (const p of sel.problems) this.selectProblem(p.problem, k.span, false, data, names);
      else {
        const nums = new Set<number>();
        const strs = new Set<string>();
        for (const v of k.values) {
          if (typeof v === "number") {
            nums.add(v);
            nums.add(Math.fround(v));
          } else if (typeof v === "string") strs.add(v);
          else if (typeof v === "boolean") nums.add(v ? 1 : 0);
        }
        keep = { inLabels, col, nums, strs };
      }
    }
    // codes COLUMN: [values]: feature columns that are neither one-hot nor text
    const codes: Layout["codes"] = new Map();
    for (const c of this.spec.codes ?? []) {
      const sel = selectColumns([c.column], names, data.width);
      for (const p of sel.problems) this.selectProblem(p.problem, c.span, false, data, names);
      const col = sel.indices[0];
      if (col === undefined) continue;
      const at = features.indexOf(col);
      if (at < 0) this.report("dataNotFeature", c.span, { statement: "codes", name: names?.[col] ?? String(col) });
      else if (categorical.has(at) || text?.feature === at)
        this.report("dataBadSelector", c.span, { message: `\`codes\` names \`${featureNames[at]}\`, which \`${categorical.has(at) ? "onehot" : "text"}\` encodes`, label: categorical.has(at) ? "a one-hot column" : "a text column" });
      else codes.set(at, { values: c.values, listSpan: c.listSpan });
    }
    return { names, labelTableNames, labelInFile: !!lt, labelCols, labelColNames, features, featureNames, categorical, text, standardize, minmax, keep, codes };
  }

  /** The `text` statement's column: one of the features, and then the only one. */
  private textFeature(names: string[] | undefined, data: Table, features: number[], featureNames: string[]): Layout["text"] {
    const v = this.values("text");
    if (!v) return undefined;
    const full = statementValues(this.spec.statements, DATA_STATEMENTS, "text");
    const span = this.optSpan("text", "/column");
    const sel = selectColumns([v.column as Json], names, data.width);
    for (const p of sel.problems) this.selectProblem(p.problem, span, true, data, names);
    const col = sel.indices[0];
    if (col === undefined) return undefined;
    const feature = features.indexOf(col);
    const name = names?.[col] ?? String(col);
    if (feature < 0) {
      this.report("dataNotFeature", span, { statement: "text", name });
      return undefined;
    }
    if (features.length > 1) {
      const others = featureNames.filter((_, j) => j !== feature);
      const fstmt = this.spec.statements.get("features");
      this.report("dataBadSelector", fstmt ? fstmt.node.span : span, { message: `a text feature is its data set's only feature, but ${shortList(others.map((o) => `\`${o}\``), 6)} ${others.length > 1 ? "are features" : "is a feature"} too`, label: fstmt ? "more features than the text" : "every other column is a feature too" }, {
        labels: [{ span, message: "the text column" }],
        help: `a model reads token ids through an \`embedding\`: ${fstmt ? "select only the text column" : "select the text column"} with \`features ${name}\``,
      });
      return undefined;
    }
    const num = (x: Json) => (typeof x === "number" ? x : undefined);
    return {
      feature,
      plan: { tokens: full.tokens as TextPlan["tokens"], case: full.case as TextPlan["case"], punctuation: full.punctuation as TextPlan["punctuation"], pad: full.pad as TextPlan["pad"], truncate: full.truncate as TextPlan["truncate"], length: num(full.length), vocab: num(full.vocab) },
    };
  }

  private selectProblem(p: SelectProblem, span: Span, exact: boolean, t: Table, names: readonly string[] | undefined): void {
    switch (p.kind) {
      case "unknown": {
        const help = p.guess
          ? `did you mean \`${p.guess}\`?`
          : names
            ? `the columns are ${shortList(names.map((n) => `\`${n}\``), 16)}`
            : `${t.path} has no column names: add \`header: true\` if its first row names the columns, name them with \`columns\`, or use indices 0..${t.width - 1}`;
        this.report("dataUnknownColumn", span, { name: p.name, path: t.path }, { help, fixes: p.guess && exact ? [{ title: `replace with \`${p.guess}\``, edits: [{ span, newText: p.guess }] }] : [] });
        return;
      }
      case "outOfRange":
        this.report("dataColumnOutOfRange", span, { index: p.index, path: t.path, count: t.width, last: t.width - 1 });
        return;
      case "backwards":
        this.report("dataBadSelector", span, { message: `the range \`${p.text}\` runs backwards (column ${p.from} comes after column ${p.to})`, label: "backwards range" });
        return;
      case "invalid":
        this.report("dataBadSelector", span, { message: `\`${p.text}\` is not a column name or a 0-based index`, label: "not a column" });
        return;
      case "tooWide":
        this.report("dataBadSelector", span, { message: tooWideText(p.text, p.count), label: "too many columns" });
        return;
    }
  }

  /** `test_from` must have the columns of `from`. */
  private sameLayout(main: Source, test: Source, layout: Layout): void {
    const detail = (a: Table, b: Table): string | undefined => {
      if (a.width !== b.width) return `${b.width} columns instead of ${a.width}`;
      if (a.names && b.names) {
        const i = a.names.findIndex((n, k) => b.names![k] !== n);
        if (i >= 0) return `column ${i} is \`${b.names[i]}\` instead of \`${a.names[i]}\``;
      }
      if (a.itemShape && b.itemShape && a.itemShape.join("x") !== b.itemShape.join("x")) return `items of ${b.itemShape.join(" × ")} instead of ${a.itemShape.join(" × ")}`;
      return undefined;
    };
    const d = detail(main.data, test.data);
    if (d) this.report("dataLayoutMismatch", this.fileSpan(test), { test: test.data.path, train: main.data.path, detail: d });
    if (layout.labelInFile !== !!test.labels) {
      this.report("dataLayoutMismatch", this.fileSpan(test), { test: test.data.path, train: main.data.path, detail: layout.labelInFile ? "`from` reads its labels from a `labels:` file, `test_from` has none" : "`test_from` has a `labels:` file, `from` has none" });
    } else if (main.labels && test.labels) {
      const dl = detail(main.labels, test.labels);
      if (dl) this.report("dataLayoutMismatch", this.fileSpan(test, true), { test: test.labels.path, train: main.labels.path, detail: dl });
      if (test.labels.n !== test.data.n) this.report("dataRowCountMismatch", this.fileSpan(test, true), { path: test.data.path, rows: test.data.n, labels: test.labels.path, labelRows: test.labels.n });
    }
  }

  /** Adds a column to `onehot`, or a new `onehot` line at the end of the block. */
  private onehotFix(name: string): Fix[] {
    const existing = this.spec.statements.get("onehot");
    if (existing) return [{ title: `one-hot encode \`${name}\``, edits: [{ span: pointAt(existing.node.span, true), newText: `, ${name}` }] }];
    return this.addLine(`onehot ${name}`);
  }

  /**
   * Whether the cell of a `codes` column is one of its values (or missing, which the missing policy
   * handles); otherwise reports it once per value, with the fix that adds it at the end of the list.
   */
  private codeOk(src: Source, r: number, c: number, code: { values: string[]; listSpan: Span }, names: string[] | undefined, labels: Label[]): boolean {
    const t = src.data;
    const idx = r * t.width + c;
    const v = t.values[idx];
    const cell = v === v ? String(v) : t.text.get(idx);
    if (cell === undefined || code.values.includes(cell)) return true;
    const key = `${c}\u0000${cell}`;
    if (this.unknownCodes.has(key)) return false;
    this.unknownCodes.add(key);
    const column = names?.[c] ?? String(c);
    const text = valueText(cell);
    this.cell("dataUnknownCode", this.fileSpan(src, false, r), { where: cellWhere(t, r, c, names), text: cell, column, codes: code.values.join(", ") }, {
      labels: [...labels, { span: code.listSpan, message: "the codes" }],
      fixes: [{ title: `add \`${text}\` as code ${code.values.length}`, edits: [{ span: { ...code.listSpan, start: code.listSpan.end - 1, end: code.listSpan.end - 1 }, newText: `, ${text}` }] }],
    });
    return false;
  }

  /** A new statement at the end of the block. */
  private addLine(text: string): Fix[] {
    const body = this.spec.node.body;
    const last = body[body.length - 1];
    if (!last) return [];
    const at = last.span;
    return [{ title: `add \`${text}\``, edits: [{ span: pointAt(at, true), newText: `\n${" ".repeat(at.col - 1)}${text}` }] }];
  }

  /** The rows that pass `keep` and the missing policy; reports bad cells. */
  private rows(src: Source, layout: Layout, label: LabelSpec): Rows {
    const d = src.data;
    const lt = src.labels ?? d;
    const w = d.width;
    const lw = lt.width;
    const kept = new Int32Array(d.n);
    let nKept = 0;
    let byKeep = 0;
    let byMissing = 0;
    const { features, categorical, labelCols, keep } = layout;
    const featureSpan = this.spec.statements.get("features")?.node.head.span;
    const featureLabel: Label[] = featureSpan ? [{ span: featureSpan, message: "selects the column" }] : [];
    const labelLabel: Label[] = [{ span: label.span, message: "the label column" }];
    const textLabelOk = label.kind === "class" || label.kind === "onehot" || label.kind === "binary";
    // a file of lines holds words or sentences; other text columns more often categories
    const lines = statementValues(this.spec.statements, DATA_STATEMENTS, src.stmt).format === "lines";
    const missing = (t: Table, idx: number) => {
      const m = t.markers.get(idx);
      return m === undefined ? "an empty cell" : `\`${m}\``;
    };
    const textColumns = new Set<number>();
    for (let r = 0; r < d.n; r++) {
      if (keep) {
        const kt = keep.inLabels ? lt : d;
        const idx = r * kt.width + keep.col;
        const v = kt.values[idx];
        const t = kt.text.get(idx);
        const ok = v === v ? keep.nums.has(v) || keep.strs.has(String(v)) : t !== undefined && keep.strs.has(t);
        if (!ok) {
          byKeep++;
          continue;
        }
      }
      let drop = false;
      const base = r * w;
      for (let j = 0; j < features.length; j++) {
        const c = features[j];
        const code = layout.codes.get(j);
        if (code && !this.codeOk(src, r, c, code, layout.names, featureLabel)) continue;
        // Any cell is text to a text column, an empty one too.
        if (d.values[base + c] === d.values[base + c] || layout.text?.feature === j) continue;
        const t = d.text.get(base + c);
        if (t !== undefined) {
          if (categorical.has(j) || code) continue;
          const header = lines ? undefined : notNumberHelp(r, d);
          if (header) this.cell("dataNotNumber", this.fileSpan(src, false, r), { where: cellWhere(d, r, c, layout.names), text: t }, { labels: featureLabel, help: header });
          else if (!textColumns.has(c)) {
            // One error per text column, with the fix: a category column is one-hot encoded.
            textColumns.add(c);
            const name = layout.names?.[c] ?? String(c);
            const text = `text ${name} ${lines ? "chars" : "words"}`;
            const fixes = this.spec.statements.has("text") ? [] : this.addLine(text);
            this.cell("dataNotNumber", this.fileSpan(src, false, r), { where: cellWhere(d, r, c, layout.names), text: t }, {
              labels: featureLabel,
              help: lines ? `each line is text: turn it into token ids with \`${text}\` (or \`words\`)` : `column \`${name}\` holds text: if it names categories, one-hot encode it with \`onehot ${name}\`; if it is free text, turn it into token ids with \`${text}\``,
              fixes: lines ? fixes : [...this.onehotFix(name), ...fixes],
            });
          }
          continue;
        }
        if (this.policy === "drop") drop = true;
        else if (this.policy === "error") this.cell("dataMissingValue", this.fileSpan(src, false, r), { where: cellWhere(d, r, c, layout.names), what: missing(d, base + c) }, { labels: featureLabel });
      }
      const lbase = r * lw;
      for (const c of labelCols) {
        const idx = lbase + c;
        if (lt.values[idx] === lt.values[idx]) continue;
        const t = lt.text.get(idx);
        if (t !== undefined) {
          if (textLabelOk) continue;
          this.cell("dataNotNumber", this.fileSpan(src, true), { where: cellWhere(lt, r, c, layout.labelTableNames), text: t }, { labels: labelLabel, help: notNumberHelp(r, lt) });
          continue;
        }
        if (this.policy === "drop") drop = true;
        else
          this.cell("dataMissingValue", this.fileSpan(src, true), { where: cellWhere(lt, r, c, layout.labelTableNames), what: `${missing(lt, idx)} in the label` }, {
            labels: labelLabel,
            help: this.policy === "mean" ? "`missing mean` fills features only; drop rows without a label with `missing drop`" : undefined,
          });
      }
      if (drop) byMissing++;
      else kept[nKept++] = r;
    }
    return { kept: kept.slice(0, nKept), read: d.n, byKeep, byMissing };
  }

  /** Encodes the label of every kept row, checking ranges and names. */
  private encodeLabels(sources: { src: Source; rows: Rows }[], layout: Layout, label: LabelSpec): Labels {
    const { labelCols } = layout;
    const cellOf = (src: Source, r: number, c: number) => {
      const t = src.labels ?? src.data;
      const idx = r * t.width + c;
      return { v: t.values[idx], t: t.text.get(idx), table: t };
    };
    const where = (src: Source, r: number, c: number) => cellWhere(src.labels ?? src.data, r, c, layout.labelTableNames);
    const labelSpan = label.span;
    const N = label.classes ?? 0;
    const y: (Float32Array | Int32Array)[] = [];
    const strata: Int32Array[] = [];

    if (label.kind === "class" || (label.kind === "onehot" && labelCols.length === 1)) {
      const c = labelCols[0];
      const names = label.names;
      const nameIndex = new Map((names ?? []).map((n, i) => [n, i]));
      // Without names, text labels are mapped through their sorted distinct values.
      let vocab: Map<string, number> | undefined;
      let classNames = names;
      if (!names) {
        const distinct = new Set<string>();
        let anyText = false;
        for (const { src, rows } of sources)
          for (const r of rows.kept) {
            const { v, t } = cellOf(src, r, c);
            if (t !== undefined) anyText = true;
            distinct.add(t ?? String(v));
          }
        if (anyText) {
          const sorted = sortCategories(distinct);
          if (sorted.length > N) {
            const shown = sorted.slice(0, 8).map((s) => `\`${s}\``).join(", ");
            this.report("dataBadLabel", labelSpan, { message: `${sources[0].src.labels?.path ?? sources[0].src.data.path} column ${c}${layout.labelTableNames?.[c] ? ` (\`${layout.labelTableNames[c]}\`)` : ""} holds ${sorted.length} distinct classes (${shown}${sorted.length > 8 ? ", …" : ""}), more than ${label.kind}(${N})` }, { help: "raise the class count, or list the classes with `names: [...]`" });
            throw new Stop();
          }
          vocab = new Map(sorted.map((s, i) => [s, i]));
          classNames = [...sorted, ...Array.from({ length: N - sorted.length }, (_, i) => String(sorted.length + i))];
        }
      }
      for (const { src, rows } of sources) {
        const idxs = new Int32Array(rows.kept.length);
        const table = src.labels ?? src.data;
        rows.kept.forEach((r, i) => {
          // read in place: this runs once per row of files with a million rows
          const at = r * table.width + c;
          const v = table.values[at];
          const t = v === v ? undefined : table.text.get(at);
          let k: number | undefined;
          if (vocab) k = vocab.get(t ?? String(v));
          else if (t !== undefined) {
            k = nameIndex.get(t);
            if (k === undefined) {
              const guess = names ? closest(t, names) : undefined;
              if (names) this.cell("dataUnknownClass", this.fileSpan(src, true), { where: where(src, r, c), value: t }, { labels: [{ span: labelSpan, message: "class names declared here" }], help: guess ? `did you mean \`${guess}\`?` : `the classes are ${names.map((n) => `\`${n}\``).join(", ")}` });
              else this.cell("dataNotNumber", this.fileSpan(src, true), { where: where(src, r, c), text: t }, { labels: [{ span: labelSpan, message: "the label column" }] });
              return;
            }
          } else if (Number.isInteger(v) && v >= 0 && v < N) k = v;
          else {
            this.cell("dataClassOutOfRange", this.fileSpan(src, true), { where: where(src, r, c), value: v, max: N - 1, kind: label.kind, classes: N }, { labels: [{ span: labelSpan, message: `declared as ${label.kind}(${N}) here` }] });
            return;
          }
          idxs[i] = k!;
        });
        strata.push(idxs);
        if (label.kind === "class") y.push(idxs);
        else {
          const oh = new Float32Array(idxs.length * N);
          idxs.forEach((k, i) => (oh[i * N + k] = 1));
          y.push(oh);
        }
      }
      return { strata, y, k: label.kind === "class" ? 1 : N, shape: label.kind === "class" ? [] : [N], classNames: classNames ?? Array.from({ length: N }, (_, i) => String(i)) };
    }

    // Several columns, or binary / regression: one float per column.
    const k = labelCols.length;
    const stratify = label.kind === "onehot" || (label.kind === "binary" && k === 1);
    for (const { src, rows } of sources) {
      const out = new Float32Array(rows.kept.length * k);
      const st = stratify ? new Int32Array(rows.kept.length) : undefined;
      rows.kept.forEach((r, i) => {
        let best = -1;
        let bestV = -Infinity;
        labelCols.forEach((c, j) => {
          const { v, t } = cellOf(src, r, c);
          let x = v;
          if (label.kind === "binary" || label.kind === "onehot") {
            if (t !== undefined) x = /^(true|yes)$/i.test(t) ? 1 : /^(false|no)$/i.test(t) ? 0 : NaN;
            if (x !== 0 && x !== 1) {
              this.cell("dataBadLabel", this.fileSpan(src, true), { message: `${where(src, r, c)}: ${label.kind === "binary" ? "binary" : "one-hot"} label \`${t ?? v}\` is not 0 or 1` }, { label: "this data set reads that file", labels: [{ span: labelSpan, message: `declared as ${label.kind} here` }] });
              return;
            }
          }
          out[i * k + j] = x;
          if (x > bestV) {
            bestV = x;
            best = j;
          }
        });
        if (st) st[i] = label.kind === "binary" ? out[i * k] : best;
      });
      y.push(out);
      if (st) strata.push(st);
    }
    return {
      strata: stratify ? strata : undefined,
      y,
      k,
      shape: [k],
      classNames: label.kind === "onehot" ? (label.names ?? Array.from({ length: k }, (_, i) => layout.labelColNames[i])) : undefined,
    };
  }

  private splitAndTransform(main: Source, mainRows: Rows, test: Source | undefined, testRows: Rows | undefined, layout: Layout, label: LabelSpec, labels: Labels): LoadedData | undefined {
    const sv = statementValues(this.spec.statements, DATA_STATEMENTS, "split");
    const seed = sv.seed as number;
    // Without a split statement every row trains, in file order.
    // a time series (`window`) is cut in order: shuffling would put the future in training
    const timeOrder = this.spec.statements.has("window");
    const shuffle = sv.shuffle === true && this.spec.statements.has("split") && !timeOrder;
    let stratified = sv.stratified === true && !timeOrder;
    if (stratified && !labels.strata) {
      this.report("dataNotStratified", this.optSpan("split", "/stratified"), { kind: label.kind === "binary" ? "multi-column binary" : label.kind });
      stratified = false;
    }
    if (test && sv.test !== undefined) {
      this.report("dataBadSplit", this.optSpan("split", "/test"), { message: "`test` cannot be split off: `test_from` gives the test set", label: "remove this" }, { labels: [{ span: this.stmtSpan("test_from"), message: "the test set" }] });
      throw new Stop();
    }
    const n = mainRows.kept.length;
    const strata = labels.strata?.[0];
    const kfold = typeof sv.kfold === "number" ? sv.kfold : undefined;
    const num = (v: Json | undefined) => (typeof v === "number" ? v : undefined);
    let req: SplitRequest;
    if (kfold !== undefined) req = { test: num(sv.test), shuffle, stratified, seed };
    else if (this.spec.statements.has("split")) req = { train: num(sv.train), val: num(sv.val), test: num(sv.test), shuffle, stratified, seed };
    else req = { train: 1, shuffle: false };
    const s = splitRows(n, req, stratified ? strata : undefined);
    if ("problem" in s) {
      this.splitProblem(s.problem, main, mainRows);
      throw new Stop();
    }
    const { train, val, test: testPos, unused } = s.split;

    // a time series (`window`): each example is `size` consecutive rows, its label `horizon` after
    const win = this.values("window") ? statementValues(this.spec.statements, DATA_STATEMENTS, "window") : undefined;
    if (win && kfold !== undefined) {
      this.report("dataBadSplit", this.optSpan("split", "/kfold"), { message: "`window` keeps time order, and cross-validation would train on rows after the ones it tests", label: "not with `window`" }, { labels: [{ span: this.stmtSpan("window"), message: "a time series" }] });
      throw new Stop();
    }
    const shapeOf = (stats: FittedStats): number[] => {
      if (win) return [win.size as number, stats.width];
      const reshape = this.values("reshape")?.shape as number[] | undefined;
      if (reshape) {
        const shape = resolveShape(reshape, stats.width);
        if (!shape) {
          const need = reshape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
          this.report("dataReshape", this.optSpan("reshape", "/shape"), { shape: `[${reshape.join(", ")}]`, need: reshape.includes(-1) ? `a multiple of ${need}` : need, have: stats.width });
          throw new Stop();
        }
        return shape;
      }
      const item = main.data.itemShape;
      const whole = layout.features.length === main.data.width && layout.features.every((c, i) => c === i) && layout.categorical.size === 0;
      if (item && whole && item.length >= 2) return item.length === 2 ? [...item, 1] : item;
      return [stats.width];
    };
    const plan: FeaturePlan = {
      names: layout.featureNames,
      categorical: [...layout.categorical],
      fillMean: this.policy === "mean",
      scale: typeof this.values("scale")?.factor === "number" ? (this.values("scale")!.factor as number) : undefined,
      standardize: layout.standardize,
      ...(layout.text ? { text: layout.text } : {}),
      ...(layout.codes.size ? { codes: [...layout.codes].map(([feature, c]) => ({ feature, values: c.values })) } : {}),
      minmax: layout.minmax ? { features: layout.minmax, range: statementValues(this.spec.statements, DATA_STATEMENTS, "minmax").range as [number, number] } : undefined,
    };
    const matrix = (src: Source, rows: ArrayLike<number>): FeatureMatrix => {
      const t = src.data;
      return { values: t.values, stride: t.width, rows, columns: layout.features, text: (r, c) => t.text.get(r * t.width + c) };
    };
    const tableRows = (kept: Int32Array, pos: Int32Array) => Int32Array.from(pos, (p) => kept[p]);
    const gatherY = (all: Float32Array | Int32Array, pos: Int32Array): Float32Array | Int32Array => {
      const k = labels.k;
      const out = all instanceof Int32Array ? new Int32Array(pos.length * k) : new Float32Array(pos.length * k);
      for (let i = 0; i < pos.length; i++) for (let j = 0; j < k; j++) out[i * k + j] = all[pos[i] * k + j];
      return out;
    };
    const make = (src: Source, kept: Int32Array, yAll: Float32Array | Int32Array, pos: Int32Array, stats: FittedStats, shape: number[], part = "train"): SplitData => {
      const rows = tableRows(kept, pos);
      const x = transform(matrix(src, rows), stats);
      if (!win) return { x, y: gatherY(yAll, pos), n: pos.length, featureShape: shape, labelShape: labels.shape, rows };
      // the part's own rows only (the split cut them in time order), so no window reads another part
      const [size, horizon, stride] = [win.size, win.horizon, win.stride] as number[];
      const F = stats.width;
      const starts: number[] = [];
      for (let s = 0; s + size - 1 + horizon < pos.length; s += stride) starts.push(s);
      if (!starts.length && pos.length && part !== "val")
        this.report("dataTooFewRows", this.stmtSpan("window"), { detail: `the ${part} part has ${pos.length} rows, too few for one window of ${size} and a label ${horizon} after it` });
      const windows = new Float32Array(starts.length * size * F);
      starts.forEach((s, k) => windows.set(x.subarray(s * F, (s + size) * F), k * size * F));
      const at = Int32Array.from(starts, (s) => s + size - 1 + horizon);
      return { x: windows, y: gatherY(yAll, Int32Array.from(at, (i) => pos[i])), n: starts.length, featureShape: shape, labelShape: labels.shape, rows: Int32Array.from(at, (i) => rows[i]) };
    };
    const fitOn = (pos: Int32Array) => {
      const stats = fit(matrix(main, tableRows(mainRows.kept, pos)), plan);
      stats.shape = shapeOf(stats);
      stats.label = { kind: label.kind, columns: layout.labelColNames, ...(label.classes !== undefined ? { classes: label.classes } : {}), ...(labels.classNames ? { classNames: labels.classNames } : {}) };
      return stats;
    };

    const trainPos = kfold !== undefined ? Int32Array.from([...train, ...val]) : train;
    if (kfold !== undefined && trainPos.length < kfold) {
      this.report("dataTooFewRows", this.optSpan("split", "/kfold"), { detail: `${kfold} folds need at least ${kfold} rows, but ${trainPos.length} are left for them` });
      throw new Stop();
    }
    const stats = fitOn(trainPos);
    const shape = stats.shape;
    const yMain = labels.y[0];
    const empty = (): SplitData => ({ x: new Float32Array(0), y: labels.shape.length === 0 ? new Int32Array(0) : new Float32Array(0), n: 0, featureShape: shape, labelShape: labels.shape, rows: new Int32Array(0) });
    const trainData = make(main, mainRows.kept, yMain, trainPos, stats, shape);
    const valData = kfold !== undefined ? empty() : make(main, mainRows.kept, yMain, val, stats, shape, "val");
    let testData: SplitData;
    if (test && testRows) {
      const all = Int32Array.from({ length: testRows.kept.length }, (_, i) => i);
      testData = make(test, testRows.kept, labels.y[1], all, stats, shape, "test");
    } else testData = make(main, mainRows.kept, yMain, testPos, stats, shape, "test");
    this.checkpoint();

    let folds: LoadedData["folds"];
    if (kfold !== undefined) {
      const held = kfoldRows(trainPos, kfold, { seed, shuffle, strata: stratified ? strata : undefined });
      folds = held.map((v) => {
        const inVal = new Set(v);
        const tr = trainPos.filter((p) => !inVal.has(p));
        const fstats = fitOn(tr);
        return { train: make(main, mainRows.kept, yMain, tr, fstats, fstats.shape), val: make(main, mainRows.kept, yMain, v, fstats, fstats.shape), stats: fstats };
      });
    }
    const prov = (src: Source, r: Rows): Provenance => ({
      file: src.data.path,
      ...(src.labels ? { labels: src.labels.path } : {}),
      rowsRead: r.read,
      rowsKept: r.kept.length,
      droppedByKeep: r.byKeep,
      droppedMissing: r.byMissing,
    });
    return {
      name: this.spec.name,
      train: trainData,
      val: valData,
      test: testData,
      ...(folds ? { folds } : {}),
      featureNames: stats.outputs,
      ...(labels.classNames ? { classNames: labels.classNames } : {}),
      label: { kind: label.kind, columns: layout.labelColNames, ...(label.classes !== undefined ? { classes: label.classes } : {}) },
      stats,
      split: { train: trainData.n, val: valData.n, test: testData.n, unused: unused.length, seed, shuffle, stratified, ...(kfold !== undefined ? { kfold } : {}) },
      provenance: { source: prov(main, mainRows), ...(test && testRows ? { test: prov(test, testRows) } : {}) },
    };
  }

  private splitProblem(p: SplitProblem, main: Source, rows: Rows): void {
    const n = rows.kept.length;
    const after = rows.byKeep || rows.byMissing ? ` (after ${rows.byKeep ? "`keep`" : ""}${rows.byKeep && rows.byMissing ? " and " : ""}${rows.byMissing ? "dropping rows with missing values" : ""})` : "";
    switch (p.kind) {
      case "notInteger":
        this.report("dataBadSplit", this.optSpan("split", `/${p.part}`), { message: `\`${p.part}: ${p.value}\` is neither a fraction (at most 1) nor a whole number of rows`, label: "invalid size" });
        return;
      case "overfull":
        if (!hasCounts(this.values("split"))) {
          this.report("dataBadSplit", this.stmtSpan("split"), { message: `the split's fractions add up to ${+(p.asked / Math.max(1, n)).toFixed(4)}, more than 1`, label: "fractions over 1" });
          return;
        }
        this.report("dataTooFewRows", this.stmtSpan("split"), { detail: `the split asks for ${Math.round(p.asked)} rows, but ${main.data.path} has ${n}${after}` });
        return;
      case "empty":
        this.report("dataTooFewRows", this.optSpan("split", `/${p.part}`), { detail: `${p.part} would get no rows: ${main.data.path} has ${n} rows${after} (train ${p.sizes.train}, val ${p.sizes.val}, test ${p.sizes.test})` });
        return;
    }
  }
}

function hasCounts(v: Record<string, Json> | undefined): boolean {
  return !!v && ["train", "val", "test"].some((k) => typeof v[k] === "number" && (v[k] as number) > 1);
}

function notNumberHelp(row: number, t: Table): string | undefined {
  if (row === 0 && t.lines && t.headerLine === undefined) return "if the first row names the columns, add `header: true` to the `from` line (and `skip: N` for lines before it)";
  return undefined;
}
