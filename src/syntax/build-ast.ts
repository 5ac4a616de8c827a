import type { CstElement, CstNode, IToken } from "chevrotain";
import type { LineMap, Span } from "../diagnostics/span.ts";
import type * as A from "./ast.ts";

type Children = Record<string, CstElement[] | undefined>;

/** Turns the concrete tree into the AST. Tolerates the holes error recovery leaves behind. */
export class AstBuilder {
  constructor(private readonly lines: LineMap) {}

  file(cst: CstNode, path: string, comments: A.Comment[]): A.SourceFile {
    const decls: A.Decl[] = [];
    for (const d of nodes(cst, "declaration")) {
      const inner = firstNode(d);
      if (!inner) continue;
      const decl = this.declaration(inner);
      if (decl) decls.push(decl);
    }
    return { kind: "file", path, text: this.lines.text, decls, comments, span: this.lines.span(0, this.lines.text.length) };
  }

  private declaration(n: CstNode): A.Decl | undefined {
    switch (n.name) {
      case "importDecl":
        return { kind: "import", names: toks(n, "names").map((t) => this.ident(t)), path: this.str(tok(n, "path")), span: this.span(n) };
      case "dataDecl":
        return { kind: "data", name: this.optIdent(tok(n, "name")), body: this.block(node(n, "block")), span: this.span(n) };
      case "trainDecl":
        return {
          kind: "train",
          model: this.optIdent(tok(n, "model")),
          data: this.optIdent(tok(n, "data")),
          body: this.block(node(n, "block")),
          span: this.span(n),
        };
      case "blockDecl":
        return {
          kind: "block",
          name: this.optIdent(tok(n, "name")),
          params: nodes(n, "blockParam")
            .map((p) => this.blockParam(p))
            .filter((p): p is A.BlockParam => p !== undefined),
          body: nodes(n, "layer")
            .map((l) => this.layer(l))
            .filter((l): l is A.Layer => l !== undefined),
          span: this.span(n),
        };
      case "modelDecl": {
        const outs = node(n, "outputs");
        return {
          kind: "model",
          name: this.optIdent(tok(n, "name")),
          inputs: nodes(n, "param")
            .map((p) => this.param(p))
            .filter((p): p is A.Param => p !== undefined),
          outputs: outs ? nodes(outs, "output").map((o) => this.output(o)) : [],
          outputsGrouped: outs ? tok(outs, "LParen") !== undefined : false,
          body: nodes(n, "layer")
            .map((l) => this.layer(l))
            .filter((l): l is A.Layer => l !== undefined),
          span: this.span(n),
        };
      }
    }
    return undefined;
  }

  private block(n: CstNode | undefined): A.Statement[] {
    if (!n) return [];
    const out: A.Statement[] = [];
    for (const s of nodes(n, "statement")) {
      const head = tok(s, "head");
      if (!head) continue;
      out.push({ kind: "statement", head: this.ident(head), terms: this.terms(node(s, "terms")), span: this.span(s) });
    }
    return out;
  }

  private terms(n: CstNode | undefined): A.Term[] {
    if (!n) return [];
    const commas = toks(n, "Comma").map((c) => c.startOffset);
    const out = nodes(n, "term")
      .map((t) => this.term(t))
      .filter((t): t is A.Term => t !== undefined);
    // Terms and commas are both in source order: one pass over each (searching all commas per term was quadratic).
    let ci = 0;
    out.forEach((t, i) => {
      const next = out[i + 1]?.span.start ?? Infinity;
      while (ci < commas.length && commas[ci] < t.span.end) ci++;
      if (ci < commas.length && commas[ci] < next) t.comma = true;
    });
    return out;
  }

  private term(n: CstNode): A.Term | undefined {
    const key = node(n, "key");
    const value = node(n, "value");
    const k = key ? this.expr(key) : undefined;
    if (!k) return undefined;
    if (tok(n, "Colon")) {
      const v = value ? this.expr(value) : undefined;
      if (!v) return undefined;
      return { key: k, value: v, span: this.span(n) };
    }
    return { value: k, span: this.span(n) };
  }

  private param(n: CstNode): A.Param | undefined {
    const name = tok(n, "name");
    if (!name) return undefined; // `m(x: [4], : [3])`: recovery left a parameter without its name
    const t = node(n, "tensorType");
    return { name: this.ident(name), type: t ? this.tensorType(t) : undefined, span: this.span(n) };
  }

