import { EmbeddedActionsParser, type IOrAlt, type IToken, type ParserMethod, type SubruleMethodOpts } from "chevrotain";
import * as T from "./tokens.ts";

/**
 * What each rule saw, written into a record its caller made and holds before the rule runs: a rule
 * that fails part-way leaves its record half filled where its caller already holds it, as error
 * recovery needs (build-ast.ts tolerates the holes). `s` and `e` are the start and end offsets of
 * the first and last real token the rule itself consumed (s < 0: none); spans add the children's.
 */
export interface Seen {
  s: number;
  e: number;
}
export interface FileRec extends Seen {
  decls: DeclRec[];
}
export type DeclRec = ImportRec | DataRec | TrainRec | ModelRec | BlockDeclRec;
export interface ImportRec extends Seen {
  rule: "importDecl";
  names: IToken[];
  path?: IToken;
}
export interface DataRec extends Seen {
  rule: "dataDecl";
  name?: IToken;
  body?: BlockRec;
}
export interface TrainRec extends Seen {
  rule: "trainDecl";
  model?: IToken;
  data?: IToken;
  body?: BlockRec;
}
export interface BlockRec extends Seen {
  statements: StatementRec[];
}
export interface StatementRec extends Seen {
  head?: IToken;
  terms?: TermsRec;
}
export interface TermsRec extends Seen {
  terms: TermRec[];
}
export interface TermRec extends Seen {
  key?: ExprRec;
  colon?: IToken;
  value?: ExprRec;
  /** A comma followed it. */
  comma?: boolean;
}
export interface ModelRec extends Seen {
  rule: "modelDecl";
  name?: IToken;
  params: ParamRec[];
  outputs?: OutputsRec;
  layers: LayerRec[];
}
export interface BlockDeclRec extends Seen {
  rule: "blockDecl";
  name?: IToken;
  params: BlockParamRec[];
  layers: LayerRec[];
}
export interface BlockParamRec extends Seen {
  name?: IToken;
  dflt?: ExprRec;
}
export interface ParamRec extends Seen {
  name?: IToken;
  type?: TensorTypeRec;
}
export interface TensorTypeRec extends Seen {
  dtype?: IToken;
  shape?: ShapeRec;
}
export interface ShapeRec extends Seen {
  open?: IToken;
  dims: ExprRec[];
}
export interface OutputsRec extends Seen {
  grouped: boolean;
  outputs: OutputRec[];
}
export interface OutputRec extends Seen {
  name?: IToken;
  colon?: IToken;
  type?: TensorTypeRec;
  shape?: ShapeRec;
}
export interface LayerRec extends Seen {
  targets: IToken[];
  input?: IToken;
  kind?: IToken;
  terms?: TermsRec;
}
export interface ExprRec extends Seen {
  from?: ArithRec;
  dotdot?: IToken;
  to?: ArithRec;
}
export interface ArithRec extends Seen {
  operands: UnaryRec[];
  /** (made with the first operator: most values have none) */
  ops?: IToken[];
}
export interface UnaryRec extends Seen {
  minus?: IToken;
  inner?: UnaryRec;
  num?: IToken;
  str?: IToken;
  call?: NameOrCallRec;
  list?: ListRec;
  paren?: ExprRec;
}
export interface NameOrCallRec extends Seen {
  name?: IToken;
  open?: IToken;
  /** (made with the `(`: most names are not calls) */
  args?: TermRec[];
}
export interface ListRec extends Seen {
  items: ExprRec[];
}

const seen = (): Seen => ({ s: -1, e: -1 });
const fileRec = (): FileRec => ({ s: -1, e: -1, decls: [] });
const importRec = (): ImportRec => ({ s: -1, e: -1, rule: "importDecl", names: [] });
const dataRec = (): DataRec => ({ s: -1, e: -1, rule: "dataDecl" });
const trainRec = (): TrainRec => ({ s: -1, e: -1, rule: "trainDecl" });
const modelRec = (): ModelRec => ({ s: -1, e: -1, rule: "modelDecl", params: [], layers: [] });
const blockDeclRec = (): BlockDeclRec => ({ s: -1, e: -1, rule: "blockDecl", params: [], layers: [] });
const blockRec = (): BlockRec => ({ s: -1, e: -1, statements: [] });
const termsRec = (): TermsRec => ({ s: -1, e: -1, terms: [] });
const termRec = (): TermRec => ({ s: -1, e: -1 });
const exprRec = (): ExprRec => ({ s: -1, e: -1 });
const arithRec = (): ArithRec => ({ s: -1, e: -1, operands: [] });
const unaryRec = (): UnaryRec => ({ s: -1, e: -1 });
const tensorTypeRec = (): TensorTypeRec => ({ s: -1, e: -1 });
const shapeRec = (): ShapeRec => ({ s: -1, e: -1, dims: [] });
const outputRec = (): OutputRec => ({ s: -1, e: -1 });

