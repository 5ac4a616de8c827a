import type { PropertySchema } from "../lang/bind.ts";

export const ACTIVATIONS = ["linear", "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softmax"] as const;
export const INITIALIZERS = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "zeros", "ones", "random_normal", "random_uniform", "truncated_normal"] as const;

const callOf = (names: readonly string[]) => ({
  type: "object",
  required: ["call", "args", "options"],
  properties: { call: { enum: names }, args: { type: "array", maxItems: 1, items: { type: "number" } }, options: { type: "object" } },
});

export const activation: PropertySchema = {
  description: `an activation (${ACTIVATIONS.join(", ")})`,
  default: "linear",
  anyOf: [{ enum: [...ACTIVATIONS] }, callOf(["leaky_relu", "elu"])],
};
export const initializer = (dflt: string): PropertySchema => ({ description: `an initializer (${INITIALIZERS.join(", ")})`, default: dflt, anyOf: [{ enum: [...INITIALIZERS] }, callOf(INITIALIZERS)] });
export const positiveInt = (what: string, dflt?: number): PropertySchema => ({ description: `a positive integer (${what})`, type: "integer", minimum: 1, ...(dflt === undefined ? {} : { default: dflt }) });
export const regularizer: PropertySchema = { description: "a non-negative number", type: "number", minimum: 0, default: 0 };
export const bool = (dflt: boolean): PropertySchema => ({ description: "true or false", type: "boolean", default: dflt });
export const padding: PropertySchema = { description: "`valid` or `same`", enum: ["valid", "same"], default: "valid" };
/** An integer, or one integer per spatial axis. */
export const window = (what: string, axes: number, dflt?: number): PropertySchema => ({
  description: `a positive integer or a list of ${axes} (${what})`,
  anyOf: [{ type: "integer", minimum: 1 }, { type: "array", items: { type: "integer", minimum: 1 }, minItems: axes, maxItems: axes }],
  ...(dflt === undefined ? {} : { default: dflt }),
});

/** Options every weighted layer accepts. */
export const weightedOptions = (kernelDefault = "glorot_uniform"): Record<string, PropertySchema> => ({
  activation,
  use_bias: bool(true),
  kernel_init: initializer(kernelDefault),
  bias_init: initializer("zeros"),
  l1: regularizer,
  l2: regularizer,
  trainable: bool(true),
});

export const trainable = { trainable: bool(true) };
