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
import type { Json } from "../lang/values.ts";
import { buildDataset, type LoadedData, type Source } from "./build.ts";
import { readTable, type ReadResult, type SourceOptions } from "./node/read.ts";

export type { LoadedData, Provenance, SplitData, Source } from "./build.ts";
export { buildDataset, CELL_PROBLEM_LIMIT } from "./build.ts";
export type { FeatureMatrix, FeaturePlan, FeatureStats, FittedStats } from "./preprocess.ts";
export { fit, matrixFromRows, transform } from "./preprocess.ts";
export { epochBatches, kfoldRows, splitRows, type SplitIndices, type SplitRequest } from "./split.ts";
export { epochOrder, mulberry32, permutation } from "./random.ts";
export type { Table } from "./table.ts";

/** Reads a data file into a table (replaceable in tests). */
export type TableReader = (absPath: string, shownPath: string, opts: SourceOptions) => Promise<ReadResult>;

/**
 * Loads the data set `spec` declares. `specFile` is the spec's path on disk: relative data paths are
 * read from its folder. Never throws on bad input: problems come back as diagnostics (in `spec.file`),
 * and then `data` is undefined.
 */
export async function loadData(spec: DataSpec, specFile: string, opts: { read?: TableReader } = {}): Promise<{ data?: LoadedData; diagnostics: Diagnostic[] }> {
  const sink = new DiagnosticSink(spec.file);
  const read = opts.read ?? readTable;
  const base = dirname(specFile);
  const from = spec.statements.get("from");
  if (!from || typeof from.options.values.path !== "string") {
    sink.report("missingStatement", spec.node.name?.span ?? spec.node.span, { block: "data", name: spec.name, statement: "from" });
    return { diagnostics: sink.items };
  }
  const load = async (stmt: "from" | "test_from"): Promise<Source | undefined> => {
    const entry = spec.statements.get(stmt);
    if (!entry) return undefined;
    const v = entry.options.values as Record<string, Json>;
    if (typeof v.path !== "string") return undefined;
    const o: SourceOptions = {
      format: v.format as SourceOptions["format"],
      header: v.header as boolean | undefined,
      skip: v.skip as number | undefined,
      delimiter: v.delimiter as string | undefined,
    };
    const at = (p: string) => (isAbsolute(p) ? p : resolvePath(base, p));
    const dataP = read(at(v.path), v.path, o);
    // The labels file has the data file's format, delimiter and header, but no lines to skip.
    const labelsP = typeof v.labels === "string" ? read(at(v.labels), v.labels, { ...o, skip: 0 }) : undefined;
    const [data, labels] = await Promise.all([dataP, labelsP]);
    let ok = true;
    for (const [r, ptr] of [[data, "/path"], [labels, "/labels"]] as const) {
      if (!r || "table" in r) continue;
      ok = false;
      const span = entry.options.spans.get(ptr) ?? entry.node.span;
      for (const p of r.problems) sink.report(p.key, span, p.params, { notes: p.notes });
    }
    if (!ok || !("table" in data)) return undefined;
    return { stmt, data: data.table, labels: labels && "table" in labels ? labels.table : undefined };
  };
  let main: Source | undefined;
  let test: Source | undefined;
  try {
    [main, test] = await Promise.all([load("from"), load("test_from")]);
  } catch (e) {
    // Reading never throws on bad input; this is a bug or an exhausted machine (out of memory).
    sink.report("dataFileUnreadable", from.node.span, { path: String(from.options.values.path), reason: (e as Error).message });
    return { diagnostics: sink.items };
  }
  if (!main || (spec.statements.has("test_from") && !test) || sink.items.some((d) => d.severity === "error")) return { diagnostics: sink.items };
  const data = buildDataset(spec, main, test, sink);
  return data && !sink.items.some((d) => d.severity === "error") ? { data, diagnostics: sink.items } : { diagnostics: sink.items };
}
