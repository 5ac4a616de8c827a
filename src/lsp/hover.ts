import { MarkupKind, type Hover } from "vscode-languageserver/node";
import { shapeText } from "../core/dims.ts";
import { shortList } from "../util/list.ts";
import type { CheckedModel } from "../check/ir.ts";
import { exprText } from "../lang/values.ts";
import type { OptionsSchema } from "../lang/bind.ts";
import type { LayerSpec } from "../lang/program.ts";
import { DATA_STATEMENTS, TRAIN_STATEMENTS, type StatementKind } from "../lang/statements.ts";
import { LAYERS } from "../kinds/layers/registry.ts";
import { LOSSES } from "../kinds/losses/index.ts";
import { OPTIMIZERS, SCHEDULES } from "../kinds/optimizers/index.ts";
import type * as A from "../syntax/ast.ts";
import { contains, toRange } from "./convert.ts";
import { checkedLayerOf, placements, flopsText, jsonText, layerAt, modelParams, optionLine, optionsTable, paramsText, signatureText } from "./describe.ts";
import { occurrenceAt, type Occurrence } from "./symbols.ts";
import type { Analysis } from "./workspace.ts";

const CATALOGS = { loss: LOSSES, optimizer: OPTIMIZERS, schedule: SCHEDULES } as const;

export function hover(a: Analysis, offset: number): Hover | null {
  const md = (value: string, span?: A.Ident["span"]): Hover => ({ contents: { kind: MarkupKind.Markdown, value }, ...(span ? { range: toRange(span) } : {}) });
  const occ = occurrenceAt(a.occurrences(), offset);
  if (occ) {
    const text = symbolHover(a, occ);
    if (text) return md(text, occ.span);
  }
  const decl = a.ast.decls.find((d) => contains(d.span, offset));
  if (!decl) return null;
  if (decl.kind === "block") {
    const l = decl.body.find((x) => contains(x.span, offset));
    const kind = l ? LAYERS.get(l.op.name) : undefined;
    if (!l || !kind) return null;
    const uses = placements(a, l);
    const text = [`**${kind.name}**: ${kind.doc}`, "", ...uses.map((u) => `\`${u.name}\` (model \`${u.model}\`): ${u.layer.inputShapes.map(shapeText).join(" + ")} → \`${shapeText(u.layer.output)}\`; parameters ${paramsText(u.layer.params)}`)].join("  \n");
    return md(text, contains(l.op.span, offset) ? l.op.span : l.span);
  }
  if (decl.kind === "model") {
    const l = layerAt(decl, offset);
    if (!l) return null;
    if (!LAYERS.has(l.op.name) && a.program.blocks?.has(l.op.name)) {
      const text = blockHover(a, l.op.name);
      return text ? md(text, l.op.span) : null;
    }
    const key = l.terms.find((t) => t.key && contains(t.key.span, offset));
    const kind = LAYERS.get(l.op.name);
    if (key?.key?.kind === "name" && kind) {
      const p = kind.schema.properties[key.key.name];
      if (p) return md(`**${kind.name}** option ${optionLine(key.key.name, p, kind.schema.required?.includes(key.key.name) ?? false)}`, key.key.span);
    }
    const text = layerHover(a, decl, l);
    return text ? md(text, contains(l.op.span, offset) ? l.op.span : l.span) : null;
  }
  if (decl.kind === "train" || decl.kind === "data") {
    const s = decl.body.find((x) => contains(x.span, offset));
    if (!s) return null;
    const text = decl.kind === "train" ? trainStatementHover(a, decl, s, offset) : dataStatementHover(s, offset);
    return text ? md(text, contains(s.head.span, offset) ? s.head.span : undefined) : null;
  }
  return null;
}

