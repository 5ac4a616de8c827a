import type { Json } from "../../core/json.ts";
import { booleanOption, numberOption, type OptionsSchema, type PropertySchema } from "../../core/options.ts";
import type { TfjsCodeContext } from "../tfjs.ts";

export interface OptimizerKind {
  name: string;
  doc: string;
  /** The learning rates people usually use with it, for the learning-rate lint. */
  usualLr: [number, number];
  schema: OptionsSchema;
  /** The `optimizer:` entry of tfjs's compile options (with a comment naming the arguments), from the options with defaults. */
  tfjs(o: Readonly<Record<string, Json>>, ctx: TfjsCodeContext): string[];
  /** The PyTorch target's update rule: a class of nnspec_torch.py taking (params) and the options as keyword arguments. */
  torch: string;
}

const num = (description: string, dflt: number, extra: Record<string, unknown> = {}): PropertySchema => ({ description, type: "number", default: dflt, ...extra });
const lr = (dflt: number) => num("a positive number", dflt, { exclusiveMinimum: 0 });
const unit = (dflt: number) => num("a number in [0, 1)", dflt, { minimum: 0, exclusiveMaximum: 1 });
const eps = (dflt: number) => num("a small positive number", dflt, { exclusiveMinimum: 0 });
const opt = (name: string, doc: string, usualLr: [number, number], properties: Record<string, PropertySchema>, tfjs: OptimizerKind["tfjs"], torch: string): OptimizerKind => ({
  name,
  doc,
  usualLr,
  schema: { type: "object", properties, additionalProperties: false },
  tfjs,
  torch,
});
/** Each named option as a literal, in order. */
const args = (o: Readonly<Record<string, Json>>, c: TfjsCodeContext, ...keys: string[]) => keys.map((k) => c.literal(numberOption(o, k))).join(", ");
/** sgd with momentum is tfjs's momentum optimizer. */
const momentumTfjs = (o: Readonly<Record<string, Json>>, c: TfjsCodeContext): string[] =>
  ["// (learningRate, momentum, useNesterov)", `optimizer: tf.train.momentum(${args(o, c, "lr", "momentum")}, ${booleanOption(o, "nesterov")}),`];

export const OPTIMIZERS: ReadonlyMap<string, OptimizerKind> = new Map(
  [
    opt("sgd", "Stochastic gradient descent, optionally with momentum and Nesterov momentum.", [1e-4, 1], { lr: lr(0.01), momentum: unit(0), nesterov: { description: "true or false", type: "boolean", default: false } }, (o, c) =>
      numberOption(o, "momentum") === 0 ? [`optimizer: tf.train.sgd(${args(o, c, "lr")}),`] : momentumTfjs(o, c),
      "nt.SGD",
    ),
    opt("momentum", "SGD with momentum (TensorFlow.js `tf.train.momentum`).", [1e-4, 1], { lr: lr(0.01), momentum: unit(0.9), nesterov: { description: "true or false", type: "boolean", default: false } }, momentumTfjs, "nt.SGD"),
    opt("adagrad", "Adagrad: per-parameter rates that shrink with the sum of squared gradients.", [1e-4, 1], { lr: lr(0.01), initial_accumulator: num("a non-negative number", 0.1, { minimum: 0 }) }, (o, c) => [
      "// (learningRate, initialAccumulatorValue)",
      `optimizer: tf.train.adagrad(${args(o, c, "lr", "initial_accumulator")}),`,
    ], "nt.Adagrad"),
    opt("rmsprop", "RMSprop: divides by a moving average of squared gradients.", [1e-5, 0.1], { lr: lr(0.001), rho: unit(0.9), momentum: unit(0), epsilon: eps(1e-7), centered: { description: "true or false", type: "boolean", default: false } }, (o, c) =>
      booleanOption(o, "centered")
        ? [
            "// (learningRate, rho, momentum, epsilon): tfjs 4.22's centered RMSprop divides by √(s − (c² + ε)), NaN where",
            "// the gradient is constant; this helper divides by √(s − c² + ε) as the interpreter and TensorFlow do.",
            `optimizer: new ${c.helper("CenteredRMSProp")}(${args(o, c, "lr", "rho", "momentum", "epsilon")}),`,
          ]
        : ["// (learningRate, decay = rho, momentum, epsilon)", `optimizer: tf.train.rmsprop(${args(o, c, "lr", "rho", "momentum", "epsilon")}),`],
      "nt.RMSprop",
    ),
    opt("adam", "Adam: momentum and RMSprop with bias correction.", [1e-5, 0.1], { lr: lr(0.001), beta1: unit(0.9), beta2: unit(0.999), epsilon: eps(1e-7) }, (o, c) => [
      "// (learningRate, beta1, beta2, epsilon)",
      `optimizer: tf.train.adam(${args(o, c, "lr", "beta1", "beta2", "epsilon")}),`,
    ], "nt.Adam"),
    opt("adamw", "Adam with decoupled weight decay.", [1e-5, 0.1], { lr: lr(0.001), beta1: unit(0.9), beta2: unit(0.999), epsilon: eps(1e-7), weight_decay: num("a non-negative number", 0.004, { minimum: 0 }) }, (o, c) => [
      "// (learningRate, beta1, beta2, epsilon, weightDecay): tfjs has no AdamW, see the class below",
      `optimizer: new ${c.helper("AdamW")}(${args(o, c, "lr", "beta1", "beta2", "epsilon", "weight_decay")}),`,
    ], "nt.AdamW"),
  ].map((o) => [o.name, o]),
);

