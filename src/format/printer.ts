import type * as A from "../syntax/ast.ts";
import { exprText as exprTextOf, termText } from "../lang/values.ts";

const INDENT = "  ";
/** Statements longer than this wrap after a comma. */
const MAX_WIDTH = 100;

/**
 * Prints a syntax tree in canonical form. Every comment is kept: comments inside a statement move to
 * the line before it; a comment after a statement on its line stays there. Printing the output again
 * gives the same text.
 */
export function format(file: A.SourceFile): string {
  const p = new Printer(file);
  return p.print();
}

class Printer {
  private out: string[] = [];
  private ci = 0;
  private readonly comments: A.Comment[];
  constructor(private readonly file: A.SourceFile) {
    this.comments = [...file.comments].sort((a, b) => a.span.start - b.span.start);
  }

  print(): string {
    let first = true;
    for (const d of this.file.decls) {
      const leading = this.takeBefore(d.span.start);
      if (!first) this.out.push("");
      this.emitComments(leading, "", d.span.start);
      this.decl(d);
      first = false;
    }
    const rest = this.takeBefore(Infinity);
    if (rest.length) {
      if (!first) this.out.push("");
      this.emitComments(rest, "", Infinity);
    }
    while (this.out.length && this.out[this.out.length - 1] === "") this.out.pop();
    return this.out.length ? this.out.join("\n") + "\n" : "";
  }

  private takeBefore(offset: number): A.Comment[] {
    const got: A.Comment[] = [];
    while (this.ci < this.comments.length && this.comments[this.ci].span.start < offset) got.push(this.comments[this.ci++]);
    return got;
  }

  /** Comments that start on `line` after `end` (a trailing comment). Only a line comment qualifies. */
  private takeTrailing(end: number, line: number): A.Comment | undefined {
    const c = this.comments[this.ci];
    if (c && c.span.start >= end && c.span.line === line && !c.text.startsWith("/*")) {
      this.ci++;
      return c;
    }
    return undefined;
  }

  private emitComments(cs: A.Comment[], indent: string, nextStart: number): void {
    const text = this.file.text;
    cs.forEach((c, i) => {
      // Continuation lines of a block comment are kept as written.
      c.text
        .trimEnd()
        .split("\n")
        .forEach((l, j) => this.out.push(j === 0 ? indent + l : l.trimEnd()));
      const nextPos = i + 1 < cs.length ? cs[i + 1].span.start : nextStart;
      if (blankBetween(text, c.span.end, nextPos)) this.out.push("");
    });
  }

  private decl(d: A.Decl): void {
    switch (d.kind) {
      case "import": {
        const names = d.names.length ? `${d.names.map((n) => n.name).join(", ")} from ` : "";
        this.line(`import ${names}${d.path?.raw ?? '""'}`, "", d.span);
        return;
      }
      case "data":
        this.block(`data ${d.name?.name ?? "_"}`, d.body, d.span, (s) => statementText(s));
        return;
      case "train":
        this.block(`train ${d.model?.name ?? "_"} on ${d.data?.name ?? "_"}`, d.body, d.span, (s) => statementText(s));
        return;
      case "model": {
        const params = d.inputs.map((p) => `${p.name.name}: ${typeText(p.type)}`).join(", ");
        let outs = "";
        if (d.outputs.length) {
          const o = d.outputs.map(outputText).join(", ");
          outs = ` -> ${d.outputsGrouped || d.outputs.length > 1 ? `(${o})` : o}`;
        }
        this.block(`model ${d.name?.name ?? "_"}(${params})${outs}`, d.body, d.span, (l) => layerText(l));
        return;
      }
      case "block": {
        const params = d.params.map((p) => (p.default ? `${p.name.name}: ${exprTextOf(p.default)}` : p.name.name)).join(", ");
        this.block(`block ${d.name?.name ?? "_"}(${params})`, d.body, d.span, (l) => layerText(l));
        return;
      }
    }
  }

