import type { Span } from "../diagnostics/span.ts";
import type { LayerKind } from "../kinds/layers/types.ts";
import type * as A from "../syntax/ast.ts";
import type { Json, SpanMap } from "./values.ts";

/** The resolved program: names bound, statements and options validated. Shapes come later. */

export interface Options {
  /** False when binding reported an error; such options are incomplete. */
  ok?: boolean;
  /** The options as written. */
  values: Record<string, Json>;
  /** `values` with the schema's defaults filled in (`withDefaults`): the only options backends read. */
  full: Record<string, Json>;
  spans: SpanMap;
  keySpans: Map<string, Span>;
}

export interface LayerSpec {
  node: A.Layer;
  kind: LayerKind;
  /** A stable name: the target if given, else kind_N. */
  name: string;
  /** Names of the tensors this layer reads. */
  inputs: string[];
  /** Names of its outputs after the first (a recurrent layer's states with `return_state`). */
  more?: string[];
  options: Options;
  /** The block uses it sits in, outermost first (a layer of a block is placed once per use). */
  via?: BlockUse[];
}

/** One use of a block in a model: where it is written and the name its layers carry. */
export interface BlockUse {
  block: string;
  use: A.Layer;
  /** The use's name (`encoder_1`); its layers are `encoder_1.a`, … */
  name: string;
  decl: A.BlockDecl;
  /** The file that declares the block, when another file does (an imported block). */
  file?: string;
}

export interface TensorSig {
  name: string;
  node: A.Param | A.OutputSig;
  dtype: "float" | "int";
  dims?: A.Expr[];
}

export interface ModelSpec {
  name: string;
  node: A.ModelDecl;
  file: string;
  inputs: TensorSig[];
  /** Declared outputs; when a declared output has no name, it is the last layer's output. */
  outputs: { name: string; sig: TensorSig }[];
  layers: LayerSpec[];
}

export interface NamedOptions extends Options {
  kind: string;
  kindSpan: Span;
}

export interface LabelSpec {
  columns: Json[];
  kind: "class" | "onehot" | "binary" | "regression";
  classes?: number;
  names?: string[];
  span: Span;
}

/** One column of `codes`: its categories in code order (numbers written as `String(n)`). */
export interface CodeList {
  column: Json;
  values: string[];
  /** The column's name in the statement, and its list (where a fix adds a value). */
  span: Span;
  listSpan: Span;
}

export interface DataSpec {
  name: string;
  node: A.DataDecl;
  file: string;
  statements: Map<string, { node: A.Statement; options: Options }>;
  label?: LabelSpec;
  /** Row filter: keep rows whose `column` holds one of `values`. */
  keep?: { column: Json; values: Json[]; span: Span };
  /** `codes COLUMN: [a, b, c]`: categorical feature columns read as the position of their value in the list. */
  codes?: CodeList[];
}

export interface TrainSpec {
  node: A.TrainDecl;
  file: string;
  model?: ModelSpec;
  data?: DataSpec;
  statements: Map<string, { node: A.Statement; options: Options }>;
  loss?: NamedOptions;
  optimizer?: NamedOptions;
  schedule?: NamedOptions;
}

export interface Program {
  file: string;
  models: Map<string, ModelSpec>;
  /** Blocks declared in (or imported into) the file, by name. */
  blocks?: Map<string, A.BlockDecl>;
  /** The file of each imported block. */
  blockFiles?: Map<string, string>;
  data: Map<string, DataSpec>;
  trains: TrainSpec[];
}
