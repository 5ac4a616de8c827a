import type { Json } from "../../core/json.ts";
import { booleanOption, numberOption, type OptionsSchema, type PropertySchema } from "../../core/options.ts";
import type { TfjsCodeContext } from "../tfjs.ts";

export interface LossKind {
  name: string;
  doc: string;
  /** What the output predicts: one class of several (argmax), independent yes/no labels (thresholded), or values. */
  task: "multiclass" | "binary" | "regression";
  schema: OptionsSchema;
  /** The `loss:` entry of tfjs's compile options (with comments on what it does and why), from the options with defaults. */
  tfjs(o: Readonly<Record<string, Json>>, ctx: TfjsCodeContext): string[];
  /** The PyTorch target's loss: a function of nnspec_torch.py taking (pred, y) and the options as keyword arguments. */
  torch: string;
}

const fromLogits: PropertySchema = { description: "true or false (whether the model outputs raw scores)", type: "boolean", default: false };
const smoothing: PropertySchema = { description: "a number in [0, 1)", type: "number", minimum: 0, exclusiveMaximum: 1, default: 0 };
const loss = (name: string, task: LossKind["task"], doc: string, properties: Record<string, PropertySchema>, tfjs: LossKind["tfjs"]): LossKind => ({ name, doc, task, schema: { type: "object", properties, additionalProperties: false }, tfjs, torch: `nt.${name}` });
const fn = (body: string) => `loss: (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor => ${body},`;

/** Categorical cross-entropy: `sparse` labels are fed one-hot (see splitTensors), so both compare with the output directly. */
function categorical(sparse: boolean) {
  return (o: Readonly<Record<string, Json>>, c: TfjsCodeContext): string[] => {
    const ls = sparse ? 0 : numberOption(o, "label_smoothing");
    const onehot = sparse ? ["// The class indices are fed one-hot (see splitTensors), so the loss compares them with the output directly."] : [];
    if (booleanOption(o, "from_logits"))
      return [...onehot, "// tfjs-layers' losses take probabilities: the logits go through softmax cross-entropy (log-sum-exp, finite for any logits).", fn(`tf.losses.softmaxCrossEntropy(yTrue, yPred${ls ? `, undefined, ${c.literal(ls)}` : ""})`)];
    if (sparse) return [...onehot, "// What tfjs's sparseCategoricalCrossentropy computes: clip the probabilities to [1e-7, 1 − 1e-7], then categorical cross-entropy.", fn("tf.metrics.categoricalCrossentropy(yTrue, tf.clipByValue(yPred, 1e-7, 1 - 1e-7))")];
    if (!ls) return ['loss: "categoricalCrossentropy",'];
    const k = c.classes ?? 1;
    return [`// label smoothing: targets t·(1 − ${ls}) + ${ls}/${k}`, fn(`tf.metrics.categoricalCrossentropy(tf.add(tf.mul(yTrue, ${c.literal(1 - ls)}), ${c.literal(ls / k)}), yPred)`)];
  };
}

export const LOSSES: ReadonlyMap<string, LossKind> = new Map(
  [
    loss("mse", "regression", "Mean squared error, for regression.", {}, () => ['loss: "meanSquaredError",']),
    loss("mae", "regression", "Mean absolute error, for regression; less sensitive to outliers than mse.", {}, () => ['loss: "meanAbsoluteError",']),
    loss("huber", "regression", "Huber loss: squared for errors below delta, linear above.", { delta: { description: "a positive number", type: "number", exclusiveMinimum: 0, default: 1 } }, (o, c) => [
      fn(`tf.losses.huberLoss(yTrue, yPred, undefined, ${c.literal(numberOption(o, "delta"))})`),
    ]),
    loss(
      "binary_cross_entropy",
      "binary",
      "Cross-entropy for one binary label or several independent binary labels (multi-label); pairs with a sigmoid output or from_logits: true.",
      { from_logits: fromLogits, label_smoothing: smoothing },
      (o, c) => {
        const ls = numberOption(o, "label_smoothing");
        if (booleanOption(o, "from_logits")) return ["// tfjs-layers' losses take probabilities: the logits go through the stable sigmoid cross-entropy.", fn(`tf.losses.sigmoidCrossEntropy(yTrue, yPred${ls ? `, undefined, ${c.literal(ls)}` : ""})`)];
        if (!ls) return ['loss: "binaryCrossentropy",'];
        return [`// label smoothing: targets t·(1 − ${ls}) + ${ls}/2`, fn(`tf.metrics.binaryCrossentropy(tf.add(tf.mul(yTrue, ${c.literal(1 - ls)}), ${c.literal(0.5 * ls)}), yPred)`)];
      },
    ),
    loss("cross_entropy", "multiclass", "Categorical cross-entropy for one-hot labels; pairs with a softmax output or from_logits: true.", { from_logits: fromLogits, label_smoothing: smoothing }, categorical(false)),
    loss("sparse_cross_entropy", "multiclass", "Categorical cross-entropy for class-index labels; pairs with a softmax output or from_logits: true.", { from_logits: fromLogits }, categorical(true)),
  ].map((l) => [l.name, l]),
);
