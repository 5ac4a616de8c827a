/**
 * The TensorFlow.js side of the differential tests and the training benchmark: the same losses,
 * optimizers and regularization as the interpreter, written with tfjs ops, and a training step
 * built on `optimizer.applyGradients`.
 */
import * as tf from "@tensorflow/tfjs";
import { buildTfjs } from "../../src/codegen/tfjs/twin.ts";
import type { CheckedModel } from "../../src/check/ir.ts";
import type { Json } from "../../src/lang/values.ts";
import type { RuntimeModel } from "../../src/runtime/model.ts";

type Opts = Record<string, Json>;
const num = (o: Opts, k: string, d: number) => (typeof o[k] === "number" ? (o[k] as number) : d);
const EPS = 1e-7;

/** The mean loss as the interpreter defines it (tfjs-layers semantics; softmax CE from logits via log-sum-exp). */
export function tfLoss(name: string, opts: Opts): (y: tf.Tensor, p: tf.Tensor) => tf.Scalar {
  const logits = opts.from_logits === true;
  const ls = num(opts, "label_smoothing", 0);
  switch (name) {
    case "mse":
      return (y, p) => tf.mean(tf.square(tf.sub(p, y)));
    case "mae":
      return (y, p) => tf.mean(tf.abs(tf.sub(p, y)));
    case "huber":
      return (y, p) => tf.losses.huberLoss(y, p, undefined, num(opts, "delta", 1)) as tf.Scalar;
    case "binary_cross_entropy":
      return (y, p) => {
        const t = ls ? tf.add(tf.mul(y, 1 - ls), 0.5 * ls) : y;
        return logits ? (tf.losses.sigmoidCrossEntropy(t, p) as tf.Scalar) : tf.mean(tf.metrics.binaryCrossentropy(t, p));
      };
    case "cross_entropy":
    case "sparse_cross_entropy":
      return (y, p) => {
        const K = p.shape[p.shape.length - 1]!;
        let t = name === "sparse_cross_entropy" ? tf.reshape(tf.oneHot(tf.cast(tf.reshape(y, [-1]), "int32"), K), p.shape) : y;
        if (ls && name === "cross_entropy") t = tf.add(tf.mul(t, 1 - ls), ls / K);
        if (logits) {
          const lse = tf.logSumExp(p, -1, true);
          return tf.mean(tf.sum(tf.mul(t, tf.sub(lse, p)), -1));
        }
        const q = name === "sparse_cross_entropy" ? tf.clipByValue(p, EPS, 1 - EPS) : p;
        return tf.mean(tf.metrics.categoricalCrossentropy(t, q));
      };
  }
  throw new Error(`no tfjs loss for ${name}`);
}

export interface TfOptimizer {
  opt: tf.Optimizer;
  /** Decoupled weight decay (adamw), applied before the update. */
  decay: number;
}

export function tfOptimizer(name: string, opts: Opts): TfOptimizer {
  const lr = num(opts, "lr", name === "rmsprop" || name.startsWith("adam") ? 0.001 : 0.01);
  switch (name) {
    case "sgd":
      return { opt: num(opts, "momentum", 0) ? tf.train.momentum(lr, num(opts, "momentum", 0), opts.nesterov === true) : tf.train.sgd(lr), decay: 0 };
    case "momentum":
      return { opt: tf.train.momentum(lr, num(opts, "momentum", 0.9), opts.nesterov === true), decay: 0 };
    case "adagrad":
      return { opt: tf.train.adagrad(lr, num(opts, "initial_accumulator", 0.1)), decay: 0 };
    case "rmsprop":
      return { opt: tf.train.rmsprop(lr, num(opts, "rho", 0.9), num(opts, "momentum", 0), num(opts, "epsilon", 1e-7), opts.centered === true), decay: 0 };
    case "adam":
      return { opt: tf.train.adam(lr, num(opts, "beta1", 0.9), num(opts, "beta2", 0.999), num(opts, "epsilon", 1e-7)), decay: 0 };
    case "adamw":
      return { opt: tf.train.adam(lr, num(opts, "beta1", 0.9), num(opts, "beta2", 0.999), num(opts, "epsilon", 1e-7)), decay: lr * num(opts, "weight_decay", 0.004) };
  }
  throw new Error(`no tfjs optimizer for ${name}`);
}

/** The tfjs model of a checked model, with the interpreter's current weights copied in. */
export function tfjsTwin(checked: CheckedModel, model: RuntimeModel): tf.LayersModel {
  const tfm = buildTfjs(checked);
  copyWeights(model, tfm);
  return tfm;
}

export function copyWeights(model: RuntimeModel, tfm: tf.LayersModel): void {
  for (const l of model.layers) {
    if (!l.params.length) continue;
    const layer = tfm.getLayer(l.info.name);
    layer.setWeights(l.params.map((p) => tf.tensor(Float32Array.from(p.value), p.shape)));
  }
}

/** A tfjs training step: gradients of loss + L1/L2 penalties, decay, then the optimizer's update. */
export function tfStepper(model: RuntimeModel, tfm: tf.LayersModel, lossName: string, lossOpts: Opts, optName: string, optOpts: Opts) {
  const lossFn = tfLoss(lossName, lossOpts);
  const { opt, decay } = tfOptimizer(optName, optOpts);
  const vars = tfm.trainableWeights.map((w) => w.read() as tf.Variable);
  const regs: { v: tf.Variable; l1: number; l2: number }[] = [];
  for (const l of model.layers)
    for (const p of l.params) {
      if (!p.trainable || (!p.l1 && !p.l2)) continue;
      const w = tfm.getLayer(l.info.name).trainableWeights.find((t) => t.originalName.endsWith(`/${p.name}`) || t.name.endsWith(`/${p.name}`));
      if (w) regs.push({ v: w.read() as tf.Variable, l1: p.l1, l2: p.l2 });
    }
  return (x: tf.Tensor, y: tf.Tensor): number => {
    const { value, grads } = tf.variableGrads(() => {
      const p = tfm.apply(x, { training: true }) as tf.Tensor;
      let loss = lossFn(y, p);
      for (const r of regs) {
        if (r.l1) loss = tf.add(loss, tf.mul(r.l1, tf.sum(tf.abs(r.v))));
        if (r.l2) loss = tf.add(loss, tf.mul(r.l2, tf.sum(tf.square(r.v))));
      }
      return loss as tf.Scalar;
    }, vars);
    if (decay) for (const v of vars) tf.tidy(() => v.assign(tf.mul(v, 1 - decay)));
    opt.applyGradients(grads);
    const out = value.dataSync()[0];
    value.dispose();
    tf.dispose(grads);
    return out;
  };
}
