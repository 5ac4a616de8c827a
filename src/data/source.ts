/** How a data block's `from` or `test_from` statement reads its file: the one reading of those options. */
import type { Json } from "../core/json.ts";
import type { DataSpec } from "../lang/program.ts";
import { DATA_STATEMENTS, statementValues } from "../lang/statements.ts";

/** How to read one file. Spec-driven callers always pass every field (sourceOf); absent fields mean no header row and no lines skipped. */
export interface SourceOptions {
  format?: "csv" | "idx" | "whitespace";
  header?: boolean;
  skip?: number;
  delimiter?: string;
  /** Parse with csv-parse even when the file has no quotes (tests compare both ways). */
  alwaysCsvParse?: boolean;
}

/** The file, its labels file and how to read them, with the statement's defaults filled in. */
export function sourceOf(spec: DataSpec, stmt: "from" | "test_from" = "from"): { path?: string; labels?: string; opts: SourceOptions & { header: boolean; skip: number } } {
  const v: Record<string, Json> = spec.statements.has(stmt) ? statementValues(spec.statements, DATA_STATEMENTS, stmt) : {};
  return {
    path: typeof v.path === "string" ? v.path : undefined,
    labels: typeof v.labels === "string" ? v.labels : undefined,
    opts: {
      format: v.format as SourceOptions["format"],
      header: v.header === true,
      skip: typeof v.skip === "number" ? v.skip : 0,
      delimiter: typeof v.delimiter === "string" ? v.delimiter : undefined,
    },
  };
}
