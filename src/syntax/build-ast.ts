import type { IToken } from "chevrotain";
import type { LineMap, Span } from "../diagnostics/span.ts";
import type * as A from "./ast.ts";
import { real, type ArithRec, type BlockRec, type DeclRec, type ExprRec, type FileRec, type LayerRec, type ListRec, type NameOrCallRec, type OutputRec, type Seen, type ShapeRec, type TensorTypeRec, type TermRec, type TermsRec, type UnaryRec } from "./parser.ts";

/**
 * Turns the parser's records into the AST. Tolerates the holes error recovery leaves behind. A
 * node's span runs from the first to the last real token its rule and the rules inside it
 * consumed, dropped parts included (grow() widens a record by its children's, done once each).
 */
export class AstBuilder {
  constructor(private readonly lines: LineMap) {}

  file(r: FileRec, path: string, comments: A.Comment[]): A.SourceFile {
    const decls: A.Decl[] = [];
    for (const d of r.decls) {
      const decl = this.declaration(d);
      if (decl) decls.push(decl);
    }
    return { kind: "file", path, text: this.lines.text, decls, comments, span: this.lines.span(0, this.lines.text.length) };
  }

  private declaration(n: DeclRec): A.Decl | undefined {
    switch (n.rule) {
      case "importDecl":
        return { kind: "import", names: n.names.filter(real).map((t) => this.ident(t)), path: this.str(n.path), span: this.span(n) };
      case "dataDecl": {
        const body = this.block(n.body);
        grow(n, n.body);
        return { kind: "data", name: this.optIdent(n.name), body, span: this.span(n) };
      }
      case "trainDecl": {
        const body = this.block(n.body);
        grow(n, n.body);
        return { kind: "train", model: this.optIdent(n.model), data: this.optIdent(n.data), body, span: this.span(n) };
      }
      case "blockDecl": {
        const params: A.BlockParam[] = [];
        for (const p of n.params) {
          const name = real(p.name) ? p.name : undefined;
          const dflt = p.dflt ? this.expr(p.dflt) : undefined;
          grow(p, p.dflt);
          grow(n, p);
          if (name) params.push({ name: this.ident(name), ...(dflt ? { default: dflt } : {}), span: this.span(p) });
        }
        const body = this.layers(n, n.layers);
        return { kind: "block", name: this.optIdent(n.name), params, body, span: this.span(n) };
      }
      case "modelDecl": {
        const inputs: A.Param[] = [];
        for (const p of n.params) {
          const type = p.type ? this.tensorType(p.type) : undefined;
          grow(p, p.type);
          grow(n, p);
          // `m(x: [4], : [3])`: recovery left a parameter without its name
          if (real(p.name)) inputs.push({ name: this.ident(p.name), type, span: this.span(p) });
        }
        const outs = n.outputs;
        const outputs: A.OutputSig[] = [];
        if (outs) {
          for (const o of outs.outputs) {
            outputs.push(this.output(o));
            grow(outs, o);
          }
          grow(n, outs);
        }
        const body = this.layers(n, n.layers);
        return { kind: "model", name: this.optIdent(n.name), inputs, outputs, outputsGrouped: outs?.grouped ?? false, body, span: this.span(n) };
      }
    }
  }

  private block(n: BlockRec | undefined): A.Statement[] {
    if (!n) return [];
    const out: A.Statement[] = [];
    for (const s of n.statements) {
      const terms = this.terms(s.terms);
      grow(s, s.terms);
      grow(n, s);
      if (real(s.head)) out.push({ kind: "statement", head: this.ident(s.head), terms, span: this.span(s) });
    }
    return out;
  }

  private layers(parent: Seen, list: LayerRec[]): A.Layer[] {
    const out: A.Layer[] = [];
    for (const l of list) {
      const layer = this.layer(l);
      grow(parent, l);
      if (layer) out.push(layer);
    }
    return out;
  }

  private layer(n: LayerRec): A.Layer | undefined {
    const terms = this.terms(n.terms);
    grow(n, n.terms);
    if (!real(n.kind)) return undefined;
    const targets = n.targets.length === 1 && real(n.targets[0]) ? n.targets : n.targets.filter(real);
    return {
      kind: "layer",
      target: targets.length ? this.ident(targets[0]) : undefined,
      ...(targets.length > 1 ? { more: targets.slice(1).map((t) => this.ident(t)) } : {}),
      input: real(n.input) ? this.ident(n.input) : undefined,
      op: this.ident(n.kind),
      terms,
      span: this.span(n),
    };
  }

  private terms(n: TermsRec | undefined): A.Term[] {
    if (!n) return [];
    const out: A.Term[] = [];
    let last: A.Term | undefined;
    for (const r of n.terms) {
      const t = this.term(r);
      grow(n, r);
      if (t) out.push((last = t));
      // a comma after a term recovery dropped belongs to the term before it
      if (r.comma && last) last.comma = true;
    }
    return out;
  }

  private term(n: TermRec): A.Term | undefined {
    const k = n.key ? this.expr(n.key) : undefined;
    const v = n.value ? this.expr(n.value) : undefined;
    grow(n, n.key);
    grow(n, n.value);
    if (!k) return undefined;
    if (real(n.colon)) return v ? { key: k, value: v, span: this.span(n) } : undefined;
    return { value: k, span: this.span(n) };
  }

  private tensorType(n: TensorTypeRec): A.TensorType | undefined {
    const dims = this.dims(n.shape);
    grow(n, n.shape);
    // A type whose shape was lost to a syntax error is absent, not empty.
    if (!n.shape || !real(n.shape.open)) return undefined;
    return { dtype: real(n.dtype) ? this.ident(n.dtype) : undefined, dims, span: this.span(n) };
  }

