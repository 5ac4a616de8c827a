import type { Json } from "../core/json.ts";
import { withDefaults, type ArgShape, type OptionsSchema, type PropertySchema } from "../core/options.ts";
import { METRICS } from "../kinds/metrics/index.ts";

export { METRICS };

/** A statement of a `data` or `train` block. */
export interface StatementKind {
  name: string;
  doc: string;
  /** Whether the statement may appear at most once per block. */
  once: boolean;
  args: ArgShape;
  schema: OptionsSchema;
  /** Statements whose first value names an entry of another catalog (loss, optimizer, schedule). */
  catalog?: "loss" | "optimizer" | "schedule";
}

const obj = (properties: Record<string, PropertySchema>, required: string[] = []): OptionsSchema => ({ type: "object", properties, required, additionalProperties: false });
const posInt = (d: string, dflt: number): PropertySchema => ({ description: `a positive integer (${d})`, type: "integer", minimum: 1, default: dflt });
const selector: PropertySchema = {
  description: "column names, indices or ranges such as 0..3",
  type: "array",
  items: { anyOf: [{ type: "string" }, { type: "integer", minimum: 0 }, { type: "object", required: ["range"] }] },
};
const fraction: PropertySchema = { description: "a fraction in [0, 1] or a row count", type: "number", minimum: 0 };
/** How a data file is read: delimited text, IDX arrays, whitespace-separated numbers, or one text example per line. */
export const DATA_FORMATS = ["csv", "idx", "whitespace", "lines"] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

const source = obj(
  {
    path: {
      description: "a file path (relative to the spec), or a list of them",
      anyOf: [{ type: "string" }, { type: "array", minItems: 1, items: { type: "string" } }],
    },
    format: { description: "`csv`, `idx`, `whitespace` or `lines` (each line one text example, in a column `line`)", enum: [...DATA_FORMATS] },
    header: { description: "true or false (whether the first row names the columns)", type: "boolean", default: false },
    skip: { description: "a non-negative integer (lines to skip before the data)", type: "integer", minimum: 0, default: 0 },
    delimiter: { description: "a one-character string such as \",\" or \";\"", type: "string", minLength: 1, maxLength: 1 },
    labels: { description: "a file path holding the labels (IDX labels, or a separate target file)", type: "string" },
  },
  ["path"],
);
const kindStmt = (name: string, catalog: StatementKind["catalog"], doc: string): StatementKind => ({
  name,
  doc,
  once: true,
  catalog,
  args: { positional: [] },
  schema: obj({}),
});

const s = (k: StatementKind): [string, StatementKind] => [k.name, k];

