import type { OptionsSchema, PropertySchema } from "../../core/options.ts";

export interface LossKind {
  name: string;
  doc: string;
  /** What the output predicts: one class of several (argmax), independent yes/no labels (thresholded), or values. */
  task: "multiclass" | "binary" | "regression";
  schema: OptionsSchema;
}

const fromLogits: PropertySchema = { description: "true or false (whether the model outputs raw scores)", type: "boolean", default: false };
const smoothing: PropertySchema = { description: "a number in [0, 1)", type: "number", minimum: 0, exclusiveMaximum: 1, default: 0 };
const loss = (name: string, task: LossKind["task"], doc: string, properties: Record<string, PropertySchema> = {}): LossKind => ({ name, doc, task, schema: { type: "object", properties, additionalProperties: false } });

export const LOSSES: ReadonlyMap<string, LossKind> = new Map(
  [
    loss("mse", "regression", "Mean squared error, for regression."),
    loss("mae", "regression", "Mean absolute error, for regression; less sensitive to outliers than mse."),
    loss("huber", "regression", "Huber loss: squared for errors below delta, linear above.", { delta: { description: "a positive number", type: "number", exclusiveMinimum: 0, default: 1 } }),
    loss("binary_cross_entropy", "binary", "Cross-entropy for one binary label or several independent binary labels (multi-label); pairs with a sigmoid output or from_logits: true.", { from_logits: fromLogits, label_smoothing: smoothing }),
    loss("cross_entropy", "multiclass", "Categorical cross-entropy for one-hot labels; pairs with a softmax output or from_logits: true.", { from_logits: fromLogits, label_smoothing: smoothing }),
    loss("sparse_cross_entropy", "multiclass", "Categorical cross-entropy for class-index labels; pairs with a softmax output or from_logits: true.", { from_logits: fromLogits }),
  ].map((l) => [l.name, l]),
);
