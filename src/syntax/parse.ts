import type { IRecognitionException, IToken, TokenType } from "chevrotain";
import { DiagnosticSink, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { LineMap, Span } from "../diagnostics/span.ts";
import { closest } from "../util/suggest.ts";
import type { SourceFile } from "./ast.ts";
import { AstBuilder } from "./build-ast.ts";
import { lex, tokenSpan } from "./lexer.ts";
import { parseTokens } from "./parser.ts";
import * as T from "./tokens.ts";

export interface ParseResult {
  ast: SourceFile;
  diagnostics: Diagnostic[];
  lines: LineMap;
}

const DECL_KEYWORDS = ["import", "data", "model", "train"];

/** text → tokens → CST → AST. Never throws on any input; problems come back as diagnostics. */
export function parse(text: string, path = "<input>"): ParseResult {
  const sink = new DiagnosticSink(path);
  const { tokens, comments, lines } = lex(text, sink);
  const lexical = sink.items.length;
  const { cst, errors } = parseTokens(tokens);
  const builder = new AstBuilder(lines);
  const ast = builder.file(
    cst,
    path,
    comments.map((c) => ({ text: c.image, span: tokenSpan(lines, c) })),
  );
  const bracketProblem = sink.items.some((d) => d.code === "NN0103" || d.code === "NN0104");
  const syntax = new DiagnosticSink(path);
  for (const e of errors) reportParseError(e, lines, syntax);
  // One mistake, one diagnostic: keep the first problem per line, lexical and bracket problems first,
  // and drop parser complaints at the end of the file when an unclosed bracket explains them.
  const seen = new Set(sink.items.slice(0, lexical).map((d) => d.span.line));
  for (const d of sink.items.slice(lexical)) seen.add(d.span.line);
  const out = sink.items.slice();
  for (const d of syntax.items) {
    if (seen.has(d.span.line)) continue;
    if (bracketProblem && d.span.start >= text.length) continue;
    seen.add(d.span.line);
    out.push(d);
  }
  out.sort((a, b) => a.span.start - b.span.start);
  return { ast, diagnostics: out, lines };
}

function describe(t: IToken): string {
  if (t.tokenType.name === "EOF") return "end of file";
  if (t.tokenType === T.Newline) return "end of line";
  if (t.tokenType === T.StringLiteral || t.tokenType === T.UnterminatedString) return "a string";
  if (t.tokenType === T.NumberLiteral || t.tokenType === T.MalformedNumber) return `number \`${t.image}\``;
  if (t.tokenType === T.Identifier || T.KEYWORDS.includes(t.image as (typeof T.KEYWORDS)[number])) return `\`${t.image}\``;
  return `\`${t.image}\``;
}

function tokenLabel(tt: TokenType): string {
  if (tt === T.Identifier) return "a name";
  if (tt === T.StringLiteral) return "a string";
  if (tt === T.NumberLiteral) return "a number";
  if (tt === T.Newline) return "end of line";
  if (T.KEYWORDS.includes(tt.name.toLowerCase() as (typeof T.KEYWORDS)[number])) return `\`${tt.name.toLowerCase()}\``;
  return typeof tt.LABEL === "string" ? tt.LABEL : tt.name;
}

function errorSpan(t: IToken, prev: IToken | undefined, lines: LineMap): Span {
  // Point at the end of the previous token when the parser stumbled on a line break or the end of file.
  if ((t.tokenType.name === "EOF" || t.tokenType === T.Newline || !Number.isFinite(t.startOffset)) && prev && Number.isFinite(prev.startOffset)) {
    const end = prev.startOffset + prev.image.length;
    return lines.span(end, end);
  }
  if (!Number.isFinite(t.startOffset)) return lines.span(lines.text.length, lines.text.length);
  return tokenSpan(lines, t);
}

function reportParseError(e: IRecognitionException, lines: LineMap, sink: DiagnosticSink): void {
  const t = e.token;
  const prev = (e as IRecognitionException & { previousToken?: IToken }).previousToken;
  const span = errorSpan(t, prev, lines);
  const found = describe(t);
  const rules = e.context?.ruleStack ?? [];
  const rule = rules[rules.length - 1] ?? "file";
  const kind = e.name;
  if (kind === "NotAllInputParsedException" || rule === "file" || rule === "declaration") {
    if (rules.includes("modelDecl") || rules.includes("block")) {
      sink.report("expectedToken", span, { expected: "`}`", found });
      return;
    }
    const guess = t.tokenType === T.Identifier ? closest(t.image, DECL_KEYWORDS) : undefined;
    sink.report("expectedDeclaration", span, { found }, guess ? didYouMean(span, guess) : {});
    return;
  }
  if (kind === "MismatchedTokenException") {
    const expected = /-->\s*(.+?)\s*<--/.exec(e.message)?.[1];
    const tt = expected ? Object.values(T).find((x) => typeof x === "object" && x !== null && "name" in x && (x as TokenType).name === expected) : undefined;
    const label = tt ? tokenLabel(tt as TokenType) : (expected ?? "something else");
    if (rule === "shape" && label === "`[`") {
      sink.report("expectedShape", span, { found });
      return;
    }
    if (label === "`}`" && t.tokenType !== T.RBrace && (rule === "block" || rule === "modelDecl")) {
      sink.report("trailingInput", span, { found });
      return;
    }
    sink.report("expectedToken", span, { expected: label, found });
    return;
  }
  if (["primary", "unary", "range", "expression", "product", "term", "list", "shape"].includes(rule)) {
    sink.report(rule === "shape" ? "expectedShape" : "expectedValue", span, { found });
    return;
  }
  if (rule === "block" || rule === "statement" || rule === "layer" || rule === "modelDecl") {
    sink.report("expectedStatement", span, { found });
    return;
  }
  if (rule === "outputs" || rule === "output" || rule === "tensorType") {
    sink.report("expectedShape", span, { found });
    return;
  }
  sink.report("expectedToken", span, { expected: "something else", found });
}

function didYouMean(span: Span, guess: string) {
  return { help: `did you mean \`${guess}\`?`, fixes: [{ title: `replace with \`${guess}\``, edits: [{ span, newText: guess }] }] };
}
