/**
 * A parsed data file: a dense row-major grid of numbers with the few cells that are not numbers kept
 * as text. Pure: the readers in `node/` fill it from bytes; everything after works on it.
 */
import type { MessageKey } from "../diagnostics/catalog.ts";
import type { Params } from "../diagnostics/diagnostic.ts";

export interface Table {
  /** The file as the spec names it, for messages. */
  path: string;
  /** Column names from a header row, when the file has one. */
  names?: string[];
  /** The 1-based line of the header row. */
  headerLine?: number;
  width: number;
  n: number;
  /** `values[row * width + column]`; NaN for missing and text cells. IDX bytes stay bytes. */
  values: Float64Array | Float32Array | Uint8Array;
  /** Cells that are neither numbers nor missing markers, by `row * width + column`, trimmed. */
  text: TextCells;
  /** Missing cells written with a marker (`NaN`, `NA`, `?`), by index; empty cells are not listed. */
  markers: Map<number, string>;
  /** The 1-based line of each row in its (decompressed) file; absent for IDX files, whose rows are items. */
  lines?: Int32Array;
  /** IDX: the shape of one item (an image's [28, 28]). */
  itemShape?: number[];
  /** Several files read as one (`from [...]`): each file and its first row, in order. */
  parts?: { path: string; start: number }[];
}

/**
 * Text cells by index. A `format: lines` file is all text (a million words), where a Map costs
 * five times an array's time to fill and copy; V8 keeps the array dense where cells come in order
 * and hashed where they are few and far apart (a stray word in a numeric file).
 */
