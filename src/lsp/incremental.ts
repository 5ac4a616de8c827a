import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { LineMap, type Span } from "../diagnostics/span.ts";
import type { Comment, Decl } from "../syntax/ast.ts";
import { isBracketProblem, parse, type ParseResult } from "../syntax/parse.ts";

/**
 * Re-parses only the declarations an edit touched.
 *
 * The text is cut into chunks at the start of each line that begins a top-level declaration
 * (`import`, `data`, `model`, `train`) where no bracket, string or comment is open and the
 * statement before did not end in a comma. Each chunk is parsed on its own and its result kept,
 * keyed by the chunk's text; an edit re-parses the chunks whose text changed and moves the spans
 * of the others. Cuts are only made where the whole-file parser is in the same state as at the
 * start of a file, so the result equals `parse(text)` (test/lsp.test.ts compares them on the course
 * specs and on random edits of them). While a bracket is unmatched anywhere, the file is parsed whole.
 */

interface ChunkResult {
  decls: Decl[];
  comments: Comment[];
  diagnostics: Diagnostic[];
}

interface Chunk {
  text: string;
  offset: number;
  /** 0-based line of the chunk's first character. */
  line: number;
  /** The result with spans relative to the whole text. */
  placed: ChunkResult;
}

const DECL_START = /^(import|data|model|train)(?![A-Za-z0-9_])/;

/** Offsets of the lines where a new chunk may start (0 is always one). */
export function chunkStarts(text: string): number[] {
  const starts = [0];
  const stack: number[] = []; // 0 brace, 1 paren, 2 bracket
  let lastSignificant = "";
  let i = 0;
  const n = text.length;
  let lineStart = true;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (lineStart) {
      lineStart = false;
      if (i > 0 && stack.length === 0 && lastSignificant !== "," && DECL_START.test(text.slice(i, i + 7))) starts.push(i);
    }
    if (c === 10) {
      lineStart = true;
      i++;
      continue;
    }
    if (c === 35 || (c === 47 && text.charCodeAt(i + 1) === 47)) {
      // # or // to the end of the line
      const e = text.indexOf("\n", i);
      i = e < 0 ? n : e;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      // /* ... */: an unterminated one runs to the end, so nothing after it is cut
      const e = text.indexOf("*/", i + 2);
      if (e < 0) return starts;
      // A block comment spanning lines: the line after it starts mid-comment, never a cut.
      i = e + 2;
      continue;
    }
    if (c === 34) {
      // A string ends at its closing quote or at the end of the line.
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 10) break;
        if (d === 92) {
          if (text.charCodeAt(j + 1) === 10) break;
          j += 2;
          continue;
        }
        j++;
        if (d === 34) break;
      }
      i = j;
      lastSignificant = '"';
      continue;
    }
    if (c === 123 || c === 40 || c === 91) stack.push(c === 123 ? 0 : c === 40 ? 1 : 2);
    else if (c === 125) {
      // `}` closes back to the innermost open brace, closing any bracket left open inside it.
      const at = stack.lastIndexOf(0);
      if (at >= 0) stack.length = at;
    } else if (c === 41 || c === 93) {
      if (stack.length && stack[stack.length - 1] === (c === 41 ? 1 : 2)) stack.pop();
    }
    if (c !== 32 && c !== 9 && c !== 13 && c !== 12 && c !== 0xfeff) lastSignificant = text[i];
    i++;
  }
  return starts;
}

/** Every span object reachable from `root`, each once (spans may be shared between nodes). */
function shiftSpans(root: unknown, offset: number, lines: number): void {
  if (offset === 0 && lines === 0) return;
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.start === "number" && typeof o.end === "number" && typeof o.line === "number" && typeof o.endLine === "number" && typeof o.col === "number") {
      const s = o as unknown as Span;
      // The builder's stand-in for "no location" (a node with no tokens and no position) stays at 0.
      if (s.start === 0 && s.end === 0) return;
      s.start += offset;
      s.end += offset;
      s.line += lines;
      s.endLine += lines;
      return;
    }
    for (const k in o) visit(o[k]);
  };
  visit(root);
}

