/** How a data block's `from` or `test_from` statement reads its files: the one reading of those options. */
import type { Json } from "../core/json.ts";
import type { Span } from "../diagnostics/span.ts";
import type { DataSpec } from "../lang/program.ts";
import { DATA_STATEMENTS, statementValues, type DataFormat } from "../lang/statements.ts";

/** How to read one file. Spec-driven callers always pass every field (sourceOf); absent fields mean no header row and no lines skipped. */
export interface SourceOptions {
  format?: DataFormat;
  header?: boolean;
  skip?: number;
  delimiter?: string;
  /** Parse with csv-parse even when the file has no quotes (tests compare both ways). */
  alwaysCsvParse?: boolean;
}

/** The column a list of files adds: each row's file, by its position in the list. */
export const FILE_COLUMN = "file";
/** The one column of a `format: lines` file. */
export const LINE_COLUMN = "line";

/**
 * The files, labels file and how to read them, with the statement's defaults filled in. `path` is
 * the first file (what messages name); `paths` every file, more than one when `from` lists several.
 */
export function sourceOf(spec: DataSpec, stmt: "from" | "test_from" = "from"): { path?: string; paths: string[]; labels?: string; opts: SourceOptions & { header: boolean; skip: number } } {
  const v: Record<string, Json> = spec.statements.has(stmt) ? statementValues(spec.statements, DATA_STATEMENTS, stmt) : {};
  const paths = typeof v.path === "string" ? [v.path] : Array.isArray(v.path) && v.path.every((p) => typeof p === "string") ? (v.path as string[]) : [];
  return {
    path: paths[0],
    paths,
    labels: typeof v.labels === "string" ? v.labels : undefined,
    opts: {
      format: v.format as DataFormat | undefined,
      header: v.header === true,
      skip: typeof v.skip === "number" ? v.skip : 0,
      delimiter: typeof v.delimiter === "string" ? v.delimiter : undefined,
    },
  };
}

/** Whether `from` (or `test_from`) lists several files, so the table gains a `file` column. */
export function listsFiles(spec: DataSpec, stmt: "from" | "test_from" = "from"): boolean {
  return Array.isArray(spec.statements.get(stmt)?.options.values.path);
}

/** IDX files by their conventional names: `train-images-idx3-ubyte(.gz)`, `x.idx(.gz)`. */
export function guessFormat(path: string): "csv" | "idx" {
  return /(idx\d*-ubyte|\.idx\d*)(\.gz)?$/i.test(path) ? "idx" : "csv";
}

/** What a list of files cannot be combined with (IDX files, a `labels:` file), where it is said. */
export function fileListProblem(spec: DataSpec, stmt: "from" | "test_from"): { span: Span; message: string; label: string } | undefined {
  const s = spec.statements.get(stmt);
  if (!s) return undefined;
  const { labels, opts } = sourceOf(spec, stmt);
  const at = (ptr: string) => s.options.spans.get(ptr) ?? s.node.span;
  if (labels !== undefined) return { span: at("/labels"), message: "a list of files cannot take a `labels:` file: give each row's label in a column, or use the `file` column (one file per class)", label: "with a list of files" };
  const paths = sourceOf(spec, stmt).paths;
  if (opts.format === "idx" || (opts.format === undefined && paths.some((p) => guessFormat(p) === "idx")))
    return { span: at(opts.format === "idx" ? "/format" : "/path"), message: "IDX files cannot be read as a list: list CSV, whitespace-separated or `format: lines` text files", label: "IDX files in a list" };
  return undefined;
}
