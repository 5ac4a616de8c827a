/**
 * A model as an ONNX file (IR version 8, opset 17, which ONNX Runtime and onnx 1.12's checker take):
 * each layer kind's `onnx` mapping writes its nodes, named after the layer and its line in the spec
 * (`dense_1@17/MatMul`, what Netron shows); the weights become initializers; the batch dimension is
 * symbolic. With fitted preprocessing the graph starts from the raw features (missing values filled,
 * the affine map of standardize / min-max / scale, the data block's reshape). A padding mask is
 * computed from the ids where a layer reads it. Pure: bytes out.
 */
import type { ConcreteModel } from "../../check/concrete.ts";
import { affine, type FittedStats } from "../../data/preprocess.ts";
import { LAYERS } from "../../kinds/layers/registry.ts";
import type { OnnxAttr, OnnxGraph } from "../../kinds/onnx.ts";
import { NNSPEC_VERSION } from "../../core/version.ts";
import type { ValuedParam } from "../../saved/save.ts";
import { ATTR, DTYPE, modelProto } from "./proto.ts";

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
/** The name of the raw-features input when preprocessing is folded in. */
export const RAW_INPUT = "features";

export interface OnnxOptions {
  /** Where a layer is written, for node names and docs: its line (`17`) and text. */
  where?: (layer: string) => { line: number; text: string } | undefined;
  /** Fitted preprocessing to fold in front of the model (`--with-preprocessing`). */
  preprocess?: FittedStats;
  /** Key/value pairs for the model's metadata (the spec, class names). */
  metadata?: Record<string, string>;
}

interface Node {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: object[];
  doc_string?: string;
}

const attribute = (name: string, a: OnnxAttr): object => {
  if ("i" in a) return { name, type: ATTR.INT, i: a.i };
  if ("f" in a) return { name, type: ATTR.FLOAT, f: a.f };
  if ("s" in a) return { name, type: ATTR.STRING, s: new TextEncoder().encode(a.s) };
  if ("ints" in a) return { name, type: ATTR.INTS, ints: a.ints };
  if ("floats" in a) return { name, type: ATTR.FLOATS, floats: a.floats };
  return { name, type: ATTR.STRINGS, strings: a.strings.map((s) => new TextEncoder().encode(s)) };
};

const float32Bytes = (v: ArrayLike<number>): Uint8Array => {
  const f = Float32Array.from(v);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
};

/**
 * The ONNX model's bytes. Throws an Error naming the layer when a layer has no ONNX form (a padding
 * mask, an activation ONNX lacks) or the preprocessing cannot be folded (one-hot, text).
 */
