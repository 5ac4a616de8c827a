import type { DiagnosticSink, Extra, Label } from "../diagnostics/diagnostic.ts";
import { pointAt, type Span } from "../diagnostics/span.ts";
import type { LayerSpec, ModelSpec } from "../lang/program.ts";
import { attachUses } from "../lang/blocks.ts";
import { readsMask, type ShapeContext } from "../kinds/layers/types.ts";
import type * as A from "../syntax/ast.ts";
import { exprText } from "../lang/values.ts";
import { closest } from "../util/suggest.ts";
import { Dim, shapeText, type Shape } from "../core/dims.ts";
import { MAX_BUFFER } from "../core/kernel.ts";
import { removeLayer } from "./crossdecl.ts";
import type { CheckedLayer, CheckedModel, TensorInfo } from "./ir.ts";

/** How many producing layers a shape error lists. */
const CHAIN = 4;
/** Layers that read int tensors (ids), and those that pass an int tensor on unchanged. */

/** Computes every tensor's shape in a model, reporting all shape errors in one pass. */
export function checkModel(spec: ModelSpec, sink: DiagnosticSink): CheckedModel {
  const symbols = new Set<string>();
  const tensors = new Map<string, TensorInfo>();
  const inputs: TensorInfo[] = [];
  let complete = true;
  // Symbols are declared by appearing alone as a dimension of an input.
  for (const i of spec.inputs) for (const d of i.dims ?? []) if (d.kind === "name") symbols.add(d.name);
  for (const i of spec.inputs) {
    if (!i.dims) {
      // The shape was lost to a syntax error: nothing downstream can be checked.
      complete = false;
      continue;
    }
    const shape = evalDims(i.dims, symbols, sink);
    if (!shape) {
      complete = false;
      continue;
    }
    const t: TensorInfo = { name: i.name, shape, dtype: i.dtype };
    inputs.push(t);
    tensors.set(i.name, t);
  }
  const layers: CheckedLayer[] = [];
  // a block's layers are checked once per use: a finding names the use, and repeats are dropped
  const seen = new Set<string>();
  const checkLayer = (l: LayerSpec): void => {
    const ins = l.inputs.map((n) => tensors.get(n));
    if (ins.length === 0 || ins.some((t) => !t) || l.options.ok === false) {
      complete = false;
      return; // an earlier error already explains why
    }
    const intIn = ins.find((t) => t!.dtype === "int");
    if (intIn && !l.kind.ints) {
      // Name the declared input the ids came from (through any flatten or reshape).
      let origin: TensorInfo = intIn;
      while (origin.producer) origin = tensors.get(origin.producer.spec.inputs[0]) ?? origin;
      const decl = spec.inputs.find((i) => i.name === origin.name);
      const via = origin === intIn ? [] : [{ span: intIn.producer!.spec.node.span, message: `\`${intIn.producer!.spec.kind.name}\` passes the ids on` }];
      sink.report("intInput", l.node.op.span, { layer: l.name, tensor: origin.name, kind: l.kind.name, shape: `[${origin.shape.map(String).join(", ")}]` }, {
        labels: [...(decl ? [{ span: decl.node.span, message: "declared int here" }] : []), ...via],
      });
      complete = false;
      return;
    }
    const inShapes = ins.map((t) => t!.shape);
    const ctx = new LayerContext(spec, l, ins as TensorInfo[], inShapes, tensors, symbols, sink);
    const out = l.kind.shape(ctx);
    if (!out || ctx.failed) {
      complete = false;
      return;
    }
    let params = l.kind.params(inShapes, out, l.options.full);
    // What the runtime could never allocate (typed arrays hold at most 2^31 - 1 values).
    const outSize = out.reduce((a, d) => a * (d.value ?? 1), 1);
    const total = params ? params.trainable + params.nonTrainable : 0;
    if (total > MAX_BUFFER || outSize > MAX_BUFFER) {
      sink.report("tooLarge", l.node.op.span, { layer: l.name, what: total > MAX_BUFFER ? `${total.toExponential(2)} parameters` : `${outSize.toExponential(2)} output values per example`, limit: "2^31 − 1" });
      complete = false;
      return;
    }
    if (params && l.options.values.trainable === false) params = { trainable: 0, nonTrainable: params.trainable + params.nonTrainable };
    // The padding mask of `embedding mask_zero`: made, passed on, used, or refused.
    const rule = l.kind.mask?.(l.options.full);
    // inputs masked from different ids (a merge of two padded sequences): one mask cannot say both
    const masks = ins.map((t) => t!.mask).filter((m) => m !== undefined);
    const agree = masks.every((m) => m.ids === masks[0].ids);
    const inMask = masks.length && agree ? { ...masks[0], used: masks.some((m) => m.used) } : masks[0];
    const carries = agree && (rule === "keeps" || readsMask(rule));
    // dropped before anything used it: `mask_zero` does nothing here
    if (inMask && !inMask.used && !carries) sink.report("maskDropped", l.node.op.span, { layer: l.name, source: inMask.layer, kind: l.kind.name }, { labels: madeAt(spec, inMask.layer) });
    const lost = inMask ? undefined : ins.find((t) => t!.lostMask)?.lostMask;
    if (lost && readsMask(rule)) {
      sink.report("maskStale", l.node.op.span, { layer: l.name, source: lost.layer, by: lost.by }, { labels: [...madeAt(spec, lost.layer), ...labelAt(spec, lost.by, "drops it")] });
      complete = false;
      return;
    }
    if (inMask?.merged && l.kind.recurrent && carries) {
      sink.report("maskAfterMerge", l.node.op.span, { layer: l.name, source: inMask.layer, merge: inMask.merged }, { labels: [...madeAt(spec, inMask.layer), ...labelAt(spec, inMask.merged, "merges the masked sequence")] });
      complete = false;
      return;
    }
    const kept = inMask && l.kind.role === "merge" && ins.length > 1 ? { ...inMask, merged: l.name } : inMask;
    const mask = rule === "makes" ? { layer: l.name, ids: l.inputs[0], used: false } : !carries ? undefined : rule === "keeps" ? kept : rule === "uses" && inMask ? { ...kept!, used: true } : undefined;
    // a mask that stops here stays in TensorFlow.js's hands for every recurrent layer after
    const lostMask = mask ? undefined : inMask ? { layer: inMask.layer, by: l.name } : lost;
    const more = l.kind.moreShapes?.(inShapes, out, l.options.full) ?? [];
    const checked: CheckedLayer = { spec: l, inputShapes: inShapes, output: out, ...(more.length ? { more } : {}), params, flops: l.kind.flops(inShapes, out, l.options.full) };
    layers.push(checked);
    tensors.set(l.name, { name: l.name, shape: out, dtype: intIn && l.kind.ints === "passes" ? "int" : "float", producer: checked, ...(mask ? { mask } : {}), ...(lostMask ? { lostMask } : {}) });
    // its further outputs (a recurrent layer's states): no mask, whatever its input carried
    (l.more ?? []).forEach((name, k) => {
      if (more[k]) tensors.set(name, { name, shape: more[k], dtype: "float", producer: checked, index: k + 1 });
    });
  };
  for (const l of spec.layers) {
    const from = sink.items.length;
    checkLayer(l);
    attachUses(sink, from, l.via, seen);
  }
  const outputs: TensorInfo[] = [];
  for (const o of spec.outputs) {
    const t = tensors.get(o.name);
    if (!t) {
      complete = false;
      continue;
    }
    outputs.push(t);
    if (!o.sig.dims) continue;
    const declared = evalDims(o.sig.dims, symbols, sink);
    if (!declared) {
      complete = false;
      continue;
    }
    if (declared.length !== t.shape.length || declared.some((d, i) => !d.equals(t.shape[i]))) {
      complete = false;
      const node = o.sig.node as A.OutputSig;
      const chain = provenance([t], tensors, CHAIN);
      sink.report("outputMismatch", node.type?.span ?? node.span, { model: spec.name, declared: shapeText(declared), got: shapeText(t.shape) }, {
        labels: chain.labels,
        notes: chain.notes,
        ...outputFix(spec, t, declared),
      });
    }
  }
  return { spec, inputs, layers, outputs, tensors, complete };
}

