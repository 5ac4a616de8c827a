/**
 * What the editor extension shows that @codemirror/lsp-client 6.3 has no view for: the server's
 * inlay hints (each layer's output shape at the end of its line) and diagnostics whose quick fixes
 * (the server's code actions) are actions in the lint tooltip.
 */
import type { LSPClient } from "@codemirror/lsp-client";
import { setDiagnostics, type Action, type Diagnostic as LintDiagnostic } from "@codemirror/lint";
import { StateEffect, StateField, type Text } from "@codemirror/state";
import { Decoration, EditorView, WidgetType, type DecorationSet } from "@codemirror/view";
import type { CodeAction, Diagnostic, InlayHint, Position, PublishDiagnosticsParams, TextEdit } from "vscode-languageserver-protocol";

const offsetOf = (doc: Text, p: Position): number => Math.min(doc.line(Math.min(p.line + 1, doc.lines)).from + p.character, doc.length);
const rangeOf = (doc: Text, from: number, to: number) => {
  const a = doc.lineAt(from);
  const b = doc.lineAt(to);
  return { start: { line: a.number - 1, character: from - a.from }, end: { line: b.number - 1, character: to - b.from } };
};

class HintWidget extends WidgetType {
  constructor(readonly label: string) {
    super();
  }
  override eq(other: HintWidget): boolean {
    return other.label === this.label;
  }
  toDOM(): HTMLElement {
    const span = document.createElement("span");
    span.className = "cm-inlay-hint";
    span.textContent = this.label;
    return span;
  }
}

const setHints = StateEffect.define<DecorationSet>();
const hintField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update: (deco, tr) => {
    for (const e of tr.effects) if (e.is(setHints)) return e.value;
    return deco.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

const theme = EditorView.baseTheme({ ".cm-inlay-hint": { color: "#888", fontStyle: "italic", paddingLeft: "1.5em" } });

export const inlayHints = [hintField, theme];

/** Asks the server for the document's inlay hints and shows them. */
export async function refreshHints(client: LSPClient, view: EditorView, uri: string): Promise<void> {
  client.sync();
  const doc = view.state.doc;
  const hints = (await client.request<unknown, InlayHint[] | null>("textDocument/inlayHint", { textDocument: { uri }, range: rangeOf(doc, 0, doc.length) })) ?? [];
  if (view.state.doc !== doc) return; // edited meanwhile: the next refresh draws them
  const label = (h: InlayHint) => (typeof h.label === "string" ? h.label : h.label.map((p) => p.value).join(""));
  const deco = Decoration.set(
    hints.map((h) => Decoration.widget({ widget: new HintWidget(label(h)), side: 1 }).range(offsetOf(doc, h.position))),
    true,
  );
  view.dispatch({ effects: setHints.of(deco) });
}

const SEVERITY = ["error", "error", "warning", "info", "hint"] as const;

/**
 * The server's diagnostics for this document, each with its quick fixes (asked of the server as
 * code actions) as lint actions that apply the fix's edits.
 */
export async function showDiagnostics(client: LSPClient, view: EditorView, uri: string, params: PublishDiagnosticsParams): Promise<void> {
  if (params.uri !== uri) return;
  const doc = view.state.doc;
  const lint: LintDiagnostic[] = await Promise.all(
    params.diagnostics.map(async (d: Diagnostic) => {
      const actions = await client
        .request<unknown, CodeAction[] | null>("textDocument/codeAction", { textDocument: { uri }, range: d.range, context: { diagnostics: [d], only: ["quickfix"] } })
        .catch(() => null);
      const fixes: Action[] = (actions ?? [])
        .filter((a) => a.edit?.changes?.[uri])
        .map((a) => ({
          name: a.title,
          apply: (v: EditorView) => {
            const edits: TextEdit[] = a.edit!.changes![uri];
            v.dispatch({ changes: edits.map((e) => ({ from: offsetOf(v.state.doc, e.range.start), to: offsetOf(v.state.doc, e.range.end), insert: e.newText })) });
          },
        }));
      const from = offsetOf(doc, d.range.start);
      return {
        from,
        to: Math.max(from, offsetOf(doc, d.range.end)),
        severity: SEVERITY[d.severity ?? 1],
        message: `${d.code ? `${d.code}: ` : ""}${d.message}`,
        actions: fixes,
      };
    }),
  );
  if (view.state.doc !== doc) return; // the next publication follows the edit
  view.dispatch(setDiagnostics(view.state, lint));
}
