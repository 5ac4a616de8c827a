/**
 * Reading data files from disk: gzip, CSV (through `csv-parse`), whitespace-separated text and IDX.
 * The only part of the data pipeline that uses Node APIs; it returns `Table`s or problems, and the
 * pure builder (`../build.ts`) turns problems into diagnostics at the spec's spans.
 */
import { readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { gunzip, gunzipSync } from "node:zlib";
import { parse as parseCsv, type CsvError } from "csv-parse/sync";
import { parseIdx } from "../idx.ts";
import { guessFormat, LINE_COLUMN, type SourceOptions } from "../source.ts";

export { guessFormat };
import { TableBuilder, type ReadProblem, type Table } from "../table.ts";

export type { ReadProblem };

const gunzipAsync = promisify(gunzip);

export type { SourceOptions };

export type ReadResult = { table: Table } | { problems: ReadProblem[] };

/** At most this many problems are collected from one file before reading stops. */
export const MAX_PROBLEMS = 10;


/** Reads and parses one file. `shown` is the path as the spec writes it. Never throws. */
export async function readTable(absPath: string, shown: string, opts: SourceOptions): Promise<ReadResult> {
  const special = notRegular(absPath, shown);
  if (special) return special;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(absPath);
  } catch (e) {
    return fileProblem(e, shown);
  }
  if (isGzip(bytes)) {
    try {
      bytes = await gunzipAsync(bytes, { chunkSize: 1 << 20 });
    } catch (e) {
      return gzipProblem(e, shown);
    }
  }
  return decodeTable(bytes, shown, opts);
}

/** `readTable` without waiting: what the checker uses. */
export function readTableSync(absPath: string, shown: string, opts: SourceOptions): ReadResult {
  const special = notRegular(absPath, shown);
  if (special) return special;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(absPath);
  } catch (e) {
    return fileProblem(e, shown);
  }
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes, { chunkSize: 1 << 20 });
    } catch (e) {
      return gzipProblem(e, shown);
    }
  }
  return decodeTable(bytes, shown, opts);
}

/** A path that exists but is not a regular file (a named pipe would block the read forever, /dev/zero never ends). */
function notRegular(absPath: string, shown: string): ReadResult | undefined {
  try {
    const st = statSync(absPath);
    if (st.isFile() || st.isDirectory()) return undefined; // a folder gets its own message below
    return { problems: [{ key: "dataFileUnreadable", params: { path: shown, reason: "it is not a regular file" } }] };
  } catch {
    return undefined;
  }
}

const isGzip = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

function fileProblem(e: unknown, shown: string): ReadResult {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : code === "EACCES" ? "permission denied" : (e as Error).message;
  return { problems: [{ key: "dataFileUnreadable", params: { path: shown, reason } }] };
}

function gzipProblem(e: unknown, shown: string): ReadResult {
  return { problems: [{ key: "dataFileUnreadable", params: { path: shown, reason: `it is not complete gzip data (${(e as Error).message})` } }] };
}

function decodeTable(bytes: Uint8Array, shown: string, opts: SourceOptions): ReadResult {
  const format = opts.format ?? guessFormat(shown);
  if (format === "idx") {
    const r = parseIdx(bytes, shown);
    if ("table" in r) return r;
    const p = r.problem;
    if (p.kind === "truncated") return { problems: [{ key: "dataIdxTruncated", params: { path: shown, what: p.what, expected: p.expected, found: p.found } }] };
    return { problems: [{ key: "dataIdxInvalid", params: { path: shown, reason: p.reason } }] };
  }
  const text = new TextDecoder("utf-8").decode(bytes);
  return parseText(text, shown, { ...opts, format });
}

/** Where a row of a text file is, for messages. */
export const lineWhere = (path: string, line: number) => `${path}, line ${line}`;

/**
 * Parses CSV, whitespace-separated text or text one example per line into a table: skips `skip` lines, reads a header row when
 * asked, and stops at the first malformed record or after MAX_PROBLEMS ragged rows.
 */