/**
 * What a layer's shape rule sees (ShapeContext): a class, not an object of closures, since one is
 * made per layer checked (and under tsx every named closure also pays for its name).
 */
class LayerContext implements ShapeContext {
  readonly opts: ShapeContext["opts"];
  /** A dimension or an error was reported: the layer's shape is unknown. */
  failed = false;
  constructor(
    private readonly spec: ModelSpec,
    private readonly l: LayerSpec,
    private readonly ins: TensorInfo[],
    readonly inputs: Shape[],
    private readonly tensors: Map<string, TensorInfo>,
    private readonly symbols: Set<string>,
    private readonly sink: DiagnosticSink,
  ) {
    this.opts = l.options.values;
  }
  dim(v: Parameters<ShapeContext["dim"]>[0], path: string): Dim | undefined {
    const expr = findExpr(this.l, path);
    if (typeof v === "number") return Dim.of(v);
    if (!expr) return undefined;
    const d = evalDim(expr, this.symbols, this.sink);
    if (!d) this.failed = true;
    return d;
  }
  error(key: Parameters<ShapeContext["error"]>[0], params: Parameters<ShapeContext["error"]>[1], extra: Extra & { at?: string } = {}): undefined {
    this.failed = true;
    const l = this.l;
    const span = (extra.at && l.options.spans.get(extra.at)) || l.node.op.span;
    const chain = provenance(this.ins, this.tensors, CHAIN);
    this.sink.report(key, span, params, { ...extra, labels: [...(extra.labels ?? []), ...chain.labels], notes: [...(extra.notes ?? []), ...chain.notes], fixes: extra.fixes ?? fixesFor(this.spec, l, this.ins) });
    return undefined;
  }
}

