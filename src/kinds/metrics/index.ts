/** The metrics a `train` block may ask for: one entry each, the facts every stage reads. */

export interface MetricKind {
  name: string;
  doc: string;
  /** Which outputs it scores: class decisions or regression values. */
  task: "class" | "regression";
  /** Whether a larger value is better (early stopping, plateaus, the best epoch). */
  higherIsBetter: boolean;
}

const m = (name: string, task: MetricKind["task"], higherIsBetter: boolean, doc: string): MetricKind => ({ name, task, higherIsBetter, doc });

export const METRIC_KINDS: ReadonlyMap<string, MetricKind> = new Map(
  [
    m("accuracy", "class", true, "The fraction of examples whose predicted class is right (each label for multi-label outputs)."),
    m("precision", "class", true, "Of the examples predicted as a class, the fraction that are; macro-averaged over classes."),
    m("recall", "class", true, "Of the examples of a class, the fraction predicted as it; macro-averaged over classes."),
    m("f1", "class", true, "The harmonic mean of precision and recall, per class, macro-averaged."),
    m("mse", "regression", false, "Mean squared error."),
    m("mae", "regression", false, "Mean absolute error."),
    m("rmse", "regression", false, "Root mean squared error, pooled over the epoch."),
    m("r2", "regression", true, "The coefficient of determination R², pooled over the epoch."),
  ].map((k) => [k.name, k]),
);

export const METRICS: readonly string[] = [...METRIC_KINDS.keys()];
export const CLASS_METRICS: readonly string[] = METRICS.filter((n) => METRIC_KINDS.get(n)!.task === "class");
export const REGRESSION_METRICS: readonly string[] = METRICS.filter((n) => METRIC_KINDS.get(n)!.task === "regression");
/** Metrics whose larger values are better; `loss` and `val_loss` are not. */
export const HIGHER_IS_BETTER: ReadonlySet<string> = new Set(METRICS.filter((n) => METRIC_KINDS.get(n)!.higherIsBetter));
