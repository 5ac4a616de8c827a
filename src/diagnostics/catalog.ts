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
  /** A name for a warning, usable instead of its code in `# nnspec: allow NAME`. */
  name?: string;
}

/** The families of codes, by their hundreds: NN00xx lexical … NN06xx data. */
export type Category = "lexical" | "syntax" | "names" | "shapes" | "cross-declaration" | "lint" | "data";
const CATEGORIES: readonly Category[] = ["lexical", "syntax", "names", "shapes", "cross-declaration", "lint", "data"];

/** The category of a code such as `NN0305`; undefined for anything else. */
export function category(code: string): Category | undefined {
  const m = /^NN0(\d)\d\d$/.exec(code);
  return m ? CATEGORIES[Number(m[1])] : undefined;
}

/**
 * Every message nnspec prints. Codes are stable: never renumber, only add.
 * NN00xx lexical, NN01xx syntax, NN02xx names and statements, NN03xx shapes,
 * NN04xx model, data and loss against each other, NN05xx lints (NN059x: `nnspec: allow` comments),
 * NN06xx data files.
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

  tooManyOperators: {
    code: "NN0007",
    severity: "error",
    message: "more than {limit} operators in one expression",
    label: "expression too long",
    explain: "nnspec refuses expressions that chain more operators than a fixed limit, so that no input can exhaust the parser's stack. Real specs never come close.",
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
  stateMismatch: {
    code: "NN0315",
    severity: "error",
    message: "{message}",
    label: "{label}",
    explain:
      "`initial_state: [h, c]` starts a recurrent layer from given states instead of zeros, as Keras's `initial_state`: one per state (h for `simple_rnn` and `gru`; h and c for `lstm`), each [units] per example, usually the states another recurrent layer returned with `return_state: true` (an encoder's, for a decoder). A `bidirectional` layer cannot take or return states yet.",
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
  tooLarge: {
    code: "NN0310",
    severity: "error",
    message: "`{layer}` needs {what}: more than the {limit} values one buffer can hold",
    label: "too large to allocate",
    explain:
      "The interpreter keeps each parameter tensor and each layer's output in one typed array, and a JavaScript typed array holds at most 2^31 − 1 values (TensorFlow.js has the same bound). A layer whose weights or per-example output exceed it could never be allocated, so `check` says so instead of `train` failing with a RangeError.",
  },
  maskDropped: {
    code: "NN0311",
    severity: "warning",
    name: "mask-dropped",
    message: "`{layer}` drops the padding mask that `{source}` makes before any recurrent layer uses it",
    label: "`{kind}` does not carry a mask",
    help: "read the sequence with a recurrent layer before this one (an `lstm`, `gru` or `simple_rnn` uses the mask), or remove `mask_zero: true`",
    explain:
      "`embedding ... mask_zero: true` marks the steps whose id is 0 as padding. Layers that work step by step (dense, dropout, relu and the other plain activations, batch and layer normalization) pass the mark on; recurrent layers use it (a padded step leaves the state unchanged) and pass it on while they return every step. Any other layer drops it, as TensorFlow.js does: the layers after it then treat padded steps like the others, and `mask_zero` has no effect.",
  },
  maskStale: {
    code: "NN0313",
    severity: "error",
    message: "`{layer}` would read the padding mask of `{source}` in TensorFlow.js, which `{by}` drops on the way",
    label: "the mask no longer reaches this layer",
    help: "read the sequence with a recurrent layer before `{by}`, or remove `mask_zero: true`",
    explain:
      "A layer that does not carry the padding mask of `embedding ... mask_zero: true` drops it, and the layers after it treat every step alike; that is what nnspec and PyTorch compute. TensorFlow.js, however, keeps the last mask it saw and hands it to every later recurrent layer, even one whose steps no longer line up with the ids. The two would train different models, so a recurrent layer may not follow a layer that dropped a mask.",
  },
  maskAfterMerge: {
    code: "NN0314",
    severity: "error",
    message: "`{layer}` reads the padding mask of `{source}` after `{merge}`, whose mask TensorFlow.js 4.22 builds wrong",
    label: "a recurrent layer after a masked merge",
    help: "read the sequence with the recurrent layer before `{merge}`, or remove `mask_zero: true`",
    explain:
      "`add` and `concat` pass a padding mask on (nnspec, Keras and PyTorch agree). TensorFlow.js 4.22's merge layers, however, return the mask with an extra leading axis and only from their first input, and a recurrent layer given that mask fails when the generated model runs. Attention layers read it correctly; recurrent layers after a masked merge are refused until TensorFlow.js is fixed.",
  },
  maskAtOutput: {
    code: "NN0312",
    severity: "warning",
    name: "masked-output",
    message: "the output of `{model}` still carries the padding mask that `{source}` makes; training counts the padded steps",
    label: "masked output",
    help: "end the mask before the output: a recurrent layer without `return_sequences` reads the sequence down to one vector",
    explain:
      "Keras weights the loss of a masked output by its mask, so padded steps do not count. TensorFlow.js does not, and neither do nnspec's losses and metrics, which count every value of the output: a per-step output trained on padded sequences learns to predict the padding too.",
  },
  intInput: {
    code: "NN0309",
    severity: "error",
    message: "`{layer}` reads floating-point values, but `{tensor}` holds integers",
    label: "`{kind}` cannot take an int tensor",
    help: "feed `{tensor}` to an `embedding` layer first, or declare it as floats: `{tensor}: {shape}`",
    explain:
      "An input declared `int[...]` holds integer ids, such as word or category indices. Only an `embedding` layer turns ids into vectors (`flatten` and `reshape` pass them through unchanged); every other layer multiplies floating-point values, and TensorFlow.js refuses an int tensor there at run time. If the values are measurements, declare the input without `int`.",
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
    message: "`{name}` is not a known {what}",
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
  layerOutputCount: {
    code: "NN0213",
    severity: "error",
    message: "`{layer}` returns {count}, but {given}",
    label: "one name per output",
    explain:
      "A layer that returns several tensors takes one name for each, before `=`: `out, h, c = lstm 64 return_state: true` names an LSTM's output and its two final states (h and c; `simple_rnn` and `gru` have one state, h). Without `return_state: true` a recurrent layer returns its output alone.",
  },
  // ── model, data and loss against each other ──
  lossUnits: {
    code: "NN0401",
    severity: "error",
    message: "`{loss}` with {labels} needs {want}, but model `{model}` outputs {got}",
    label: "wrong number of output units",
    explain:
      "The loss, the labels and the model's last layer must agree. `sparse_cross_entropy` with `class(N)` labels and `cross_entropy` with `onehot(N)` labels need N output units, one score per class. `binary_cross_entropy` needs one unit for a `binary` label (or `class(2)`), and k units for k binary label columns (`label 20..24: binary` is 5). `mse`, `mae` and `huber` need one unit per regression target. The fix changes the units of the last dense layer.",
  },
  lossLabelMismatch: {
    code: "NN0402",
    severity: "error",
    message: "`{loss}` does not fit {labels}",
    label: "wrong loss for these labels",
    explain:
      "Each loss expects one kind of label: `sparse_cross_entropy` class indices (`class(N)`), `cross_entropy` one-hot vectors (`onehot(N)`), `binary_cross_entropy` 0/1 values (`binary`, or `class(2)`), `mse`/`mae`/`huber` numbers (`regression`). Class indices with `cross_entropy`, one-hot vectors with `sparse_cross_entropy`, more than two classes with `binary_cross_entropy` or a classification loss on a regression target train nothing sensible. The fix replaces the loss with the one that fits the labels.",
  },
  regressionLossOnClasses: {
    code: "NN0403",
    severity: "warning",
    name: "regression-loss-on-classes",
    message: "`{loss}` treats {labels} as numbers",
    label: "a regression loss on class labels",
    explain:
      "A regression loss such as `mse` on class labels treats class 2 as twice class 1 and predicts values between classes. It is allowed (a warning, not an error) because mean squared error on 0/1 labels is a known, if weaker, way to train a classifier; the usual choice is a cross-entropy loss that matches the labels.",
  },
  doubleActivation: {
    code: "NN0404",
    severity: "error",
    message: "the model ends in `{act}` and `{loss}` has `from_logits: true`: {act} is applied twice",
    label: "`{act}` here",
    explain:
      "`from_logits: true` tells the loss that the model outputs raw scores (logits) and that the loss should apply the softmax or sigmoid itself. When the model already ends in `softmax` or `sigmoid`, the loss squashes probabilities a second time: the loss barely changes with the weights and training stalls. Keep one: remove the model's last activation (the recommended form, numerically stable) or set `from_logits: false`.",
  },
  missingFromLogits: {
    code: "NN0405",
    severity: "warning",
    name: "missing-from-logits",
    message: "`{loss}` expects probabilities, but model `{model}` outputs {what}",
    label: "expects probabilities (`from_logits` is false)",
    explain:
      "Without `from_logits: true` a cross-entropy loss takes the model's outputs as probabilities. A model that ends in a dense layer with no activation outputs raw scores, which can be negative or above 1; the loss then clips them and trains badly. Add `from_logits: true` to the loss (the loss applies the softmax or sigmoid itself), or end the model with `softmax` (`sigmoid` for `binary_cross_entropy`). `sigmoid` before `sparse_cross_entropy` or `cross_entropy` is reported too: its outputs do not sum to 1.",
  },
  featureCount: {
    code: "NN0406",
    severity: "error",
    message: "data `{data}` gives examples of {have}, but model `{model}` takes {want}",
    label: "the model's input",
    explain:
      "Each example the data block produces must have the shape of the model's input. The data's shape is its number of features (a name or an index counts 1, a range `a..b` counts b-a+1, name ranges are resolved against `columns` or the file's header row; without `features`, every column but the label), or the shape given by `reshape`. When the data file can be read, its header is used too. Symbolic input dimensions such as `n` match any size.",
  },
  reshapeFeatures: {
    code: "NN0407",
    severity: "error",
    message: "`reshape {target}` needs {need} values per example, but data `{data}` has {have} features",
    label: "element count changes",
    explain: "A data `reshape` rearranges the features of each example; it cannot add or drop values, so the product of its dimensions must equal the number of features. One dimension may be -1 and is inferred.",
  },
  unknownColumn: {
    code: "NN0408",
    severity: "error",
    message: "column {column} is not in {where}",
    label: "no such column",
    explain:
      "`features` and `label` select columns by name, by index (from 0) or by range. A name must be one of the names given by `columns` or, without `columns`, by the data file's header row; an index must be below the number of columns. This is checked only when the names or the file are known.",
  },
  columnsCount: {
    code: "NN0409",
    severity: "error",
    message: "`columns` names {named} columns, but {file} has {have}",
    label: "wrong number of names",
    explain: "`columns` names every column of the data file, in order. When the file can be read at check time its first data row must have as many values as `columns` has names.",
  },
  splitSum: {
    code: "NN0410",
    severity: "error",
    message: "the split fractions add up to {sum}, more than all the rows",
    label: "more than 1 in all",
    explain:
      "A split part at most 1 is a fraction of the rows (`split train: 0.7, val: 0.15, test: 0.15`); above 1 it is a row count. The fractions together cannot ask for more than every row. With `kfold` the fractions are not checked (the folds split the rows that are not in `test`). The fix adjusts `test`.",
  },
  splitUnused: {
    code: "NN0411",
    severity: "warning",
    name: "split-unused-rows",
    message: "the split fractions add up to {sum}: {rest} of the rows are never used",
    label: "less than 1 in all",
    explain:
      "With `train` given, the rows that no part asks for are left out. Row counts use that on purpose to subsample a large file (`train: 1000, test: 200`), but with fractions it is usually a slip, so it is a warning: give the rest to `test` (the fix), or leave `train` out so that it takes every row the other parts leave.",
  },
  splitTooLarge: {
    code: "NN0412",
    severity: "error",
    message: "the split asks for {need} rows, but {file} has {rows}",
    label: "more rows than the data has",
    explain: "The parts of a split cannot use more rows than the file holds. The row count is known at check time only when the file says it (the metadata line of the scikit-learn files, such as `150,4,...` for 150 rows, or an IDX header), and not after `keep` drops rows.",
  },
  splitEmpty: {
    code: "NN0413",
    severity: "error",
    message: "the `{part}` split would be empty: {detail}",
    label: "no rows",
    explain:
      "Every part a split asks for (train always; val and test when above 0) must receive at least one row, or training and evaluation fail. Fractions are rounded to whole rows by the largest-remainder method, as the loader does, so a part rounds to no row only when it is far below one row. Known only when the file states its row count, and not checked for stratified splits, whose sizes depend on the classes. Write `0` for a part you do not want.",
  },
  stratifiedRegression: {
    code: "NN0414",
    severity: "error",
    message: "`stratified` needs class labels, but the label is a regression target",
    label: "cannot stratify a continuous target",
    explain: "A stratified split keeps each class's share equal across train, validation and test. A regression target has no classes to keep, so `stratified` is an error there; remove it (a shuffled split is the default).",
  },
  metricNeedsClasses: {
    code: "NN0415",
    severity: "error",
    message: "metric `{metric}` needs class labels, but this is a regression",
    label: "a classification metric",
    explain:
      "accuracy, precision, recall and f1 count correct class predictions; a regression has none. Use mse, mae, rmse or r2 for a regression. The reverse (mse, mae, rmse or r2 on classification) is only a warning, NN0416.",
  },
  metricOnClasses: {
    code: "NN0416",
    severity: "warning",
    name: "metric-on-classes",
    message: "metric `{metric}` measures numbers, but the labels are classes",
    label: "a regression metric",
    explain:
      "mse, mae, rmse and r2 compare predicted numbers with the labels. On a classification they measure the predicted probabilities against the 0/1 targets (mse is then the Brier score), which is sometimes wanted, so this is a warning rather than an error. accuracy, precision, recall and f1 are the usual classification metrics.",
  },
  noValidationSplit: {
    code: "NN0417",
    severity: "error",
    message: "early stopping monitors `{monitor}`, but data `{data}` has no validation split",
    label: "needs a `val` split",
    explain: "`early_stopping` watches a validation value (`val_loss` by default) after each epoch. The data block's `split` must then have a `val` part (or `kfold`). Monitor `loss` to stop on the training loss instead.",
  },
  labelInFeatures: {
    code: "NN0418",
    severity: "error",
    message: "the features include the label column {column}",
    label: "selects the label too",
    explain: "A feature selection that includes the label column hands the answer to the model: it learns to copy it and the evaluation means nothing. Select the feature columns without the label.",
  },

  repeatedColumn: {
    code: "NN0420",
    severity: "warning",
    name: "repeated-column",
    message: "{column} is selected twice in `{what}`",
    label: "already selected",
    help: "remove the repeat: each column is read once",
    explain: "A column selector (`features 0..3, 2`, `features a..c, b`) names each column once; a column named again, alone or inside a range, is read only once, so the example has fewer values than the selector seems to list. The checker counts features as the loader reads them.",
  },
  splitNotInteger: {
    code: "NN0419",
    severity: "error",
    message: "`{part}: {value}` is neither a fraction nor a row count",
    label: "not a whole number of rows",
    explain: "A split part is a fraction of the rows when it is at most 1 (`0.8`) and a number of rows when it is larger, which must then be a whole number (`120`).",
  },
  // ── lints ──
  linearCollapse: {
    code: "NN0501",
    severity: "warning",
    name: "linear-collapse",
    message: "two linear layers in a row compute no more than one",
    label: "no activation: a linear map",
    explain:
      "A dense layer without an activation computes x·W₁ + b₁; a dense layer right after it computes (x·W₁ + b₁)·W₂ + b₂, which is again one linear map x·W + b. The stack has more weights but no more power than a single layer. Add a nonlinearity (`relu`) between them, or remove one. Dropout between them does not change this. A deliberate low-rank bottleneck can silence this with `# nnspec: allow linear-collapse`.",
  },
  saturatingStack: {
    code: "NN0502",
    severity: "warning",
    name: "saturating-stack",
    message: "{count} hidden layers use {acts}: gradients vanish through a deep stack of them",
    label: "saturating activation",
    explain:
      "sigmoid and tanh flatten out for large inputs, and their slope is at most 0.25 (sigmoid) or 1 (tanh). Backpropagation multiplies these slopes layer by layer, so with three or more such hidden layers the first layers barely learn (vanishing gradients). relu does not saturate for positive inputs and is the usual choice for hidden layers; sigmoid stays right for a probability output, which this lint does not count.",
  },
  reluRegressionOutput: {
    code: "NN0503",
    severity: "warning",
    name: "relu-regression-output",
    message: "`relu` on a regression output",
    label: "can only predict values ≥ 0",
    help: "end a regression model with a dense layer with no activation",
    explain:
      "A regression output is usually a dense layer with no activation. relu clips every prediction below 0 to 0, and where it does, its gradient is 0, so an output unit that drifts negative stops learning. Even for targets that are never negative, the linear output trains more reliably.",
  },
  softmaxSingleUnit: {
    code: "NN0504",
    severity: "warning",
    name: "softmax-single-unit",
    message: "`softmax` over a single unit always outputs 1",
    label: "softmax of one value is 1",
    explain: "softmax divides each score's exponential by the sum over the last axis. With one unit that is e^x / e^x = 1 for every input, so the model predicts nothing and gets no gradient. For one probability use `sigmoid`; for N classes give the layer N units.",
  },
  layerAfterOutput: {
    code: "NN0505",
    severity: "warning",
    name: "layer-after-output",
    message: "`{layer}` after the output layer",
    label: "the last layer",
    explain:
      "Dropout and batch normalization belong between hidden layers. As the last layer, dropout zeroes (and rescales) the model's predictions during training, and batchnorm rescales them to the batch's statistics, so the outputs no longer mean what the loss expects. Put them before the output layer.",
  },
  learningRate: {
    code: "NN0506",
    severity: "warning",
    name: "learning-rate",
    message: "learning rate {lr} is outside the usual range of `{optimizer}` ({low} to {high})",
    label: "unusual learning rate",
    explain:
      "Each optimizer has a range of learning rates that usually works: sgd, momentum and adagrad 1e-4 to 1, rmsprop, adam and adamw 1e-5 to 0.1. Far above, training diverges (the loss grows or becomes NaN); far below, it barely moves in the given epochs. The fix uses the optimizer's default.",
  },
  tfjsName: {
    code: "NN0507",
    severity: "warning",
    name: "tfjs-name",
    message: "`{name}` is not a valid TensorFlow.js name",
    label: "TensorFlow.js names start with a letter or a digit",
    help: "rename it to start with a letter, such as `{suggestion}`",
    explain:
      "nnspec names may start with `_`, but TensorFlow.js names its layers and inputs after them and accepts only names that start with a letter or a digit (then letters, digits, `_`, `-`, `.` and `/`). The interpreter trains such a model, but `nnspec build --target tfjs` stops on it and `tf.loadLayersModel` cannot open the saved model. Rename the input or layer.",
  },

  // ── `# nnspec: allow` comments ──
  unknownSuppression: {
    code: "NN0590",
    severity: "warning",
    message: "`nnspec: allow` names unknown diagnostic `{name}`",
    label: "not a diagnostic code or lint name",
    explain: "`# nnspec: allow` takes diagnostic codes such as NN0501 or lint names such as `linear-collapse`, separated by commas. `nnspec explain CODE` describes each code.",
  },
  suppressError: {
    code: "NN0591",
    severity: "warning",
    message: "{code} is an error and cannot be silenced",
    label: "errors cannot be allowed",
    explain: "Only warnings can be silenced with `# nnspec: allow`. An error means the spec cannot run as written; fix it instead.",
  },
  unusedSuppression: {
    code: "NN0592",
    severity: "warning",
    message: "`{name}` is allowed {where}, but nothing there reports it",
    label: "silences nothing",
    explain:
      "`# nnspec: allow CODE` on a line (or alone on the line before) silences that warning on that line; `# nnspec: allow-file CODE` silences it in the whole file. An entry that silences nothing is stale, usually after the spec was fixed, and is reported so it gets removed.",
  },
  malformedDirective: {
    code: "NN0593",
    severity: "warning",
    message: "malformed `nnspec:` comment",
    label: "expected `allow` or `allow-file` and a list of codes",
    explain: "A comment starting with `nnspec:` is a directive: `# nnspec: allow NN0501, learning-rate -- reason` or `# nnspec: allow-file NN0501`. Anything else after `nnspec:` is reported so that a typo does not silently allow nothing.",
  },
  // ── data (loading files, NN06xx) ──
  dataFileUnreadable: {
    code: "NN0601",
    severity: "error",
    message: "cannot read {path}: {reason}",
    label: "the file named here",
    explain: "A data file (`from`, `test_from`, `labels:`) is read relative to the spec's folder, or from an absolute path. It must exist and be readable; a `.gz` file must be complete gzip data.",
  },
  dataUnknownColumn: {
    code: "NN0602",
    severity: "error",
    message: "no column `{name}` in {path}",
    label: "not a column of {path}",
    explain: "Columns are named by the file's header row (`header: true`) or by a `columns` statement, and can always be given by index (0-based) or range (`0..3`, `sepal_length..petal_width`, both ends included).",
  },
  dataColumnOutOfRange: {
    code: "NN0603",
    severity: "error",
    message: "column {index} does not exist: {path} has {count} columns (0..{last})",
    label: "no such column",
    explain: "Column indices count from 0; the last column of a file with N columns is N - 1.",
  },
  dataNotNumber: {
    code: "NN0604",
    severity: "error",
    message: "{where}: `{text}` is not a number",
    label: "this data set reads that file",
    explain: "Feature and label cells must be numbers, unless a feature column is one-hot encoded (`onehot COLUMN`) or the label is a class named by text (`class(3, names: [...])`). A first row of column names needs `header: true`; a leading metadata line needs `skip: 1`.",
  },
  dataMissingValue: {
    code: "NN0605",
    severity: "error",
    message: "{where}: missing value ({what})",
    label: "this data set reads that file",
    help: "drop rows with missing values with `missing drop`, or fill features with the training mean with `missing mean`",
    explain: "An empty cell, or one holding NaN, NA, N/A, null or ?, is missing. By default a missing feature or label is an error; `missing drop` drops such rows before the split, and `missing mean` fills a missing feature with its mean over the training split (a missing label is then still an error).",
  },
  dataClassOutOfRange: {
    code: "NN0606",
    severity: "error",
    message: "{where}: class label {value} is outside 0..{max}",
    label: "this data set reads that file",
    explain: "A `class(N)` or `onehot(N)` label holds an integer from 0 to N - 1 (or one of the class `names`). Check N, or drop other classes with `keep COLUMN: [...]`.",
  },
  dataTooFewRows: {
    code: "NN0607",
    severity: "error",
    message: "too few rows for the split: {detail}",
    label: "this split",
    explain: "Every part the split asks for (and always train) needs at least one row, and counts cannot add up to more rows than the data has (after `keep` and `missing drop`).",
  },
  dataRaggedRow: {
    code: "NN0608",
    severity: "error",
    message: "{where}: {got} fields, but the file's rows have {expected}",
    label: "this data set reads that file",
    explain: "Every row of a CSV or whitespace-separated file must have as many fields as the first row (or the header). A stray delimiter, a missing value without its delimiter or an unquoted field containing the delimiter makes a row ragged.",
  },
  dataIdxInvalid: {
    code: "NN0609",
    severity: "error",
    message: "{path} is not a valid IDX file: {reason}",
    label: "read as IDX here",
    explain: "IDX files (MNIST, Fashion-MNIST) start with a magic number `0x00 0x00 TYPE NDIMS` and NDIMS big-endian sizes, then exactly that many values. A file that is still gzip-compressed under another name, or is some other file, fails here.",
  },
  dataIdxTruncated: {
    code: "NN0610",
    severity: "error",
    message: "{path} is truncated: its {what} needs {expected} bytes, but only {found} are there",
    label: "read as IDX here",
    explain: "The IDX header declares how many values follow; the file ends before them. Download or copy it again.",
  },
  dataMalformedCsv: {
    code: "NN0611",
    severity: "error",
    message: "{where}: malformed CSV: {reason}",
    label: "this data set reads that file",
    explain: "A quoted field must be closed by a quote followed by the delimiter or the end of the line; a quote inside a quoted field is written twice (`\"\"`).",
  },
  dataColumnCount: {
    code: "NN0612",
    severity: "error",
    message: "`columns` names {names} columns, but {path} has {count}",
    label: "{names} names",
    explain: "A `columns` statement names every column of the file, in order.",
  },
  dataRowCountMismatch: {
    code: "NN0613",
    severity: "error",
    message: "{path} has {rows} rows, but its labels file {labels} has {labelRows}",
    label: "the labels are read from here",
    explain: "With `labels:` the n-th label belongs to the n-th row of the data file, so both files need the same number of rows.",
  },
  dataBadSplit: {
    code: "NN0614",
    severity: "error",
    message: "{message}",
    label: "{label}",
    explain: "`split` takes fractions (at most 1) or row counts (whole numbers above 1) for train, val and test, with train defaulting to the rest; or `kfold: K`. A test part cannot be split off when `test_from` already gives the test set.",
  },
  dataUnknownClass: {
    code: "NN0615",
    severity: "error",
    message: "{where}: `{value}` is not one of the class names",
    label: "this data set reads that file",
    explain: "When a `class(N, names: [...])` label column holds text, each value must be one of the names; its position is the class index.",
  },
  dataBadLabel: {
    code: "NN0616",
    severity: "error",
    message: "{message}",
    label: "the label is declared here",
    explain: "`binary` labels hold 0 or 1 (or true/false, yes/no); `class(N)` labels hold N distinct values at most; `regression` labels are numbers; a label without columns (`label class(10)`) needs a `labels:` file.",
  },
  dataReshape: {
    code: "NN0617",
    severity: "error",
    message: "`reshape` to {shape} needs {need} values per example, but the data has {have}",
    label: "element count changes",
    explain: "`reshape` rearranges each example's features without changing their number. One dimension may be -1 and is inferred.",
  },
  dataNoRows: {
    code: "NN0618",
    severity: "error",
    message: "{path} has no data rows{after}",
    label: "this data set reads that file",
    explain: "After skipping lines, the header, and rows that `keep` or `missing drop` remove, nothing is left to train on.",
  },
  dataNotStratified: {
    code: "NN0619",
    severity: "warning",
    name: "not-stratified",
    message: "cannot stratify by {kind} labels; the split is not stratified",
    label: "ignored",
    explain: "Stratifying keeps each class's proportion in every part; it needs one class per row (`class`, `onehot` or a single `binary` column). Remove `stratified` for regression and multi-label data.",
  },
  dataNotFeature: {
    code: "NN0620",
    severity: "error",
    message: "`{statement}` names column `{name}`, which is not a feature",
    label: "not among the features",
    explain: "`standardize`, `minmax` and `onehot` transform feature columns; list the column in `features` (or leave `features` out to use every column but the label).",
  },
  dataLayoutMismatch: {
    code: "NN0621",
    severity: "error",
    message: "{test} does not have the layout of {train}: {detail}",
    label: "read here",
    explain: "`test_from` is read with the columns, features and label of `from`, so both files need the same columns; so do the files of a list (`from [\"a.txt\", \"b.txt\"]`), which are read as one table.",
  },
  dataBadSelector: {
    code: "NN0622",
    severity: "error",
    message: "{message}",
    label: "{label}",
    explain: "Columns are given by name, by 0-based index, or by a range `a..b` that includes both ends and runs forwards; a column cannot be both a feature and the label.",
  },
  trainNoOutput: {
    code: "NN0421",
    severity: "error",
    message: "model `{model}` declares no output, so `train` has nothing to compare with the labels",
    label: "no `-> output` here",
    explain: "Training compares a model's output with the labels. A model trained by a `train` block names its output after its inputs: `model m(x: [4]) -> logits: [3] { ... }`; the output is the last layer's unless a name says otherwise.",
  },
  batchTooLarge: {
    code: "NN0422",
    severity: "error",
    message: "a batch of {batch} makes `{tensor}` of `{model}` {values} values, more than the {limit} one buffer can hold",
    label: "too large a batch for `{tensor}`",
    help: "use `batch {most}` or less",
    explain:
      "Training keeps every tensor of a batch in one typed array (and its gradient in another), and a typed array holds at most 2^31 − 1 values. The batch size times the values per example of the largest tensor must stay under that bound, or `train` could never allocate it.",
  },
  trainSeveralInputsOutputs: {
    code: "NN0423",
    severity: "error",
    message: "`{model}` has {inputs} and {outputs}; training takes a model with one input and one output",
    label: "trained here",
    help: "a data block gives each example one feature tensor and one label: train a model with one input and one output (join inputs in the data block's `features`, and train one model per output)",
    explain:
      "A `train` block feeds its data block's features to the model's input and compares the model's output with the labels. Both the interpreter and the generated code train models with exactly one input and one output; a model with several can be checked, summarised and used inside another model, but not trained on its own yet.",
  },
  trainSymbolicDim: {
    code: "NN0424",
    severity: "error",
    message: "training `{model}` needs every dimension known, but `{tensor}` is {shape}",
    label: "`{symbol}` has no value",
    help: "declare the input with numbers: {want}",
    explain:
      "The interpreter and the generated code allocate every tensor of a batch before training, so each dimension must be a number. A symbolic dimension (`x: [steps, 8]`) checks shapes for any length, but a `train` block needs the length its data gives; declare it (`x: [8, 8]`), or keep the general model and train a copy with numbers.",
  },
  embeddingTooFewIds: {
    code: "NN0425",
    severity: "error",
    message: "`{layer}` of `{model}` has {rows} rows, but data `{data}` gives {ids} token ids",
    label: "too few rows for the ids",
    explain:
      "A `text` feature turns each token into an id: 0 pads, 1 is a token outside the vocabulary, and the vocabulary's tokens follow, so the ids run up to the vocabulary size (`vocab:`, or every token of the training split) minus one. An embedding looks each id up in its table, which needs a row per id: an id past the table has no vector (TensorFlow.js fails on it; the interpreter would read zeros).",
  },
  dataFileNotFound: {
    code: "NN0623",
    severity: "warning",
    name: "data-not-found",
    message: "{path} does not exist yet: `nnspec train` needs it",
    label: "no such file",
    explain: "The spec checks without its data, but training reads the file. A path close to a file that does exist is an error with a fix instead (NN0601); a file that is simply not there yet (a data set you still have to download or install) is this warning.",
  },
  dataFileList: {
    code: "NN0624",
    severity: "error",
    message: "{message}",
    label: "{label}",
    explain:
      "`from [\"english.txt\", \"french.txt\"]` reads several text files (CSV, whitespace-separated or `format: lines`) as one table, the rows of each file after the one before, and adds a column `file` holding each row's position in the list (0, 1, ...), so one file per class is labelled with `label file: class(2, names: [english, french])`. IDX files and `labels:` files cannot be listed.",
  },
  dataUnknownCode: {
    code: "NN0625",
    severity: "error",
    message: "{where}: `{text}` is not one of the codes of `{column}` ({codes})",
    label: "not among the codes",
    explain:
      "`codes sex: [F, M, I]` reads each value of the column as its position in the list (F is 0, M 1, I 2), the numbers a model trained on those codes expects. A value the list does not hold has no code: add it to the list (at the end, so the other codes stay what they are), fix the cell, or encode the column with `onehot` instead.",
  },
  splitTimeOrder: {
    code: "NN0426",
    severity: "warning",
    name: "split-time-order",
    message: "`{option}` has no effect with `window`: a time series is split in time order",
    label: "ignored",
    explain:
      "With `window` the rows are a time series: the split takes the first rows for training, the next for validation and the last for testing, so that no model is tested on a time before the ones it learnt from. Shuffling or stratifying the rows would put the future in training, so both are ignored; remove them.",
  },
} as const satisfies Record<string, CatalogEntry>;

export type MessageKey = keyof typeof CATALOG;

export function entryByCode(code: string): (CatalogEntry & { key: MessageKey }) | undefined {
  for (const [key, e] of Object.entries(CATALOG)) if (e.code === code) return { ...e, key: key as MessageKey };
  return undefined;
}
