/**
 * A model as a graph to draw: one node per model input, layer and output, an edge per tensor a
 * layer reads (labelled with its shape as the checker computed it, symbolic dimensions as written),
 * block uses as nested clusters, and each layer's findings on the node they are about. Read from
 * the checked IR; a model that did not check completely is drawn as far as it resolved.
 */
import { shapeText, type Shape } from "../core/dims.ts";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import type { Span } from "../diagnostics/span.ts";
import type { CheckedModel, CheckedProgram } from "../check/ir.ts";
import type { LayerRole } from "../kinds/layers/types.ts";
import type { ModelSpec, Program } from "../lang/program.ts";
import { layerOpText } from "../format/printer.ts";

export interface GraphProblem {
  severity: "error" | "warning";
  code: string;
  message: string;
}

export interface GraphNode {
  /** `in:NAME`, `layer:NAME` or `out:NAME`: unique within the model. */
  id: string;
  kind: "input" | "layer" | "join" | "output";
  /** The tensor, layer or output name. */
  name: string;
  /** The layer as written after its name (`dense 64 relu`); a join's kind. */
  text?: string;
  role?: LayerRole;
  /** Trainable and frozen parameters; undefined where a symbolic dimension decides them. */
  params?: number;
  line: number;
  /** Errors and warnings whose place is this node's text. */
  problems: GraphProblem[];
  /** False when the checker computed no shape for it (it, or a layer before it, has an error). */
  checked: boolean;
  /** The innermost block use it belongs to (a cluster's id). */
  cluster?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** The shape of the tensor that flows, as `nnspec summary` writes it (`[*, 28, 28, 1]`). */
  shape?: string;
}

/** One use of a block: its layers are drawn inside. */
export interface GraphCluster {
  id: string;
  /** The use as written: `encoder_1 = encoder 32 heads: 4`. */
  label: string;
  parent?: string;
  line: number;
}

export interface ModelGraph {
  model: string;
  file: string;
  line: number;
  /** Trainable and frozen parameters of the whole model, when known. */
  params?: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  clusters: GraphCluster[];
}

const within = (s: Span, outer: Span): boolean => s.start >= outer.start && s.end <= outer.end;

/** The findings of `diagnostics` placed inside `span` of `file`. */
function problemsIn(diagnostics: readonly Diagnostic[], file: string, span: Span): GraphProblem[] {
  return diagnostics
    .filter((d) => d.file === file && (d.severity === "error" || d.severity === "warning") && within(d.span, span))
    .map((d) => ({ severity: d.severity as "error" | "warning", code: d.code, message: d.message }));
}

