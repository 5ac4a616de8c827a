/**
 * Lowering: a checked model becomes a runtime model with numeric shapes, one kernel per layer and
 * its parameters allocated and initialized from one seed. Plans (plan.ts) then run it for a batch
 * size. Nothing here reads files or the environment.
 */
import type { CheckedModel } from "../check/ir.ts";
import { initialValues } from "../core/init.ts";
import { dropoutRng, Rng } from "../core/rng.ts";
import { concreteModel, type ConcreteLayer, type ConcreteParam, type ConcreteTensor } from "../check/concrete.ts";
import { allocBuf, size, type Buf, type LayerInfo, type Precision } from "../core/kernel.ts";
import { placer } from "../core/simd/index.ts";

export interface Param extends ConcreteParam {
  value: Buf;
  /** Allocated by the first training plan; null for frozen and non-trainable parameters. */
  grad: Buf | null;
}

export type RuntimeTensor = ConcreteTensor;

export interface RuntimeLayer extends ConcreteLayer<Param> {
  /** The layer's own random stream (dropout). */
  rng: Rng;
}

export class RuntimeModel {
  private constructor(
    readonly name: string,
    readonly precision: Precision,
    readonly tensors: RuntimeTensor[],
    readonly inputs: number[],
    readonly outputs: number[],
    readonly layers: RuntimeLayer[],
    public seed: number,
    /** Allocates float32 parameters and gradients inside the SIMD module's memory where it can (see `placer`; the blocks are the layers'). */
    private readonly place: (n: number) => Float32Array | null,
  ) {}

  /** Every parameter, layer by layer, each layer's in TensorFlow.js's order. */
  get params(): Param[] {
    return this.layers.flatMap((l) => l.params);
  }
  /** Parameters the optimizer updates. */
  get trainable(): Param[] {
    return this.params.filter((p) => p.trainable);
  }

  /**
   * Lowers a checked model; errors name what cannot run (a symbolic dimension, a layer kind
   * without a kernel, a model that did not check).
   */
  static lower(checked: CheckedModel, opts: { seed?: number; precision?: Precision } = {}): { model?: RuntimeModel; errors: string[] } {
    const precision = opts.precision ?? "f32";
    const seed = opts.seed ?? 0;
    const { model: c, errors } = concreteModel(checked);
    if (!c) return { errors };
    // float32 parameters lie in the SIMD module's memory where it can hold them (the optimizer
    // updates them there); the layers, which the model holds, own the blocks
    const layers: RuntimeLayer[] = [];
    const place = placer(layers);
    for (const l of c.layers) {
      const params = l.params.map((p) => ({ ...p, value: allocBuf(precision, size(p.shape), `the parameter \`${p.id}\``, place), grad: null }));
      layers.push({ ...l, params, rng: dropoutRngOf(seed, l.info) });
    }
    const model = new RuntimeModel(c.name, precision, c.tensors, c.inputs, c.outputs, layers, seed, place);
    model.initialize(seed);
    return { model, errors };
  }

  /** Draws every parameter from its initializer: the same seed gives bit-identical weights. */
  initialize(seed: number): void {
    this.seed = seed;
    for (const l of this.layers) {
      for (const p of l.params) initialValues(p.value, p.id, p.shape, p.init, seed);
      l.rng = dropoutRngOf(seed, l.info);
    }
  }

  /** A copy of every parameter's values (moving statistics included). */
  snapshot(): Buf[] {
    return this.params.map((p) => p.value.slice());
  }
  restore(snap: readonly Buf[]): void {
    this.params.forEach((p, i) => p.value.set(snap[i]));
  }

  /** Whether every parameter value is finite. */
  finite(): boolean {
    for (const p of this.params) for (let i = 0; i < p.value.length; i++) if (!Number.isFinite(p.value[i])) return false;
    return true;
  }

  /** Allocates gradient buffers for the trainable parameters (once). */
  ensureGrads(): void {
    for (const p of this.params) if (p.trainable && !p.grad) p.grad = allocBuf(this.precision, p.value.length, `the gradient of \`${p.id}\``, this.place);
  }
}

function dropoutRngOf(seed: number, info: LayerInfo): Rng {
  return dropoutRng(seed, info.name, typeof info.opts.seed === "number" ? info.opts.seed : undefined);
}
