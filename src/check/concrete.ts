/**
 * A checked model with every dimension a number: its tensors, its layers with their kernels and the
 * parameters each kind declares for its options. The interpreter allocates this structure
 * (runtime/model.ts), the saved format describes it (saved/save.ts), and the PyTorch build writes
 * its initial weights and saved-model files from it, so all three agree on names, order and shapes.
 */
import type { CheckedModel } from "./ir.ts";
import { readsMask } from "../kinds/layers/types.ts";
import { size, type InitSpec, type KernelFactory, type LayerInfo } from "../core/kernel.ts";

export interface ConcreteTensor {
  name: string;
  shape: number[];
  size: number;
  dtype: "float" | "int";
}

export interface ConcreteParam {
  /** `layer/name`, e.g. `dense_1/kernel`. */
  id: string;
  layer: string;
  name: string;
  shape: number[];
  /** Updated by the optimizer (false for moving statistics and frozen layers). */
  trainable: boolean;
  /** Trained by its kind, but its layer is frozen (`trainable: false`). */
  frozen: boolean;
  init: InitSpec;
  l1: number;
  l2: number;
}

export interface ConcreteLayer<P extends ConcreteParam = ConcreteParam> {
  info: LayerInfo;
  factory: KernelFactory;
  /** Indices into the model's tensors. */
  inputs: number[];
  output: number;
  /** Its outputs after the first (a recurrent layer's states), tensor indices. */
  more?: number[];
  /** In TensorFlow.js's order within the layer. */
  params: P[];
  /** A layer that reads the padding mask of its (first) input: the ids it comes from, a tensor index (id 0 is padding). */
  maskIds?: number;
}

export interface ConcreteModel<P extends ConcreteParam = ConcreteParam> {
  name: string;
  tensors: ConcreteTensor[];
  inputs: number[];
  outputs: number[];
  layers: ConcreteLayer<P>[];
}

/** Every parameter, layer by layer. */
export function paramsOf<P extends ConcreteParam>(m: ConcreteModel<P>): P[] {
  return m.layers.flatMap((l) => l.params);
}

/**
 * The model with numeric shapes; errors name what has no number (a symbolic dimension) or a model
 * that did not check.
 */
export function concreteModel(checked: CheckedModel): { model?: ConcreteModel; errors: string[] } {
  const errors: string[] = [];
  if (!checked.complete) errors.push(`model \`${checked.spec.name}\` has errors; run \`nnspec check\` first`);
  const tensors: ConcreteTensor[] = [];
  const ids = new Map<string, number>();
  const numeric = (what: string, s: readonly { value: number | undefined; toString(): string }[]): number[] | undefined => {
    const out: number[] = [];
    for (const d of s) {
      if (d.value === undefined) {
        errors.push(`${what} has the symbolic dimension \`${d}\`; every dimension must be known to run or save it`);
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
  const layers: ConcreteLayer[] = [];
  for (const cl of checked.layers) {
    const factory = cl.spec.kind.kernel;
    const inShapes = cl.inputShapes.map((s, i) => numeric(`the input ${i + 1} of layer \`${cl.spec.name}\``, s));
    const outShape = numeric(`the output of layer \`${cl.spec.name}\``, cl.output);
    const inIds = cl.spec.inputs.map((n) => ids.get(n));
    if (!outShape || inShapes.some((s) => !s) || inIds.some((i) => i === undefined)) continue;
    const info: LayerInfo = { name: cl.spec.name, kind: cl.spec.kind.name, opts: cl.spec.options.full, inShapes: inShapes as number[][], outShape };
    const frozen = info.opts.trainable === false;
    const params = factory.params(info).map((d) => ({
      id: `${info.name}/${d.name}`,
      layer: info.name,
      name: d.name,
      shape: d.shape,
      trainable: d.trainable && !frozen,
      frozen: d.trainable && frozen,
      init: d.init,
      l1: d.l1 ?? 0,
      l2: d.l2 ?? 0,
    }));
    const mask = readsMask(cl.spec.kind.mask?.(info.opts)) ? checked.tensors.get(cl.spec.inputs[0])?.mask : undefined;
    const maskIds = mask ? ids.get(mask.ids) : undefined;
    const output = addTensor(info.name, outShape, "float");
    const more = (cl.more ?? []).map((s, k) => addTensor(cl.spec.more![k], numeric(`the output ${k + 2} of layer \`${cl.spec.name}\``, s) ?? [], "float"));
    layers.push({ info, factory, inputs: inIds as number[], output, ...(more.length ? { more } : {}), params, ...(maskIds !== undefined ? { maskIds } : {}) });
  }
  const outputs: number[] = [];
  for (const o of checked.outputs) {
    const id = ids.get(o.name);
    if (id !== undefined) outputs.push(id);
  }
  if (errors.length) return { errors };
  return { model: { name: checked.spec.name, tensors, inputs, outputs, layers }, errors };
}