/** Where the padding mask of the layer of that name is made (its `mask_zero`), as a label. */
function madeAt(spec: ModelSpec, name: string): Label[] {
  const made = spec.layers.find((x) => x.name === name);
  return made ? [{ span: made.options.spans.get("/mask_zero") ?? made.node.span, message: "the mask is made here" }] : [];
}

/** A label on the layer of that name, if the model has it. */
function labelAt(spec: ModelSpec, name: string, message: string): Label[] {
  const l = spec.layers.find((x) => x.name === name);
  return l ? [{ span: l.node.span, message }] : [];
}

/** The layers a tensor came through, newest last, as labels on their lines and one note. */
function provenance(ins: TensorInfo[], tensors: Map<string, TensorInfo>, max: number): { labels: Label[]; notes: string[] } {
  const steps: { name: string; kind: string; shape: Shape; span?: Span; line?: number }[] = [];
  let t: TensorInfo | undefined = ins[0];
  while (t && steps.length < max) {
    const p: CheckedLayer | undefined = t.producer;
    steps.unshift({ name: t.name, kind: p?.spec.kind.name ?? "input", shape: t.shape, span: p?.spec.node.span, line: p?.spec.node.span.line });
    const next: string | undefined = p?.spec.inputs[0];
    t = p && next !== undefined ? tensors.get(next) : undefined;
  }
  const labels: Label[] = steps.filter((s) => s.span).map((s) => ({ span: s.span!, message: `→ ${shapeText(s.shape)}` }));
  const path = steps.map((s) => `${s.name === s.kind || /_\d+$/.test(s.name) ? s.kind : `${s.name} (${s.kind})`}${s.line ? ` (line ${s.line})` : ""} ${shapeText(s.shape)}`).join(" → ");
  const extra = ins.length > 1 ? `; other inputs: ${ins.slice(1).map((i) => `${i.name} ${shapeText(i.shape)}`).join(", ")}` : "";
  return { labels, notes: steps.length ? [`the input comes from: ${path}${extra}`] : [] };
}

/** Machine fixes for common wiring mistakes. */
function fixesFor(model: ModelSpec, l: LayerSpec, ins: TensorInfo[]): Extra["fixes"] {
  const s = ins[0]?.shape;
  if (!s) return [];
  const spatial = ["conv2d", "maxpool2d", "avgpool2d", "global_maxpool2d", "global_avgpool2d"].includes(l.kind.name);
  const fixes: NonNullable<Extra["fixes"]> = [];
  if (spatial && s.length === 1) {
    // Images flattened too early: the likely intent is to flatten after the convolutions.
    const p = ins[0].producer;
    if (p?.spec.kind.name === "flatten" && p.inputShapes[0]?.length === 3 && model.node.body.includes(p.spec.node))
      fixes.push({ title: `remove the \`flatten\` on line ${p.spec.node.span.line}`, edits: [removeLayer(model, p.spec.node)] });
    const n = s[0].value;
    const side = n !== undefined ? Math.round(Math.sqrt(n)) : undefined;
    if (side && side * side === n) fixes.push(insertBefore(l, `reshape [${side}, ${side}, 1]`));
  }
  // A recurrent layer reading another's last step: the earlier one should return every step.
  const p = ins[0].producer;
  if (l.kind.recurrent && s.length === 1 && p?.spec.kind.recurrent && model.node.body.includes(p.spec.node))
    fixes.push({ title: `add \`return_sequences: true\` to the \`${p.spec.kind.name}\` on line ${p.spec.node.span.line}`, edits: [{ span: pointAt(p.spec.node.span, true), newText: " return_sequences: true" }] });
  return fixes;
}

function insertBefore(l: LayerSpec, text: string): NonNullable<Extra["fixes"]>[number] {
  const at = l.node.span;
  const indent = " ".repeat(at.col - 1);
  const point = pointAt(at);
  return { title: `insert \`${text}\` before line ${at.line}`, edits: [{ span: point, newText: `${text}\n${indent}` }] };
}

