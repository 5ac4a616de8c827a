/**
 * Lowering: a checked model becomes a runtime model with numeric shapes, one kernel per layer and
 * its parameters allocated and initialized from one seed. Plans (plan.ts) then run it for a batch
 * size. Nothing here reads files or the environment.
 */
import type { CheckedModel } from "../check/ir.ts";
import { initialValues } from "../core/init.ts";
import { dropoutRng, Rng } from "../core/rng.ts";
import { allocBuf, size, type Buf, type InitSpec, type KernelFactory, type LayerInfo, type Precision } from "../core/kernel.ts";

export interface Param {
  /** `layer/name`, e.g. `dense_1/kernel`. */
  id: string;
  layer: string;
  name: string;
  shape: number[];
  value: Buf;
  /** Allocated by the first training plan; null for frozen and non-trainable parameters. */
  grad: Buf | null;
  /** Updated by the optimizer (false for moving statistics and frozen layers). */
  trainable: boolean;
  init: InitSpec;
  l1: number;
  l2: number;
}

export interface RuntimeTensor {
  name: string;
  shape: number[];
  size: number;
  dtype: "float" | "int";
}

export interface RuntimeLayer {
  info: LayerInfo;
  factory: KernelFactory;
  inputs: number[];
  output: number;
  params: Param[];
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
    const errors: string[] = [];
    const precision = opts.precision ?? "f32";
    const seed = opts.seed ?? 0;
    if (!checked.complete) errors.push(`model \`${checked.spec.name}\` has errors; run \`nnspec check\` first`);
    const tensors: RuntimeTensor[] = [];
    const ids = new Map<string, number>();
    const numeric = (what: string, s: readonly { value: number | undefined; toString(): string }[]): number[] | undefined => {
      const out: number[] = [];
      for (const d of s) {
        if (d.value === undefined) {
          errors.push(`${what} has the symbolic dimension \`${d}\`; the interpreter needs every dimension known`);
          return undefined;
        }
        out.push(d.value);
      }
      return out;
    };
    const addTensor = (name: string, shape: number[], dtype: "float" | "int"): number => {
      tensors.push({ name, shape, size: size(shape), dtype });
      ids.set(name, tensors.length - 1);
      return tensors.length - 1;
    };
    const inputs: number[] = [];
    for (const t of checked.inputs) {
      const s = numeric(`input \`${t.name}\``, t.shape);
      if (s) inputs.push(addTensor(t.name, s, t.dtype));
    }
    const layers: RuntimeLayer[] = [];
    for (const cl of checked.layers) {
      const kind = cl.spec.kind.name;
      const factory = cl.spec.kind.kernel;
      const inShapes = cl.inputShapes.map((s, i) => numeric(`the input ${i + 1} of layer \`${cl.spec.name}\``, s));
      const outShape = numeric(`the output of layer \`${cl.spec.name}\``, cl.output);
      const inIds = cl.spec.inputs.map((n) => ids.get(n));
      if (!outShape || inShapes.some((s) => !s) || inIds.some((i) => i === undefined)) continue;
      const info: LayerInfo = { name: cl.spec.name, kind, opts: cl.spec.options.full, inShapes: inShapes as number[][], outShape };
      const frozen = info.opts.trainable === false;
      const params: Param[] = factory.params(info).map((d) => ({
        id: `${info.name}/${d.name}`,
        layer: info.name,
        name: d.name,
        shape: d.shape,
        value: allocBuf(precision, size(d.shape), `the parameter \`${info.name}/${d.name}\``),
        grad: null,
        trainable: d.trainable && !frozen,
        init: d.init,
        l1: d.l1 ?? 0,
        l2: d.l2 ?? 0,
      }));
      layers.push({ info, factory, inputs: inIds as number[], output: addTensor(info.name, outShape, "float"), params, rng: dropoutRngOf(seed, info) });
    }
    const outputs: number[] = [];
    for (const o of checked.outputs) {
      const id = ids.get(o.name);
      if (id !== undefined) outputs.push(id);
    }
    if (errors.length) return { errors };
    const model = new RuntimeModel(checked.spec.name, precision, tensors, inputs, outputs, layers, seed);
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
    for (const p of this.params) if (p.trainable && !p.grad) p.grad = allocBuf(this.precision, p.value.length, `the gradient of \`${p.id}\``);
  }
}

function dropoutRngOf(seed: number, info: LayerInfo): Rng {
  return dropoutRng(seed, info.name, typeof info.opts.seed === "number" ? info.opts.seed : undefined);
}