export const DATA_STATEMENTS: ReadonlyMap<string, StatementKind> = new Map([
  s({ name: "from", doc: "The data file: `from \"iris.csv\" skip: 1`. CSV (optionally gzip), whitespace-separated text, IDX images with `labels:`, or text one example per line (`format: lines`). A list of files is read as one table with a column `file` holding each row's file (0, 1, ...): one file per class, as `label file: class(3, names: [a, b, c])`.", once: true, args: { positional: ["path"] }, schema: source }),
  s({ name: "test_from", doc: "A separate test file with the same layout as `from` (e.g. the Fashion-MNIST test images).", once: true, args: { positional: ["path"] }, schema: source }),
  s({ name: "columns", doc: "Names the columns of a file without a header: `columns a, b, c`.", once: true, args: { positional: [], rest: "names" }, schema: obj({ names: { description: "column names", type: "array", minItems: 1, items: { type: "string" } } }, ["names"]) }),
  s({ name: "features", doc: "The input columns, by name, index or range: `features 0..3` or `features sepal_length, petal_width`.", once: true, args: { positional: [], rest: "columns" }, schema: obj({ columns: selector }, ["columns"]) }),
  s({ name: "label", doc: "The target column(s) and their kind: `label species: class(3)`, `label 30..35: binary`, `label MEDV: regression`, `label y: onehot(4)`.", once: true, args: { positional: [] }, schema: obj({}) }),
  s({
    name: "codes",
    doc: "Reads categorical feature columns as codes 0, 1, 2, … in the order listed, one number per column: `codes sex: [F, M, I]` reads F as 0, M as 1 and I as 2 (what a model trained on those codes, such as an imported one, expects). A value outside its list is an error; `onehot` gives one column per category instead.",
    once: true,
    args: { positional: [] },
    schema: obj({}),
  }),
  s({ name: "keep", doc: "Keeps only the rows whose column holds one of the values: `keep 64: [0, 1]` keeps the digits 0 and 1.", once: true, args: { positional: [] }, schema: obj({}) }),
  s({ name: "standardize", doc: "Scales features to zero mean and unit variance, fitted on the training split only.", once: true, args: { positional: [], rest: "columns" }, schema: obj({ columns: selector }) }),
  s({ name: "minmax", doc: "Scales features into `range` (default [0, 1]), fitted on the training split only.", once: true, args: { positional: [], rest: "columns" }, schema: obj({ columns: selector, range: { description: "a list of two numbers [low, high]", type: "array", items: { type: "number" }, minItems: 2, maxItems: 2, default: [0, 1] } }) }),
  s({ name: "scale", doc: "Multiplies every feature by a constant: `scale 1/255` for pixel values.", once: true, args: { positional: ["factor"] }, schema: obj({ factor: { description: "a number", type: "number" } }, ["factor"]) }),
  s({ name: "onehot", doc: "One-hot encodes categorical feature columns: `onehot color, size`.", once: true, args: { positional: [], rest: "columns" }, schema: obj({ columns: selector }, ["columns"]) }),
  s({
    name: "text",
    doc: "Turns a text column into token ids, with a vocabulary fitted on the training split: `text review words, length: 200, vocab: 20000` or `text line chars`. Id 0 pads, 1 stands for a token outside the vocabulary; the vocabulary is saved with a trained model, so `predict` takes raw text.",
    once: true,
    args: { positional: ["column"], bareChoice: { option: "tokens", values: ["chars", "words"] } },
    schema: obj(
      {
        column: { description: "the text column, by name or 0-based index", anyOf: [{ type: "string" }, { type: "integer", minimum: 0 }] },
        tokens: { description: "`chars` (each character a token) or `words` (split at whitespace)", enum: ["chars", "words"], default: "words" },
        length: { description: "a positive integer (tokens per example, padded or truncated; default the longest training text)", type: "integer", minimum: 1 },
        vocab: { description: "an integer of at least 3 (most ids, padding and out-of-vocabulary included; default every training token)", type: "integer", minimum: 3 },
        case: { description: "`lower` (lower-case the text) or `keep`", enum: ["lower", "keep"], default: "lower" },
        punctuation: { description: "`strip` (remove ASCII punctuation) or `keep`", enum: ["strip", "keep"], default: "strip" },
        pad: { description: "`end` or `start` (where padding goes)", enum: ["end", "start"], default: "end" },
        truncate: { description: "`end` or `start` (where a long text is cut)", enum: ["end", "start"], default: "end" },
      },
      ["column"],
    ),
  }),
  s({
    name: "window",
    doc: "Reads the rows as a time series: each example is `size` consecutive rows of the features, labelled with the label `horizon` rows after the window's last (`window 24, horizon: 1, stride: 1`). The split then cuts the rows in time order (train first, then val, then test) and windows each part on its own, so no window sees rows of another part.",
    once: true,
    args: { positional: ["size"] },
    schema: obj(
      {
        size: { description: "a positive integer (rows per window)", type: "integer", minimum: 1 },
        horizon: { description: "a non-negative integer (rows after the window's last row to the label's; 0 labels the last row itself)", type: "integer", minimum: 0, default: 1 },
        stride: posInt("rows from one window's start to the next", 1),
      },
      ["size"],
    ),
  }),
  s({ name: "reshape", doc: "Reshapes each row of features, e.g. flat pixels to images: `reshape [8, 8, 1]`.", once: true, args: { positional: ["shape"] }, schema: obj({ shape: { description: "a list of positive integers such as [8, 8, 1]", type: "array", minItems: 1, items: { type: "integer", minimum: -1 } } }, ["shape"]) }),
  s({ name: "missing", doc: "What to do with empty or NaN cells: `error` (default), `drop` the row, or fill with the training `mean`.", once: true, args: { positional: ["policy"] }, schema: obj({ policy: { description: "`error`, `drop` or `mean`", enum: ["error", "drop", "mean"], default: "error" } }, ["policy"]) }),
  s({
    name: "split",
    doc: "Splits rows into train/val/test by fraction or count: `split train: 0.7, val: 0.15, test: 0.15, stratified, seed: 42`; or `split kfold: 5`.",
    once: true,
    args: { positional: [], flags: ["stratified", "shuffle"] },
    schema: obj({
      train: fraction,
      val: fraction,
      test: fraction,
      kfold: { description: "an integer of at least 2", type: "integer", minimum: 2 },
      stratified: { description: "true or false", type: "boolean", default: false },
      shuffle: { description: "true or false", type: "boolean", default: true },
      seed: { description: "an integer", type: "integer", default: 0 },
    }),
  }),
]);