/** One document's parser: keeps the chunks of the last parse to reuse them on the next. */
export class IncrementalParser {
  private chunks: Chunk[] = [];
  /** Chunk results by text, spans relative to the chunk: never handed out, only cloned. */
  private templates = new Map<string, Template>();
  /** Whether two chunks parse the same together as apart, keyed by both texts. */
  private cuts = new Map<string, boolean>();
  /** How many chunks the last parse re-parsed (for tests and the benchmark). */
  lastReparsed = 0;

  constructor(private readonly path: string) {}

  parse(text: string): ParseResult {
    const lines = new LineMap(text);
    const starts = chunkStarts(text);
    const previous = new Map<string, Chunk>();
    for (const c of this.chunks) previous.set(`${c.offset}:${c.text}`, c);
    const used = new Map<string, Template>();
    const usedCuts = new Map<string, boolean>();
    let reparsed = 0;
    const template = (t: string): Template => {
      let r = used.get(t) ?? this.templates.get(t);
      if (!r) {
        const p = parse(t, this.path);
        r = { decls: p.ast.decls, comments: p.ast.comments, diagnostics: p.diagnostics, errors: p.diagnostics.some((d) => d.severity === "error"), lines: p.lines.lineCount - 1 };
        reparsed++;
      }
      used.set(t, r);
      return r;
    };
    // A chunk with syntax errors may have been parsed differently with what follows it (recovery
    // can run past the cut): keep the cut only where parsing both together changes nothing.
    const cutHolds = (a: string, b: string): boolean => {
      const key = `${a.length}:${a}${b}`;
      let ok = usedCuts.get(key) ?? this.cuts.get(key);
      if (ok === undefined) {
        const ta = template(a);
        const tb = placedCopy(template(b), a.length, ta.lines);
        const together = template(a + b);
        ok =
          JSON.stringify(strip(together)) ===
          JSON.stringify({ decls: [...ta.decls, ...tb.decls], comments: [...ta.comments, ...tb.comments], diagnostics: sorted([...ta.diagnostics, ...tb.diagnostics]) });
      }
      usedCuts.set(key, ok);
      return ok;
    };
    const chunks: Chunk[] = [];
    for (let i = 0; i < starts.length;) {
      const offset = starts[i];
      let end = starts[i + 1] ?? text.length;
      let j = i + 1;
      let t = template(text.slice(offset, end));
      while (t.errors && j < starts.length) {
        const next = starts[j + 1] ?? text.length;
        if (cutHolds(text.slice(offset, end), text.slice(end, next))) break;
        end = next;
        j++;
        t = template(text.slice(offset, end));
      }
      const chunkText = text.slice(offset, end);
      const line = lines.position(offset).line - 1;
      const same = previous.get(`${offset}:${chunkText}`);
      const placed = same && same.line === line ? same.placed : placedCopy(t, offset, line);
      chunks.push({ text: chunkText, offset, line, placed });
      i = j;
    }
    this.chunks = chunks;
    this.templates = used;
    this.cuts = usedCuts;
    this.lastReparsed = reparsed;
    // Brackets are matched over the whole file, and an unmatched one changes what is reported
    // elsewhere (errors at the end of the file are dropped; a header's missing `{` takes the stray
    // `}`). Chunks that each balance concatenate to a balanced file; otherwise parse it whole.
    if (chunks.some((c) => c.placed.diagnostics.some(isBracketProblem))) {
      this.lastReparsed = chunks.length;
      return parse(text, this.path);
    }
    const decls: Decl[] = [];
    const comments: Comment[] = [];
    const diagnostics: Diagnostic[] = [];
    for (const c of chunks) {
      decls.push(...c.placed.decls);
      comments.push(...c.placed.comments);
      diagnostics.push(...c.placed.diagnostics);
    }
    return { ast: { kind: "file", path: this.path, text, decls, comments, span: lines.span(0, text.length) }, diagnostics: sorted(diagnostics), lines };
  }
}

interface Template extends ChunkResult {
  errors: boolean;
  /** Line breaks in the chunk. */
  lines: number;
}

function strip(t: Template): ChunkResult {
  return { decls: t.decls, comments: t.comments, diagnostics: t.diagnostics };
}

function placedCopy(t: Template, offset: number, line: number): ChunkResult {
  const c = structuredClone(strip(t));
  shiftSpans(c, offset, line);
  return c;
}

/** Diagnostics in the order `parse` gives them (a stable sort by start). */
function sorted(ds: Diagnostic[]): Diagnostic[] {
  return ds.sort((a, b) => a.span.start - b.span.start);
}