/** The graph of one model; `checked` is the checker's result for it, absent when it has none. */
export function modelGraph(spec: ModelSpec, checked: CheckedModel | undefined, diagnostics: readonly Diagnostic[]): ModelGraph {
  const layers = new Map(checked?.layers.map((l) => [l.spec.name, l]));
  const shapeOf = (tensor: string): Shape | undefined => checked?.tensors.get(tensor)?.shape;
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const clusters = new Map<string, GraphCluster>();
  const idOf = new Map<string, string>();
  const states = new Set<string>();

  // A layer of an unknown kind has no LayerSpec; the layers after it read a placeholder for it
  // (`?kind@offset`, or its name): it is drawn from the model's text, with its error.
  const unresolved = (tensor: string): string | undefined => {
    const at = /^\?[^@]*@(\d+)$/.exec(tensor);
    const node = spec.node.body.find((l) => (at ? l.op.span.start === Number(at[1]) : l.target?.name === tensor));
    if (!node) return undefined;
    const id = `layer:${tensor}`;
    nodes.push({ id, kind: "layer", name: node.target?.name ?? node.op.name, text: layerOpText(node), line: node.span.line, problems: problemsIn(diagnostics, spec.file, node.span), checked: false });
    idOf.set(tensor, id);
    // what it would read: its `input ->`, else the layer written before it
    const i = spec.node.body.indexOf(node);
    const before = node.input?.name ?? (i > 0 ? spec.layers.find((l) => l.node === spec.node.body[i - 1])?.name : spec.inputs.length === 1 ? spec.inputs[0].name : undefined);
    const from = before === undefined ? undefined : idOf.get(before);
    if (from) edges.push({ from, to: id });
    return id;
  };
  spec.inputs.forEach((sig, i) => {
    const id = `in:${sig.name}`;
    idOf.set(sig.name, id);
    nodes.push({ id, kind: "input", name: sig.name, line: sig.node.span.line, problems: problemsIn(diagnostics, spec.file, sig.node.span), checked: checked?.inputs[i] !== undefined });
  });
  for (const l of spec.layers) {
    const id = `layer:${l.name}`;
    const via = l.via ?? [];
    via.forEach((u, k) => {
      if (!clusters.has(u.name)) clusters.set(u.name, { id: u.name, label: `${u.name} = ${layerOpText(u.use)}`, parent: k > 0 ? via[k - 1].name : undefined, line: u.use.span.line });
    });
    const c = layers.get(l.name);
    const params = c?.params ? c.params.trainable + c.params.nonTrainable : undefined;
    const join = l.kind.role === "merge";
    nodes.push({
      id,
      kind: join ? "join" : "layer",
      name: l.name,
      text: join ? l.kind.name : layerOpText(l.node),
      role: l.kind.role,
      ...(params !== undefined ? { params } : {}),
      line: l.node.span.line,
      // a layer of a block is written once, in the block: its findings show at every use
      problems: problemsIn(diagnostics, via.length ? (via[via.length - 1].file ?? spec.file) : spec.file, l.node.span),
      checked: c !== undefined,
      ...(via.length ? { cluster: via[via.length - 1].name } : {}),
    });
    for (const input of l.inputs) {
      const from = idOf.get(input) ?? unresolved(input);
      if (!from) continue;
      const s = shapeOf(input);
      // a further output (a recurrent layer's state) is labelled with its name
      const named = states.has(input) ? `${input.slice(input.lastIndexOf(".") + 1)} ` : "";
      edges.push({ from, to: id, ...(s ? { shape: `${named}${shapeText(s)}` } : {}) });
    }
    idOf.set(l.name, id);
    // its further outputs (a recurrent layer's states) leave the same node
    for (const m of l.more ?? []) {
      idOf.set(m, id);
      states.add(m);
    }
  }
  for (const o of spec.outputs) {
    // `o.name` is the tensor (a layer's name), `o.sig.name` the name the signature gives it
    const id = `out:${o.sig.name}`;
    nodes.push({ id, kind: "output", name: o.sig.name, line: o.sig.node.span.line, problems: problemsIn(diagnostics, spec.file, o.sig.node.span), checked: shapeOf(o.name) !== undefined });
    const from = idOf.get(o.name) ?? unresolved(o.name);
    const s = shapeOf(o.name);
    if (from) edges.push({ from, to: id, ...(s ? { shape: shapeText(s) } : {}) });
  }
  const counts = checked?.complete ? checked.layers.map((l) => (l.params ? l.params.trainable + l.params.nonTrainable : undefined)) : [undefined];
  const total = counts.every((n) => n !== undefined) ? counts.reduce<number>((a, n) => a + n!, 0) : undefined;
  return { model: spec.name, file: spec.file, line: spec.node.span.line, ...(total !== undefined ? { params: total } : {}), nodes, edges, clusters: [...clusters.values()] };
}

/** The graphs of a file's own models, or of those it imports when it declares none; or of the one named. */
export function programGraphs(program: Program, checked: CheckedProgram, diagnostics: readonly Diagnostic[], only?: string): ModelGraph[] {
  const all = [...program.models.values()];
  const own = all.filter((m) => m.file === program.file);
  return (only !== undefined ? all.filter((m) => m.name === only) : own.length ? own : all).map((m) => modelGraph(m, checked.models.get(m.name), diagnostics));
}
