import { FoldingRangeKind, SymbolKind, type DocumentSymbol, type FoldingRange } from "vscode-languageserver/node";
import { shapeText } from "../core/dims.ts";
import { termText } from "../lang/values.ts";
import type * as A from "../syntax/ast.ts";
import { toRange } from "./convert.ts";
import { checkedLayerOf, signatureText } from "./describe.ts";
import type { Analysis } from "./workspace.ts";

/** The outline: declarations, with their statements, inputs and layers inside. */
export function documentSymbols(a: Analysis): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const d of a.ast.decls) {
    const range = toRange(d.span);
    const sel = (s: A.Ident | undefined) => (s ? toRange(s.span) : { start: range.start, end: range.start });
    switch (d.kind) {
      case "import":
        out.push({
          name: `import ${d.path?.raw ?? ""}`.trim(),
          detail: d.names.map((n) => n.name).join(", ") || "all models",
          kind: SymbolKind.Module,
          range,
          selectionRange: d.path ? toRange(d.path.span) : sel(undefined),
        });
        break;
      case "data":
        out.push({ name: d.name?.name ?? "data", detail: "data", kind: SymbolKind.Struct, range, selectionRange: sel(d.name), children: d.body.map(statementSymbol) });
        break;
      case "train":
        out.push({
          name: `train ${d.model?.name ?? "?"} on ${d.data?.name ?? "?"}`,
          detail: "train",
          kind: SymbolKind.Event,
          range,
          selectionRange: sel(d.model),
          children: d.body.map(statementSymbol),
        });
        break;
      case "model": {
        const spec = d.name ? a.program.models.get(d.name.name) : undefined;
        const own = spec?.node === d ? spec : undefined;
        const cm = own && d.name ? a.checked.models.get(d.name.name) : undefined;
        const children: DocumentSymbol[] = [];
        for (const p of d.inputs) {
          const t = cm?.tensors.get(p.name.name);
          children.push({ name: p.name.name, detail: t ? `input ${shapeText(t.shape)}` : "input", kind: SymbolKind.Variable, range: toRange(p.span), selectionRange: toRange(p.name.span) });
        }
        d.body.forEach((l) => {
          const ls = own?.layers.find((x) => x.node === l);
          const cl = checkedLayerOf(cm, l);
          children.push({
            name: ls?.name ?? l.target?.name ?? l.op.name,
            detail: `${l.op.name}${cl ? ` → ${shapeText(cl.output)}` : ""}`,
            kind: l.target ? SymbolKind.Variable : SymbolKind.Function,
            range: toRange(l.span),
            selectionRange: toRange((l.target ?? l.op).span),
          });
        });
        out.push({ name: d.name?.name ?? "model", detail: own ? signatureText(own).replace(/^model \S+?\(/, "(") : "model", kind: SymbolKind.Class, range, selectionRange: sel(d.name), children });
        break;
      }
    }
  }
  return out;
}

function statementSymbol(s: A.Statement): DocumentSymbol {
  const text = s.terms.map((t, i) => termText(t) + (t.comma && i < s.terms.length - 1 ? "," : "")).join(" ");
  return { name: s.head.name, detail: text.length > 60 ? `${text.slice(0, 59)}…` : text, kind: SymbolKind.Property, range: toRange(s.span), selectionRange: toRange(s.head.span) };
}

/** Blocks, runs of line comments, multi-line block comments and `# region` … `# endregion`. */
export function foldingRanges(a: Analysis): FoldingRange[] {
  const out: FoldingRange[] = [];
  for (const d of a.ast.decls) {
    // Keep the closing `}` visible.
    const last = /^\s*\}/.test(a.lines.lineText(d.span.endLine)) ? d.span.endLine - 1 : d.span.endLine;
    if (last > d.span.line) out.push({ startLine: d.span.line - 1, endLine: last - 1 });
  }
  const regions: number[] = [];
  let run: { start: number; end: number } | undefined;
  const flush = (): void => {
    if (run && run.end > run.start) out.push({ startLine: run.start - 1, endLine: run.end - 1, kind: FoldingRangeKind.Comment });
    run = undefined;
  };
  for (const c of a.ast.comments) {
    const body = c.text.replace(/^(#|\/\/)\s*/, "");
    if (/^region\b/.test(body) && !c.text.startsWith("/*")) {
      flush();
      regions.push(c.span.line);
      continue;
    }
    if (/^endregion\b/.test(body) && !c.text.startsWith("/*")) {
      flush();
      const start = regions.pop();
      if (start !== undefined && c.span.line > start) out.push({ startLine: start - 1, endLine: c.span.line - 1, kind: FoldingRangeKind.Region });
      continue;
    }
    if (c.text.startsWith("/*")) {
      flush();
      if (c.span.endLine > c.span.line) out.push({ startLine: c.span.line - 1, endLine: c.span.endLine - 1, kind: FoldingRangeKind.Comment });
      continue;
    }
    // A line comment alone on its line continues a run on the line before.
    const alone = a.lines.lineText(c.span.line).trimStart().startsWith(c.text.slice(0, 2));
    if (alone && run && run.end === c.span.line - 1) run.end = c.span.line;
    else {
      flush();
      if (alone) run = { start: c.span.line, end: c.span.line };
    }
  }
  flush();
  return out.sort((x, y) => x.startLine - y.startLine);
}
