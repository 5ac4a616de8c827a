import type { Span } from "../diagnostics/span.ts";

/** The syntax tree. It may be incomplete after a syntax error: optional parts are absent, never invalid. */

export interface Ident {
  kind: "ident";
  name: string;
  span: Span;
}

export type Expr = NumberLit | StringLit | NameRef | Call | ListLit | RangeExpr | Binary | Negate | Paren;

export interface NumberLit {
  kind: "number";
  value: number;
  /** The text as written, kept so the formatter preserves `1e-3` or `0.50`. */
  raw: string;
  span: Span;
}
export interface StringLit {
  kind: "string";
  value: string;
  raw: string;
  span: Span;
}
export interface NameRef {
  kind: "name";
  name: string;
  span: Span;
}
export interface Call {
  kind: "call";
  callee: Ident;
  args: Term[];
  span: Span;
}
export interface ListLit {
  kind: "list";
  items: Expr[];
  span: Span;
}
export interface RangeExpr {
  kind: "range";
  from: Expr;
  to: Expr;
  span: Span;
}
export interface Binary {
  kind: "binary";
  op: "+" | "-" | "*" | "/";
  left: Expr;
  right: Expr;
  span: Span;
}
export interface Negate {
  kind: "negate";
  operand: Expr;
  span: Span;
}
export interface Paren {
  kind: "paren";
  inner: Expr;
  span: Span;
}

/** One argument of a statement or call: a value, or `key: value`. */
export interface Term {
  key?: Expr;
  value: Expr;
  /** Whether a comma followed this term (kept by the formatter). */
  comma?: boolean;
  span: Span;
}

export interface Statement {
  kind: "statement";
  head: Ident;
  terms: Term[];
  span: Span;
}

export interface TensorType {
  dtype?: Ident;
  dims: Expr[];
  span: Span;
}

export interface Param {
  name: Ident;
  type?: TensorType;
  span: Span;
}

export interface OutputSig {
  name?: Ident;
  type?: TensorType;
  span: Span;
}

/** `target = input -> kind terms` */
export interface Layer {
  kind: "layer";
  target?: Ident;
  /** The names of a layer's further outputs (`out, h, c = lstm ... return_state: true`: h and c). */
  more?: Ident[];
  input?: Ident;
  op: Ident;
  terms: Term[];
  span: Span;
}

export interface ImportDecl {
  kind: "import";
  names: Ident[];
  path?: StringLit;
  span: Span;
}
export interface DataDecl {
  kind: "data";
  name?: Ident;
  body: Statement[];
  span: Span;
}
export interface ModelDecl {
  kind: "model";
  name?: Ident;
  inputs: Param[];
  outputs: OutputSig[];
  /** Whether the outputs were written in parentheses. */
  outputsGrouped: boolean;
  body: Layer[];
  span: Span;
}
export interface TrainDecl {
  kind: "train";
  model?: Ident;
  data?: Ident;
  body: Statement[];
  span: Span;
}

/** A parameter of a block: `d`, or `ff: 64` with a default. */
export interface BlockParam {
  name: Ident;
  default?: Expr;
  span: Span;
}
/** `block NAME(params) { layers }`: a sub-network used like a layer, its input named `input`. */
export interface BlockDecl {
  kind: "block";
  name?: Ident;
  params: BlockParam[];
  body: Layer[];
  span: Span;
}

export type Decl = ImportDecl | DataDecl | ModelDecl | TrainDecl | BlockDecl;

export interface Comment {
  text: string;
  span: Span;
}

export interface SourceFile {
  kind: "file";
  path: string;
  text: string;
  decls: Decl[];
  comments: Comment[];
  span: Span;
}
