import type { DiagnosticSink, Fix, Label } from "../diagnostics/diagnostic.ts";
import type { Span } from "../diagnostics/span.ts";
import type { LayerSpec, ModelSpec, Program, TrainSpec } from "../lang/program.ts";
import { LAYERS } from "../kinds/layers/registry.ts";
import { LOSSES } from "../kinds/losses/index.ts";
import { OPTIMIZERS } from "../kinds/optimizers/index.ts";
import { activationName, insertAt, outputHead, removeLayer, removeTerm, termAt } from "./crossdecl.ts";
import type { CheckedModel } from "./ir.ts";

/**
 * Lints: warnings about specs that check but are probably not what was meant, from the course
 * material. Each has a stable code and a name (see CATALOG) for `# nnspec: allow NAME`.
 */

/** An activation (by the name a layer's `activation` option gives) that saturates at both ends. */
const saturates = (activation: string): boolean => LAYERS.get(activation)?.saturates === true;
/** Weighted layers with an `activation` option (dense and convolutions, not embedding). */
const activated = (l: LayerSpec): boolean => l.kind.role === "weighted" && "activation" in l.kind.schema.properties;
/** What may follow the last weighted layer of an output head. */
const HEAD_ROLES: ReadonlySet<string> = new Set(["dropout", "norm", "activation"]);

function layersByName(m: ModelSpec): Map<string, LayerSpec> {
  return new Map(m.layers.map((l) => [l.name, l]));
}

/** Lints that look at one model on its own. */
export function lintModel(model: CheckedModel, sink: DiagnosticSink): void {
  const spec = model.spec;
  const byName = layersByName(spec);
  linearCollapse(spec, byName, sink);
  saturatingStack(model, byName, sink);
  softmaxSingleUnit(model, sink);
  layerAfterOutput(model, sink);
  tfjsNames(spec, sink);
}

/** TensorFlow.js's rule for layer and input names (its VALID_TENSOR_NAME_REGEX). */
export const isTfjsName = (name: string): boolean => /^[A-Za-z0-9][-A-Za-z0-9._/]*$/.test(name);

function tfjsNames(spec: ModelSpec, sink: DiagnosticSink): void {
  const named = [...spec.inputs.map((i) => i.node.name), ...spec.layers.map((l) => l.node.target)];
  for (const id of named) {
    if (!id || isTfjsName(id.name)) continue;
    const suggestion = id.name.replace(/^[^A-Za-z0-9]+/, "") || "x";
    sink.report("tfjsName", id.span, { name: id.name, suggestion: /^[A-Za-z0-9]/.test(suggestion) ? suggestion : `x${suggestion}` });
  }
}

/** The file a layer is written in when that is not the model's: a block imported from there. */
const foreignFile = (l: LayerSpec): string | undefined => l.via?.[l.via.length - 1]?.file;

function linearCollapse(spec: ModelSpec, byName: Map<string, LayerSpec>, sink: DiagnosticSink): void {
  const reported = new Set<LayerSpec>();
  for (const l of spec.layers) {
    if (l.kind.name !== "dense" || l.inputs.length !== 1) continue;
    let src = byName.get(l.inputs[0]);
    const between: LayerSpec[] = [];
    // Layers that do not change what a linear map can express (dropout, linear).
    while (src && src.kind.identity && src.inputs.length === 1) {
      between.push(src);
      src = byName.get(src.inputs[0]);
    }
    if (!src || src.kind.name !== "dense" || activationName(src.options.values.activation) !== "linear" || reported.has(src)) continue;
    reported.add(src);
    const units = src.options.spans.get("/units");
    const act = src.options.spans.get("/activation");
    // a layer of a block from another file is reported at its use here, with no fix (it would edit that file)
    const fixes: Fix[] = foreignFile(src)
      ? []
      : act
        ? [{ title: "use `relu` here", edits: [{ span: act, newText: "relu" }] }]
        : units
          ? [{ title: "add `relu` after the units", edits: [insertAt(units, true, " relu")] }]
          : [];
    const file = foreignFile(l);
    sink.report("linearCollapse", foreignFile(src) ? src.via![0].use.span : src.node.span, {}, {
      labels: [{ span: l.node.span, message: `then another linear map${between.length ? ` (only ${between.map((b) => `\`${b.kind.name}\``).join(", ")} between)` : ""}`, ...(file ? { file } : {}) }],
      help: "add a nonlinearity such as `relu` to the first layer, or remove one of the two",
      fixes,
    });
  }
}

