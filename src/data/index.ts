/**
 * Loading a spec's `data` block into training tensors: the one implementation the interpreter and
 * the generated TensorFlow.js code share.
 *
 *   node/read.ts     files → Table (gzip, CSV via csv-parse, whitespace text, IDX)   [Node]
 *   build.ts         Tables + DataSpec → LoadedData (columns, keep, missing, labels)  [pure]
 *   split.ts         train/val/test, stratified, k-fold, mini-batch order             [pure]
 *   preprocess.ts    fit on train / transform (standardize, minmax, scale, onehot)   [pure]
 *   random.ts        mulberry32 and Fisher–Yates                                      [pure, no imports]
 */
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { DiagnosticSink, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { DataSpec } from "../lang/program.ts";
import { buildDataset, type LoadedData, type Source } from "./build.ts";
import { readTable, readTableSync, type ReadResult } from "./node/read.ts";
import { FILE_COLUMN, fileListProblem, listsFiles, sourceOf, type SourceOptions } from "./source.ts";
import { concatTables, type Table } from "./table.ts";

export type { LoadedData, Provenance, SplitData, Source } from "./build.ts";
export { buildDataset, CELL_PROBLEM_LIMIT } from "./build.ts";
export type { FeatureMatrix, FeaturePlan, FeatureStats, FittedStats } from "./preprocess.ts";
export { fit, matrixFromRows, transform } from "./preprocess.ts";
export { epochBatches, kfoldRows, splitRows, type SplitIndices, type SplitRequest } from "./split.ts";
export { epochOrder, mulberry32, permutation } from "./random.ts";
export type { Table } from "./table.ts";

/** Reads a data file into a table (replaceable in tests). */
export type TableReader = (absPath: string, shownPath: string, opts: SourceOptions) => Promise<ReadResult> | ReadResult;

/**
 * Loads the data set `spec` declares. `specFile` is the spec's path on disk: relative data paths are
 * read from its folder. Never throws on bad input: problems come back as diagnostics (in `spec.file`),
 * and then `data` is undefined.
 */
export async function loadData(spec: DataSpec, specFile: string, opts: { read?: TableReader } = {}): Promise<{ data?: LoadedData; diagnostics: Diagnostic[] }> {
  const sink = new DiagnosticSink(spec.file);
  const reqs = requests(spec, specFile, sink);
  if (!reqs) return { diagnostics: sink.items };
  const read = opts.read ?? readTable;
  let results: ReadResult[];
  try {
    results = await Promise.all(reqs.map((r) => read(r.abs, r.shown, r.opts)));
  } catch (e) {
    return unreadable(spec, sink, e);
  }
  return assemble(spec, sink, reqs, results);
}

/** `loadData` reading synchronously: what the checker runs, so it reports what training would. */
export function loadDataSync(spec: DataSpec, specFile: string, read: (absPath: string, shownPath: string, opts: SourceOptions) => ReadResult = readTableSync): { data?: LoadedData; diagnostics: Diagnostic[] } {
  const sink = new DiagnosticSink(spec.file);
  const reqs = requests(spec, specFile, sink);
  if (!reqs) return { diagnostics: sink.items };
  let results: ReadResult[];
  try {
    results = reqs.map((r) => read(r.abs, r.shown, r.opts));
  } catch (e) {
    return unreadable(spec, sink, e);
  }
  return assemble(spec, sink, reqs, results);
}

/** One file a data block reads. */
export interface ReadRequest {
  stmt: "from" | "test_from";
  /** Where the statement names the file: `/path`, `/path/2` (the third of a list) or `/labels`. */
  ptr: string;
  abs: string;
  shown: string;
  opts: SourceOptions;
}

/** The files of `from` and `test_from` (and their `labels:` files); undefined when there is no `from` (reported). */
export function requests(spec: DataSpec, specFile: string, sink: DiagnosticSink): ReadRequest[] | undefined {
  const base = dirname(specFile);
  const from = spec.statements.get("from");
  if (!from || sourceOf(spec, "from").path === undefined) {
    sink.report("missingStatement", spec.node.name?.span ?? spec.node.span, { block: "data", name: spec.name, statement: "from" });
    return undefined;
  }
  const out: ReadRequest[] = [];
  let ok = true;
  for (const stmt of ["from", "test_from"] as const) {
    if (!spec.statements.has(stmt)) continue;
    const { path, paths, labels, opts } = sourceOf(spec, stmt);
    if (path === undefined) continue;
    const at = (p: string) => (isAbsolute(p) ? p : resolvePath(base, p));
    if (listsFiles(spec, stmt)) {
      const problem = fileListProblem(spec, stmt);
      if (problem) {
        sink.report("dataFileList", problem.span, { message: problem.message, label: problem.label });
        ok = false;
        continue;
      }
      paths.forEach((p, i) => out.push({ stmt, ptr: `/path/${i}`, abs: at(p), shown: p, opts }));
      continue;
    }
    out.push({ stmt, ptr: "/path", abs: at(path), shown: path, opts });
    // The labels file has the data file's format, delimiter and header, but no lines to skip.
    if (labels !== undefined) out.push({ stmt, ptr: "/labels", abs: at(labels), shown: labels, opts: { ...opts, skip: 0 } });
  }
  return ok ? out : undefined;
}


function unreadable(spec: DataSpec, sink: DiagnosticSink, e: unknown): { diagnostics: Diagnostic[] } {
  // Reading never throws on bad input; this is a bug or an exhausted machine (out of memory).
  const from = spec.statements.get("from")!;
  sink.report("dataFileUnreadable", from.node.span, { path: sourceOf(spec).path ?? "the data file", reason: (e as Error).message });
  return { diagnostics: sink.items };
}

function assemble(spec: DataSpec, sink: DiagnosticSink, reqs: readonly ReadRequest[], results: readonly ReadResult[]): { data?: LoadedData; diagnostics: Diagnostic[] } {
  const source = (stmt: "from" | "test_from"): Source | undefined => {
    const entry = spec.statements.get(stmt)!;
    const parts: Table[] = [];
    let labels: ReadResult | undefined;
    let ok = true;
    reqs.forEach((r, i) => {
      if (r.stmt !== stmt) return;
      const res = results[i];
      const span = entry.options.spans.get(r.ptr) ?? entry.node.span;
      if (!("table" in res)) {
        ok = false;
        for (const p of res.problems) sink.report(p.key, span, p.params, { notes: p.notes });
      } else if (r.ptr === "/labels") labels = res;
      else {
        const first = parts.find((x) => x.n > 0);
        const t = res.table;
        const detail = !first ? undefined : t.width !== first.width ? `${t.width} columns instead of ${first.width}` : first?.names && t.names && t.names.join("\0") !== first.names.join("\0") ? `its header names ${t.names.map((x) => `\`${x}\``).join(", ")}` : undefined;
        if (detail && t.n > 0) {
          ok = false;
          sink.report("dataLayoutMismatch", span, { test: t.path, train: first!.path, detail });
        }
        parts.push(t);
      }
    });
    if (!ok || !parts.length) return undefined;
    const data = listsFiles(spec, stmt) ? concatTables(parts, FILE_COLUMN) : parts[0];
    return { stmt, data, labels: labels && "table" in labels ? labels.table : undefined };
  };
  const main = source("from");
  const test = reqs.some((r) => r.stmt === "test_from") ? source("test_from") : undefined;
  if (!main || (spec.statements.has("test_from") && !test) || sink.items.some((d) => d.severity === "error")) return { diagnostics: sink.items };
  const data = buildDataset(spec, main, test, sink);
  return data && !sink.items.some((d) => d.severity === "error") ? { data, diagnostics: sink.items } : { diagnostics: sink.items };
}
