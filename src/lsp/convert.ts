import { isAbsolute, resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Position, Range } from "vscode-languageserver/node";
import type { LineMap, Span } from "../diagnostics/span.ts";

/** Spans are 1-based lines and columns in UTF-16 code units; LSP positions are 0-based. */
export function toRange(s: Span): Range {
  return { start: { line: s.line - 1, character: s.col - 1 }, end: { line: s.endLine - 1, character: s.endCol - 1 } };
}

export function toPosition(lines: LineMap, offset: number): Position {
  const p = lines.position(offset);
  return { line: p.line - 1, character: p.col - 1 };
}

/** The offset of an LSP position, clamped into the text and to the end of its line. */
export function toOffset(lines: LineMap, p: Position): number {
  if (p.line < 0) return 0;
  if (p.line >= lines.lineStarts.length) return lines.text.length;
  const start = lines.lineStarts[p.line];
  const next = lines.lineStarts[p.line + 1];
  const end = next === undefined ? lines.text.length : next - 1;
  return Math.max(start, Math.min(start + Math.max(0, p.character), end));
}

export function contains(s: Span, offset: number): boolean {
  return s.start <= offset && offset <= s.end;
}

/** The file a `file:` URI names; other schemes (an unsaved buffer) get a stand-in path in `base`. */
export function uriToPath(uri: string, base = process.cwd()): string {
  if (uri.startsWith("file:")) {
    try {
      return fileURLToPath(uri);
    } catch {
      /* fall through */
    }
  }
  const name = uri.replace(/^[a-z][a-z0-9+.-]*:/i, "").replace(/[^A-Za-z0-9_.-]+/g, "_") || "untitled";
  return resolvePath(base, name.endsWith(".nnspec") ? name : `${name}.nnspec`);
}

export function pathToUri(path: string): string {
  return pathToFileURL(isAbsolute(path) ? path : resolvePath(path)).href;
}