export function parseText(text: string, shown: string, opts: SourceOptions): ReadResult {
  const skip = opts.skip ?? 0;
  // Skip lines ended by \n, \r\n or a lone \r.
  let start = 0;
  for (let i = 0; i < skip && start < text.length; i++) {
    while (start < text.length && text[start] !== "\n" && text[start] !== "\r") start++;
    if (text[start] === "\r" && text[start + 1] === "\n") start++;
    start++;
  }
  const body = start ? text.slice(start) : text;
  const builder = new TableBuilder(shown);
  const problems: ReadProblem[] = [];
  let names: string[] | undefined;
  let headerLine: number | undefined;
  let firstLine = 0;
  const wantHeader = opts.header ?? false;
  /** Returns false to stop reading. */
  const onRecord = (cells: string[], line: number): boolean => {
    if (wantHeader && names === undefined) {
      names = cells.map((c) => c.trim());
      headerLine = line;
      builder.width = names.length;
      firstLine = line;
      return true;
    }
    if (builder.width < 0) firstLine = line;
    if (builder.add(cells, line)) return true;
    return ragged(cells.length, line);
  };
  const ragged = (got: number, line: number): boolean => {
    problems.push({
      key: "dataRaggedRow",
      params: { where: lineWhere(shown, line), got, expected: builder.width },
      notes: [`${headerLine !== undefined ? "the header" : "the first row"} (line ${firstLine}) has ${builder.width} fields`],
    });
    return problems.length < MAX_PROBLEMS;
  };
  if (opts.format === "lines") {
    // One example per line, kept as text even when it reads as a number; blank lines are skipped.
    // (trim drops a \r before the \n)
    let count = 1;
    for (let i = body.indexOf("\n"); i >= 0; i = body.indexOf("\n", i + 1)) count++;
    builder.width = 1;
    builder.reserve(count);
    for (let at = 0, line = skip + 1; at <= body.length; line++) {
      let nl = body.indexOf("\n", at);
      if (nl < 0) nl = body.length;
      const t = body.slice(at, nl).trim();
      at = nl + 1;
      if (!t) continue;
      if (wantHeader && names === undefined) {
        names = [t];
        headerLine = line;
      } else builder.addText(t, line);
    }
    return { table: builder.build(names ?? [LINE_COLUMN], headerLine) };
  }
  if (opts.format === "whitespace") splitWhitespace(body, skip, onRecord);
  else {
    const delimiter = opts.delimiter ?? ",";
    // Files without a quote character have no quoting to interpret: split them directly (3x faster
    // on large files; a test checks it agrees with csv-parse). Anything quoted goes to csv-parse.
    if (!opts.alwaysCsvParse && !body.includes('"') && !/\r(?!\n)/.test(body)) {
      builder.addPlainText(body, skip, delimiter, (cells, line) => void onRecord(cells, line), (got, line) => ragged(got, line));
    } else {
      const err = parseWithCsvParse(body, skip, delimiter, onRecord);
      if (err) problems.push(err(shown));
    }
  }
  if (problems.length) return { problems };
  return { table: builder.build(names, headerLine) };
}

/** Whitespace-separated text: fields are runs of non-blank characters; blank lines are skipped. */
function splitWhitespace(body: string, lineOffset: number, onRecord: (cells: string[], line: number) => boolean): void {
  const lines = body.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t && !onRecord(t.split(/\s+/), lineOffset + i + 1)) return;
  }
}

/** Quoted CSV through csv-parse; returns a problem maker for a malformed record. */
function parseWithCsvParse(body: string, lineOffset: number, delimiter: string, onRecord: (cells: string[], line: number) => boolean): ((shown: string) => ReadProblem) | undefined {
  let stopped = false;
  let lastLine = lineOffset;
  try {
    parseCsv(body, {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
      // Any line ending ends a record, also in files that mix them (csv-parse otherwise keeps the first it sees).
      record_delimiter: ["\r\n", "\n", "\r"],
      on_record: (record: string[], context) => {
        lastLine = context.lines + lineOffset;
        if (!stopped && !onRecord(record, lastLine)) stopped = true;
        return null;
      },
    });
  } catch (e) {
    const err = e as CsvError & { lines?: number };
    // An unclosed quote is found at the end of the file; the record it spoils starts after the last good one.
    const line = err.code === "CSV_QUOTE_NOT_CLOSED" ? lastLine + 1 : (err.lines ?? 0) + lineOffset;
    const reason = CSV_REASONS[err.code] ?? err.message.replace(/ at line \d+.*$/, "");
    return (shown) => ({ key: "dataMalformedCsv", params: { where: lineWhere(shown, line), reason } });
  }
  return undefined;
}

const CSV_REASONS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: "a quoted field that starts on this line is never closed",
  CSV_INVALID_CLOSING_QUOTE: "a closing quote is followed by other characters instead of the delimiter",
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: "a closing quote is followed by other characters instead of the delimiter",
  INVALID_OPENING_QUOTE: "a quote appears inside an unquoted field (write the field in quotes, with inner quotes doubled)",
  CSV_MAX_RECORD_SIZE: "a record is too large",
};
