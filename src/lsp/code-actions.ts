import { CodeActionKind, type CodeAction, type Range } from "vscode-languageserver/node";
import { toOffset, toRange } from "./convert.ts";
import { toLspDiagnostic } from "./diagnostics.ts";
import type { Analysis } from "./workspace.ts";

/** One quick fix per machine-applicable fix of each diagnostic that touches the range. */
export function codeActions(a: Analysis, range: Range, only: string[] | undefined, template?: string): CodeAction[] {
  if (only && !only.some((k) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`) || k === CodeActionKind.Empty)) return [];
  const from = toOffset(a.lines, range.start);
  const to = toOffset(a.lines, range.end);
  const out: CodeAction[] = [];
  for (const d of a.diagnostics) {
    if (!d.fixes.length || d.span.start > to || d.span.end < from) continue;
    const diagnostic = toLspDiagnostic(a, d, template);
    for (const f of d.fixes) {
      out.push({
        title: f.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        isPreferred: d.fixes.length === 1,
        edit: { changes: { [a.uri]: f.edits.map((e) => ({ range: toRange(e.span), newText: e.newText })) } },
      });
    }
  }
  return out;
}
