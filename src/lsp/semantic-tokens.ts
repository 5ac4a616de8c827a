import type { SemanticTokens, SemanticTokensLegend } from "vscode-languageserver/node";
import type { Span } from "../diagnostics/span.ts";
import { LAYERS } from "../kinds/layers/registry.ts";
import { DATA_STATEMENTS, TRAIN_STATEMENTS } from "../lang/statements.ts";
import type * as A from "../syntax/ast.ts";
import type { Analysis } from "./workspace.ts";

const TYPES = ["keyword", "class", "namespace", "variable", "parameter", "property", "function", "enumMember", "number", "string", "comment", "typeParameter", "type"] as const;
const MODIFIERS = ["declaration", "defaultLibrary"] as const;
type TokenType = (typeof TYPES)[number];
type Modifier = (typeof MODIFIERS)[number];

export const SEMANTIC_LEGEND: SemanticTokensLegend = { tokenTypes: [...TYPES], tokenModifiers: [...MODIFIERS] };

interface Tok {
  start: number;
  end: number;
  type: TokenType;
  mods: number;
}

const mod = (...ms: Modifier[]): number => ms.reduce((acc, m) => acc | (1 << MODIFIERS.indexOf(m)), 0);

/** Tokens from the syntax tree and the resolved names: what a TextMate grammar cannot know (a
 * tensor from a layer kind, a model from a data set). */
export function semanticTokens(a: Analysis): SemanticTokens {
  const toks: Tok[] = [];
  const push = (s: Span | undefined, type: TokenType, mods = 0): void => {
    if (s && s.end > s.start) toks.push({ start: s.start, end: s.end, type, mods });
  };
  const keywordAt = (offset: number, word: string): void => {
    if (a.text.startsWith(word, offset)) toks.push({ start: offset, end: offset + word.length, type: "keyword", mods: 0 });
  };
  const keywordBetween = (from: number, to: number, word: string): void => {
    const m = new RegExp(`\\b${word}\\b`).exec(a.text.slice(from, to));
    if (m) keywordAt(from + m.index, word);
  };
  const occ = new Map(a.occurrences().map((o) => [o.span.start, o]));
  const expr = (e: A.Expr): void => {
    switch (e.kind) {
      case "number":
        return push(e.span, "number");
      case "string":
        return push(e.span, "string");
      case "name": {
        const o = occ.get(e.span.start);
        if (o?.kind === "tensor") return push(e.span, "variable");
        if (o?.kind === "dim") return push(e.span, "typeParameter");
        return push(e.span, e.name === "true" || e.name === "false" ? "keyword" : "enumMember");
      }
      case "call":
        push(e.callee.span, "function", mod("defaultLibrary"));
        return e.args.forEach(term);
      case "list":
        return e.items.forEach(expr);
      case "range":
        expr(e.from);
        return expr(e.to);
      case "binary":
        expr(e.left);
        return expr(e.right);
      case "negate":
        return expr(e.operand);
      case "paren":
        return expr(e.inner);
    }
  };
  const term = (t: A.Term): void => {
    if (t.key?.kind === "name") push(t.key.span, "property");
    else if (t.key) expr(t.key);
    expr(t.value);
  };
  const type = (t: A.TensorType | undefined): void => {
    if (!t) return;
    push(t.dtype?.span, "type", mod("defaultLibrary"));
    t.dims.forEach(expr);
  };
  const statement = (s: A.Statement, known: ReadonlyMap<string, unknown>): void => {
    push(s.head.span, "keyword", known.has(s.head.name) ? mod("defaultLibrary") : 0);
    s.terms.forEach(term);
  };
  for (const d of a.ast.decls) {
    keywordAt(d.span.start, d.kind);
    switch (d.kind) {
      case "import":
        d.names.forEach((n) => push(n.span, "class"));
        if (d.names.length && d.path) keywordBetween(d.names[d.names.length - 1].span.end, d.path.span.start, "from");
        push(d.path?.span, "string");
        break;
      case "data":
        push(d.name?.span, "namespace", mod("declaration"));
        d.body.forEach((s) => statement(s, DATA_STATEMENTS));
        break;
      case "train":
        push(d.model?.span, "class");
        if (d.model && d.data) keywordBetween(d.model.span.end, d.data.span.start, "on");
        push(d.data?.span, "namespace");
        d.body.forEach((s) => statement(s, TRAIN_STATEMENTS));
        break;
      case "model":
        push(d.name?.span, "class", mod("declaration"));
        for (const p of d.inputs) {
          push(p.name.span, "parameter", mod("declaration"));
          type(p.type);
        }
        for (const o of d.outputs) {
          if (o.name) push(o.name.span, occ.get(o.name.span.start)?.kind === "tensor" ? "variable" : "parameter");
          type(o.type);
        }
        for (const l of d.body) {
          push(l.target?.span, "variable", mod("declaration"));
          for (const m of l.more ?? []) push(m.span, "variable", mod("declaration"));
          push(l.input?.span, "variable");
          push(l.op.span, "function", LAYERS.has(l.op.name) ? mod("defaultLibrary") : 0);
          l.terms.forEach(term);
        }
        break;
    }
  }
  for (const c of a.ast.comments) toks.push({ start: c.span.start, end: c.span.end, type: "comment", mods: 0 });
  toks.sort((x, y) => x.start - y.start || y.end - x.end);
  // Encode: relative line and start, one token per line (multi-line comments are split).
  const data: number[] = [];
  let prevLine = 0;
  let prevChar = 0;
  let lastEnd = -1;
  const starts = a.lines.lineStarts;
  for (const t of toks) {
    if (t.start < lastEnd) continue; // overlaps the token before
    lastEnd = t.end;
    let start = t.start;
    while (start < t.end) {
      const p = a.lines.position(start);
      const line = p.line - 1;
      const lineEnd = line + 1 < starts.length ? starts[line + 1] - 1 : a.text.length;
      const end = Math.min(t.end, lineEnd);
      if (end > start) {
        const char = p.col - 1;
        data.push(line - prevLine, line === prevLine ? char - prevChar : char, end - start, TYPES.indexOf(t.type), t.mods);
        prevLine = line;
        prevChar = char;
      }
      start = lineEnd + 1;
    }
  }
  return { data };
}
