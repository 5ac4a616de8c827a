import type { Diagnostic, Severity } from "./diagnostic.ts";
import { LineMap, type Span } from "./span.ts";

export interface RenderOptions {
  color: boolean;
  /** Source text per file, for the code frames. */
  sources: Map<string, LineMap>;
}

const ANSI = { red: 31, yellow: 33, blue: 34, cyan: 36, bold: 1, dim: 2 } as const;
type Style = keyof typeof ANSI;

const SEVERITY_STYLE: Record<Severity, Style> = { error: "red", warning: "yellow", info: "blue", hint: "cyan" };

/** A terminal code frame in the manner of rustc: title, location, source lines with carets, notes, help. */
export function renderDiagnostic(d: Diagnostic, opts: RenderOptions): string {
  const shown: Diagnostic = {
    ...d,
    message: visible(d.message),
    file: visible(d.file),
    label: d.label === undefined ? undefined : visible(d.label),
    labels: d.labels.map((l) => ({ ...l, message: visible(l.message), file: l.file === undefined ? undefined : visible(l.file) })),
    notes: d.notes.map(visible),
    help: d.help === undefined ? undefined : visible(d.help),
    fixes: d.fixes.map((f) => ({ ...f, title: visible(f.title) })),
  };
  return frame(shown, opts).join("\n");
}

/**
 * Control characters from a spec or a data file (a CSV header, a string) shown as pictures
 * (␛ for ESC), one column each so carets stay aligned: never sent raw to a terminal, where they
 * could clear the screen, retitle the window or fake output. Our own colour codes are added after.
 * (A newline inside a message is kept: some messages span lines.)
 */
export function visible(s: string): string {
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x20 ? String.fromCharCode(0x2400 + n) : n === 0x7f ? "\u2421" : "\ufffd";
  });
}

function frame(d: Diagnostic, opts: RenderOptions): string[] {
  const paint = (s: string, ...styles: Style[]): string =>
    opts.color && s ? `\x1b[${styles.map((x) => ANSI[x]).join(";")}m${s}\x1b[0m` : s;
  const sev = SEVERITY_STYLE[d.severity];
  const out: string[] = [];
  out.push(`${paint(`${d.severity}[${d.code}]`, sev, "bold")}${paint(`: ${d.message}`, "bold")}`);
  const lines = opts.sources.get(d.file);
  const gutterWidth = String(Math.max(d.span.endLine, ...d.labels.filter((l) => !l.file || l.file === d.file).map((l) => l.span.endLine))).length;
  const pad = " ".repeat(gutterWidth);
  out.push(`${pad}${paint("-->", "blue", "bold")} ${d.file}:${d.span.line}:${d.span.col}`);
  if (lines) {
    const marks: Mark[] = [{ span: d.span, text: d.label ?? "", primary: true }];
    for (const l of d.labels) if (!l.file || l.file === d.file) marks.push({ span: l.span, text: l.message, primary: false });
    out.push(`${pad} ${paint("|", "blue", "bold")}`);
    const byLine = new Map<number, Mark[]>();
    for (const m of marks) {
      const list = byLine.get(m.span.line) ?? [];
      list.push(m);
      byLine.set(m.span.line, list);
    }
    const order = [...byLine.keys()].sort((a, b) => a - b);
    let prev = 0;
    for (const ln of order) {
      if (prev && ln > prev + 1) out.push(paint("...", "blue", "bold"));
      prev = ln;
      const raw = lines.lineText(ln);
      const text = visible(expandTabs(raw));
      out.push(`${paint(String(ln).padStart(gutterWidth), "blue", "bold")} ${paint("|", "blue", "bold")} ${text}`);
      const ms = byLine.get(ln)!.sort((a, b) => a.span.col - b.span.col);
      for (const m of ms) {
        const startCol = displayCol(raw, m.span.col);
        const endCol = m.span.endLine === ln ? displayCol(raw, m.span.endCol) : text.length + 1;
        const width = Math.max(1, endCol - startCol);
        const marker = (m.primary ? "^" : "-").repeat(width);
        const styled = paint(marker + (m.text ? " " + m.text : ""), m.primary ? sev : "blue", "bold");
        out.push(`${pad} ${paint("|", "blue", "bold")} ${" ".repeat(startCol - 1)}${styled}`);
      }
    }
  }
  for (const l of d.labels) if (l.file && l.file !== d.file) out.push(`${pad} ${paint("=", "blue", "bold")} ${paint("note", "bold")}: ${l.message} (${l.file}:${l.span.line}:${l.span.col})`);
  for (const n of d.notes) out.push(`${pad} ${paint("=", "blue", "bold")} ${paint("note", "bold")}: ${n}`);
  if (d.help) out.push(`${pad} ${paint("=", "blue", "bold")} ${paint("help", "bold")}: ${d.help}`);
  for (const f of d.fixes) out.push(`${pad} ${paint("=", "blue", "bold")} ${paint("fix", "bold")}: ${f.title}`);
  return out;
}

interface Mark {
  span: Span;
  text: string;
  primary: boolean;
}

function expandTabs(s: string): string {
  return s.replace(/\t/g, "    ");
}
function displayCol(raw: string, col: number): number {
  let c = 1;
  for (let i = 0; i < col - 1 && i < raw.length; i++) c += raw[i] === "\t" ? 4 : 1;
  return c + Math.max(0, col - 1 - raw.length);
}

export function renderSummary(ds: readonly Diagnostic[], color: boolean): string {
  const errors = ds.filter((d) => d.severity === "error").length;
  const warnings = ds.filter((d) => d.severity === "warning").length;
  const parts: string[] = [];
  if (errors) parts.push(`${errors} error${errors === 1 ? "" : "s"}`);
  if (warnings) parts.push(`${warnings} warning${warnings === 1 ? "" : "s"}`);
  const s = parts.join(", ");
  if (!color || !s) return s;
  return `\x1b[1;${errors ? 31 : 33}m${s}\x1b[0m`;
}

/** The JSON form for tools: stable field names, 1-based lines and columns, 0-based offsets. */
export function diagnosticToJson(d: Diagnostic): object {
  const range = (s: Span) => ({ start: { line: s.line, col: s.col, offset: s.start }, end: { line: s.endLine, col: s.endCol, offset: s.end } });
  return {
    file: d.file,
    code: d.code,
    severity: d.severity,
    message: d.message,
    range: range(d.span),
    label: d.label ?? null,
    labels: d.labels.map((l) => ({ file: l.file ?? d.file, range: range(l.span), message: l.message })),
    notes: d.notes,
    help: d.help ?? null,
    fixes: d.fixes.map((f) => ({ title: f.title, edits: f.edits.map((e) => ({ range: range(e.span), newText: e.newText })) })),
  };
}