/** The names the grammar gives tokens (they label the railroad diagrams; option objects made once). */
const LABEL = Object.fromEntries(["names", "path", "name", "model", "data", "head", "dtype", "target", "input", "kind", "ops"].map((l) => [l, { LABEL: l }]));

/** A token the source holds (not one error recovery made up). */
export const real = (t: IToken | undefined): t is IToken => t !== undefined && !t.isInsertedInRecovery && Number.isFinite(t.startOffset);

/** Notes a consumed token in its rule's record; returns it. */
function saw<Tok extends IToken>(r: Seen, t: Tok): Tok {
  if (real(t) && t.tokenType !== T.Newline) {
    if (r.s < 0) r.s = t.startOffset;
    r.e = t.startOffset + t.image.length;
  }
  return t;
}

/**
 * The concrete grammar. Statements inside blocks share one shape, `head term*`, where a term is a
 * value optionally followed by `: value`; what each head accepts is checked after parsing, so the
 * grammar stays small and every statement recovers the same way.
 *
 * Each rule fills the record it is given (see Seen); build-ast.ts turns them into the AST.
 * (Chevrotain's concrete syntax tree, a node, a map of children and a location per rule call, cost
 * most of the parse in allocation and collection.)
 */
export class NnspecParser extends EmbeddedActionsParser {
  /** Alternatives of the hot ORs, built once: chevrotain otherwise allocates them on every call. */
  private readonly alts: Record<string, IOrAlt<unknown>[]> = {};
  /** One options object for every SUBRULE call: chevrotain reads its ARGS as the call starts. */
  private readonly call: SubruleMethodOpts<[Seen]> = { ARGS: [seen()] };
  private pass<R extends Seen>(r: R, label?: string): SubruleMethodOpts<[R]> {
    this.call.ARGS![0] = r;
    this.call.LABEL = label;
    return this.call as unknown as SubruleMethodOpts<[R]>;
  }

  /**
   * Notes the separator MANY_SEP / AT_LEAST_ONE_SEP just consumed (they consume it themselves), so a
   * list cut short after a comma still spans it; called first thing in each element's DEF.
   */
  private sep(r: Seen): void {
    const t = this.LA(0);
    if (t.tokenType === T.Comma) saw(r, t);
  }

