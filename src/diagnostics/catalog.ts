import type { Severity } from "./diagnostic.ts";

export interface CatalogEntry {
  code: string;
  severity: Severity;
  /** Title line; `{name}` placeholders are filled from the diagnostic's parameters. */
  message: string;
  /** Default label under the primary span. */
  label?: string;
  help?: string;
  /** A paragraph for `nnspec explain CODE` and the editor's code link. */
  explain: string;
}

/**
 * Every message nnspec prints. Codes are stable: never renumber, only add.
 * NN00xx lexical, NN01xx syntax, NN02xx names and statements, NN03xx shapes.
 */
export const CATALOG = {
  // ── lexical ──
  unexpectedCharacter: {
    code: "NN0001",
    severity: "error",
    message: "unexpected character {char}",
    label: "not part of the nnspec language",
    explain: "The lexer met a character that starts no token. Names use letters, digits and `_`; strings use double quotes; comments start with `#` or `//`.",
  },
  unterminatedString: {
    code: "NN0002",
    severity: "error",
    message: "unterminated string",
    label: "this string has no closing quote",
    help: 'close the string with `"` on the same line',
    explain: "A string starts with `\"` and must end with `\"` on the same line. Use `\\n` for a newline inside a string.",
  },
  invalidEscape: {
    code: "NN0003",
    severity: "error",
    message: "invalid escape sequence {escape}",
    label: "unknown escape",
    help: "valid escapes are \\\\, \\\", \\n, \\t, \\r, \\uXXXX and \\u{X...}; write \\\\ for a backslash",
    explain: "Strings accept the escapes \\\\, \\\", \\n, \\t, \\r, \\uXXXX and \\u{X...}. Any other character after a backslash is an error.",
  },
  unterminatedComment: {
    code: "NN0004",
    severity: "error",
    message: "unterminated block comment",
    label: "this comment is never closed",
    help: "close it with `*/`",
    explain: "A block comment starts with `/*` and ends with the next `*/`.",
  },
  malformedNumber: {
    code: "NN0005",
    severity: "error",
    message: "malformed number {text}",
    label: "the exponent has no digits",
    help: "write an exponent with digits, such as 1e-3",
    explain: "Numbers are integers (128), decimals (0.5, .5) or scientific (1e-3, 2.5E4). An exponent marker needs digits after it.",
  },
  nestingTooDeep: {
    code: "NN0006",
    severity: "error",
    message: "brackets nested deeper than {limit} levels",
    label: "nesting too deep",
    explain: "nnspec refuses bracket nesting deeper than a fixed limit so that no input can exhaust the parser's stack. Real specs never come close.",
  },

  // ── syntax ──
  expectedToken: {
    code: "NN0101",
    severity: "error",
    message: "expected {expected}, found {found}",
    label: "expected {expected} here",
    explain: "The parser expected a particular token at this point. The rest of the file is still parsed.",
  },
  expectedDeclaration: {
    code: "NN0102",
    severity: "error",
    message: "expected a declaration (`import`, `data`, `model` or `train`), found {found}",
    label: "not a declaration",
    explain: "At the top level a file holds only `import`, `data`, `model` and `train` declarations.",
  },
  unclosedBlock: {
    code: "NN0103",
    severity: "error",
    message: "unclosed `{open}`",
    label: "this `{open}` is never closed",
    help: "add `{close}`",
    explain: "Every `{`, `(` and `[` needs its closing partner before the end of the file.",
  },
  unmatchedClose: {
    code: "NN0104",
    severity: "error",
    message: "unmatched `{close}`",
    label: "nothing to close here",
    help: "remove it, or add the opening `{open}` it belongs to",
    explain: "A closing bracket appeared with no matching opening bracket before it.",
  },
  expectedValue: {
    code: "NN0105",
    severity: "error",
    message: "expected a value, found {found}",
    label: "expected a number, string, name, list or call",
    explain: "Values are numbers, strings, names, lists `[a, b]`, ranges `a..b`, calls `name(args)` and arithmetic on numbers and dimension names.",
  },
  expectedStatement: {
    code: "NN0106",
    severity: "error",
    message: "expected a statement, found {found}",
    label: "a statement starts with a keyword or layer kind",
    explain: "Inside a block each line is one statement: a keyword (or, in a model, a layer kind) followed by values and `name: value` options.",
  },
  expectedShape: {
    code: "NN0107",
    severity: "error",
    message: "expected a shape such as [28, 28, 1], found {found}",
    label: "expected a shape",
    explain: "A tensor signature gives a name and a shape: `x: [4]`, `img: [28, 28, 1]`, `ids: int[seq]`. The batch dimension is implicit.",
  },
  trailingInput: {
    code: "NN0108",
    severity: "error",
    message: "unexpected {found} after the end of the statement",
    label: "unexpected here",
    help: "put each statement on its own line, or separate statements with `;`",
    explain: "A statement ends at the end of its line or at `;`. Something followed that is not part of the statement.",
  },

  // ── shapes ──
  rankMismatch: {
    code: "NN0301",
    severity: "error",
    message: "`{layer}` expects {expected} but gets {got}",
    label: "{got} arrives here",
    explain: "Each layer kind needs inputs of a certain rank: conv2d and the 2-D pools need [h, w, channels], conv1d needs [steps, channels], dense needs at least one axis. The note shows the layers the input came through.",
  },
  nonPositiveDim: {
    code: "NN0302",
    severity: "error",
    message: "`{layer}` would make a dimension of size {size}",
    label: "{why}",
    explain: "A convolution or pooling window larger than its input (with valid padding) leaves nothing. Use `padding: same`, a smaller window or stride, or remove a downsampling layer earlier.",
  },
  mergeMismatch: {
    code: "NN0303",
    severity: "error",
    message: "`{layer}` cannot combine {detail}",
    label: "shapes do not match",
    explain: "`add` needs inputs of identical shape; `concat` needs the same rank and the same size on every axis except the one it joins.",
  },
  reshapeCount: {
    code: "NN0304",
    severity: "error",
    message: "`reshape` to {target} needs {need} elements per example, but its input {got} has {have}",
    label: "element count changes",
    explain: "A reshape keeps the number of elements. One dimension may be -1 and is inferred from the others.",
  },
  outputMismatch: {
    code: "NN0305",
    severity: "error",
    message: "model `{model}` declares output {declared} but produces {got}",
    label: "declared here",
    explain: "The shape after the model's `->` must equal what its last layer (or the named tensor) produces. The note shows where the shape came from.",
  },
  unknownDimension: {
    code: "NN0306",
    severity: "error",
    message: "unknown dimension `{name}`",
    label: "not declared in the model's inputs",
    explain: "A symbolic dimension must first appear in one of the model's input shapes, such as `x: [n, 16]`.",
  },
  invalidDimension: {
    code: "NN0307",
    severity: "error",
    message: "invalid dimension {text}",
    label: "{why}",
    explain: "A dimension is a positive integer, a name such as `n`, or arithmetic of them such as `n * 2`.",
  },
  invalidShapeArgument: {
    code: "NN0308",
    severity: "error",
    message: "{message}",
    explain: "An option that depends on the input shape (an axis, a window) does not fit the input this layer receives.",
  },

  // ── names and statements ──
  unknownLayer: {
    code: "NN0201",
    severity: "error",
    message: "unknown layer kind `{name}`",
    label: "not a layer kind",
    explain: "Layer lines start with a layer kind from the catalog (`nnspec layers` lists them).",
  },
  unknownOption: {
    code: "NN0202",
    severity: "error",
    message: "unknown option `{name}` for {owner}",
    label: "{owner} has no option `{name}`",
    explain: "Each layer kind, loss, optimizer and statement accepts a fixed set of options.",
  },
  unknownStatement: {
    code: "NN0203",
    severity: "error",
    message: "unknown statement `{name}` in a {block} block",
    label: "not a {block} statement",
    explain: "`data` blocks accept: from, format, columns, features, label, standardize, minmax, onehot, reshape, scale, missing, split. `train` blocks accept: loss, optimizer, schedule, epochs, batch, metrics, early_stopping, seed.",
  },
  duplicateStatement: {
    code: "NN0204",
    severity: "error",
    message: "`{name}` is given twice",
    label: "second `{name}`",
    help: "remove one of them",
    explain: "Statements that set a single property (such as `epochs` or `loss`) may appear once per block.",
  },
  missingStatement: {
    code: "NN0205",
    severity: "error",
    message: "{block} `{name}` has no `{statement}`",
    label: "needs a `{statement}` statement",
    explain: "Some statements are required: a `data` block needs a source and labels; a `train` block needs a loss and an optimizer.",
  },
  unknownName: {
    code: "NN0206",
    severity: "error",
    message: "unknown {what} `{name}`",
    label: "no {what} named `{name}`",
    explain: "A name must be declared before use: models and data sets at the top level (or imported), tensors in the model signature or on the left of `=`.",
  },
  duplicateName: {
    code: "NN0207",
    severity: "error",
    message: "{what} `{name}` is defined twice",
    label: "second definition",
    explain: "Names of models, data sets and tensors must be unique in their scope.",
  },
  invalidArgument: {
    code: "NN0208",
    severity: "error",
    message: "{message}",
    explain: "An argument has the wrong type or value for its position.",
  },
  unknownChoice: {
    code: "NN0209",
    severity: "error",
    message: "unknown {what} `{name}`",
    label: "not a known {what}",
    explain: "This position accepts one of a fixed set of names.",
  },
  importFailed: {
    code: "NN0210",
    severity: "error",
    message: "cannot import {path}: {reason}",
    label: "imported here",
    explain: "An `import` names another .nnspec file relative to the importing file. The file must exist and parse.",
  },
  importCycle: {
    code: "NN0211",
    severity: "error",
    message: "import cycle: {cycle}",
    label: "this import closes the cycle",
    explain: "Files may not import each other in a cycle.",
  },
  unusedTensor: {
    code: "NN0212",
    severity: "warning",
    message: "tensor `{name}` is defined but never used",
    label: "never used",
    explain: "A named tensor that no later layer reads and that is not a model output is dead code.",
  },
} as const satisfies Record<string, CatalogEntry>;

export type MessageKey = keyof typeof CATALOG;

export function entryByCode(code: string): (CatalogEntry & { key: MessageKey }) | undefined {
  for (const [key, e] of Object.entries(CATALOG)) if (e.code === code) return { ...e, key: key as MessageKey };
  return undefined;
}
