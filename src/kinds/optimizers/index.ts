import type { OptionsSchema, PropertySchema } from "../../core/options.ts";

export interface OptimizerKind {
  name: string;
  doc: string;
  /** The learning rates people usually use with it, for the learning-rate lint. */
  usualLr: [number, number];
  schema: OptionsSchema;
}

const num = (description: string, dflt: number, extra: Record<string, unknown> = {}): PropertySchema => ({ description, type: "number", default: dflt, ...extra });
const lr = (dflt: number) => num("a positive number", dflt, { exclusiveMinimum: 0 });
const unit = (dflt: number) => num("a number in [0, 1)", dflt, { minimum: 0, exclusiveMaximum: 1 });
const eps = (dflt: number) => num("a small positive number", dflt, { exclusiveMinimum: 0 });
const opt = (name: string, doc: string, usualLr: [number, number], properties: Record<string, PropertySchema>): OptimizerKind => ({
  name,
  doc,
  usualLr,
  schema: { type: "object", properties, additionalProperties: false },
});

export const OPTIMIZERS: ReadonlyMap<string, OptimizerKind> = new Map(
  [
    opt("sgd", "Stochastic gradient descent, optionally with momentum and Nesterov momentum.", [1e-4, 1], { lr: lr(0.01), momentum: unit(0), nesterov: { description: "true or false", type: "boolean", default: false } }),
    opt("momentum", "SGD with momentum (TensorFlow.js `tf.train.momentum`).", [1e-4, 1], { lr: lr(0.01), momentum: unit(0.9), nesterov: { description: "true or false", type: "boolean", default: false } }),
    opt("adagrad", "Adagrad: per-parameter rates that shrink with the sum of squared gradients.", [1e-4, 1], { lr: lr(0.01), initial_accumulator: num("a non-negative number", 0.1, { minimum: 0 }) }),
    opt("rmsprop", "RMSprop: divides by a moving average of squared gradients.", [1e-5, 0.1], { lr: lr(0.001), rho: unit(0.9), momentum: unit(0), epsilon: eps(1e-7), centered: { description: "true or false", type: "boolean", default: false } }),
    opt("adam", "Adam: momentum and RMSprop with bias correction.", [1e-5, 0.1], { lr: lr(0.001), beta1: unit(0.9), beta2: unit(0.999), epsilon: eps(1e-7) }),
    opt("adamw", "Adam with decoupled weight decay.", [1e-5, 0.1], { lr: lr(0.001), beta1: unit(0.9), beta2: unit(0.999), epsilon: eps(1e-7), weight_decay: num("a non-negative number", 0.004, { minimum: 0 }) }),
  ].map((o) => [o.name, o]),
);

export const SCHEDULES: ReadonlyMap<string, { name: string; doc: string; schema: OptionsSchema }> = new Map(
  [
    { name: "constant", doc: "The learning rate never changes.", props: {} },
    { name: "step", doc: "Multiplies the rate by `factor` every `every` epochs.", props: { every: num("a positive integer (epochs)", 10, { type: "integer", minimum: 1 }), factor: unit(0.5) } },
    { name: "exponential", doc: "Multiplies the rate by `rate` each epoch.", props: { rate: unit(0.96) } },
    { name: "cosine", doc: "Cosine decay from the initial rate to `min_lr` over `epochs` epochs.", props: { epochs: num("a positive integer", 100, { type: "integer", minimum: 1 }), min_lr: num("a non-negative number", 0, { minimum: 0 }) } },
    { name: "reduce_on_plateau", doc: "Multiplies the rate by `factor` when the monitored value stops improving for `patience` epochs.", props: { factor: unit(0.1), patience: num("a non-negative integer", 10, { type: "integer", minimum: 0 }), min_lr: num("a non-negative number", 0, { minimum: 0 }) } },
  ].map((s) => [s.name, { name: s.name, doc: s.doc, schema: { type: "object" as const, properties: s.props as Record<string, PropertySchema>, additionalProperties: false as const } }]),
);
