import type { IRecognitionException, IToken, TokenType } from "chevrotain";
import { DiagnosticSink, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { CATALOG } from "../diagnostics/catalog.ts";
import { normalizeLineBreaks, type LineMap, type Span } from "../diagnostics/span.ts";
import { closest } from "../util/suggest.ts";
import type { SourceFile } from "./ast.ts";
import { AstBuilder } from "./build-ast.ts";
import { lex, tokenSpan } from "./lexer.ts";
import { parser, parseTokens } from "./parser.ts";
import * as T from "./tokens.ts";

export interface ParseResult {
  ast: SourceFile;
  diagnostics: Diagnostic[];
  lines: LineMap;
}

const DECL_KEYWORDS = ["import", "data", "model", "train", "block"];

/**
 * Chevrotain resumes a repetition after each error inside it by calling the repetition again, one
 * stack level deeper, so a block of a few thousand bad lines (a pasted CSV) overflowed the stack.
 * Past this depth the parser stops recovering inside repetitions and resyncs between rules instead;
 * the rest of such input may go unparsed, but it is already reported.
 */
const MAX_RECOVERY_DEPTH = 200;
{
  const p = parser as unknown as { attemptInRepetitionRecovery: (...args: unknown[]) => void };
  const recover = p.attemptInRepetitionRecovery;
  let depth = 0;
  p.attemptInRepetitionRecovery = function (this: unknown, ...args: unknown[]): void {
    if (depth >= MAX_RECOVERY_DEPTH) return;
    depth++;
    try {
      recover.apply(this, args);
    } finally {
      depth--;
    }
  };
}

/** text → tokens → the parser's records → AST. Never throws on any input; problems come back as diagnostics. */
export function parse(source: string, path = "<input>"): ParseResult {
  const text = normalizeLineBreaks(source);
  const sink = new DiagnosticSink(path);
  const { tokens, comments, lines } = lex(text, sink);
  const lexical = sink.items.length;
  const { file, errors } = parseTokens(tokens);
  const builder = new AstBuilder(lines);
  const ast = builder.file(
    file,
    path,
    comments.map((c) => ({ text: c.image, span: tokenSpan(lines, c) })),
  );
  const bracketProblem = sink.items.some(isBracketProblem);
  const syntax = new DiagnosticSink(path);
  // The token before each error, from the stream itself: chevrotain's `previousToken` is the last token
  // its recovery skipped, not the one before the offending token.
  // (Built only when there are errors: a clean file of thousands of lines pays nothing for them.)
  const index = errors.length ? new Map(tokens.map((t, i) => [t, i])) : new Map<IToken, number>();
  const braced = errors.length ? insideBraces(tokens) : new Set<IToken>();
  const atEof = new Set<Diagnostic>();
  const wantsBrace = new Set<Diagnostic>();
  for (const e of errors) {
    const i = index.get(e.token);
    const prev = i === undefined ? tokens[tokens.length - 1] : tokens[i - 1];
    // A declaration-level complaint about a token inside `{ }` means recovery skipped the block's opening
    // (`modle m(x: [4]) {`, `model m {`): that mistake is already reported, and each line of the block
    // would otherwise add one more "expected a declaration".
    if (i !== undefined && braced.has(e.token) && isTopLevel(e)) continue;
    const d = reportParseError(e, prev, lines, syntax, wantsBrace);
    if (d && (i === undefined || e.token.tokenType.name === "EOF")) atEof.add(d);
  }
  // One mistake, one diagnostic: keep the first problem per line, lexical and bracket problems first,
  // and drop parser complaints at the end of the file when an unclosed bracket explains them.
  const seen = new Set(sink.items.slice(0, lexical).map((d) => d.span.line));
  for (const d of sink.items.slice(lexical)) seen.add(d.span.line);
  const out = sink.items.slice();
  for (const d of syntax.items) {
    if (seen.has(d.span.line)) continue;
    if (bracketProblem && atEof.has(d)) continue;
    seen.add(d.span.line);
    out.push(d);
  }
  out.sort((a, b) => a.span.start - b.span.start);
  return { ast, diagnostics: missingOpenBrace(out, wantsBrace, lines.text, ast.decls.map((d) => d.span.start)), lines };
}

/** Tokens inside a `{ }` pair, the closing `}` included. */
function insideBraces(tokens: IToken[]): Set<IToken> {
  const out = new Set<IToken>();
  let depth = 0;
  for (const t of tokens) {
    if (t.tokenType === T.RBrace) {
      if (depth > 0) out.add(t);
      depth = Math.max(0, depth - 1);
    } else {
      if (depth > 0) out.add(t);
      if (t.tokenType === T.LBrace) depth++;
    }
  }
  return out;
}

function isTopLevel(e: IRecognitionException): boolean {
  const rules = e.context?.ruleStack ?? [];
  const rule = rules[rules.length - 1] ?? "file";
  return e.name === "NotAllInputParsedException" || rule === "file" || rule === "declaration";
}

function describe(t: IToken): string {
  if (t.tokenType.name === "EOF") return "end of file";
  if (t.tokenType === T.Newline) return "end of line";
  if (t.tokenType === T.StringLiteral || t.tokenType === T.UnterminatedString) return "a string";
  if (t.tokenType === T.NumberLiteral || t.tokenType === T.MalformedNumber) return `number \`${t.image}\``;
  return `\`${t.image}\``;
}

function tokenLabel(tt: TokenType): string {
  if (tt === T.Identifier) return "a name";
  if (tt === T.StringLiteral || tt === T.UnterminatedString) return "a string";
  if (tt === T.NumberLiteral || tt === T.MalformedNumber) return "a number";
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

/** Whether a token ends a statement, so that what follows it starts one. */
function endsStatement(t: IToken | undefined): boolean {
  return !t || t.tokenType === T.Newline || t.tokenType === T.Semicolon || t.tokenType === T.LBrace;
}

/** An unclosed or unmatched bracket (the lexer's): it changes what the rest of the file means. */
export const isBracketProblem = (d: Diagnostic): boolean => d.code === CATALOG.unclosedBlock.code || d.code === CATALOG.unmatchedClose.code;

/** `wantsBrace` collects the "expected `{`" errors, for missingOpenBrace. */
function reportParseError(e: IRecognitionException, prev: IToken | undefined, lines: LineMap, sink: DiagnosticSink, wantsBrace: Set<Diagnostic>): Diagnostic | undefined {
  const t = e.token;
  const span = errorSpan(t, prev, lines);
  const found = describe(t);
  const rules = e.context?.ruleStack ?? [];
  const rule = rules[rules.length - 1] ?? "file";
  const kind = e.name;
  if (isTopLevel(e)) {
    if (rules.includes("modelDecl") || rules.includes("block")) return sink.report("expectedToken", span, { expected: "`}`", found });
    const guess = t.tokenType === T.Identifier ? closest(t.image, DECL_KEYWORDS) : undefined;
    return sink.report("expectedDeclaration", span, { found }, guess ? didYouMean(span, guess) : {});
  }
  if (kind === "MismatchedTokenException") {
    const expected = /-->\s*(.+?)\s*<--/.exec(e.message)?.[1];
    // chevrotain names the token by its label when it has one (`string`, `` `}` ``), else by its type name.
    const tt = expected ? (T.allTokens.find((x) => x.name === expected) ?? T.allTokens.find((x) => x.LABEL === expected)) : undefined;
    const label = tt ? tokenLabel(tt) : (expected ?? "something else");
    if (rule === "shape" && label === "`[`") return sink.report("expectedShape", span, { found });
    if (label === "`}`" && t.tokenType !== T.RBrace && t.tokenType.name !== "EOF" && (rule === "block" || rule === "modelDecl")) {
      // The block's statement loop stopped here: at the start of a line nothing can begin a statement;
      // after a statement, something followed that is not part of it.
      if (endsStatement(prev)) return sink.report("expectedStatement", span, { found });
      return sink.report("trailingInput", span, { found });
    }
    const d = sink.report("expectedToken", span, { expected: label, found });
    if (tt === T.LBrace) wantsBrace.add(d);
    return d;
  }
  if (["unary", "arith", "expression", "term", "list", "shape"].includes(rule)) {
    return sink.report(rule === "shape" ? "expectedShape" : "expectedValue", span, { found });
  }
  if (rule === "block" || rule === "statement" || rule === "layer" || rule === "modelDecl") return sink.report("expectedStatement", span, { found });
  if (rule === "outputs" || rule === "output" || rule === "tensorType") return sink.report("expectedShape", span, { found });
  return sink.report("expectedToken", span, { expected: "something else", found });
}

function didYouMean(span: Span, guess: string) {
  return { help: `did you mean \`${guess}\`?`, fixes: [{ title: `replace with \`${guess}\``, edits: [{ span, newText: guess }] }] };
}

/**
 * A header without its `{` (`model m(x: [4]) -> [3]` then the layers) leaves the block's `}`
 * unmatched: one mistake, so the `}` becomes a label of the missing-brace error, which gets the fix.
 */
function missingOpenBrace(ds: Diagnostic[], wantsBrace: Set<Diagnostic>, text: string, declStarts: number[]): Diagnostic[] {
  const dropped = new Set<Diagnostic>();
  for (const d of ds) {
    if (!wantsBrace.has(d)) continue;
    // Only a `}` before the next declaration: a stray one further down is a mistake of its own.
    const limit = declStarts.find((s) => s > d.span.start) ?? Infinity;
    const close = ds.find((c) => c.code === CATALOG.unmatchedClose.code && text[c.span.start] === "}" && c.span.start > d.span.start && c.span.start < limit && !dropped.has(c));
    if (!close) continue;
    dropped.add(close);
    d.labels.push({ span: close.span, message: "the `}` that closes it" });
    d.fixes.push({ title: "add the `{`", edits: [{ span: { ...d.span, end: d.span.start, endLine: d.span.line, endCol: d.span.col }, newText: " {" }] });
  }
  return dropped.size ? ds.filter((d) => !dropped.has(d)) : ds;
}
