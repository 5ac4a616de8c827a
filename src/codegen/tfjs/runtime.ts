/**
 * The TensorFlow.js helpers generated modules import (one copy here, not one per generated file):
 * split tensors, batches in the interpreter's order, learning-rate callbacks, AdamW, and metrics
 * computed as the interpreter computes them. Used only by code that `nnspec build` writes.
 */
import * as tf from "@tensorflow/tfjs";
import { epochOrder, type SplitData } from "../../data/runtime.ts";

/** The L1/L2 penalty of the model's current weights (every regularizer's loss, summed). */
export function penalty(model: tf.LayersModel): number {
  const total = tf.tidy(() => tf.addN(model.calculateLosses()));
  const value = total.dataSync()[0];
  total.dispose();
  return value;
}

/**
 * A split as tensors: features [n, ...featureShape] (int32 for an int model input); labels as class
 * indices one-hot over `classes` when given, else the label values [n, ...labelShape].
 */
export function splitTensors(split: SplitData, classes?: number, intFeatures = false): { x: tf.Tensor; y: tf.Tensor } {
  const x = tf.tensor(split.x, [split.n, ...split.featureShape], intFeatures ? "int32" : "float32");
  const y =
    classes === undefined
      ? tf.tensor(split.y, [split.n, ...split.labelShape], "float32")
      : tf.tidy(() => tf.oneHot(tf.tensor(split.y, [split.n, ...split.labelShape], "int32"), classes, 1, 0, "float32"));
  return { x, y };
}

/**
 * The training batches in the interpreter's order: each epoch a fresh permutation of the rows seeded by
 * (seed, epoch) (nnspec's epochOrder), cut into batches of `batchSize`, the last one smaller. fitDataset
 * opens one iterator per epoch, so the generator counts the epochs.
 */
export function batchesInOrder(split: { x: tf.Tensor; y: tf.Tensor }, n: number, batchSize: number, seed: number): tf.data.Dataset<{ xs: tf.Tensor; ys: tf.Tensor }> {
  let epoch = 0;
  return tf.data.generator(function* () {
    const order = epochOrder(n, seed, epoch++);
    for (let from = 0; from < n; from += batchSize) {
      yield tf.tidy(() => {
        const rows = tf.tensor1d(order.subarray(from, Math.min(n, from + batchSize)), "int32");
        return { xs: tf.gather(split.x, rows), ys: tf.gather(split.y, rows) };
      });
    }
  });
}

/**
 * Sets the learning rate for the next steps. tfjs optimizers read `learningRate` on every step; SGD and
 * momentum keep it in a tensor too and have a setter. (`instanceof` cannot tell optimizers apart in tfjs.)
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  const o = optimizer as tf.Optimizer & { learningRate: number; setLearningRate?: (learningRate: number) => void };
  if (typeof o.setLearningRate === "function") o.setLearningRate(learningRate);
  else o.learningRate = learningRate;
}

/**
 * reduce_on_plateau as the interpreter does it: after `patience` epochs without the monitored value
 * improving on its best, multiply the rate by `factor` (not below `minLearningRate`) and wait again.
 */
export function reduceOnPlateau(
  model: tf.LayersModel,
  monitor: string,
  o: { learningRate: number; factor: number; patience: number; minLearningRate: number; higherIsBetter: boolean },
): tf.CustomCallbackArgs {
  let best = o.higherIsBetter ? -Infinity : Infinity;
  let wait = 0;
  let learningRate = o.learningRate;
  return {
    onEpochEnd: async (_epoch: number, logs?: tf.Logs) => {
      const value = logs?.[monitor];
      if (value === undefined) return;
      if (o.higherIsBetter ? value > best : value < best) {
        best = value;
        wait = 0;
      } else if (++wait >= o.patience) {
        learningRate = Math.max(learningRate * o.factor, o.minLearningRate);
        wait = 0;
        setLearningRate(model.optimizer, learningRate);
      }
    },
  };
}

/**
 * Early stopping as the interpreter does it: stop once the monitored value has not improved by more
 * than `minDelta` for `patience` epochs; with `restoreBest`, put back the weights (moving statistics
 * included) of the best epoch when training ends. (tf.callbacks.earlyStopping cannot restore weights.)
 */