function outputFix(spec: ModelSpec, t: TensorInfo, declared: Shape): Pick<Extra, "fixes" | "help"> {
  const p = t.producer;
  if (!p) return {};
  // Rank too high after a dense on images: insert flatten before the first dense that saw a rank > 1 input.
  if (t.shape.length > declared.length && declared.length === 1) {
    const firstDense = findFirstDenseOnRankAbove1(spec);
    if (firstDense) return { help: "flatten the feature maps before the dense layers", fixes: [insertBefore(firstDense, "flatten")] };
  }
  // Same rank, last axis differs, produced by a dense with literal units: change the units.
  if (t.shape.length === declared.length && p.spec.kind.name === "dense") {
    const want = declared[declared.length - 1].value;
    const span = p.spec.options.spans.get("/units");
    if (want !== undefined && span && t.shape.slice(0, -1).every((d, i) => d.equals(declared[i])))
      return { help: `change the units of the last dense layer to ${want}`, fixes: [{ title: `change units to ${want}`, edits: [{ span, newText: String(want) }] }] };
  }
  return {};
}

function findFirstDenseOnRankAbove1(spec: ModelSpec): LayerSpec | undefined {
  let rankAbove1 = false;
  for (const l of spec.layers) {
    if (l.kind.name === "dense" && rankAbove1) return l;
    if (["conv2d", "conv1d", "maxpool2d", "avgpool2d", "maxpool1d", "avgpool1d", "reshape", "embedding"].includes(l.kind.name)) rankAbove1 = true;
    if (["flatten", "global_maxpool2d", "global_avgpool2d", "global_maxpool1d", "global_avgpool1d"].includes(l.kind.name)) rankAbove1 = false;
  }
  return undefined;
}

function evalDims(dims: A.Expr[], symbols: Set<string>, sink: DiagnosticSink): Shape | undefined {
  const out: Dim[] = [];
  let ok = true;
  for (const e of dims) {
    const d = evalDim(e, symbols, sink);
    if (!d) {
      ok = false;
      continue;
    }
    if (d.value !== undefined && d.value <= 0) {
      sink.report("invalidDimension", e.span, { text: exprText(e), why: "dimensions must be positive" });
      ok = false;
      continue;
    }
    out.push(d);
  }
  return ok ? out : undefined;
}

export function evalDim(e: A.Expr, symbols: Set<string>, sink: DiagnosticSink): Dim | undefined {
  switch (e.kind) {
    case "number":
      if (!Number.isInteger(e.value)) {
        sink.report("invalidDimension", e.span, { text: e.raw, why: "dimensions are whole numbers" });
        return undefined;
      }
      return Dim.of(e.value);
    case "name":
      if (!symbols.has(e.name)) {
        const guess = closest(e.name, symbols);
        sink.report("unknownDimension", e.span, { name: e.name }, guess ? { help: `did you mean \`${guess}\`?`, fixes: [{ title: `replace with \`${guess}\``, edits: [{ span: e.span, newText: guess }] }] } : {});
        return undefined;
      }
      return Dim.sym(e.name);
    case "paren":
      return evalDim(e.inner, symbols, sink);
    case "negate": {
      const d = evalDim(e.operand, symbols, sink);
      return d?.scale(-1);
    }
    case "binary": {
      const l = evalDim(e.left, symbols, sink);
      const r = evalDim(e.right, symbols, sink);
      if (!l || !r) return undefined;
      if (e.op === "+") return l.add(r);
      if (e.op === "-") return l.sub(r);
      if (e.op === "*") return l.mul(r);
      const q = l.divBy(r);
      if (!q) sink.report("invalidDimension", e.span, { text: exprText(e), why: "the division is not exact" });
      return q;
    }
    default:
      sink.report("invalidDimension", e.span, { text: exprText(e), why: "not a dimension" });
      return undefined;
  }
}

/** The expression a lowered option came from, found by walking the layer's terms. */
function findExpr(l: LayerSpec, path: string): A.Expr | undefined {
  const span = l.options.spans.get(path);
  if (!span) return undefined;
  let found: A.Expr | undefined;
  const visit = (e: A.Expr): void => {
    if (e.span.start === span.start && e.span.end === span.end) found ??= e;
    if (e.kind === "list") e.items.forEach(visit);
    else if (e.kind === "binary") {
      visit(e.left);
      visit(e.right);
    } else if (e.kind === "paren") visit(e.inner);
    else if (e.kind === "negate") visit(e.operand);
  };
  for (const t of l.node.terms) visit(t.value);
  return found;
}