export class TextCells {
  private readonly cells: (string | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(at: number): string | undefined {
    return this.cells[at];
  }

  has(at: number): boolean {
    return this.cells[at] !== undefined;
  }

  set(at: number, text: string): void {
    if (this.cells[at] === undefined) this.count++;
    this.cells[at] = text;
  }

  delete(at: number): void {
    if (this.cells[at] === undefined) return;
    this.count--;
    this.cells[at] = undefined;
  }

  /** Each cell, in index order. */
  forEach(f: (text: string, at: number) => void): void {
    const c = this.cells;
    // A sparse array's length is its last index: walking it would visit every hole.
    const few = this.count * 16 < c.length;
    const keys = few ? Object.keys(c) : undefined;
    for (let i = 0, end = keys ? keys.length : c.length; i < end; i++) {
      const at = keys ? +keys[i] : i;
      const v = c[at];
      if (v !== undefined) f(v, at);
    }
  }

  /** `[index, text]` of each cell, in index order. */
  [Symbol.iterator](): IterableIterator<[number, string]> {
    const out: [number, string][] = [];
    this.forEach((v, at) => out.push([at, v]));
    return out[Symbol.iterator]();
  }
}

/**
 * Files of a list as one table: the rows of each after the one before, plus a last column `file`
 * holding each row's position in the list. The caller checks that every file has the first's width.
 */
export function concatTables(tables: readonly Table[], fileColumn: string): Table {
  // the checker loads the same files on every edit: the same parsed tables give the same table
  const hit = joined.get(tables[0]);
  if (hit && hit.column === fileColumn && hit.parts.length === tables.length && hit.parts.every((t, k) => t === tables[k])) return hit.table;
  const table = concatenate(tables, fileColumn);
  joined.set(tables[0], { parts: [...tables], column: fileColumn, table });
  return table;
}

const joined = new WeakMap<Table, { parts: Table[]; column: string; table: Table }>();

function concatenate(tables: readonly Table[], fileColumn: string): Table {
  // An empty file adds no rows (and may have no columns at all).
  const first = tables.find((t) => t.n > 0) ?? tables[0];
  const w = first.width;
  const W = w + 1;
  const n = tables.reduce((a, t) => a + t.n, 0);
  const values = new Float64Array(n * W);
  const text = new TextCells();
  const markers = new Map<number, string>();
  const lines = new Int32Array(n);
  const parts: { path: string; start: number }[] = [];
  let row = 0;
  tables.forEach((t, k) => {
    parts.push({ path: t.path, start: row });
    if (t.n === 0) return;
    for (let r = 0; r < t.n; r++) {
      const o = (row + r) * W;
      for (let c = 0; c < w; c++) values[o + c] = t.values[r * w + c];
      values[o + w] = k;
    }
    t.text.forEach((v, at) => text.set((row + Math.floor(at / w)) * W + (at % w), v));
    for (const [at, v] of t.markers) markers.set((row + Math.floor(at / w)) * W + (at % w), v);
    if (t.lines) lines.set(t.lines, row);
    row += t.n;
  });
  return { path: tables[0].path, names: [...(first.names ?? Array.from({ length: w }, (_, c) => String(c))), fileColumn], headerLine: first.headerLine, width: W, n, values, text, markers, lines, parts };
}

/** The position in the list of the file a row of `t` comes from (0 for a single file). */
export function partOf(t: Table, row: number): number {
  if (!t.parts) return 0;
  let k = t.parts.length - 1;
  while (k > 0 && t.parts[k].start > row) k--;
  return k;
}

/** The file a row of `t` comes from. */
export const rowFile = (t: Table, row: number): string => t.parts?.[partOf(t, row)].path ?? t.path;

/** Something wrong with a file, as a catalog key and its parameters; the builder adds the spec's span. */
export interface ReadProblem {
  key: MessageKey;
  params: Params;
  notes?: string[];
}

/** Where a cell is, for messages: `data/iris.csv, line 7, column 3 (`petal_width`)`, or `item 5` in IDX files. */
export function cellWhere(t: Table, row: number, column?: number, names?: readonly (string | undefined)[]): string {
  const path = rowFile(t, row);
  let s = t.lines ? `${path}, line ${t.lines[row]}` : `${path}, item ${row}`;
  if (column !== undefined && (t.width > 1 || names?.[column] !== undefined)) {
    s += `, column ${column}`;
    const name = names?.[column];
    if (name !== undefined && name !== String(column)) s += ` (\`${name}\`)`;
  }
  return s;
}

/** Texts that mark a missing cell, besides the empty cell (as pandas reads them, case-sensitive). */
export const MISSING_MARKERS: ReadonlySet<string> = new Set(["NA", "N/A", "n/a", "NaN", "nan", "-nan", "-NaN", "NULL", "null", "?"]);

/** Builds a Table one row of cell texts at a time, growing its storage geometrically. */
export class TableBuilder {
  width = -1;
  n = 0;
  private values = new Float64Array(0);
  private lines = new Int32Array(0);
  readonly text = new TextCells();
  readonly markers = new Map<number, string>();

  constructor(readonly path: string) {}

  /** Room for one more row. */
  private ensure(): void {
    if ((this.n + 1) * Math.max(0, this.width) <= this.values.length && this.n < this.lines.length) return;
    this.reserve(Math.max(64, this.n * 2));
  }

  /** Room for `rows` rows in all (known once the width is). */
  reserve(rows: number): void {
    const w = Math.max(0, this.width);
    if (rows <= this.lines.length && rows * w <= this.values.length) return;
    const grown = new Float64Array(rows * w);
    grown.set(this.values.subarray(0, this.n * w));
    this.values = grown;
    const gl = new Int32Array(rows);
    gl.set(this.lines.subarray(0, this.n));
    this.lines = gl;
  }

  /** Adds a row. Returns false (and adds nothing) when its field count differs from the first row's. */
  add(cells: readonly string[], line: number): boolean {
    if (this.width < 0) this.width = cells.length;
    if (cells.length !== this.width) return false;
    this.ensure();
    const w = this.width;
    const base = this.n * w;
    const values = this.values;
    for (let c = 0; c < w; c++) {
      const s = cells[c];
      const v = +s;
      values[base + c] = v === v && v !== 0 && v !== Infinity && v !== -Infinity ? v : this.classify(s, base + c, v);
    }
    this.lines[this.n] = line;
    this.n++;
    return true;
  }