  /**
   * `item, item, …` (MANY_SEP) of one rule: each item's record made by `make` and pushed into `list`
   * before its rule runs; `r` is the enclosing rule's record.
   */
  private commaList<R extends Seen>(r: Seen, rule: ParserMethod<[R], unknown>, list: R[], make: () => R, label?: string): void {
    this.MANY_SEP({
      SEP: T.Comma,
      DEF: () => {
        this.sep(r);
        this.SUBRULE(rule, this.pass(push(list, make()), label));
      },
    });
  }

  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3 });
    this.performSelfAnalysis();
  }

  // The records the cached alternatives below fill: set as their rule starts (none of these rules
  // runs inside itself, so no nested call changes them before the alternative reads them).
  private fileR = fileRec();
  private blockR = blockRec();
  private modelR = modelRec();
  private blockDeclR = blockDeclRec();
  /** The unary record being filled: its alternatives read it first thing, before any nested call. */
  private unaryR: UnaryRec = unaryRec();

  file = this.RULE("file", (r: FileRec = fileRec()) => {
    this.fileR = r;
    this.MANY(() => {
      this.OR((this.alts.fileItem ??= [{ ALT: () => this.SUBRULE(this.terminator) }, { ALT: () => this.SUBRULE(this.declaration, this.pass(this.fileR)) }]));
    });
    return r;
  });

  terminator = this.RULE("terminator", (): IToken => this.OR((this.alts.terminator ??= [{ ALT: () => this.CONSUME(T.Newline) }, { ALT: () => this.CONSUME(T.Semicolon) }])) as IToken);

  /** Pushes the declaration's record into the file's before parsing it. */
  declaration = this.RULE("declaration", (f: FileRec = fileRec()) => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl, this.pass(push(f.decls, importRec()))) },
      { ALT: () => this.SUBRULE(this.dataDecl, this.pass(push(f.decls, dataRec()))) },
      { ALT: () => this.SUBRULE(this.modelDecl, this.pass(push(f.decls, modelRec()))) },
      { ALT: () => this.SUBRULE(this.trainDecl, this.pass(push(f.decls, trainRec()))) },
      { ALT: () => this.SUBRULE(this.blockDecl, this.pass(push(f.decls, blockDeclRec()))) },
    ]);
  });

  /** import "file.nnspec"  |  import a, b from "file.nnspec" */
  importDecl = this.RULE("importDecl", (r: ImportRec = importRec()) => {
    saw(r, this.CONSUME(T.Import));
    this.OPTION(() => {
      this.AT_LEAST_ONE_SEP({
        SEP: T.Comma,
        DEF: () => {
          this.sep(r);
          r.names.push(saw(r, this.CONSUME(T.Identifier, LABEL.names)));
        },
      });
      saw(r, this.CONSUME(T.From));
    });
    r.path = saw(r, this.CONSUME(T.StringLiteral, LABEL.path));
  });

  /** data NAME { statements } */
  dataDecl = this.RULE("dataDecl", (r: DataRec = dataRec()) => {
    saw(r, this.CONSUME(T.Data));
    r.name = saw(r, this.CONSUME(T.Identifier, LABEL.name));
    this.SUBRULE(this.block, this.pass((r.body = blockRec())));
  });

  /** train MODEL on DATA { statements } */
  trainDecl = this.RULE("trainDecl", (r: TrainRec = trainRec()) => {
    saw(r, this.CONSUME(T.Train));
    r.model = saw(r, this.CONSUME(T.Identifier, LABEL.model));
    saw(r, this.CONSUME(T.On));
    r.data = saw(r, this.CONSUME2(T.Identifier, LABEL.data));
    this.SUBRULE(this.block, this.pass((r.body = blockRec())));
  });

  block = this.RULE("block", (r: BlockRec = blockRec()) => {
    this.blockR = r;
    saw(r, this.CONSUME(T.LBrace));
    this.MANY(() => {
      this.OR((this.alts.blockItem ??= [{ ALT: () => saw(this.blockR, this.SUBRULE(this.terminator)) }, { ALT: () => this.SUBRULE(this.statement, this.pass(push(this.blockR.statements, { s: -1, e: -1 }))) }]));
    });
    saw(r, this.CONSUME(T.RBrace));
  });

  /** HEAD term*  — e.g. `optimizer adam lr: 0.01`, `features 0..3` */
  statement = this.RULE("statement", (r: StatementRec = seen()) => {
    r.head = saw(r, this.CONSUME(T.Identifier, LABEL.head));
    this.SUBRULE(this.terms, this.pass((r.terms = termsRec())));
  });

  terms = this.RULE("terms", (r: TermsRec = termsRec()) => {
    this.MANY(() => {
      this.SUBRULE(this.term, this.pass(push(r.terms, termRec())));
      this.OPTION(() => {
        const comma = saw(r, this.CONSUME(T.Comma));
        if (real(comma)) r.terms[r.terms.length - 1].comma = true;
      });
    });
  });

  /** value | value ":" value */
  term = this.RULE("term", (r: TermRec = termRec()) => {
    this.SUBRULE(this.expression, this.pass((r.key = exprRec()), "key"));
    this.OPTION(() => {
      r.colon = saw(r, this.CONSUME(T.Colon));
      this.SUBRULE2(this.expression, this.pass((r.value = exprRec()), "value"));
    });
  });

  /** model NAME(inputs) -> outputs { layers } */
  modelDecl = this.RULE("modelDecl", (r: ModelRec = modelRec()) => {
    this.modelR = r;
    saw(r, this.CONSUME(T.Model));
    r.name = saw(r, this.CONSUME(T.Identifier, LABEL.name));
    saw(r, this.CONSUME(T.LParen));
    this.commaList(r, this.param, r.params, seen);
    saw(r, this.CONSUME(T.RParen));
    this.OPTION(() => {
      saw(r, this.CONSUME(T.Arrow));
      this.SUBRULE(this.outputs, this.pass((r.outputs = { s: -1, e: -1, grouped: false, outputs: [] })));
    });
    saw(r, this.CONSUME(T.LBrace));
    this.MANY2(() => {
      this.OR((this.alts.layerItem ??= [{ ALT: () => saw(this.modelR, this.SUBRULE(this.terminator)) }, { ALT: () => this.SUBRULE(this.layer, this.pass(push(this.modelR.layers, layerRec()))) }]));
    });
    saw(r, this.CONSUME(T.RBrace));
  });

  /** block NAME(params) { layers }: a sub-network used like a layer */
  blockDecl = this.RULE("blockDecl", (r: BlockDeclRec = blockDeclRec()) => {
    this.blockDeclR = r;
    saw(r, this.CONSUME(T.Block));
    r.name = saw(r, this.CONSUME(T.Identifier, LABEL.name));
    saw(r, this.CONSUME(T.LParen));
    this.commaList(r, this.blockParam, r.params, seen);
    saw(r, this.CONSUME(T.RParen));
    saw(r, this.CONSUME(T.LBrace));
    this.MANY(() => {
      this.OR((this.alts.blockLayerItem ??= [{ ALT: () => saw(this.blockDeclR, this.SUBRULE(this.terminator)) }, { ALT: () => this.SUBRULE(this.layer, this.pass(push(this.blockDeclR.layers, layerRec()))) }]));
    });
    saw(r, this.CONSUME(T.RBrace));
  });

  /** d   |   ff: 64 */
  blockParam = this.RULE("blockParam", (r: BlockParamRec = seen()) => {
    r.name = saw(r, this.CONSUME(T.Identifier, LABEL.name));
    this.OPTION(() => {
      saw(r, this.CONSUME(T.Colon));
      this.SUBRULE(this.expression, this.pass((r.dflt = exprRec()), "default"));
    });
  });

  /** x: [4]   |   ids: int[seq] */
  param = this.RULE("param", (r: ParamRec = seen()) => {
    r.name = saw(r, this.CONSUME(T.Identifier, LABEL.name));
    saw(r, this.CONSUME(T.Colon));
    this.SUBRULE(this.tensorType, this.pass((r.type = tensorTypeRec())));
  });

  tensorType = this.RULE("tensorType", (r: TensorTypeRec = tensorTypeRec()) => {
    this.OPTION(() => (r.dtype = saw(r, this.CONSUME(T.Identifier, LABEL.dtype))));
    this.SUBRULE(this.shape, this.pass((r.shape = shapeRec())));
  });

  shape = this.RULE("shape", (r: ShapeRec = shapeRec()) => {
    r.open = saw(r, this.CONSUME(T.LBracket));
    this.commaList(r, this.expression, r.dims, exprRec, "dims");
    saw(r, this.CONSUME(T.RBracket));
  });

  outputs = this.RULE("outputs", (r: OutputsRec = { s: -1, e: -1, grouped: false, outputs: [] }) => {
    this.OR([
      {
        ALT: () => {
          r.grouped = real(saw(r, this.CONSUME(T.LParen)));
          this.AT_LEAST_ONE_SEP({
            SEP: T.Comma,
            DEF: () => {
              this.sep(r);
              this.SUBRULE(this.output, this.pass(push(r.outputs, outputRec())));
            },
          });
          saw(r, this.CONSUME(T.RParen));
        },
      },
      { ALT: () => this.SUBRULE2(this.output, this.pass(push(r.outputs, outputRec()))) },
    ]);
  });

  /** logits: [3]  |  [3]  |  int[3]  |  logits */
  output = this.RULE("output", (r: OutputRec = outputRec()) => {
    this.OR([
      {
        ALT: () => {
          r.name = saw(r, this.CONSUME(T.Identifier, LABEL.name));
          this.OPTION(() => {
            this.OR2([
              {
                ALT: () => {
                  r.colon = saw(r, this.CONSUME(T.Colon));
                  this.SUBRULE(this.tensorType, this.pass((r.type = tensorTypeRec())));
                },
              },
              // `int[3]`: the name was a dtype
              { ALT: () => this.SUBRULE(this.shape, this.pass((r.shape = shapeRec()))) },
            ]);
          });
        },
      },
      { ALT: () => this.SUBRULE2(this.shape, this.pass((r.shape = shapeRec()))) },
    ]);
  });

  /** (NAME ("," NAME)* =)? (INPUT ->)? KIND term*  — one layer per line; several names take a
   * layer's several outputs (`out, h, c = lstm 64 return_state: true`) */
  layer = this.RULE("layer", (r: LayerRec = layerRec()) => {
    this.OPTION(() => {
      r.targets.push(saw(r, this.CONSUME(T.Identifier, LABEL.target)));
      this.MANY(() => {
        saw(r, this.CONSUME(T.Comma));
        r.targets.push(saw(r, this.CONSUME4(T.Identifier, LABEL.target)));
      });
      saw(r, this.CONSUME(T.Equals));
    });
    this.OPTION2(() => {
      r.input = saw(r, this.CONSUME2(T.Identifier, LABEL.input));
      saw(r, this.CONSUME(T.Arrow));
    });
    r.kind = saw(r, this.CONSUME3(T.Identifier, LABEL.kind));
    this.SUBRULE(this.terms, this.pass((r.terms = termsRec())));
  });

  /** arith ( ".." arith )? — a range binds loosest, so `0..n - 1` is `0..(n - 1)` */
  expression = this.RULE("expression", (r: ExprRec = exprRec()) => {
    this.SUBRULE(this.arith, this.pass((r.from = arithRec()), "from"));
    this.OPTION(() => {
      r.dotdot = saw(r, this.CONSUME(T.DotDot));
      this.SUBRULE2(this.arith, this.pass((r.to = arithRec()), "to"));
    });
  });

  /** unary ( op unary )*: one flat rule (fewer records per value); the AST builder gives `*` and `/` precedence over `+` and `-`. */
  arith = this.RULE("arith", (r: ArithRec = arithRec()) => {
    this.SUBRULE(this.unary, this.pass(push(r.operands, unaryRec()), "operands"));
    this.MANY(() => {
      const op = this.OR((this.alts.arithOp ??= [
        { ALT: () => this.CONSUME(T.Plus, LABEL.ops) },
        { ALT: () => this.CONSUME(T.Minus, LABEL.ops) },
        { ALT: () => this.CONSUME(T.Star, LABEL.ops) },
        { ALT: () => this.CONSUME(T.Slash, LABEL.ops) },
      ])) as IToken;
      (r.ops ??= []).push(saw(r, op));
      this.SUBRULE2(this.unary, this.pass(push(r.operands, unaryRec()), "operands"));
    });
  });

  unary = this.RULE("unary", (r: UnaryRec = unaryRec()) => {
    this.unaryR = r;
    this.OR((this.alts.unary ??= [
      {
        ALT: () => {
          const u = this.unaryR;
          saw(u, (u.minus = this.CONSUME(T.Minus)));
          this.SUBRULE(this.unary, this.pass((u.inner = unaryRec())));
        },
      },
      { ALT: () => saw(this.unaryR, (this.unaryR.num = this.CONSUME(T.NumberLiteral))) },
      { ALT: () => saw(this.unaryR, (this.unaryR.str = this.CONSUME(T.StringLiteral))) },
      { ALT: () => this.SUBRULE(this.nameOrCall, this.pass((this.unaryR.call = { s: -1, e: -1 }))) },
      { ALT: () => this.SUBRULE(this.list, this.pass((this.unaryR.list = { s: -1, e: -1, items: [] }))) },
      {
        ALT: () => {
          const u = this.unaryR;
          saw(u, this.CONSUME(T.LParen));
          this.SUBRULE(this.expression, this.pass((u.paren = exprRec())));
          saw(u, this.CONSUME(T.RParen));
        },
      },
    ]));
  });

  /** name | name(args) | int[shape] */
  nameOrCall = this.RULE("nameOrCall", (r: NameOrCallRec = { s: -1, e: -1 }) => {
    r.name = saw(r, this.CONSUME(T.Identifier, LABEL.name));
    this.OPTION(() => {
      r.open = saw(r, this.CONSUME(T.LParen));
      this.commaList(r, this.term, (r.args = []), termRec, "args");
      saw(r, this.CONSUME(T.RParen));
    });
  });

  list = this.RULE("list", (r: ListRec = { s: -1, e: -1, items: [] }) => {
    saw(r, this.CONSUME(T.LBracket));
    this.commaList(r, this.expression, r.items, exprRec, "items");
    saw(r, this.CONSUME(T.RBracket));
  });
}

const layerRec = (): LayerRec => ({ s: -1, e: -1, targets: [] });

function push<L, R extends L>(list: L[], r: R): R {
  list.push(r);
  return r;
}

export const parser = new NnspecParser();

export function parseTokens(tokens: IToken[]): { file: FileRec; errors: typeof parser.errors } {
  parser.input = tokens;
  const file = fileRec();
  parser.file(file);
  return { file, errors: parser.errors };
}
