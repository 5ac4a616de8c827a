import type { Json } from "../../core/json.ts";
import { numberOption, type OptionsSchema, type PropertySchema } from "../../core/options.ts";

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

export interface ScheduleKind {
  name: string;
  doc: string;
  schema: OptionsSchema;
  /** The learning rate of 0-based epoch `e` from the spec's rate `base`; absent for schedules the training loop drives (reduce_on_plateau). */
  lr?: (o: Readonly<Record<string, Json>>, base: number, e: number) => number;
}

const sched = (name: string, doc: string, props: Record<string, PropertySchema>, lr?: ScheduleKind["lr"]): ScheduleKind => ({ name, doc, schema: { type: "object", properties: props, additionalProperties: false }, ...(lr ? { lr } : {}) });

export const SCHEDULES: ReadonlyMap<string, ScheduleKind> = new Map(
  [
    sched("constant", "The learning rate never changes.", {}, (_, base) => base),
    sched("step", "Multiplies the rate by `factor` every `every` epochs.", { every: num("a positive integer (epochs)", 10, { type: "integer", minimum: 1 }), factor: unit(0.5) }, (o, base, e) => base * Math.pow(numberOption(o, "factor"), Math.floor(e / numberOption(o, "every")))),
    sched("exponential", "Multiplies the rate by `rate` each epoch.", { rate: unit(0.96) }, (o, base, e) => base * Math.pow(numberOption(o, "rate"), e)),
    sched(
      "cosine",
      "Cosine decay from the initial rate to `min_lr` over `epochs` epochs.",
      { epochs: num("a positive integer", 100, { type: "integer", minimum: 1 }), min_lr: num("a non-negative number", 0, { minimum: 0 }) },
      (o, base, e) => {
        const E = numberOption(o, "epochs");
        const min = numberOption(o, "min_lr");
        return min + (base - min) * 0.5 * (1 + Math.cos((Math.PI * Math.min(e, E)) / E));
      },
    ),
    sched("reduce_on_plateau", "Multiplies the rate by `factor` when the monitored value stops improving for `patience` epochs.", { factor: unit(0.1), patience: num("a non-negative integer", 10, { type: "integer", minimum: 0 }), min_lr: num("a non-negative number", 0, { minimum: 0 }) }),
  ].map((s) => [s.name, s]),
);