export const MONITORS: readonly string[] = ["loss", "val_loss", ...METRICS.map((m) => `val_${m}`)];

export const TRAIN_STATEMENTS: ReadonlyMap<string, StatementKind> = new Map([
  s(kindStmt("loss", "loss", "The loss: `loss sparse_cross_entropy(from_logits: true)` or `loss mse`.")),
  s(kindStmt("optimizer", "optimizer", "The optimizer and its hyperparameters: `optimizer adam lr: 0.001`.")),
  s(kindStmt("schedule", "schedule", "A learning-rate schedule: `schedule step every: 10, factor: 0.5`.")),
  s({ name: "epochs", doc: "Passes over the training split.", once: true, args: { positional: ["count"] }, schema: obj({ count: posInt("epochs", 10) }, ["count"]) }),
  s({ name: "batch", doc: "Mini-batch size.", once: true, args: { positional: ["size"] }, schema: obj({ size: posInt("examples per batch", 32) }, ["size"]) }),
  s({ name: "seed", doc: "Seed for initial weights, shuffling and dropout: the same seed gives the same run.", once: true, args: { positional: ["value"] }, schema: obj({ value: { description: "an integer", type: "integer", default: 0 } }, ["value"]) }),
  s({
    name: "metrics",
    doc: `Metrics reported each epoch: ${METRICS.join(", ")}.`,
    once: true,
    args: { positional: [], rest: "names" },
    schema: obj({ names: { description: `metric names (${METRICS.join(", ")})`, type: "array", items: { enum: [...METRICS] } } }, ["names"]),
  }),
  s({
    name: "early_stopping",
    doc: "Stops when the monitored value has not improved for `patience` epochs: `early_stopping patience: 10, restore_best`.",
    once: true,
    args: { positional: [], flags: ["restore_best"] },
    schema: obj({
      monitor: { description: `one of ${MONITORS.join(", ")}`, enum: [...MONITORS], default: "val_loss" },
      patience: { description: "a non-negative integer (epochs)", type: "integer", minimum: 0, default: 10 },
      min_delta: { description: "a non-negative number", type: "number", minimum: 0, default: 0 },
      restore_best: { description: "true or false", type: "boolean", default: false },
    }),
  }),
]);

/**
 * A statement's options with every default, from the block's statements: as bound when the
 * statement is written, else its schema's defaults (what leaving it out means).
 */
export function statementValues(statements: ReadonlyMap<string, { options: { full: Record<string, Json> } }>, catalog: ReadonlyMap<string, StatementKind>, name: string): Record<string, Json> {
  const kind = catalog.get(name);
  if (!kind) throw new Error(`internal: no statement \`${name}\``);
  return statements.get(name)?.options.full ?? withDefaults(kind.schema, {});
}
