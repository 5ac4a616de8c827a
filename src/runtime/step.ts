/**
 * One training step over a plan: forward in training mode, the loss and its gradient fused,
 * backward, the L1/L2 penalties, then the optimizer's in-place update. Nothing is allocated per step.
 */
import type { NamedOpts } from "../check/ir.ts";
import { labelWidthFor, lossKernel, regularize, type LossKernel } from "../kinds/losses/kernels.ts";
import { createOptimizer, type Optimizer } from "../kinds/optimizers/update.ts";
import type { Param, RuntimeModel } from "./model.ts";
import { Plan } from "./plan.ts";
import { allocBuf, type Buf } from "../core/kernel.ts";

export type { NamedOpts };

export class TrainStep {
  readonly plan: Plan;
  /** Labels of the current batch: write `labelWidth` values per example before `run`. */
  readonly labels: Buf;
  readonly labelWidth: number;
  readonly loss: LossKernel;
  readonly optimizer: Optimizer;
  private readonly regularized: Param[];
  private readonly otherOutputs: Buf[];

  constructor(
    readonly model: RuntimeModel,
    readonly capacity: number,
    lossSpec: NamedOpts,
    optimizerSpec: NamedOpts,
    labelWidth?: number,
  ) {
    this.plan = new Plan(model, capacity, { train: true });
    const outShape = model.tensors[model.outputs[0]].shape;
    this.labelWidth = labelWidth ?? labelWidthFor(lossSpec.name, outShape);
    this.labels = allocBuf(model.precision, capacity * this.labelWidth, `the labels of a batch of ${capacity}`);
    this.loss = lossKernel({ name: lossSpec.name, opts: lossSpec.opts, outShape, pred: this.plan.output(0), dPred: this.plan.outputGrad(0), labels: this.labels, labelWidth: this.labelWidth });
    this.optimizer = createOptimizer(optimizerSpec.name, optimizerSpec.opts, model.trainable);
    // Frozen layers' penalties count in the loss (as in evaluation and TensorFlow.js) but get no gradient.
    this.regularized = model.params.filter((p) => p.l1 || p.l2);
    this.otherOutputs = model.outputs.slice(1).map((_, i) => this.plan.outputGrad(i + 1)).filter((g): g is Buf => g !== null);
  }

  /** Forward, loss and backward for the first n rows; gradients land in each parameter's `grad`. */
  gradients(n: number): number {
    const plan = this.plan;
    plan.forward(n, true);
    const data = this.loss.compute(n);
    for (const g of this.otherOutputs) g.fill(0);
    plan.backward(n);
    return data + regularize(this.regularized);
  }

  /** One update; returns the batch loss. A non-finite loss leaves the weights as they were. */
  run(n: number, lr: number): number {
    const loss = this.gradients(n);
    if (Number.isFinite(loss)) this.optimizer.step(lr);
    return loss;
  }
}
