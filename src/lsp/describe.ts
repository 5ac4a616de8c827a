import { shapeText, type Shape } from "../core/dims.ts";
import type { CheckedLayer, CheckedModel } from "../check/ir.ts";
import type { OptionsSchema, PropertySchema } from "../lang/bind.ts";
import type { ModelSpec } from "../lang/program.ts";
import { exprText, valueText, type Json } from "../lang/values.ts";
import type { ParamCount } from "../kinds/layers/types.ts";
import type * as A from "../syntax/ast.ts";
import { contains } from "./convert.ts";
import type { Analysis } from "./workspace.ts";

/** Text shared by hover, completion and inlay hints. */

export const int = (n: number): string => n.toLocaleString("en-US");

export const flopsText = (s: string): string => (/^\d+$/.test(s) ? int(Number(s)) : `\`${s}\``);

export function paramsText(p: ParamCount | undefined): string {
  if (!p) return "depends on a symbolic dimension";
  const total = p.trainable + p.nonTrainable;
  if (p.nonTrainable === 0) return `${int(total)}`;
  return `${int(total)} (${int(p.trainable)} trainable, ${int(p.nonTrainable)} frozen)`;
}

export function shortParams(p: ParamCount | undefined): string | undefined {
  if (!p) return undefined;
  const total = p.trainable + p.nonTrainable;
  if (total === 0) return undefined;
  const n = total >= 1e7 ? `${Math.round(total / 1e6)}M` : total >= 1e6 ? `${(total / 1e6).toFixed(1)}M` : total >= 1e5 ? `${Math.round(total / 1e3)}k` : int(total);
  return `${n} param${total === 1 ? "" : "s"}${p.trainable === 0 ? " (frozen)" : ""}`;
}

export function modelParams(m: CheckedModel): ParamCount | undefined {
  const out = { trainable: 0, nonTrainable: 0 };
  for (const l of m.layers) {
    if (!l.params) return undefined;
    out.trainable += l.params.trainable;
    out.nonTrainable += l.params.nonTrainable;
  }
  return out;
}

export function jsonText(v: Json | undefined): string {
  return v === undefined ? "—" : valueText(v);
}

/** `units`: a positive integer (units) — default 16 */
export function optionLine(name: string, p: PropertySchema, required: boolean): string {
  const dflt = p.default !== undefined ? ` (default \`${jsonText(p.default)}\`)` : required ? " (required)" : "";
  return `\`${name}\`: ${p.description}${dflt}`;
}

/** A table of every option of a schema with the value in effect: given, or the default. */
export function optionsTable(schema: OptionsSchema, values: Record<string, Json>, skip: string[] = []): string {
  const rows: string[] = [];
  for (const [k, p] of Object.entries(schema.properties)) {
    if (skip.includes(k)) continue;
    const v = values[k];
    if (v !== undefined) rows.push(`| \`${k}\` | \`${jsonText(v)}\` | |`);
    else if (p.default !== undefined) rows.push(`| \`${k}\` | \`${jsonText(p.default)}\` | default |`);
    else rows.push(`| \`${k}\` | — | ${p.description} |`);
  }
  return rows.length ? ["| option | value | |", "| --- | --- | --- |", ...rows].join("\n") : "";
}

export function signatureText(m: ModelSpec): string {
  const type = (t: A.TensorType | undefined): string => (t ? `${t.dtype ? t.dtype.name : ""}[${t.dims.map(exprText).join(", ")}]` : "[]");
  const ins = m.node.inputs.map((p) => `${p.name.name}: ${type(p.type)}`).join(", ");
  const outs = m.node.outputs.map((o) => (o.name && o.type ? `${o.name.name}: ${type(o.type)}` : o.name ? o.name.name : type(o.type)));
  const arrow = outs.length ? ` -> ${outs.length > 1 || m.node.outputsGrouped ? `(${outs.join(", ")})` : outs[0]}` : "";
  return `model ${m.name}(${ins})${arrow}`;
}

export const shape = (s: Shape): string => shapeText(s);

/** The layer statement of a model's body under an offset. */
export function layerAt(d: A.ModelDecl, offset: number): A.Layer | undefined {
  return d.body.find((l) => contains(l.span, offset));
}

/** Where a layer of a block was placed: once per use, in each checked model. */
export function placements(a: Analysis, node: A.Layer): { model: string; name: string; layer: CheckedLayer }[] {
  const out: { model: string; name: string; layer: CheckedLayer }[] = [];
  for (const [model, cm] of a.checked.models) for (const l of cm.layers) if (l.spec.node === node) out.push({ model, name: l.spec.name, layer: l });
  return out;
}

export function checkedLayerOf(m: CheckedModel | undefined, node: A.Layer): CheckedLayer | undefined {
  return m?.layers.find((l) => l.spec.node === node);
}