  private dims(shape: ShapeRec | undefined): A.Expr[] {
    if (!shape) return [];
    const out: A.Expr[] = [];
    for (const d of shape.dims) {
      const e = this.expr(d);
      grow(shape, d);
      if (e) out.push(e);
    }
    return out;
  }

  private output(n: OutputRec): A.OutputSig {
    const type = n.type ? this.tensorType(n.type) : undefined;
    const dims = this.dims(n.shape);
    grow(n, n.type);
    grow(n, n.shape);
    const name = real(n.name) ? n.name : undefined;
    if (name && n.shape && !real(n.colon)) {
      // `int[3]`: the leading name is the dtype of an unnamed output
      return { type: { dtype: this.ident(name), dims, span: this.span(n) }, span: this.span(n) };
    }
    if (!name && n.shape) return { type: { dims, span: this.span(n.shape) }, span: this.span(n) };
    return { name: name ? this.ident(name) : undefined, type, span: this.span(n) };
  }

  expr(n: ExprRec): A.Expr | undefined {
    const a = n.from ? this.arith(n.from) : undefined;
    const b = n.to ? this.arith(n.to) : undefined;
    grow(n, n.from);
    grow(n, n.to);
    if (!a || !real(n.dotdot)) return a;
    return b ? { kind: "range", from: a, to: b, span: this.join(a.span, b.span) } : a;
  }

  private arith(n: ArithRec): A.Expr | undefined {
    if (n.operands.length === 1) {
      // one operand, no operator: most values
      const e = this.unary(n.operands[0]);
      grow(n, n.operands[0]);
      return e;
    }
    // `*` and `/` bind tighter than `+` and `-`; each level is left-associative
    const operands: (A.Expr | undefined)[] = [];
    for (const o of n.operands) {
      operands.push(this.unary(o));
      grow(n, o);
    }
    const ops = n.ops ? n.ops.filter(real) : [];
    let first = operands[0];
    if (!first) return undefined;
    const terms: A.Expr[] = [];
    const adds: IToken[] = [];
    for (let i = 0; i < ops.length; i++) {
      const right = operands[i + 1];
      if (!right) break;
      if (ops[i].image === "*" || ops[i].image === "/") first = this.binary(first, ops[i], right);
      else {
        terms.push(first);
        adds.push(ops[i]);
        first = right;
      }
    }
    terms.push(first);
    let left = terms[0];
    for (let i = 0; i < adds.length; i++) left = this.binary(left, adds[i], terms[i + 1]);
    return left;
  }

  private binary(left: A.Expr, op: IToken, right: A.Expr): A.Expr {
    return { kind: "binary", op: op.image as A.Binary["op"], left, right, span: this.join(left.span, right.span) };
  }

  private unary(n: UnaryRec): A.Expr | undefined {
    if (n.inner) {
      const operand = this.unary(n.inner);
      grow(n, n.inner);
      return real(n.minus) && operand ? { kind: "negate", operand, span: this.span(n) } : undefined;
    }
    if (real(n.num)) return { kind: "number", value: Number(n.num.image), raw: n.num.image, span: this.tokSpan(n.num) };
    if (real(n.str)) return this.str(n.str);
    if (n.call) {
      const e = this.call(n.call);
      grow(n, n.call);
      return e;
    }
    if (n.list) {
      const e = this.list(n.list);
      grow(n, n.list);
      return e;
    }
    if (!n.paren) return undefined;
    const e = this.expr(n.paren);
    grow(n, n.paren);
    return e ? { kind: "paren", inner: e, span: this.span(n) } : undefined;
  }

  private call(n: NameOrCallRec): A.Expr | undefined {
    const args: A.Term[] = [];
    for (const a of n.args ?? []) {
      const t = this.term(a);
      grow(n, a);
      if (t) args.push(t);
    }
    if (!real(n.name)) return undefined;
    if (!real(n.open)) return { kind: "name", name: n.name.image, span: this.tokSpan(n.name) };
    return { kind: "call", callee: this.ident(n.name), args, span: this.span(n) };
  }

  private list(n: ListRec): A.Expr {
    const items: A.Expr[] = [];
    for (const i of n.items) {
      const e = this.expr(i);
      grow(n, i);
      if (e) items.push(e);
    }
    return { kind: "list", items, span: this.span(n) };
  }

  private str(t: IToken | undefined): A.StringLit | undefined {
    if (!real(t)) return undefined;
    return { kind: "string", value: unescape(t.image), raw: t.image, span: this.tokSpan(t) };
  }

  private ident(t: IToken): A.Ident {
    return { kind: "ident", name: t.image, span: this.tokSpan(t) };
  }
  private optIdent(t: IToken | undefined): A.Ident | undefined {
    return real(t) ? this.ident(t) : undefined;
  }

  private tokSpan(t: IToken): Span {
    return this.lines.span(t.startOffset, t.startOffset + t.image.length);
  }

  /** The record's tokens, its children's included (grown into it); an empty stretch at 0 when it has none. */
  private span(n: Seen): Span {
    return n.s < 0 ? this.lines.span(0, 0) : this.lines.span(n.s, n.e);
  }

  private join(a: Span, b: Span): Span {
    return this.lines.span(Math.min(a.start, b.start), Math.max(a.end, b.end));
  }
}

/** Widens `r` to cover `child`'s tokens (grown already: children are built before their parent's span). */
function grow(r: Seen, child: Seen | undefined): void {
  if (!child || child.s < 0) return;
  if (r.s < 0 || child.s < r.s) r.s = child.s;
  if (child.e > r.e) r.e = child.e;
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
