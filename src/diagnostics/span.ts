/** A half-open range of source text. Lines and columns are 1-based; offsets are 0-based. */
export interface Span {
  start: number;
  end: number;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

/** The empty span at the start of `s` (or at its end): where a fix inserts text. */
export function pointAt(s: Span, end = false): Span {
  return end ? { start: s.end, end: s.end, line: s.endLine, col: s.endCol, endLine: s.endLine, endCol: s.endCol } : { start: s.start, end: s.start, line: s.line, col: s.col, endLine: s.line, endCol: s.col };
}

/**
 * The text with each lone CR (old Mac line ends) made a LF. Lengths and offsets do not change, so
 * spans found in the result hold for the original, and lines agree with LSP clients, which break
 * lines at \n, \r\n and \r alike.
 */
export function normalizeLineBreaks(text: string): string {
  return text.includes("\r") ? text.replace(/\r(?!\n)/g, "\n") : text;
}

/** Maps offsets to lines and columns for one source text; a line ends at \n, \r\n or \r. */
export class LineMap {
  readonly lineStarts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 10 || (ch === 13 && text.charCodeAt(i + 1) !== 10)) this.lineStarts.push(i + 1);
    }
  }
  /** 1-based line and column of an offset (clamped into the text). */
  position(offset: number): { line: number; col: number } {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const lo = this.lineOf(o);
    return { line: lo + 1, col: o - this.lineStarts[lo] + 1 };
  }
  span(start: number, end: number): Span {
    const s = Math.max(0, Math.min(start, this.text.length));
    const e = Math.max(s, Math.min(end, this.text.length));
    // one search for the start's line, then forward to the end's (most spans end on the line they start on)
    const starts = this.lineStarts;
    const a = this.lineOf(s);
    let b = a;
    while (b + 1 < starts.length && starts[b + 1] <= e && b - a < 8) b++;
    if (b - a === 8) b = this.lineOf(e);
    return { start: s, end: e, line: a + 1, col: s - starts[a] + 1, endLine: b + 1, endCol: e - starts[b] + 1 };
  }
  /** The 0-based line of an offset inside the text. */
  private lineOf(o: number): number {
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
  lineText(line: number): string {
    const s = this.lineStarts[line - 1] ?? this.text.length;
    const next = this.lineStarts[line];
    let e = next === undefined ? this.text.length : next - 1;
    if (e > s && this.text.charCodeAt(e - 1) === 13) e--;
    return this.text.slice(s, e);
  }
  get lineCount(): number {
    return this.lineStarts.length;
  }
}