export function onnxModel(model: ConcreteModel<ValuedParam>, o: OnnxOptions = {}): Uint8Array {
  const nodes: Node[] = [];
  const initializers: object[] = [];
  const taken = new Set<string>();
  const unique = (base: string): string => {
    let n = base;
    for (let k = 2; taken.has(n); k++) n = `${base}_${k}`;
    taken.add(n);
    return n;
  };
  const constant = (prefix: string, t: object): string => {
    const name = unique(prefix);
    initializers.push({ name, ...t });
    return name;
  };
  const graphFor = (owner: string, params: Map<string, ValuedParam>, doc?: string): OnnxGraph => ({
    op(type, inputs, attrs = {}, outputs = 1) {
      const name = unique(`${owner}/${type}`);
      const out = Array.from({ length: outputs }, (_, k) => (outputs === 1 ? name : `${name}:${k}`));
      out.forEach((n) => taken.add(n));
      nodes.push({ op_type: type, name, input: inputs, output: out, attribute: Object.entries(attrs).map(([k, a]) => attribute(k, a)), ...(doc ? { doc_string: doc } : {}) });
      return out;
    },
    floats: (values, dims) => constant(`${owner}/const`, { dims, data_type: DTYPE.FLOAT, raw_data: float32Bytes(values) }),
    ints: (values, dims) => constant(`${owner}/const`, { dims: dims ?? [values.length], data_type: DTYPE.INT64, int64_data: values }),
    param(name) {
      const p = params.get(name);
      if (!p) throw new Error(`layer \`${owner}\` has no parameter \`${name}\``);
      return { values: Float32Array.from(p.value), shape: [...p.shape] };
    },
    weight(name) {
      const p = this.param(name);
      return constant(`${owner}/${name}`, { dims: p.shape, data_type: DTYPE.FLOAT, raw_data: float32Bytes(p.values) });
    },
    has: (name) => params.has(name),
  });

  const valueInfo = (name: string, dtype: "float" | "int", shape: number[]) => ({
    name,
    type: { tensor_type: { elem_type: dtype === "int" ? DTYPE.INT32 : DTYPE.FLOAT, shape: { dim: [{ dim_param: "batch" }, ...shape.map((d) => ({ dim_value: d }))] } } },
  });

  // The tensor each nnspec tensor is in the graph.
  const names = new Map<number, string>();
  const inputs: object[] = [];
  const pre = o.preprocess;
  if (pre) {
    if (model.inputs.length !== 1) throw new Error(`model \`${model.name}\` has ${model.inputs.length} inputs; preprocessing folds into a model of one`);
    const bad = pre.features.find((f) => f.kind !== "numeric" || f.codes);
    if (bad)
      throw new Error(
        `feature \`${bad.name}\` is ${bad.kind === "text" ? "text turned into token ids" : bad.codes ? "categories read as codes" : "one-hot encoded"}, which ONNX preprocessing here does not do; export without --with-preprocessing and encode it before the model`,
      );
    const t = model.tensors[model.inputs[0]];
    const k = pre.features.length;
    inputs.push(valueInfo(RAW_INPUT, "float", [k]));
    taken.add(RAW_INPUT);
    const g = graphFor("preprocess", new Map(), "the data block's fitted preprocessing");
    const { a, b, fill } = affine(pre);
    let x = RAW_INPUT;
    if (fill.some((v) => !Number.isNaN(v))) {
      const f = Float32Array.from(fill, (v) => (Number.isNaN(v) ? 0 : v));
      x = g.op("Where", [g.op("IsNaN", [x])[0], g.floats(f, [k]), x])[0];
    }
    x = g.op("Add", [g.op("Mul", [x, g.floats(a, [k])])[0], g.floats(b, [k])])[0];
    if (t.shape.length !== 1 || t.shape[0] !== k) x = g.op("Reshape", [x, g.ints([0, ...t.shape])])[0];
    if (t.dtype === "int") x = g.op("Cast", [x], { to: { i: DTYPE.INT32 } })[0];
    names.set(model.inputs[0], x);
  } else {
    for (const i of model.inputs) {
      const t = model.tensors[i];
      inputs.push(valueInfo(t.name, t.dtype, t.shape));
      taken.add(t.name);
      names.set(i, t.name);
    }
  }

  for (const l of model.layers) {
    const name = l.info.name;
    const kind = LAYERS.get(l.info.kind)!;
    const at = o.where?.(name);
    const g = graphFor(at ? `${name}@${at.line}` : name, new Map(l.params.map((p) => [p.name, p])), at?.text);
    if (l.maskIds !== undefined) g.ids = names.get(l.maskIds);
    let outs: string[];
    try {
      outs = kind.onnx(l.info.opts, l.inputs.map((t) => names.get(t)!), l.info.inShapes.map((s) => [...s]), [...l.info.outShape], g);
    } catch (e) {
      throw new Error(`layer \`${name}\`${at ? ` (line ${at.line})` : ""} has no ONNX form: ${(e as Error).message}`);
    }
    names.set(l.output, outs[0]);
    l.more?.forEach((t, k) => names.set(t, outs[k + 1]));
  }

  // The outputs under their nnspec names.
  const outputs = model.outputs.map((i) => {
    const t = model.tensors[i];
    let name = t.name;
    if (taken.has(name)) name = unique(`${name}_output`);
    nodes.push({ op_type: "Identity", name: `${name}/output`, input: [names.get(i)!], output: [name], attribute: [] });
    return valueInfo(name, t.dtype, t.shape);
  });

  const T = modelProto();
  const message = T.fromObject({
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: "", version: ONNX_OPSET }],
    producer_name: "nnspec",
    producer_version: NNSPEC_VERSION,
    model_version: 1,
    doc_string: `model ${model.name}, written by nnspec ${NNSPEC_VERSION}`,
    graph: { name: model.name, node: nodes, initializer: initializers, input: inputs, output: outputs },
    metadata_props: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return T.encode(message).finish();
}