  private block<T extends { span: A.Statement["span"] }>(header: string, body: T[], span: A.Decl["span"], text: (s: T) => string[]): void {
    const headerEnd = body.length ? body[0].span.start : span.end;
    // Comments between the header and `{` or the first statement stay inside the block.
    // Searched within the declaration only: scanning on past it made many brace-less declarations quadratic.
    const braceIn = this.file.text.slice(span.start, span.end).indexOf("{");
    const braceAt = braceIn >= 0 ? span.start + braceIn : -1;
    const beforeBrace = this.takeBefore(braceAt >= 0 && braceAt < headerEnd ? braceAt : span.start);
    if (beforeBrace.length) {
      // Rare: a comment inside the header itself; keep it above the declaration.
      this.emitComments(beforeBrace, "", span.start);
    }
    // Comments are sorted: the next one untaken is the first that could lie inside the block.
    const inner = this.ci < this.comments.length && this.comments[this.ci].span.start < span.end;
    if (body.length === 0 && !inner) {
      this.out.push(`${header} {}`);
      this.takeTrailingAfter(span);
      return;
    }
    this.out.push(`${header} {`);
    this.takeTrailingAfterBrace(braceAt);
    body.forEach((s, i) => {
      const leading = this.takeBefore(s.span.start);
      if (i > 0 && (leading.length ? blankBetween(this.file.text, body[i - 1].span.end, leading[0].span.start) : blankBetween(this.file.text, body[i - 1].span.end, s.span.start))) this.out.push("");
      this.emitComments(leading, INDENT, s.span.start);
      const inside = this.takeBefore(s.span.end);
      this.emitComments(inside, INDENT, s.span.start);
      this.line(text(s), INDENT, s.span);
    });
    const closing = this.takeBefore(span.end);
    if (closing.length) {
      const last = body[body.length - 1];
      if (last && blankBetween(this.file.text, last.span.end, closing[0].span.start)) this.out.push("");
      this.emitComments(closing, INDENT, span.end);
      if (this.out[this.out.length - 1] === "") this.out.pop();
    }
    this.out.push("}");
    this.takeTrailingAfter(span);
  }

  private takeTrailingAfterBrace(braceAt: number): void {
    if (braceAt < 0) return;
    const c = this.comments[this.ci];
    // Same line as the brace: no line break between them (counting lines from the start was quadratic).
    const eol = this.file.text.indexOf("\n", braceAt);
    if (c && c.span.start > braceAt && (eol < 0 || c.span.start < eol) && !c.text.startsWith("/*")) {
      this.ci++;
      this.out[this.out.length - 1] += `  ${c.text.trimEnd()}`;
    }
  }

  private takeTrailingAfter(span: A.Decl["span"]): void {
    const c = this.takeTrailing(span.end, span.endLine);
    if (c) this.out[this.out.length - 1] += `  ${c.text.trimEnd()}`;
  }

  /** One statement; past MAX_WIDTH it wraps after commas, continuing four spaces deeper (a line
   * break after a comma is layout, so the wrapped text parses to the same tree). */
  private line(pieces: string | string[], indent: string, span: A.Decl["span"]): void {
    const parts = typeof pieces === "string" ? [pieces] : pieces;
    const c = this.takeTrailing(span.end, span.endLine);
    const lines: string[] = [indent + parts[0]];
    const whole = indent + parts.join(" ");
    if (whole.length <= MAX_WIDTH) lines[0] = whole;
    else
      for (const p of parts.slice(1)) {
        const last = lines[lines.length - 1];
        if (last.length + 1 + p.length <= MAX_WIDTH) lines[lines.length - 1] = `${last} ${p}`;
        else lines.push(`${indent}    ${p}`);
      }
    if (c) lines[lines.length - 1] += `  ${c.text.trimEnd()}`;
    this.out.push(...lines);
  }
}

function blankBetween(text: string, from: number, to: number): boolean {
  if (!Number.isFinite(to)) to = text.length;
  const gap = text.slice(from, to);
  return /\n[ \t\r]*\n/.test(gap);
}

/** Terms as pieces that may each start a new line: a statement breaks only after a comma. */
function termsPieces(terms: A.Term[]): string[] {
  const pieces: string[] = [];
  let cur = "";
  terms.forEach((t, i) => {
    const comma = t.comma && i < terms.length - 1;
    cur += (cur ? " " : "") + termText(t) + (comma ? "," : "");
    if (comma) {
      pieces.push(cur);
      cur = "";
    }
  });
  if (cur) pieces.push(cur);
  return pieces;
}

function withHead(head: string, terms: A.Term[]): string[] {
  const pieces = termsPieces(terms);
  if (pieces.length === 0) return [head];
  return [`${head} ${pieces[0]}`, ...pieces.slice(1)];
}

function statementText(s: A.Statement): string[] {
  return withHead(s.head.name, s.terms);
}

function layerText(l: A.Layer): string[] {
  const target = l.target ? `${[l.target, ...(l.more ?? [])].map((t) => t.name).join(", ")} = ` : "";
  const input = l.input ? `${l.input.name} -> ` : "";
  return withHead(`${target}${input}${l.op.name}`, l.terms);
}

/** A layer as the formatter writes it after its names and input, on one line: `dense 64 relu`. */
export function layerOpText(l: A.Layer): string {
  return withHead(l.op.name, l.terms).join(" ");
}

function typeText(t: A.TensorType | undefined): string {
  if (!t) return "[]";
  return `${t.dtype ? t.dtype.name : ""}[${t.dims.map((d) => exprTextOf(d)).join(", ")}]`;
}

function outputText(o: A.OutputSig): string {
  if (o.name && o.type) return `${o.name.name}: ${typeText(o.type)}`;
  if (o.name) return o.name.name;
  return typeText(o.type);
}
