import { InlayHintKind, MarkupKind, type InlayHint, type Range } from "vscode-languageserver/node";
import { shapeText } from "../core/dims.ts";
import { toPosition } from "./convert.ts";
import { checkedLayerOf, flopsText, paramsText, placements, shortParams } from "./describe.ts";
import type { Analysis } from "./workspace.ts";

export interface InlayOptions {
  /** Show each layer's output shape (`→ [*, 128]`). */
  shapes: boolean;
  /** Add the layer's parameter count to the hint. */
  params: boolean;
}

interface LayerHint {
  /** 0-based line and character of the hint. */
  line: number;
  character: number;
  hint: InlayHint;
}

/** A hint after each layer whose shape is known, at the end of the layer's statement. */
function layerHints(a: Analysis, opts: InlayOptions, stale = false): LayerHint[] {
  const out: LayerHint[] = [];
  const hint = (at: number, label: string, tip: string[]) => {
    const position = toPosition(a.lines, at);
    if (stale) tip.push("_from the last version of the file without syntax errors_");
    out.push({ line: position.line, character: position.character, hint: { position, label, kind: InlayHintKind.Type, paddingLeft: true, tooltip: { kind: MarkupKind.Markdown, value: tip.join("  \n") } } });
  };
  for (const d of a.ast.decls) {
    if (d.kind === "block") {
      // a block's layers: the shape of each use (once when the uses agree)
      for (const l of d.body) {
        const uses = placements(a, l);
        if (!uses.length) continue;
        const shapes = [...new Set(uses.map((u) => shapeText(u.layer.output)))];
        hint(l.span.end, `→ ${shapes.join(" | ")}`, uses.map((u) => `\`${u.name}\`: ${u.layer.inputShapes.map(shapeText).join(" + ")} → ${shapeText(u.layer.output)}`));
      }
      continue;
    }
    if (d.kind !== "model" || !d.name) continue;
    const spec = a.program.models.get(d.name.name);
    if (spec?.node !== d) continue;
    const cm = a.checked.models.get(d.name.name);
    for (const l of d.body) {
      // a block use: the shape of the last layer it placed
      const placed = cm?.layers.filter((x) => x.spec.via?.[0]?.use === l);
      if (placed?.length) {
        const last = placed[placed.length - 1];
        hint(l.span.end, `→ ${shapeText(last.output)}`, [`block \`${l.op.name}\` as \`${placed[0].spec.via![0].name}\`: ${placed.length} layer${placed.length === 1 ? "" : "s"} → ${shapeText(last.output)}`]);
        continue;
      }
      const cl = checkedLayerOf(cm, l);
      if (!cl) continue;
      const params = shortParams(cl.params);
      const label = `→ ${shapeText(cl.output)}${opts.params && params ? ` · ${params}` : ""}`;
      const position = toPosition(a.lines, l.span.end);
      const tip = [
        `**${cl.spec.kind.name}** \`${cl.spec.name}\`: ${cl.inputShapes.map(shapeText).join(" + ")} → ${shapeText(cl.output)}`,
        `parameters: ${paramsText(cl.params)} · FLOPs per example: ${flopsText(cl.flops.toString())}`,
        ...(stale ? ["_from the last version of the file without syntax errors_"] : []),
      ].join("  \n");
      out.push({ line: position.line, character: position.character, hint: { position, label, kind: InlayHintKind.Type, paddingLeft: true, tooltip: { kind: MarkupKind.Markdown, value: tip } } });
    }
  }
  return out;
}

/** Lines equal at the start and at the end of two texts. */
function commonLines(a: string[], b: string[]): { prefix: number; suffix: number } {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  return { prefix, suffix };
}

export function inlayHints(a: Analysis, lastGood: Analysis | undefined, range: Range, opts: InlayOptions): InlayHint[] {
  if (!opts.shapes) return [];
  const hints = layerHints(a, opts);
  // While the text has syntax errors, a model cut short by them has no shapes: show the last good
  // ones on the lines that did not change, where the change cannot have altered them.
  if (a.syntaxErrors && lastGood && lastGood !== a) {
    const have = new Set(hints.map((h) => h.line));
    const oldLines = lastGood.text.split("\n");
    const newLines = a.text.split("\n");
    const { prefix, suffix } = commonLines(oldLines, newLines);
    const changedFrom = prefix;
    const changedTo = oldLines.length - suffix; // old lines [changedFrom, changedTo) changed
    const shift = newLines.length - oldLines.length;
    const touched = lastGood.ast.decls.filter((d) => d.span.line - 1 < Math.max(changedTo, changedFrom + 1) && d.span.endLine - 1 >= changedFrom);
    for (const h of layerHints(lastGood, opts, true)) {
      let line: number;
      if (h.line < changedFrom) line = h.line;
      else if (h.line >= changedTo) {
        // Below the change: only outside the declarations the change touched.
        if (touched.some((d) => d.span.line - 1 <= h.line && h.line <= d.span.endLine - 1)) continue;
        line = h.line + shift;
      } else continue;
      if (have.has(line)) continue;
      have.add(line);
      hints.push({ ...h, line, hint: { ...h.hint, position: { line, character: h.character } } });
    }
  }
  return hints
    .filter((h) => h.line >= range.start.line && h.line <= range.end.line)
    .sort((x, y) => x.line - y.line || x.character - y.character)
    .map((h) => h.hint);
}