export function earlyStopping(
  model: tf.LayersModel,
  monitor: string,
  o: { patience: number; minDelta: number; restoreBest: boolean; higherIsBetter: boolean },
): tf.CustomCallbackArgs {
  let best = o.higherIsBetter ? -Infinity : Infinity;
  let wait = 0;
  let bestWeights: tf.Tensor[] | undefined;
  return {
    onEpochEnd: async (_epoch: number, logs?: tf.Logs) => {
      const value = logs?.[monitor];
      if (value === undefined) return;
      if (o.higherIsBetter ? value > best + o.minDelta : value < best - o.minDelta) {
        best = value;
        wait = 0;
        if (o.restoreBest) {
          if (bestWeights) tf.dispose(bestWeights);
          bestWeights = model.getWeights().map((w) => w.clone());
        }
      } else if (++wait >= o.patience) model.stopTraining = true;
    },
    onTrainEnd: async () => {
      if (!bestWeights) return;
      model.setWeights(bestWeights);
      tf.dispose(bestWeights);
      bestWeights = undefined;
    },
  };
}

/**
 * Adam with decoupled weight decay, as the interpreter (and Keras) applies it: before each Adam step,
 * every trained weight is multiplied by 1 − learningRate · weightDecay. TensorFlow.js has no AdamW.
 */
export class AdamW extends tf.AdamOptimizer {
  constructor(
    learningRate: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    private readonly weightDecay: number,
  ) {
    super(learningRate, beta1, beta2, epsilon);
  }

  override applyGradients(gradients: Parameters<tf.AdamOptimizer["applyGradients"]>[0]): void {
    const names = Array.isArray(gradients) ? gradients.map((g) => g.name) : Object.keys(gradients);
    const keep = 1 - this.learningRate * this.weightDecay;
    tf.tidy(() => {
      for (const name of names) {
        const v = tf.engine().registeredVariables[name];
        if (v) v.assign(tf.mul(v, keep));
      }
    });
    super.applyGradients(gradients);
  }
}

/** 0/1 decisions, one column per class or label: `predicted` from the model's output, `actual` from the target. */
export interface Decisions {
  predicted: tf.Tensor;
  actual: tf.Tensor;
}

/** A multiclass output: the arg max of the output and of the one-hot target, one-hot over the classes. */
export function argMaxDecisions(yTrue: tf.Tensor, yPred: tf.Tensor): Decisions {
  const classes = yPred.shape[yPred.shape.length - 1] ?? 1;
  const oneHot = (t: tf.Tensor) => tf.oneHot(tf.reshape(tf.argMax(t, -1), [-1]), classes, 1, 0, "float32");
  return { predicted: oneHot(yPred), actual: oneHot(yTrue) };
}

/** Binary and multi-label outputs: each output at or above `threshold` against each label at or above 0.5. */
export function thresholdDecisions(yTrue: tf.Tensor, yPred: tf.Tensor, threshold: number): Decisions {
  const labels = yPred.shape[yPred.shape.length - 1] ?? 1;
  const above = (t: tf.Tensor, at: number) => tf.reshape(tf.cast(tf.greaterEqual(t, at), "float32"), [-1, labels]);
  return { predicted: above(yPred, threshold), actual: above(yTrue, 0.5) };
}

/** The share of decisions that match their label. */
export function matchRate(d: Decisions): tf.Tensor {
  return tf.mean(tf.cast(tf.equal(d.predicted, d.actual), "float32"));
}

/**
 * Precision, recall and F1 of each column (class or label; a binary output has the one column of its
 * positive class), averaged over the columns; 0 where a ratio is 0/0. The interpreter's definitions.
 */
export function macroScores(d: Decisions): { precision: tf.Tensor; recall: tf.Tensor; f1: tf.Tensor } {
  const tp = tf.sum(tf.mul(d.predicted, d.actual), 0);
  const fp = tf.sum(tf.mul(d.predicted, tf.sub(1, d.actual)), 0);
  const fn = tf.sum(tf.mul(tf.sub(1, d.predicted), d.actual), 0);
  const precision = tf.divNoNan(tp, tf.add(tp, fp));
  const recall = tf.divNoNan(tp, tf.add(tp, fn));
  const f1 = tf.divNoNan(tf.mul(2, tf.mul(precision, recall)), tf.add(precision, recall));
  return { precision: tf.mean(precision), recall: tf.mean(recall), f1: tf.mean(f1) };
}

/** R² as the interpreter computes it: 1 − SS_res / SS_tot, SS_tot summed over the outputs around each output's mean; 0 when the targets do not vary. */
export function rSquared(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  const y = tf.reshape(yTrue, [yTrue.shape[0] ?? -1, -1]);
  const ssRes = tf.sum(tf.squaredDifference(yPred, yTrue));
  const ssTot = tf.sum(tf.squaredDifference(y, tf.mean(y, 0)));
  return tf.where(tf.greater(ssTot, 0), tf.sub(1, tf.divNoNan(ssRes, ssTot)), tf.zerosLike(ssTot));
}
