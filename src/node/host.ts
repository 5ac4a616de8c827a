import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { constants as zlibConstants, gunzipSync } from "node:zlib";
import { parse as parseCsv } from "csv-parse/sync";
import { dirname, relative, resolve as resolvePath } from "node:path";
import { DiagnosticSink, hasErrors, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { loadDataSync, requests, type LoadedData } from "../data/index.ts";
import { readTableSync, type ReadResult, type SourceOptions } from "../data/node/read.ts";
import { LINE_COLUMN } from "../data/source.ts";
import { idCount } from "../data/text.ts";
import type { DataSpec } from "../lang/program.ts";
import type { LineMap, Span } from "../diagnostics/span.ts";
import type { ModelSpec, Program } from "../lang/program.ts";
import type { ImportHost } from "../lang/resolve.ts";
import type { BlockDecl, SourceFile } from "../syntax/ast.ts";
import type { DataHeader, DataHost, HeaderRequest } from "../check/index.ts";
import type { HeaderError } from "../check/crossdecl.ts";
import { analyseParsed } from "../analyse.ts";
import type { CheckedProgram, DataLayout } from "../check/ir.ts";
import { parse } from "../syntax/parse.ts";

export interface CheckedFile {
  path: string;
  text: string;
  ast: SourceFile;
  lines: LineMap;
  program: Program;
  checked: CheckedProgram;
  /** Everything found, parse problems included. */
  diagnostics: Diagnostic[];
  /** Whether the parser itself met errors (the tree may then be incomplete). */
  syntaxErrors: boolean;
}

/** How deep a chain of imports may go (each level is a nested analysis). */
export const MAX_IMPORT_DEPTH = 64;

/** The largest spec nnspec reads: far beyond any real one, small enough to read without a second thought. */
export const MAX_SPEC_BYTES = 8 << 20;

/**
 * Reads a spec from disk: only a regular file (a named pipe would block forever, /dev/zero never
 * ends) and at most MAX_SPEC_BYTES. Throws an Error whose message says why, for "cannot read …".
 */
export function readSpecFile(path: string): string {
  const st = statSync(path);
  if (!st.isFile()) throw Object.assign(new Error(st.isDirectory() ? "it is a directory" : "it is not a regular file"), { code: "ENOTREG" });
  if (st.size > MAX_SPEC_BYTES) throw Object.assign(new Error(`it is larger than ${MAX_SPEC_BYTES >> 20} MB`), { code: "EFBIG" });
  return readFileSync(path, "utf8");
}

/** Reads files from disk for imports, with each file analysed once and cycles reported. */
export class FileHost implements ImportHost {
  private readonly cache = new Map<string, CheckedFile | "in-progress">();
  /** Files being analysed, outermost first, to name an import cycle. */
  private readonly stack: string[] = [];
  /** Files found on an import cycle, and the cycle. */
  private readonly cycles = new Map<string, string[]>();
  constructor(private readonly read: (path: string) => string = readSpecFile) {}

  importModels(path: string, from: string): { models: Map<string, ModelSpec>; blocks?: ReadonlyMap<string, BlockDecl>; file: string } | { error: string } | { cycle: string[] } {
    const target = resolvePath(dirname(from), path);
    const state = this.cache.get(target);
    if (state === "in-progress") {
      const cycle = [...this.stack.slice(this.stack.indexOf(target)), target].map((p) => relative(process.cwd(), p) || p);
      for (const f of this.stack.slice(this.stack.indexOf(target))) this.cycles.set(f, cycle);
      return { cycle };
    }
    // Each nested import analyses the next file inside this one: bound the depth, not the stack.
    if (!state && this.stack.length >= MAX_IMPORT_DEPTH) return { error: `imports nest more than ${MAX_IMPORT_DEPTH} files deep (${relative(process.cwd(), this.stack[0]) || this.stack[0]} → … → ${path}): import the models from fewer levels` };
    let checked: CheckedFile;
    try {
      checked = state ?? this.analyse(target, relative(process.cwd(), target) || target);
    } catch (e) {
      return { error: (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message };
    }
    // The imported file closed a cycle through this one: report the cycle here too, not "it has errors".
    const cycle = this.cycles.get(target);
    if (cycle) return { cycle };
    if (hasErrors(checked.diagnostics)) return { error: `it has ${checked.diagnostics.filter((d) => d.severity === "error").length} error(s); run \`nnspec check ${checked.path}\`` };
    return { models: checked.program.models, blocks: checked.program.blocks, file: checked.path };
  }

  /** Parses and resolves one file. Throws only when the file cannot be read. */
  analyse(absPath: string, shownPath: string, text?: string): CheckedFile {
    const key = resolvePath(absPath);
    const cached = this.cache.get(key);
    if (cached && cached !== "in-progress" && text === undefined) return cached;
    const src = text ?? this.read(key);
    this.cache.set(key, "in-progress");
    this.stack.push(key);
    try {
      return this.analyseText(key, shownPath, src);
    } finally {
      this.stack.pop();
    }
  }

  private analyseText(key: string, shownPath: string, src: string): CheckedFile {
    const parsed = parse(src, shownPath);
    const analysed = analyseParsed(parsed, shownPath, { importModels: (p) => this.importModels(p, key) }, dataHost(key));
    const result: CheckedFile = { path: shownPath, text: src, ast: parsed.ast, lines: parsed.lines, ...analysed };
    this.cache.set(key, result);
    return result;
  }
}

/** A file's identity for the caches below: its path, size and modification time (undefined when it cannot be stat'ed). */
function stampOf(path: string): { stamp: string; size: number; regular: boolean } | undefined {
  try {
    const st = statSync(path);
    return { stamp: `${path}\0${st.size}\0${st.mtimeMs}`, size: st.size, regular: st.isFile() };
  } catch {
    return undefined;
  }
}

/** Stores `value` under `key`, dropping the oldest entry past `limit`. */
function remember<V>(cache: Map<string, V>, key: string, value: V, limit: number): V {
  if (cache.size >= limit) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
}

const headers = new Map<string, DataHeader | HeaderError | undefined>();

/** A data file's header as the checker reads it, read again only when the file's size or time changed. */
function cachedHeader(path: string, how: HeaderRequest): DataHeader | HeaderError | undefined {
  // A missing file: its answer (with the files beside it) holds until its folder changes.
  const own = stampOf(path);
  const folder = own ? undefined : stampOf(dirname(path));
  const stamp = own?.stamp ?? (folder && `missing\0${folder.stamp}`);
  if (!stamp) return readDataHeader(path, how);
  const key = `${stamp}\0${JSON.stringify(how)}`;
  return headers.has(key) ? headers.get(key) : remember(headers, key, readDataHeader(path, how), 256);
}

/** What the checker reads of the data files of the spec at `specPath` (the CLI and the language server alike). */
export function dataHost(specPath: string): DataHost {
  return {
    readHeader: (p, _from, how) => cachedHeader(resolvePath(dirname(specPath), p), how),
    loadData: (spec) => loadForCheck(spec, specPath),
  };
}

/** Data sets larger than this on disk are checked from their headers only: loading them would make every check slow. */
export const CHECK_LOAD_LIMIT = 16 << 20;
/** Parsed files by path, reading options, size and modification time: an edit to the spec re-runs the loader, not the parse. */
const tables = new Map<string, ReadResult>();

/**
 * Reads and parses a data file, or returns the parse of it this process already made while the
 * file is unchanged: `nnspec train` and `eval` reuse what their own check read.
 */
export function readTableCached(abs: string, shown: string, opts: SourceOptions): ReadResult {
  const s = stampOf(abs);
  if (!s?.regular || s.size > CHECK_LOAD_LIMIT) return readTableSync(abs, shown, opts);
  const key = `${s.stamp}\0${shown}\0${JSON.stringify(opts)}`;
  return tables.get(key) ?? remember(tables, key, readTableSync(abs, shown, opts), 32);
}

/**
 * Loads a data block's files with the loader training uses, for the checker. Each file is parsed
 * once until it changes on disk (the language server re-checks on every edit); the loader's steps
 * run each time, so its diagnostics point at the spec as it is now.
 */
export function loadForCheck(spec: DataSpec, specFile: string): { layout?: DataLayout; diagnostics: readonly Diagnostic[] } | undefined {
  const reqs = requests(spec, specFile, new DiagnosticSink(spec.file));
  if (!reqs) return undefined;
  let bytes = 0;
  const stamps: string[] = [];
  for (const r of reqs) {
    const s = stampOf(r.abs);
    // A missing or special file is reported from its header read.
    if (!s?.regular) return undefined;
    bytes += s.size;
    stamps.push(s.stamp);
  }
  if (bytes > CHECK_LOAD_LIMIT) return undefined;
  // The same block over the same files (an edit elsewhere in the spec): reuse the loader's answer,
  // its diagnostics moved with the block.
  const base = spec.node.span;
  const key = JSON.stringify([specFile, stamps, spec.name, base.end - base.start, blockShape(spec, base)]);
  const hit = results.get(key);
  if (hit) return { layout: hit.layout, diagnostics: hit.diagnostics.map((x) => moveDiagnostic(x, base.start - hit.start, base.line - hit.line)) };
  const r = loadDataSync(spec, specFile, readTableCached);
  const out = resultOf(r);
  remember(results, key, { ...out, start: base.start, line: base.line }, 32);
  return out;
}

const results = new Map<string, { layout?: DataLayout; diagnostics: readonly Diagnostic[]; start: number; line: number }>();

/** What in a data block decides the loader's answer, with every span relative to the block. */
function blockShape(spec: DataSpec, base: Span): unknown {
  const rel = (x: Span) => [x.start - base.start, x.end - base.start, x.line - base.line, x.col, x.endLine - base.line, x.endCol];
  return [
    [...spec.statements].map(([k, v]) => [k, v.options.values, rel(v.node.span), [...v.options.spans].map(([p, x]) => [p, rel(x)])]),
    spec.label ? { ...spec.label, span: rel(spec.label.span) } : null,
    spec.keep ? { ...spec.keep, span: rel(spec.keep.span) } : null,
    spec.node.name ? rel(spec.node.name.span) : null,
  ];
}

function moveSpan(x: Span, by: number, lines: number): Span {
  return { ...x, start: x.start + by, end: x.end + by, line: x.line + lines, endLine: x.endLine + lines };
}

function moveDiagnostic(d: Diagnostic, by: number, lines: number): Diagnostic {
  if (by === 0 && lines === 0) return d;
  return {
    ...d,
    span: moveSpan(d.span, by, lines),
    labels: d.labels.map((l) => (l.file ? l : { ...l, span: moveSpan(l.span, by, lines) })),
    fixes: d.fixes.map((f) => ({ ...f, edits: f.edits.map((e) => ({ ...e, span: moveSpan(e.span, by, lines) })) })),
  };
}

function resultOf(r: { data?: LoadedData; diagnostics: readonly Diagnostic[] }): { layout?: DataLayout; diagnostics: readonly Diagnostic[] } {
  const d = r.data;
  if (!d) return { diagnostics: r.diagnostics };
  const { train, val, test, unused, kfold } = d.split;
  const text = d.stats.features.find((f) => f.text)?.text;
  const layout: DataLayout = { featureShape: d.train.featureShape, featureNames: d.featureNames, label: d.label, classNames: d.classNames, split: { train, val, test, unused, ...(kfold ? { kfold } : {}) }, ...(text ? { ids: idCount(text) } : {}) };
  return { layout, diagnostics: r.diagnostics };
}

/** How much of a plain data file, and of the compressed bytes of a gzip one, the checker reads. */
const PLAIN_CHUNK = 1 << 20;
const GZIP_CHUNK = 1 << 14;
const GZIP_MAX_OUT = 1 << 24;

/**
 * Reads what the first lines of a data file say: its column names (header row), its number of
 * columns, and its number of rows when the file states it (the scikit-learn metadata line
 * `150,4,setosa,...` skipped with `skip: 1`, or an IDX header). Reads only the beginning of the file
 * (gzip: the first compressed chunk). A missing file comes back with the files beside it, for a did-you-mean.
 */
export function readDataHeader(absPath: string, how: HeaderRequest): DataHeader | HeaderError | undefined {
  try {
    // Only regular files: opening a named pipe blocks until something writes to it.
    if (!statSync(absPath).isFile()) return { error: "it is not a regular file" };
  } catch {
    // missing: reported below with the files beside it
  }
  let fd: number;
  try {
    fd = openSync(absPath, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") return { error: (e as Error).message };
    let siblings: string[] = [];
    try {
      siblings = readdirSync(dirname(absPath), { withFileTypes: true }).filter((f) => f.isFile()).map((f) => f.name);
    } catch {
      // the folder is missing too
    }
    return { error: "no such file", missing: true, siblings };
  }
  let bytes: Buffer;
  let whole: boolean;
  try {
    const buf = Buffer.alloc(PLAIN_CHUNK);
    const n = readSync(fd, buf, 0, buf.length, 0);
    bytes = buf.subarray(0, n);
    whole = n < buf.length;
    if (n >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
      const part = bytes.subarray(0, GZIP_CHUNK);
      whole = whole && part.length === n;
      bytes = gunzipSync(part, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: GZIP_MAX_OUT });
    }
  } catch (e) {
    return { error: (e as Error).message };
  } finally {
    closeSync(fd);
  }
  if (how.format === "idx" || (how.format === undefined && bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[3] >= 1 && bytes[3] <= 4 && [8, 9, 11, 12, 13, 14].includes(bytes[2]))) {
    const nd = bytes[3];
    if (bytes.length < 4 + 4 * nd || bytes[0] !== 0 || bytes[1] !== 0) return { error: "not an IDX file" };
    const dims = Array.from({ length: nd }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
    return { rows: dims[0], count: dims.slice(1).reduce((a, b) => a * b, 1) };
  }
  // A UTF-8 byte order mark is not part of the first cell (the loader drops it too).
  const lines = bytes.toString("utf8").replace(/^\uFEFF/, "").split("\n");
  if (!whole) lines.pop(); // the last line may be cut off
  const cells = (line: string): string[] => splitRow(line.replace(/\r$/, ""), how);
  const skipped = lines.slice(0, how.skip);
  const rest = lines.slice(how.skip).filter((l) => l.trim() !== "");
  if (rest.length === 0) return skipped.length < how.skip ? undefined : { error: "no data rows" };
  if (how.format === "lines") return { columns: [how.header ? rest[0].trim() : LINE_COLUMN], count: 1 };
  const first = cells(rest[0]);
  const hasHeader = how.header ?? false; // as the loader reads it: a header row only with `header: true`
  const out: DataHeader = hasHeader ? { columns: first.map((c) => c.trim()), count: first.length } : { count: first.length };
  // scikit-learn's files start with `ROWS,FEATURES,target names...`; FEATURES excludes the target column.
  const meta = skipped.length ? /^\s*(\d+)\s*[,\s]\s*(\d+)\s*(?:,|$)/.exec(skipped[0]) : null;
  if (meta && (Number(meta[2]) + 1 === out.count || Number(meta[2]) === out.count)) out.rows = Number(meta[1]);
  return out;
}

/** One row's cells, as the loader reads them: whitespace-separated, or CSV through csv-parse. */
function splitRow(line: string, how: HeaderRequest): string[] {
  if (how.format === "whitespace") return line.trim().split(/\s+/);
  try {
    const rows = parseCsv(line, { delimiter: how.delimiter ?? ",", relax_quotes: true, relax_column_count: true }) as string[][];
    return rows[0] ?? [""];
  } catch {
    // A row cut off inside a quoted field: count it as the loader's fast path would.
    return line.split(how.delimiter ?? ",");
  }
}
