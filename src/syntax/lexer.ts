import { Lexer, tokenMatcher, type IToken, type TokenType } from "chevrotain";
import { DiagnosticSink } from "../diagnostics/diagnostic.ts";
import { LineMap, type Span } from "../diagnostics/span.ts";
import * as T from "./tokens.ts";

/** Deepest bracket nesting the parser accepts; deeper input is cut off and reported. */
export const MAX_NESTING = 64;
/**
 * Most operators (`+ - * /`, unary `-` included) an expression may chain, counting those of the
 * expressions it sits inside: `1+1+...` nests as deep as it is long, so a longer chain is cut off and
 * reported rather than building a tree that overflows the stack of the passes that walk it.
 */
export const MAX_OPERATORS = 256;

// Offsets only: spans come from the LineMap, and nothing reads a token's line or column (tracking them costs the lexer time).
const lexer = new Lexer(T.allTokens, { positionTracking: "onlyOffset", ensureOptimizations: false, recoveryEnabled: true });

export interface LexResult {
  tokens: IToken[];
  comments: IToken[];
  lines: LineMap;
}

export function tokenSpan(lines: LineMap, t: IToken): Span {
  return lines.span(t.startOffset, t.startOffset + t.image.length);
}

const OPEN: Record<string, string> = { LBrace: "{", LParen: "(", LBracket: "[" };
// Token types compared by identity in the per-token loops below (a lookup by name costs more).
const isOpen = (tt: TokenType): boolean => tt === T.LBrace || tt === T.LParen || tt === T.LBracket;
const isClose = (tt: TokenType): boolean => tt === T.RBrace || tt === T.RParen || tt === T.RBracket;
const CLOSE_OF: Record<string, string> = { LBrace: "}", LParen: ")", LBracket: "]" };
const OPENER_FOR: Record<string, string> = { RBrace: "LBrace", RParen: "LParen", RBracket: "LBracket" };

/**
 * Tokenizes, reports lexical problems, matches brackets, and decides which newlines end statements:
 * a newline inside a closed `(...)` or `[...]` is layout, anywhere else it is a statement terminator.
 */
export function lex(text: string, sink: DiagnosticSink): LexResult {
  const lines = new LineMap(text);
  const res = lexer.tokenize(text);
  for (const e of res.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    const shown = ch.length > 12 ? ch.slice(0, 12) + "…" : ch;
    sink.report("unexpectedCharacter", lines.span(e.offset, e.offset + e.length), { char: JSON.stringify(shown) });
  }
  const comments = res.groups.comments ?? [];
  for (const c of comments) {
    if (c.tokenType === T.UnterminatedComment) sink.report("unterminatedComment", lines.span(c.startOffset, c.startOffset + 2));
  }
  for (const t of res.tokens) {
    if (t.tokenType === T.UnterminatedString) sink.report("unterminatedString", tokenSpan(lines, t));
    else if (t.tokenType === T.MalformedNumber) sink.report("malformedNumber", tokenSpan(lines, t), { text: t.image });
    if (t.tokenType === T.StringLiteral || t.tokenType === T.UnterminatedString) checkEscapes(t, lines, sink);
  }
  const tokens = layout(limitNesting(res.tokens, lines, sink), lines, sink);
  return { tokens, comments, lines };
}

function checkEscapes(t: IToken, lines: LineMap, sink: DiagnosticSink): void {
  const s = t.image;
  for (let i = 1; i < s.length; i++) {
    if (s[i] !== "\\") continue;
    const n = s[i + 1];
    let bad = false;
    let len = 2;
    if (n === undefined) break;
    if (n === "u") {
      const m = /^u(?:\{([0-9a-fA-F]{1,6})\}|[0-9a-fA-F]{4})/.exec(s.slice(i + 1));
      if (!m || (m[1] !== undefined && parseInt(m[1], 16) > 0x10ffff)) bad = true;
      else len = 1 + m[0].length;
    } else if (!'\\"ntr'.includes(n)) bad = true;
    if (bad) sink.report("invalidEscape", lines.span(t.startOffset + i, t.startOffset + i + 2), { escape: "\\" + n });
    i += len - 1;
  }
}

/**
 * Drops tokens nested deeper than MAX_NESTING, and operators past MAX_OPERATORS in one expression, so
 * no input can exhaust the recursive-descent stack or build a tree too deep to walk.
 *
 * Nesting follows the rules the editor's chunker uses (a `}` closes back to its `{`, closing what is
 * left open inside it; a `)` or `]` that does not match is ignored), and each place that goes too
 * deep (or chains too many operators) is reported, so a declaration gets the same errors whether it
 * is parsed alone or in its file.
 */