/**
 * The learning rate of 0-based epoch `e` under a schedule (options with defaults), from the rate
 * `base`: the one formula the interpreter and generated code use. No schedule, or one the training
 * loop drives (reduce_on_plateau), leaves `base`.
 */
export function scheduledLr(schedule: { name: string; opts: Readonly<Record<string, Json>> } | undefined, base: number, e: number): number {
  if (!schedule) return base;
  return SCHEDULES.get(schedule.name)?.lr?.(schedule.opts, base, e) ?? base;
}

export interface ScheduleKind {
  name: string;
  doc: string;
  schema: OptionsSchema;
  /** The learning rate of 0-based epoch `e` from the spec's rate `base`; absent for schedules the training loop drives (reduce_on_plateau). */
  lr?: (o: Readonly<Record<string, Json>>, base: number, e: number) => number;
  /** The same formula as a Python expression in `base` and `e` (black's spacing), for the PyTorch target. */
  torch?: (o: Readonly<Record<string, Json>>) => string;
}

const sched = (name: string, doc: string, props: Record<string, PropertySchema>, lr?: ScheduleKind["lr"], torch?: ScheduleKind["torch"]): ScheduleKind => ({
  name,
  doc,
  schema: { type: "object", properties: props, additionalProperties: false },
  ...(lr ? { lr } : {}),
  ...(torch ? { torch } : {}),
});

export const SCHEDULES: ReadonlyMap<string, ScheduleKind> = new Map(
  [
    sched("constant", "The learning rate never changes.", {}, (_, base) => base, () => "base"),
    sched("step", "Multiplies the rate by `factor` every `every` epochs.", { every: num("a positive integer (epochs)", 10, { type: "integer", minimum: 1 }), factor: unit(0.5) }, (o, base, e) => base * Math.pow(numberOption(o, "factor"), Math.floor(e / numberOption(o, "every"))), (o) => `base * ${numberOption(o, "factor")} ** (e // ${numberOption(o, "every")})`),
    sched("exponential", "Multiplies the rate by `rate` each epoch.", { rate: unit(0.96) }, (o, base, e) => base * Math.pow(numberOption(o, "rate"), e), (o) => `base * ${numberOption(o, "rate")}**e`),
    sched(
      "cosine",
      "Cosine decay from the initial rate to `min_lr` over `epochs` epochs.",
      { epochs: num("a positive integer", 100, { type: "integer", minimum: 1 }), min_lr: num("a non-negative number", 0, { minimum: 0 }) },
      (o, base, e) => {
        const E = numberOption(o, "epochs");
        const min = numberOption(o, "min_lr");
        return min + (base - min) * 0.5 * (1 + Math.cos((Math.PI * Math.min(e, E)) / E));
      },
      (o) => {
        const E = numberOption(o, "epochs");
        const min = numberOption(o, "min_lr");
        return `${min} + (base - ${min}) * 0.5 * (1 + math.cos(math.pi * min(e, ${E}) / ${E}))`;
      },
    ),
    sched("reduce_on_plateau", "Multiplies the rate by `factor` when the monitored value stops improving for `patience` epochs.", { factor: unit(0.1), patience: num("a non-negative integer", 10, { type: "integer", minimum: 0 }), min_lr: num("a non-negative number", 0, { minimum: 0 }) }),
  ].map((s) => [s.name, s]),
);
