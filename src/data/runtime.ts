/**
 * The runtime entry of nnspec that generated TensorFlow.js code imports (`nnspec build --target tfjs`):
 * data loading, preprocessing and the seeded split exactly as the interpreter does them, plus the
 * seeds generated code derives. It re-exports the shared data pipeline rather than copying it, so a
 * generated module and the interpreter read the same rows, fit the same statistics and split the same
 * way, byte for byte.
 *
 * A generated module cannot carry the resolved `DataSpec` (it holds syntax nodes and spans), so it
 * carries a `DataConfig`: the data block's name and every statement's bound options as plain JSON,
 * written out by `dataConfig()`. `loadDataset()` turns it back into a `DataSpec` whose spans all point
 * at the data block's line, and runs `loadData()` on it. Problems come back as one `DataLoadError`
 * listing the diagnostics, each naming the spec, the statement's line and the data file.
 *
 * It reads files through `index.ts` (the data pipeline's one Node entry) and uses no Node API itself.
 */
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { renderDiagnostic } from "../diagnostics/render.ts";
import type { Span } from "../diagnostics/span.ts";
import type { DataSpec, LabelSpec, Options } from "../lang/program.ts";
import { DATA_STATEMENTS } from "../lang/statements.ts";
import { withDefaults } from "../core/options.ts";
import type { Json } from "../lang/values.ts";
import type { DataDecl, Statement } from "../syntax/ast.ts";
import type { LoadedData } from "./build.ts";
import { loadData, type TableReader } from "./index.ts";
import { deriveSeed } from "./random.ts";

export type { LoadedData, SplitData } from "./build.ts";
export { epochOrder } from "./random.ts";

/** A `data` block as plain JSON: what generated code holds and `loadDataset` reads. */
export interface DataConfig {
  /** The data block's name. */
  name: string;
  /** The spec that declares it and the block's line, for messages. */
  spec: string;
  line: number;
  /** Each statement's options as the checker bound them (no defaults filled in), by statement name; `label`, `keep` and `codes` are separate. */
  statements: { [statement: string]: { [option: string]: Json } };
  label?: { columns: Json[]; kind: LabelSpec["kind"]; classes?: number; names?: string[] };
  keep?: { column: Json; values: Json[] };
  codes?: { column: Json; values: string[] }[];
}

/** The `DataConfig` of a resolved data block (code generation writes it out). */
export function dataConfig(spec: DataSpec, shownSpec: string = spec.file): DataConfig {
  const statements: DataConfig["statements"] = {};
  for (const [name, s] of spec.statements) {
    if (name === "label" || name === "keep" || name === "codes") continue;
    statements[name] = s.options.values;
  }
  const l = spec.label;
  return {
    name: spec.name,
    spec: shownSpec,
    line: spec.node.span.line,
    statements,
    ...(l ? { label: { columns: l.columns, kind: l.kind, ...(l.classes !== undefined ? { classes: l.classes } : {}), ...(l.names ? { names: l.names } : {}) } } : {}),
    ...(spec.keep ? { keep: { column: spec.keep.column, values: spec.keep.values } } : {}),
    ...(spec.codes ? { codes: spec.codes.map((c) => ({ column: c.column, values: c.values })) } : {}),
  };
}

/** The problems that stopped `loadDataset`, rendered one per paragraph in `message`. */
export class DataLoadError extends Error {
  constructor(
    readonly config: DataConfig,
    readonly diagnostics: Diagnostic[],
  ) {
    super(`cannot load data \`${config.name}\` (${config.spec}:${config.line}):\n\n${diagnostics.map((d) => renderDiagnostic(d, { color: false, sources: new Map() })).join("\n\n")}`);
    this.name = "DataLoadError";
  }
}

/**
 * Loads a data set as the interpreter does: reads the files (paths relative to `dir`, the folder of
 * the spec), selects columns, encodes labels, splits with the block's seed and fits the preprocessing
 * on the training split. Throws a `DataLoadError` when anything is wrong.
 */
export async function loadDataset(config: DataConfig, dir: string, opts: { read?: TableReader } = {}): Promise<LoadedData> {
  const spec = dataSpec(config);
  // loadData reads relative paths from the folder of the file it is given (a name in `dir`).
  const { data, diagnostics } = await loadData(spec, `${dir.replace(/[\\/]+$/, "")}/spec.nnspec`, opts);
  if (!data) throw new DataLoadError(config, diagnostics.filter((d) => d.severity === "error"));
  return data;
}

/**
 * The seed of one initializer of a generated model: `deriveSeed(seed, 2 · layer + slot)` (see
 * `random.ts`), where `seed` is the train block's seed, `layer` the 0-based position of the layer in
 * its model, and `slot` 0 for the kernel (or embeddings) and 1 for the bias; a recurrent kernel
 * (slot 2) takes stream 2^30 + layer, apart from all of those. TensorFlow.js ignores global seeds
 * for initializers, so generated code passes this to every random initializer: the same spec and
 * seed give the same initial weights, and no two initializers share a stream.
 */
export function initializerSeed(seed: number, layer: number, slot: 0 | 1 | 2): number {
  return deriveSeed(seed, slot === 2 ? 2 ** 30 + layer : 2 * layer + slot);
}

// ── DataConfig → DataSpec ──

/** A `DataSpec` whose spans all point at the data block's line (messages then name that line). */
export function dataSpec(config: DataConfig): DataSpec {
  const line = Math.max(1, Math.trunc(config.line) || 1);
  const span: Span = { start: 0, end: 0, line, col: 1, endLine: line, endCol: 1 };
  const ident = (name: string) => ({ kind: "ident" as const, name, span });
  const statement = (name: string): Statement => ({ kind: "statement", head: ident(name), terms: [], span });
  const options = (values: Record<string, Json>, name?: string): Options => {
    const kind = name === undefined ? undefined : DATA_STATEMENTS.get(name);
    return { ok: true, values, full: kind ? withDefaults(kind.schema, values) : values, spans: new Map(), keySpans: new Map() };
  };
  const node: DataDecl = { kind: "data", name: ident(config.name), body: [], span };
  const statements = new Map<string, { node: Statement; options: Options }>();
  for (const [name, values] of Object.entries(config.statements)) statements.set(name, { node: statement(name), options: options(values, name) });
  if (config.label) statements.set("label", { node: statement("label"), options: options({}) });
  if (config.keep) statements.set("keep", { node: statement("keep"), options: options({}) });
  if (config.codes) statements.set("codes", { node: statement("codes"), options: options({}) });
  const label: LabelSpec | undefined = config.label ? { ...config.label, span } : undefined;
  const codes = config.codes?.map((c) => ({ ...c, span, listSpan: span }));
  return { name: config.name, node, file: config.spec, statements, ...(label ? { label } : {}), ...(config.keep ? { keep: { ...config.keep, span } } : {}), ...(codes ? { codes } : {}) };
}