  private tensorType(n: CstNode): A.TensorType | undefined {
    const dtype = tok(n, "dtype");
    const shape = node(n, "shape");
    // A type whose shape was lost to a syntax error is absent, not empty.
    if (!shape || !tok(shape, "LBracket")) return undefined;
    return { dtype: dtype ? this.ident(dtype) : undefined, dims: this.dims(shape), span: this.span(n) };
  }

  private dims(shape: CstNode | undefined): A.Expr[] {
    if (!shape) return [];
    return nodes(shape, "dims")
      .map((d) => this.expr(d))
      .filter((e): e is A.Expr => e !== undefined);
  }

  private output(n: CstNode): A.OutputSig {
    const name = tok(n, "name");
    const tt = node(n, "tensorType");
    const shape = node(n, "shape");
    if (name && shape && !tok(n, "Colon")) {
      // `int[3]`: the leading name is the dtype of an unnamed output
      return { type: { dtype: this.ident(name), dims: this.dims(shape), span: this.span(n) }, span: this.span(n) };
    }
    if (!name && shape) return { type: { dims: this.dims(shape), span: this.span(shape) }, span: this.span(n) };
    return { name: name ? this.ident(name) : undefined, type: tt ? this.tensorType(tt) : undefined, span: this.span(n) };
  }

  private blockParam(n: CstNode): A.BlockParam | undefined {
    const name = tok(n, "name");
    if (!name) return undefined;
    const d = node(n, "default");
    const dflt = d ? this.expr(d) : undefined;
    return { name: this.ident(name), ...(dflt ? { default: dflt } : {}), span: this.span(n) };
  }

  private layer(n: CstNode): A.Layer | undefined {
    const kind = tok(n, "kind");
    if (!kind) return undefined;
    const targets = toks(n, "target");
    const input = tok(n, "input");
    return {
      kind: "layer",
      target: targets.length ? this.ident(targets[0]) : undefined,
      ...(targets.length > 1 ? { more: targets.slice(1).map((t) => this.ident(t)) } : {}),
      input: input ? this.ident(input) : undefined,
      op: this.ident(kind),
      terms: this.terms(node(n, "terms")),
      span: this.span(n),
    };
  }

  expr(n: CstNode): A.Expr | undefined {
    switch (n.name) {
      case "expression": {
        const from = node(n, "from");
        const to = node(n, "to");
        const a = from ? this.expr(from) : undefined;
        if (!a || !tok(n, "DotDot")) return a;
        const b = to ? this.expr(to) : undefined;
        return b ? { kind: "range", from: a, to: b, span: this.join(a.span, b.span) } : a;
      }
      case "arith": {
        // `*` and `/` bind tighter than `+` and `-`; each level is left-associative
        const operands = nodes(n, "operands").map((o) => this.expr(o));
        const ops = toks(n, "ops");
        const bin = (left: A.Expr, op: IToken, right: A.Expr): A.Expr => ({ kind: "binary", op: op.image as A.Binary["op"], left, right, span: this.join(left.span, right.span) });
        let first = operands[0];
        if (!first) return undefined;
        const terms: A.Expr[] = [];
        const adds: IToken[] = [];
        for (let i = 0; i < ops.length; i++) {
          const right = operands[i + 1];
          if (!right) break;
          if (ops[i].image === "*" || ops[i].image === "/") first = bin(first, ops[i], right);
          else {
            terms.push(first);
            adds.push(ops[i]);
            first = right;
          }
        }
        terms.push(first);
        let left = terms[0];
        for (let i = 0; i < adds.length; i++) left = bin(left, adds[i], terms[i + 1]);
        return left;
      }
      case "unary": {
        if (tok(n, "Minus")) {
          const inner = node(n, "unary");
          const operand = inner ? this.expr(inner) : undefined;
          return operand ? { kind: "negate", operand, span: this.span(n) } : undefined;
        }
        const num = tok(n, "NumberLiteral");
        if (num) return { kind: "number", value: Number(num.image), raw: num.image, span: this.tokSpan(num) };
        const s = tok(n, "StringLiteral");
        if (s) return this.str(s);
        const child = node(n, "nameOrCall") ?? node(n, "list");
        if (child) return this.expr(child);
        const inner = node(n, "expression");
        const e = inner ? this.expr(inner) : undefined;
        return e ? { kind: "paren", inner: e, span: this.span(n) } : undefined;
      }
      case "nameOrCall": {
        const name = tok(n, "name");
        if (!name) return undefined;
        if (!tok(n, "LParen")) return { kind: "name", name: name.image, span: this.tokSpan(name) };
        const args = nodes(n, "args")
          .map((t) => this.term(t))
          .filter((t): t is A.Term => t !== undefined);
        return { kind: "call", callee: this.ident(name), args, span: this.span(n) };
      }
      case "list":
        return {
          kind: "list",
          items: nodes(n, "items")
            .map((i) => this.expr(i))
            .filter((e): e is A.Expr => e !== undefined),
          span: this.span(n),
        };
    }
    return undefined;
  }