function symbolHover(a: Analysis, o: Occurrence): string | undefined {
  switch (o.kind) {
    case "model": {
      const m = a.program.models.get(o.name);
      if (!m) return undefined;
      const cm = a.checked.models.get(o.name);
      const lines = ["```nnspec", signatureText(m), "```"];
      if (m.file !== a.shown) lines.push(`from \`${m.file}\``);
      if (cm) lines.push("", modelSummary(cm));
      return lines.join("\n");
    }
    case "data": {
      const d = a.program.data.get(o.name);
      if (!d) return undefined;
      const lines = [`**data** \`${d.name}\``];
      const from = d.statements.get("from")?.options.values;
      if (from?.path !== undefined) lines.push("", `from \`${jsonText(from.path)}\``);
      const cols = d.statements.get("columns")?.options.values.names;
      if (Array.isArray(cols)) lines.push(`${cols.length} columns`);
      const feats = d.statements.get("features")?.options.values.columns;
      if (feats !== undefined) lines.push(`features: \`${jsonText(feats)}\``);
      if (d.label) lines.push(`label: ${d.label.columns.map(jsonText).join(", ") || "(from the labels file)"} — ${d.label.kind}${d.label.classes ? `(${d.label.classes})` : ""}`);
      // What the loader made of the files, when check could read them.
      const layout = a.checked.layouts.get(d.name);
      if (layout) {
        lines.push("", `examples: \`[*, ${layout.featureShape.join(", ")}]\` (${shortList(layout.featureNames, 12)})`);
        if (layout.classNames) lines.push(`classes: ${layout.classNames.join(", ")}`);
        const s = layout.split;
        lines.push(`rows: ${s.train} train, ${s.val} val, ${s.test} test${s.unused ? `, ${s.unused} unused` : ""}${s.kfold ? `; ${s.kfold}-fold cross-validation` : ""}`);
      }
      return lines.join("  \n");
    }
    case "block":
      return blockHover(a, o.name);
    case "tensor": {
      if (o.scope?.kind === "block") {
        const producer = o.scope.body.find((l) => l.target?.name === o.name || l.more?.some((m) => m.name === o.name));
        const uses = producer ? placements(a, producer) : [];
        return [`**tensor** \`${o.name}\` of block \`${o.scope.name?.name ?? "?"}\``, ...uses.map((u) => `\`${u.name}\` (model \`${u.model}\`): \`${shapeText(u.layer.output)}\``)].join("  \n");
      }
      const model = o.scope?.name?.name;
      const cm = model ? a.checked.models.get(model) : undefined;
      const spec = model ? a.program.models.get(model) : undefined;
      if (spec && spec.node !== o.scope) return undefined;
      const info = cm?.tensors.get(o.name);
      const head = `**tensor** \`${o.name}\`${info ? `: \`${shapeText(info.shape)}\`${info.dtype === "int" ? " (int)" : ""}` : ""}`;
      const input = o.scope?.inputs.find((p) => p.name.name === o.name);
      if (input) return `${head}\n\ninput of model \`${model}\``;
      const producer = o.scope?.body.find((l) => l.target?.name === o.name || l.more?.some((m) => m.name === o.name));
      if (!producer) return head;
      const cl = checkedLayerOf(cm, producer);
      const lines = [head, "", `defined on line ${producer.span.line}: \`${a.lines.lineText(producer.span.line).trim()}\``];
      if (cl) lines.push(`parameters: ${paramsText(cl.params)}`);
      return lines.join("  \n");
    }
    case "dim": {
      if (o.scope?.kind === "block") {
        const p = o.scope.params.find((x) => x.name.name === o.name);
        return `**parameter** \`${o.name}\` of block \`${o.scope.name?.name ?? "?"}\`${p?.default ? `, default \`${exprText(p.default)}\`` : ", given at each use"}: a number or a dimension, put in place of the name wherever the block's layers use it.`;
      }
      const def = o.scope?.inputs.find((p) => p.type?.dims.some((d) => d.kind === "name" && d.name === o.name));
      return `**dimension** \`${o.name}\`: symbolic${def ? `, from input \`${def.name.name}\`` : ""}. Shapes that depend on it are computed as expressions of it.`;
    }
  }
}

/** A block: its signature, its layers, and each use's output shape. */
function blockHover(a: Analysis, name: string): string | undefined {
  const b = a.program.blocks?.get(name);
  if (!b) return undefined;
  const params = b.params.map((p) => (p.default ? `${p.name.name}: ${exprText(p.default)}` : p.name.name)).join(", ");
  const lines = ["```nnspec", `block ${name}(${params})`, "```", `${b.body.length} layer${b.body.length === 1 ? "" : "s"}, reading \`input\``];
  const last = b.body[b.body.length - 1];
  const uses = last ? placements(a, last) : [];
  if (uses.length) lines.push("", ...uses.map((u) => `\`${u.name.slice(0, u.name.lastIndexOf("."))}\` in model \`${u.model}\` → \`${shapeText(u.layer.output)}\``));
  return lines.join("  \n");
}