  /** Adds a one-column row holding `text` as it is (a `format: lines` example). */
  addText(text: string, line: number): void {
    if (this.width < 0) this.width = 1;
    this.ensure();
    this.values[this.n] = NaN;
    this.text.set(this.n, text);
    this.lines[this.n] = line;
    this.n++;
  }

  /**
   * Adds the rows of unquoted delimited text (no `"` anywhere): one row per non-empty line, fields
   * split at `delimiter`. Cells that are plain integers of up to 15 digits are converted from the
   * characters directly (exactly as `Number` would); everything else goes through `Number` like
   * `add`. `onRagged` is told of rows with the wrong field count and returns false to stop.
   * `lineOffset` is the number of lines before `body` in the file.
   */
  addPlainText(body: string, lineOffset: number, delimiter: string, onFirst: (cells: string[], line: number) => void, onRagged: (got: number, line: number) => boolean): void {
    const delim = delimiter.charCodeAt(0);
    // Count the lines first so the storage is allocated once, not grown by copying.
    let lineCount = 1;
    for (let i = body.indexOf("\n"); i >= 0; i = body.indexOf("\n", i + 1)) lineCount++;
    let line = lineOffset;
    let at = 0;
    const len = body.length;
    while (at < len) {
      let nl = body.indexOf("\n", at);
      if (nl < 0) nl = len;
      line++;
      let end = nl;
      if (end > at && body.charCodeAt(end - 1) === 13) end--;
      if (end > at) {
        if (this.width < 0) {
          onFirst(body.slice(at, end).split(delimiter), line);
          if (this.width >= 0) this.reserve(lineCount);
        } else {
          this.ensure();
          const w = this.width;
          const base = this.n * w;
          let c = 0;
          let fs = at;
          for (let i = at; i <= end; i++) {
            if (i < end && body.charCodeAt(i) !== delim) continue;
            if (c < w) this.values[base + c] = this.cellOf(body, fs, i, base + c);
            c++;
            fs = i + 1;
          }
          if (c === w) {
            this.lines[this.n] = line;
            this.n++;
          } else {
            for (let k = 0; k < w; k++) {
              this.text.delete(base + k);
              this.markers.delete(base + k);
            }
            if (!onRagged(c, line)) return;
          }
        }
      }
      at = nl + 1;
    }
  }

  private cellOf(body: string, s: number, e: number, at: number): number {
    let i = s;
    let neg = false;
    if (i < e) {
      const ch = body.charCodeAt(i);
      if (ch === 45) {
        neg = true;
        i++;
      } else if (ch === 43) i++;
    }
    const digits = i;
    let acc = 0;
    for (; i < e; i++) {
      const d = body.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      acc = acc * 10 + d;
    }
    if (i === e && e > digits && e - digits <= 15) return neg ? -acc : acc;
    const str = body.slice(s, e);
    const v = +str;
    return v === v && v !== 0 && v !== Infinity && v !== -Infinity ? v : this.classify(str, at, v);
  }

  /** The slow path: zeros, empty cells, markers, infinities and text. */
  private classify(s: string, at: number, v: number): number {
    const t = s.trim();
    if (t === "") return NaN;
    if (v === 0) return v;
    if (MISSING_MARKERS.has(t)) {
      this.markers.set(at, t);
      return NaN;
    }
    this.text.set(at, t);
    return NaN;
  }

  build(names?: string[], headerLine?: number): Table {
    const w = Math.max(0, this.width);
    return {
      path: this.path,
      names,
      headerLine,
      width: w,
      n: this.n,
      values: this.values.subarray(0, this.n * w),
      text: this.text,
      markers: this.markers,
      lines: this.lines.subarray(0, this.n),
    };
  }
}
