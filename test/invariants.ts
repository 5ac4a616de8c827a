/** What holds for any diagnostic on any input: a catalogued code, a message, spans inside the text. */
import { CATALOG } from "../src/diagnostics/catalog.ts";
import type { Diagnostic } from "../src/diagnostics/diagnostic.ts";
import type { LineMap, Span } from "../src/diagnostics/span.ts";

const CODES: ReadonlySet<string> = new Set(Object.values(CATALOG).map((e) => e.code));

export function checkSpan(span: Span, text: string, lines: LineMap, what: string): void {
  const ok =
    Number.isInteger(span.start) &&
    Number.isInteger(span.end) &&
    span.start >= 0 &&
    span.start <= span.end &&
    span.end <= text.length;
  if (!ok) throw new Error(`${what}: span ${JSON.stringify(span)} is not inside a text of ${text.length} characters`);
  const a = lines.position(span.start);
  const b = lines.position(span.end);
  if (a.line !== span.line || a.col !== span.col || b.line !== span.endLine || b.col !== span.endCol) {
    throw new Error(`${what}: span ${JSON.stringify(span)} disagrees with its offsets (${a.line}:${a.col}-${b.line}:${b.col})`);
  }
}

export function checkDiagnostic(d: Diagnostic, text: string, lines: LineMap): void {
  const what = `${d.code} ${d.message}`;
  if (!/^NN\d{4}$/.test(d.code)) throw new Error(`malformed code: ${what}`);
  if (!CODES.has(d.code)) throw new Error(`code not in the catalog: ${what}`);
  if (typeof d.message !== "string" || d.message.length === 0) throw new Error(`empty message: ${d.code}`);
  checkSpan(d.span, text, lines, what);
  for (const l of d.labels) if (l.file === undefined) checkSpan(l.span, text, lines, `${what} (label "${l.message}")`);
  for (const f of d.fixes) for (const e of f.edits) checkSpan(e.span, text, lines, `${what} (fix "${f.title}")`);
}
