import { createToken, Lexer, type TokenType } from "chevrotain";

// Names: keywords are "soft" (category Identifier) so a column may be called `data` or `from`.
export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
const kw = (word: string): TokenType =>
  createToken({ name: word[0].toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Identifier, categories: [Identifier] });
export const Import = kw("import");
export const From = kw("from");
export const Data = kw("data");
export const Model = kw("model");
export const Train = kw("train");
export const On = kw("on");
export const Block = kw("block");

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\f\uFEFF]+/, group: Lexer.SKIPPED });
export const Newline = createToken({ name: "Newline", pattern: /\n/, line_breaks: true, label: "end of line" });
export const LineComment = createToken({ name: "LineComment", pattern: /(#|\/\/)[^\n]*/, group: "comments" });
export const BlockComment = createToken({ name: "BlockComment", pattern: /\/\*[\s\S]*?\*\//, line_breaks: true, group: "comments" });
/** `/*` with no `*\/` before the end of the file: kept as a comment and reported. */
export const UnterminatedComment = createToken({ name: "UnterminatedComment", pattern: /\/\*[\s\S]*/, line_breaks: true, group: "comments" });

export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"(?:[^"\\\n]|\\[^\n])*"/, label: "string" });
/** A string cut off by the end of the line: lexed as a string so parsing continues, and reported. */
export const UnterminatedString = createToken({ name: "UnterminatedString", pattern: /"(?:[^"\\\n]|\\[^\n])*\\?/, categories: [StringLiteral], label: "string" });

export const NumberLiteral = createToken({ name: "NumberLiteral", pattern: /(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?/, label: "number" });
/** `1e`, `2.5E+`: an exponent marker with no digits. */
export const MalformedNumber = createToken({ name: "MalformedNumber", pattern: /(?:\d+(?:\.\d+)?|\.\d+)[eE](?:[+-](?![0-9])|(?![0-9A-Za-z_+-]))/, label: "number", categories: [NumberLiteral] });

export const LBrace = createToken({ name: "LBrace", pattern: /\{/, label: "`{`" });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/, label: "`}`" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "`(`" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "`)`" });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "`[`" });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/, label: "`]`" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "`,`" });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: "`:`" });
export const Semicolon = createToken({ name: "Semicolon", pattern: /;/, label: "`;`" });
export const Arrow = createToken({ name: "Arrow", pattern: /->/, label: "`->`" });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: "`=`" });
export const DotDot = createToken({ name: "DotDot", pattern: /\.\./, label: "`..`" });
export const Plus = createToken({ name: "Plus", pattern: /\+/, label: "`+`" });
export const Minus = createToken({ name: "Minus", pattern: /-/, label: "`-`" });
export const Star = createToken({ name: "Star", pattern: /\*/, label: "`*`" });
export const Slash = createToken({ name: "Slash", pattern: /\//, label: "`/`" });

/** Order matters: comments before `/`, `->` before `-`, `..` before numbers, keywords before names. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Newline,
  LineComment,
  BlockComment,
  UnterminatedComment,
  StringLiteral,
  UnterminatedString,
  MalformedNumber,
  DotDot,
  NumberLiteral,
  Arrow,
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Semicolon,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
  Import,
  From,
  Data,
  Model,
  Train,
  On,
  Block,
  Identifier,
];

export const KEYWORDS = ["import", "from", "data", "model", "train", "on", "block"] as const;