/** The layers that make a model output: the last weighted layer and what follows it. */
function headLayers(model: CheckedModel): Set<LayerSpec> {
  const out = new Set<LayerSpec>();
  for (const o of model.outputs) {
    let p = o.producer;
    while (p) {
      out.add(p.spec);
      if (!HEAD_ROLES.has(p.spec.kind.role)) break;
      const next = p.spec.inputs[0];
      p = next !== undefined ? model.tensors.get(next)?.producer : undefined;
    }
  }
  return out;
}

function saturatingStack(model: CheckedModel, byName: Map<string, LayerSpec>, sink: DiagnosticSink): void {
  const head = headLayers(model);
  const hidden: { layer: LayerSpec; span: Span; act: string }[] = [];
  const saturated = new Set<LayerSpec>();
  for (const l of model.spec.layers) {
    if (head.has(l)) continue;
    if (activated(l)) {
      const act = activationName(l.options.values.activation);
      const span = l.options.spans.get("/activation");
      if (saturates(act) && span) {
        hidden.push({ layer: l, span, act });
        saturated.add(l);
      }
    } else if (l.kind.saturates) {
      const src = l.inputs.length === 1 ? byName.get(l.inputs[0]) : undefined;
      if (src && saturated.has(src)) continue; // `dense 8 sigmoid` then `sigmoid`: one hidden layer
      hidden.push({ layer: l, span: l.node.op.span, act: l.kind.name });
    }
  }
  if (hidden.length < 3) return;
  const [first, ...rest] = hidden;
  const acts = [...new Set(hidden.map((h) => h.act))].map((a) => `\`${a}\``).join(" and ");
  sink.report("saturatingStack", first.span, { count: hidden.length, acts }, {
    labels: rest.map((h) => ({ span: h.span, message: `\`${h.act}\` again` })),
    help: "use `relu` (or `gelu`, `elu`) in the hidden layers; keep `sigmoid` for a probability output",
    fixes: [{ title: "use `relu` in the hidden layers", edits: hidden.map((h) => ({ span: h.span, newText: "relu" })) }],
  });
}

function softmaxSingleUnit(model: CheckedModel, sink: DiagnosticSink): void {
  for (const c of model.layers) {
    const l = c.spec;
    let span: Span | undefined;
    if (l.kind.name === "softmax") {
      const axis = l.options.values.axis;
      const last = c.inputShapes[0]?.[c.inputShapes[0].length - 1]?.value;
      if ((axis === undefined || axis === -1) && last === 1) span = l.node.op.span;
    } else if (activationName(l.options.values.activation) === "softmax") {
      const out = c.output[c.output.length - 1]?.value;
      if (out === 1) span = l.options.spans.get("/activation");
    }
    if (!span) continue;
    sink.report("softmaxSingleUnit", span, {}, {
      help: "for one probability use `sigmoid`; for several classes give the layer one unit per class",
      fixes: [{ title: "use `sigmoid`", edits: [{ span, newText: "sigmoid" }] }],
    });
  }
}