function modelSummary(cm: CheckedModel): string {
  const p = modelParams(cm);
  const flops = cm.layers.reduce((acc, l) => acc.add(l.flops), cm.layers[0]?.flops.scale(0) ?? undefined);
  const parts = [
    `inputs: ${cm.inputs.map((t) => `\`${t.name}\` \`${shapeText(t.shape)}\``).join(", ") || "—"}`,
    `outputs: ${
      cm.spec.outputs
        .flatMap((o) => {
          const t = cm.tensors.get(o.name);
          return t ? [`\`${o.sig.name}\` \`${shapeText(t.shape)}\``] : [];
        })
        .join(", ") || "—"
    }`,
    `${cm.spec.layers.length} layer${cm.spec.layers.length === 1 ? "" : "s"}; parameters: ${p ? paramsText(p) : "depend on a symbolic dimension"}${flops ? `; FLOPs per example: ${flopsText(flops.toString())}` : ""}`,
  ];
  if (!cm.complete) parts.push("_some layers did not check: the totals cover the ones that did_");
  return parts.join("  \n");
}

function layerHover(a: Analysis, decl: A.ModelDecl, l: A.Layer): string | undefined {
  const kind = LAYERS.get(l.op.name);
  if (!kind) return undefined;
  const model = decl.name?.name;
  const spec = model ? a.program.models.get(model) : undefined;
  const cm = model && spec?.node === decl ? a.checked.models.get(model) : undefined;
  const cl = checkedLayerOf(cm, l);
  const ls: LayerSpec | undefined = spec?.node === decl ? spec.layers.find((x) => x.node === l) : undefined;
  const lines: string[] = [`**${kind.name}**${ls ? ` \`${ls.name}\`` : ""}`];
  if (cl) {
    const ins = cl.inputShapes.map((s) => `\`${shapeText(s)}\``).join(" + ");
    lines.push("", `input ${ins} → output \`${shapeText(cl.output)}\`  `, `parameters: ${paramsText(cl.params)} · FLOPs per example: ${flopsText(cl.flops.toString())}`);
  } else lines.push("", "_shape unknown: this layer or one before it did not check_");
  lines.push("", kind.doc);
  const table = optionsTable(kind.schema, ls?.options.values ?? {}, kind.inputs === "many" ? ["inputs"] : []);
  if (table) lines.push("", table);
  return lines.join("\n");
}

function statementHover(k: StatementKind, s: A.Statement, offset: number, values: Record<string, unknown> | undefined): string {
  const key = s.terms.find((t) => t.key?.kind === "name" && contains(t.key.span, offset))?.key as A.NameRef | undefined;
  const p = key ? k.schema.properties[key.name] : undefined;
  if (key && p) return `\`${k.name}\` option ${optionLine(key.name, p, k.schema.required?.includes(key.name) ?? false)}`;
  const lines = [`**${k.name}**`, "", k.doc];
  if (values && Object.keys(k.schema.properties).length && k.args.rest === undefined) {
    const table = optionsTable(k.schema, values as never);
    if (table) lines.push("", table);
  }
  return lines.join("\n");
}

function dataStatementHover(s: A.Statement, offset: number): string | undefined {
  const k = DATA_STATEMENTS.get(s.head.name);
  return k ? statementHover(k, s, offset, undefined) : undefined;
}

function trainStatementHover(a: Analysis, decl: A.TrainDecl, s: A.Statement, offset: number): string | undefined {
  const k = TRAIN_STATEMENTS.get(s.head.name);
  if (!k) return undefined;
  const t = a.program.trains.find((x) => x.node === decl);
  if (!k.catalog) return statementHover(k, s, offset, t?.statements.get(k.name)?.node === s ? t.statements.get(k.name)?.options.values : undefined);
  const named = t?.[k.catalog];
  const catalog = CATALOGS[k.catalog] as ReadonlyMap<string, { name: string; doc: string; schema: OptionsSchema }>;
  const first = s.terms[0]?.value;
  const entryName = named?.kind ?? (first?.kind === "call" ? first.callee.name : first?.kind === "name" ? first.name : undefined);
  const entry = entryName ? catalog.get(entryName) : undefined;
  if (!entry) return `**${k.name}**\n\n${k.doc}\n\nknown: ${[...catalog.keys()].map((n) => `\`${n}\``).join(", ")}`;
  const lines = [`**${k.name}** \`${entry.name}\``, "", entry.doc];
  const table = optionsTable(entry.schema, named?.kind === entry.name ? named.values : {});
  if (table) lines.push("", table);
  return lines.join("\n");
}