function limitNesting(tokens: IToken[], lines: LineMap, sink: DiagnosticSink): IToken[] {
  // Every open bracket, dropped ones included; those at index MAX_NESTING and above are dropped.
  const opens: string[] = [];
  let reportedOps = false;
  // Operators of the open expressions, one count per kept bracket level, and their sum.
  const ops: number[] = [0];
  let total = 0;
  let prev: IToken | undefined;
  const endExpression = (): void => {
    total -= ops[ops.length - 1];
    ops[ops.length - 1] = 0;
  };
  /** Closes the kept levels above `depth`. */
  const closeTo = (depth: number): void => {
    while (ops.length - 1 > Math.min(depth, MAX_NESTING)) total -= ops.pop()!;
  };
  const out: IToken[] = [];
  for (const t of tokens) {
    const tt = t.tokenType;
    if (isOpen(tt)) {
      opens.push(tt.name);
      if (opens.length > MAX_NESTING) {
        if (opens.length === MAX_NESTING + 1) sink.report("nestingTooDeep", tokenSpan(lines, t), { limit: MAX_NESTING });
        continue;
      }
      ops.push(0);
    } else if (isClose(tt)) {
      const want = OPENER_FOR[tt.name];
      const at = want === "LBrace" ? opens.lastIndexOf("LBrace") : opens[opens.length - 1] === want ? opens.length - 1 : -1;
      // a match closes a bracket kept or dropped; a stray close sits at the current depth
      const hidden = at >= 0 ? at >= MAX_NESTING : opens.length > MAX_NESTING;
      if (at >= 0) opens.length = at;
      closeTo(opens.length);
      if (hidden) continue;
    } else if (opens.length > MAX_NESTING) continue;
    else if (OPERATORS.has(tt)) {
      if (total >= MAX_OPERATORS) {
        if (!reportedOps) sink.report("tooManyOperators", tokenSpan(lines, t), { limit: MAX_OPERATORS });
        reportedOps = true;
        continue;
      }
      reportedOps = false;
      ops[ops.length - 1]++;
      total++;
    } else if (ENDS_EXPRESSION.has(tt)) {
      // A line break inside `(...)` or `[...]` is layout, not the end of the expression.
      const top = opens[opens.length - 1];
      if (t.tokenType !== T.Newline || top === undefined || top === "LBrace") endExpression();
    } else if (prev && isOperand(t) && (isOperand(prev) || prev.tokenType === T.RParen || prev.tokenType === T.RBracket)) endExpression(); // `a b`: a new term
    out.push(t);
    prev = t;
  }
  return out;
}

const OPERATORS = new Set<TokenType>([T.Plus, T.Minus, T.Star, T.Slash]);
const ENDS_EXPRESSION = new Set<TokenType>([T.Newline, T.Semicolon, T.Comma, T.Colon, T.Equals, T.Arrow]);
const isOperand = (t: IToken): boolean => tokenMatcher(t, T.Identifier) || tokenMatcher(t, T.NumberLiteral) || tokenMatcher(t, T.StringLiteral);

function layout(tokens: IToken[], lines: LineMap, sink: DiagnosticSink): IToken[] {
  // Pass 1: match brackets. A brace closes any round or square bracket left open inside it.
  const closed = new Set<IToken>();
  const unclosed: IToken[] = [];
  const stack: IToken[] = [];
  for (const t of tokens) {
    const tt = t.tokenType;
    if (isOpen(tt)) stack.push(t);
    else if (isClose(tt)) {
      const want = OPENER_FOR[tt.name];
      const idx = openerIndex(stack, want);
      if (idx >= 0) {
        const popped = stack.splice(idx);
        closed.add(popped[0]);
        unclosed.push(...popped.slice(1));
      } else {
        sink.report("unmatchedClose", tokenSpan(lines, t), { close: t.image, open: OPEN[want] });
      }
    }
  }
  unclosed.push(...stack);
  for (const open of unclosed) {
    const name = open.tokenType.name;
    sink.report("unclosedBlock", tokenSpan(lines, open), { open: OPEN[name], close: CLOSE_OF[name] });
  }
  // Pass 2: keep the newlines that end statements, one per run.
  const out: IToken[] = [];
  const nest: IToken[] = [];
  for (const t of tokens) {
    const tt = t.tokenType;
    if (tt === T.Newline) {
      const top = nest[nest.length - 1];
      if (top && top.tokenType.name !== "LBrace" && closed.has(top)) continue;
      const prev = out[out.length - 1];
      if (!prev || prev.tokenType === T.Newline || prev.tokenType === T.Semicolon || prev.tokenType === T.LBrace || prev.tokenType === T.Comma) continue;
      out.push(t);
      continue;
    }
    if (isOpen(tt)) nest.push(t);
    else if (isClose(tt)) {
      const want = OPENER_FOR[tt.name];
      const idx = openerIndex(nest, want);
      if (idx >= 0) nest.splice(idx);
    }
    out.push(t);
  }
  return out;
}

/** Where the opener a closer matches sits on the stack: a `}` reaches through any open `(`/`[`; a
 * `)` or `]` reaches through the other kind of bracket (left unclosed) but never past a `{`. */
function openerIndex(stack: IToken[], want: string): number {
  for (let i = stack.length - 1; i >= 0; i--) {
    const name = stack[i].tokenType.name;
    if (name === want) return i;
    if (name === "LBrace") return -1;
  }
  return -1;
}