function layerAfterOutput(model: CheckedModel, sink: DiagnosticSink): void {
  const seen = new Set<LayerSpec>();
  for (const o of model.outputs) {
    const p = o.producer?.spec;
    if (!p || seen.has(p) || (p.kind.name !== "dropout" && p.kind.name !== "batchnorm")) continue;
    seen.add(p);
    const what = p.kind.name === "dropout" ? "dropout zeroes some of the model's outputs (its predictions) while training" : "batchnorm rescales the model's predictions to the batch's statistics";
    sink.report("layerAfterOutput", p.node.span, { layer: p.kind.name }, {
      label: what,
      help: `remove it, or move it before the output layer`,
      fixes: [{ title: `remove the \`${p.kind.name}\` line`, edits: [removeLayer(model.spec, p.node)] }],
    });
  }
}

/** Lints about one `train` block. `lintedRelu` keeps one relu-output warning per model. */
export function lintTrain(t: TrainSpec, model: CheckedModel | undefined, sink: DiagnosticSink, lintedRelu: Set<ModelSpec>): void {
  learningRate(t, sink);
  const label = t.data?.label;
  const regression = label ? label.kind === "regression" : t.loss !== undefined && LOSSES.get(t.loss.kind)?.task === "regression";
  if (!model || !regression || model.outputs.length !== 1 || lintedRelu.has(model.spec)) return;
  const head = outputHead(model, model.outputs[0]);
  if (head.activation !== "relu" || !head.actLayer) return;
  lintedRelu.add(model.spec);
  const spec = model.spec;
  const span = head.actSpan ?? head.actLayer.spec.node.span;
  const fixes: Fix[] = [];
  if (head.actStandalone) fixes.push({ title: "remove the `relu` layer", edits: [removeLayer(spec, head.actLayer.spec.node)] });
  else {
    const i = termAt(head.actLayer.spec.node.terms, head.actSpan);
    if (i >= 0) fixes.push({ title: "remove `relu`", edits: [removeTerm(head.actLayer.spec.node.terms, i, head.actLayer.spec.node.op.span)] });
  }
  const labels: Label[] = label ? [{ span: label.span, message: "a regression label" }] : [];
  if (spec.file === t.file) sink.report("reluRegressionOutput", span, {}, { labels, fixes });
  else sink.report("reluRegressionOutput", t.node.model?.span ?? t.node.span, {}, { labels: [{ span, message: "`relu` on the output", file: spec.file }, ...labels] });
}

function learningRate(t: TrainSpec, sink: DiagnosticSink): void {
  const o = t.optimizer;
  if (!o) return;
  const kind = OPTIMIZERS.get(o.kind);
  const lr = o.values.lr;
  const span = o.spans.get("/lr");
  if (!kind || typeof lr !== "number" || !span) return;
  const [lo, hi] = kind.usualLr;
  if (lr >= lo && lr <= hi) return;
  const dflt = kind.schema.properties.lr?.default;
  sink.report("learningRate", span, { lr: String(lr), optimizer: o.kind, low: String(lo), high: String(hi) }, {
    label: lr > hi ? "too large: training will likely diverge" : "too small: training will barely move",
    help: `${o.kind} usually works with a learning rate between ${lo} and ${hi}${typeof dflt === "number" ? `; its default is ${dflt}` : ""}`,
    fixes: typeof dflt === "number" ? [{ title: `use ${o.kind}'s default learning rate ${dflt}`, edits: [{ span, newText: String(dflt) }] }] : [],
  });
}

/** Runs every lint over the models and train blocks of this file (imported models are linted in their own file). */
export function lint(program: Program, models: Map<string, CheckedModel>, sink: DiagnosticSink, clean: (span: Span) => boolean = () => true): void {
  for (const m of models.values()) if (m.spec.file === program.file && clean(m.spec.node.span)) lintModel(m, sink);
  const lintedRelu = new Set<ModelSpec>();
  for (const t of program.trains) {
    if (!clean(t.node.span)) continue;
    const m = t.model ? models.get(t.model.name) : undefined;
    const ok = m && m.spec === t.model && (m.spec.file !== program.file || clean(m.spec.node.span)) && (!t.data || clean(t.data.node.span));
    lintTrain(t, ok ? m : undefined, sink, lintedRelu);
  }
}