  private str(t: IToken | undefined): A.StringLit | undefined {
    if (!t || t.isInsertedInRecovery) return undefined;
    return { kind: "string", value: unescape(t.image), raw: t.image, span: this.tokSpan(t) };
  }

  private ident(t: IToken): A.Ident {
    return { kind: "ident", name: t.image, span: this.tokSpan(t) };
  }
  private optIdent(t: IToken | undefined): A.Ident | undefined {
    return t && !t.isInsertedInRecovery ? this.ident(t) : undefined;
  }

  private tokSpan(t: IToken): Span {
    const start = Number.isFinite(t.startOffset) ? t.startOffset : 0;
    return this.lines.span(start, start + (t.isInsertedInRecovery ? 0 : t.image.length));
  }

  private span(n: CstNode): Span {
    // chevrotain's own location is exact unless recovery touched the node.
    const loc = n.location;
    if (loc && !n.recoveredNode && Number.isFinite(loc.startOffset) && Number.isFinite(loc.endOffset)) return this.lines.span(loc.startOffset, (loc.endOffset as number) + 1);
    const first = edgeToken(n, true);
    const last = edgeToken(n, false);
    if (!first || !last) {
      const loc = n.location;
      const s = loc && Number.isFinite(loc.startOffset) ? loc.startOffset : 0;
      return this.lines.span(s, s);
    }
    return this.lines.span(first.startOffset, last.startOffset + last.image.length);
  }

  private join(a: Span, b: Span): Span {
    return this.lines.span(Math.min(a.start, b.start), Math.max(a.end, b.end));
  }
}

/** The string's value: quotes removed and escapes applied (invalid escapes keep their character). */
export function unescape(raw: string): string {
  const body = raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw.slice(1);
  return body.replace(/\\(u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|.)/g, (_m, all: string, cp?: string, hex4?: string) => {
    if (cp !== undefined) {
      const v = parseInt(cp, 16);
      return v <= 0x10ffff ? String.fromCodePoint(v) : "";
    }
    if (hex4 !== undefined) return String.fromCharCode(parseInt(hex4, 16));
    return ({ n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" } as Record<string, string>)[all] ?? all;
  });
}

// Plain loops: these run for every node of the tree, and a filter's array and closure cost more than the work.
function nodes(n: CstNode, key: string): CstNode[] {
  const out: CstNode[] = [];
  const list = (n.children as Children)[key];
  if (list) for (let i = 0; i < list.length; i++) if ("children" in list[i]) out.push(list[i] as CstNode);
  return out;
}
function node(n: CstNode, key: string): CstNode | undefined {
  const list = (n.children as Children)[key];
  if (list) for (let i = 0; i < list.length; i++) if ("children" in list[i]) return list[i] as CstNode;
  return undefined;
}
function toks(n: CstNode, key: string): IToken[] {
  const out: IToken[] = [];
  const list = (n.children as Children)[key];
  if (list)
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (!("children" in c) && !c.isInsertedInRecovery) out.push(c);
    }
  return out;
}
function tok(n: CstNode, key: string): IToken | undefined {
  const list = (n.children as Children)[key];
  if (list)
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (!("children" in c) && !c.isInsertedInRecovery) return c;
    }
  return undefined;
}
function firstNode(n: CstNode): CstNode | undefined {
  for (const v of Object.values(n.children as Children)) for (const c of v ?? []) if ("children" in c) return c;
  return undefined;
}

const real = (t: IToken): boolean => !t.isInsertedInRecovery && Number.isFinite(t.startOffset) && t.tokenType.name !== "Newline";

/** The first (or last) real token under a node, found without collecting the whole subtree:
 * each child list is in source order, so only its first (last) usable element can win. */
function edgeToken(n: CstNode, first: boolean): IToken | undefined {
  let best: IToken | undefined;
  for (const list of Object.values(n.children as Children)) {
    if (!list) continue;
    for (let i = first ? 0 : list.length - 1; first ? i < list.length : i >= 0; i += first ? 1 : -1) {
      const c = list[i];
      const t = "children" in c ? edgeToken(c, first) : real(c) ? c : undefined;
      if (!t) continue;
      if (!best || (first ? t.startOffset < best.startOffset : t.startOffset > best.startOffset)) best = t;
      break;
    }
  }
  return best;
}
