/** The default `alpha` of the activations that take one (TensorFlow.js's): the one place it is written. */
export const DEFAULT_ALPHA: Readonly<Record<string, number>> = { leaky_relu: 0.3, elu: 1 };
