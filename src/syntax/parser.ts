import { CstParser, type CstNode, type IOrAlt, type IToken } from "chevrotain";
import * as T from "./tokens.ts";

/**
 * The concrete grammar. Statements inside blocks share one shape, `head term*`, where a term is a
 * value optionally followed by `: value`; what each head accepts is checked after parsing, so the
 * grammar stays small and every statement recovers the same way.
 */
export class NnspecParser extends CstParser {
  /** Alternatives of the hot ORs, built once: chevrotain otherwise allocates them on every call. */
  private readonly alts: Record<string, IOrAlt<unknown>[]> = {};

  constructor() {
    super(T.allTokens, { recoveryEnabled: true, nodeLocationTracking: "onlyOffset", maxLookahead: 3 });
    this.performSelfAnalysis();
  }

  file = this.RULE("file", () => {
    this.MANY(() => {
      this.OR((this.alts.fileItem ??= [{ ALT: () => this.SUBRULE(this.terminator) }, { ALT: () => this.SUBRULE(this.declaration) }]));
    });
  });

  terminator = this.RULE("terminator", () => {
    this.OR((this.alts.terminator ??= [{ ALT: () => this.CONSUME(T.Newline) }, { ALT: () => this.CONSUME(T.Semicolon) }]));
  });

  declaration = this.RULE("declaration", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.dataDecl) },
      { ALT: () => this.SUBRULE(this.modelDecl) },
      { ALT: () => this.SUBRULE(this.trainDecl) },
      { ALT: () => this.SUBRULE(this.blockDecl) },
    ]);
  });

  /** import "file.nnspec"  |  import a, b from "file.nnspec" */
  importDecl = this.RULE("importDecl", () => {
    this.CONSUME(T.Import);
    this.OPTION(() => {
      this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Identifier, { LABEL: "names" }) });
      this.CONSUME(T.From);
    });
    this.CONSUME(T.StringLiteral, { LABEL: "path" });
  });

  /** data NAME { statements } */
  dataDecl = this.RULE("dataDecl", () => {
    this.CONSUME(T.Data);
    this.CONSUME(T.Identifier, { LABEL: "name" });
    this.SUBRULE(this.block);
  });

  /** train MODEL on DATA { statements } */
  trainDecl = this.RULE("trainDecl", () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.Identifier, { LABEL: "model" });
    this.CONSUME(T.On);
    this.CONSUME2(T.Identifier, { LABEL: "data" });
    this.SUBRULE(this.block);
  });

  block = this.RULE("block", () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR((this.alts.blockItem ??= [{ ALT: () => this.SUBRULE(this.terminator) }, { ALT: () => this.SUBRULE(this.statement) }]));
    });
    this.CONSUME(T.RBrace);
  });

  /** HEAD term*  — e.g. `optimizer adam lr: 0.01`, `features 0..3` */
  statement = this.RULE("statement", () => {
    this.CONSUME(T.Identifier, { LABEL: "head" });
    this.SUBRULE(this.terms);
  });

  terms = this.RULE("terms", () => {
    this.MANY(() => {
      this.SUBRULE(this.term);
      this.OPTION(() => this.CONSUME(T.Comma));
    });
  });

  /** value | value ":" value */
  term = this.RULE("term", () => {
    this.SUBRULE(this.expression, { LABEL: "key" });
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE2(this.expression, { LABEL: "value" });
    });
  });

  /** model NAME(inputs) -> outputs { layers } */
  modelDecl = this.RULE("modelDecl", () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier, { LABEL: "name" });
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.param) });
    this.CONSUME(T.RParen);
    this.OPTION(() => {
      this.CONSUME(T.Arrow);
      this.SUBRULE(this.outputs);
    });
    this.CONSUME(T.LBrace);
    this.MANY2(() => {
      this.OR((this.alts.layerItem ??= [{ ALT: () => this.SUBRULE(this.terminator) }, { ALT: () => this.SUBRULE(this.layer) }]));
    });
    this.CONSUME(T.RBrace);
  });

  /** block NAME(params) { layers }: a sub-network used like a layer */
  blockDecl = this.RULE("blockDecl", () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier, { LABEL: "name" });
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.blockParam) });
    this.CONSUME(T.RParen);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR((this.alts.blockLayerItem ??= [{ ALT: () => this.SUBRULE(this.terminator) }, { ALT: () => this.SUBRULE(this.layer) }]));
    });
    this.CONSUME(T.RBrace);
  });

  /** d   |   ff: 64 */
  blockParam = this.RULE("blockParam", () => {
    this.CONSUME(T.Identifier, { LABEL: "name" });
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.expression, { LABEL: "default" });
    });
  });

  /** x: [4]   |   ids: int[seq] */
  param = this.RULE("param", () => {
    this.CONSUME(T.Identifier, { LABEL: "name" });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.tensorType);
  });

  tensorType = this.RULE("tensorType", () => {
    this.OPTION(() => this.CONSUME(T.Identifier, { LABEL: "dtype" }));
    this.SUBRULE(this.shape);
  });

  shape = this.RULE("shape", () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression, { LABEL: "dims" }) });
    this.CONSUME(T.RBracket);
  });

  outputs = this.RULE("outputs", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.output) });
          this.CONSUME(T.RParen);
        },
      },
      { ALT: () => this.SUBRULE2(this.output) },
    ]);
  });

  /** logits: [3]  |  [3]  |  int[3]  |  logits */
  output = this.RULE("output", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Identifier, { LABEL: "name" });
          this.OPTION(() => {
            this.OR2([
              {
                ALT: () => {
                  this.CONSUME(T.Colon);
                  this.SUBRULE(this.tensorType);
                },
              },
              // `int[3]`: the name was a dtype
              { ALT: () => this.SUBRULE(this.shape) },
            ]);
          });
        },
      },
      { ALT: () => this.SUBRULE2(this.shape) },
    ]);
  });

  /** (NAME ("," NAME)* =)? (INPUT ->)? KIND term*  — one layer per line; several names take a
   * layer's several outputs (`out, h, c = lstm 64 return_state: true`) */
  layer = this.RULE("layer", () => {
    this.OPTION(() => {
      this.CONSUME(T.Identifier, { LABEL: "target" });
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.CONSUME4(T.Identifier, { LABEL: "target" });
      });
      this.CONSUME(T.Equals);
    });
    this.OPTION2(() => {
      this.CONSUME2(T.Identifier, { LABEL: "input" });
      this.CONSUME(T.Arrow);
    });
    this.CONSUME3(T.Identifier, { LABEL: "kind" });
    this.SUBRULE(this.terms);
  });

  /** arith ( ".." arith )? — a range binds loosest, so `0..n - 1` is `0..(n - 1)` */
  expression = this.RULE("expression", () => {
    this.SUBRULE(this.arith, { LABEL: "from" });
    this.OPTION(() => {
      this.CONSUME(T.DotDot);
      this.SUBRULE2(this.arith, { LABEL: "to" });
    });
  });

  /** unary ( op unary )*: one flat rule (fewer tree nodes per value); the AST builder gives `*` and `/` precedence over `+` and `-`. */
  arith = this.RULE("arith", () => {
    this.SUBRULE(this.unary, { LABEL: "operands" });
    this.MANY(() => {
      this.OR((this.alts.arithOp ??= [
        { ALT: () => this.CONSUME(T.Plus, { LABEL: "ops" }) },
        { ALT: () => this.CONSUME(T.Minus, { LABEL: "ops" }) },
        { ALT: () => this.CONSUME(T.Star, { LABEL: "ops" }) },
        { ALT: () => this.CONSUME(T.Slash, { LABEL: "ops" }) },
      ]));
      this.SUBRULE2(this.unary, { LABEL: "operands" });
    });
  });

  unary = this.RULE("unary", () => {
    this.OR((this.alts.unary ??= [
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.SUBRULE(this.unary);
        },
      },
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.SUBRULE(this.nameOrCall) },
      { ALT: () => this.SUBRULE(this.list) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expression);
          this.CONSUME(T.RParen);
        },
      },
    ]));
  });

  /** name | name(args) | int[shape] */
  nameOrCall = this.RULE("nameOrCall", () => {
    this.CONSUME(T.Identifier, { LABEL: "name" });
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.term, { LABEL: "args" }) });
      this.CONSUME(T.RParen);
    });
  });

  list = this.RULE("list", () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression, { LABEL: "items" }) });
    this.CONSUME(T.RBracket);
  });
}

export const parser = new NnspecParser();

export function parseTokens(tokens: IToken[]): { cst: CstNode; errors: typeof parser.errors } {
  parser.input = tokens;
  const cst = parser.file();
  return { cst, errors: parser.errors };
}
