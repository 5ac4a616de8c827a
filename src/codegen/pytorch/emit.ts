/**
 * PyTorch code for the models of one checked spec: `model.py`, one `nn.Module` per model, built
 * from each layer kind's `torch` mapping (src/kinds/layers/<kind>), with a table that says where
 * each interpreter parameter lives in the module, for loading and saving nnspec's weights.
 * Reads only the checked IR; names from the spec reach the code only through `Namer`/`commentText`.
 */
import { concreteModel } from "../../check/concrete.ts";
import type { CheckedModel } from "../../check/ir.ts";
import type { LineMap } from "../../diagnostics/span.ts";
import { pyLiteral, type TorchLayout } from "../../kinds/torch.ts";
import { commentText, Namer, pascal, PYTHON_RESERVED } from "../names.ts";

export interface TorchModule {
  /** The class's name in model.py. */
  className: string;
  /** The model's name in the spec. */
  model: string;
}

/** The spec's text, for the comments that point back at it. */
export interface SourceText {
  line(offset: number): number;
  text(start: number, end: number): string;
}

export const sourceText = (f: { lines: LineMap; text: string }): SourceText => ({ line: (o) => f.lines.position(o).line, text: (a, b) => f.text.slice(a, b) });

interface Value {
  expr: string;
  layout: TorchLayout;
  /** Axes per example: a permutation only matters from 2 on. */
  rank: number;
}

/** The same tensor in the other layout (channels first ↔ channels last). */
function inLayout(v: Value, want: TorchLayout): string {
  if (v.layout === want || v.rank < 2) return v.expr;
  const r = v.rank;
  const middle = Array.from({ length: r - 1 }, (_, i) => i + (want === "first" ? 1 : 2));
  const perm = want === "first" ? [0, r, ...middle] : [0, ...middle, 1];
  return `${v.expr}.permute(${perm.join(", ")})`;
}


/** Black's line length. */
const WIDTH = 88;

/** Where each top-level comma of `s` is (brackets and strings skipped). */
function topLevelCommas(s: string): number[] {
  const at: number[] = [];
  let depth = 0;
  let quote = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (c === "," && depth === 0) at.push(i);
  }
  return at;
}

/**
 * One statement as black lays it out: on one line when it fits; else split inside its last
 * bracket pair (a call's arguments on one line of their own), and one item per line with a
 * trailing comma for a list or dict, or when even the arguments are too long.
 */
export function fitLine(indent: number, stmt: string, suffix = ""): string[] {
  const lines = fitStatement(indent, stmt, suffix.length);
  lines[lines.length - 1] += suffix;
  return lines;
}

/** fitLine's layout, with `extra` characters still to follow the statement's last line. */
function fitStatement(indent: number, stmt: string, extra: number): string[] {
  const pad = " ".repeat(indent);
  if (indent + stmt.length + extra <= WIDTH) return [pad + stmt];
  const close = stmt[stmt.length - 1];
  const open = { ")": "(", "]": "[", "}": "{" }[close];
  if (!open) return [pad + stmt];
  // the bracket that the last one closes
  let depth = 0;
  let at = -1;
  for (let i = stmt.length - 1; i >= 0; i--) {
    if (stmt[i] === close) depth++;
    else if (stmt[i] === open && --depth === 0) {
      at = i;
      break;
    }
  }
  if (at <= 0) return [pad + stmt];
  const body = stmt.slice(at + 1, -1);
  const inner = " ".repeat(indent + 4);
  // a call's arguments (or a parenthesized expression) may share a line; a tuple's, list's or
  // dict's items each get one (black's rule)
  const call = open === "(" && (/[\w)\]]/.test(stmt[at - 1]) || topLevelCommas(body).length === 0);
  if (call && inner.length + body.length <= WIDTH) return [pad + stmt.slice(0, at + 1), inner + body, pad + close];
  const cuts = [-1, ...topLevelCommas(body), body.length];
  const items = cuts.slice(1).map((c, i) => body.slice(cuts[i] + 1, c).trim());
  return [pad + stmt.slice(0, at + 1), ...items.map((x) => `${inner}${x},`), pad + close];
}

/** One model's class. Throws an Error naming the layer when a dimension is symbolic or PyTorch has no form for it. */
function emitModel(m: CheckedModel, className: string, src: SourceText): string {
  const attrs = new Namer([], undefined, PYTHON_RESERVED);
  const locals = new Namer([], undefined, PYTHON_RESERVED);
  const init: string[] = [];
  const forward: string[] = [];
  const weights: string[] = [];
  const penalties: string[] = [];
  const values = new Map<string, Value>();
  const params = m.inputs.map((t) => {
    const id = locals.fresh(t.name);
    values.set(t.name, { expr: id, layout: "last", rank: t.shape.length });
    return id;
  });
  const { model: concrete, errors } = concreteModel(m);
  if (!concrete) throw new Error(errors.join("; "));
  for (const [i, c] of concrete.layers.entries()) {
    const l = m.layers[i];
    const name = c.info.name;
    const out = c.info.outShape;
    // a padding mask reaches the layer: true where the ids it came from are not 0
    const maskIds = c.maskIds === undefined ? undefined : concrete.tensors[c.maskIds].name;
    const maskExpr = maskIds === undefined ? undefined : `${values.get(maskIds)!.expr} != 0`;
    const t = l.spec.kind.torch(c.info.opts, c.info.inShapes, out, name, maskExpr !== undefined);
    const source = commentText(`line ${src.line(l.spec.node.span.start)}: ${src.text(l.spec.node.span.start, l.spec.node.span.end)}`);
    const ins = l.spec.inputs.map((n) => {
      const v = values.get(n);
      if (!v) throw new Error(`layer \`${name}\` reads \`${n}\`, which no layer before it makes`);
      return v;
    });
    // Inputs of an elementwise layer keep their layout when they agree; mixed ones meet channels-last.
    const layout: TorchLayout = t.layout !== "any" ? t.layout : ins.every((v) => v.layout === ins[0].layout) ? (ins[0]?.layout ?? "last") : "last";
    let self = "";
    if (t.module) {
      const attr = attrs.fresh(name);
      self = `self.${attr}`;
      init.push(`        # ${source}`, ...fitLine(8, `${self} = ${t.module}`));
    }
    // the parameters the kind declares for these options (a dense without bias has no bias)
    for (const p of c.params) {
      const w = t.weights?.[p.name];
      if (!w || !self) throw new Error(`layer \`${name}\`: its parameter \`${p.name}\` has no place in the PyTorch module`);
      const paths = w.attr.split(" ").map((a) => `${self.slice("self.".length)}.${a}`);
      const path = paths.join(" ");
      weights.push(...fitLine(8, `${pyLiteral(p.id)}: (${pyLiteral(path)}, ${pyLiteral(w.convert)})`, ","));
      if (p.l1 || p.l2) penalties.push(`        ${pyLiteral(p.id)}: (${pyLiteral(p.l1)}, ${pyLiteral(p.l2)}),`);
      if (p.frozen) for (const one of paths) init.push(`        self.${one}.requires_grad_(False)`);
    }
    const id = locals.fresh(name);
    // a layer with several outputs (a recurrent layer's states) returns a tuple
    const more = (l.spec.more ?? []).map((n) => locals.fresh(n));
    forward.push(`        # ${source}`, ...fitLine(8, `${[id, ...more].join(", ")} = ${t.call(ins.map((v) => inLayout(v, layout)), self, layout, maskExpr)}`));
    values.set(name, { expr: id, layout: out.length < 2 ? "last" : layout, rank: out.length });
    more.forEach((v, k) => values.set(l.spec.more![k], { expr: v, layout: "last", rank: l.more![k].length }));
  }
  const outs = m.outputs.map((o) => {
    const v = values.get(o.name);
    if (!v) throw new Error(`output \`${o.name}\` is not made by any layer`);
    return inLayout(v, "last");
  });
  return [
    `class ${className}(nn.Module):`,
    `    """model ${commentText(m.spec.name).replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"')} (line ${src.line(m.spec.node.span.start)})"""`,
    "",
    `    # nnspec weight name -> (attribute of this module, how the interpreter's array converts)`,
    `    WEIGHTS = {`,
    ...weights,
    `    }`,
    "",
    `    # L1 and L2 factors of the weights that have them`,
    ...(penalties.length ? [`    PENALTIES = {`, ...penalties, `    }`] : [`    PENALTIES = {}`]),
    "",
    `    def __init__(self):`,
    `        super().__init__()`,
    ...(init.length ? init : ["        pass"]),
    "",
    `    def forward(self, ${params.join(", ")}):`,
    ...forward,
    ...fitLine(8, `return ${outs.length === 1 ? outs[0] : `(${outs.join(", ")})`}`),
  ].join("\n");
}

/** model.py for a spec's models; `classes` gives each model's class name. */
export function emitModelFile(specName: string, models: readonly CheckedModel[], src: SourceText): { text: string; classes: TorchModule[] } {
  const names = new Namer([], undefined, PYTHON_RESERVED);
  const classes = models.map((m) => ({ className: names.fresh(pascal(m.spec.name, "Model")), model: m.spec.name }));
  const body = models.map((m, i) => emitModel(m, classes[i].className, src));
  const code = body.join("\n\n\n");
  // only what the code uses, so pyflakes finds nothing to say
  const imports = [...(/\btorch\./.test(code) ? ["import torch"] : []), "from torch import nn", ...(/\bF\./.test(code) ? ["import torch.nn.functional as F"] : [])];
  const text = [
    `"""PyTorch models of ${commentText(specName).replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"')}.nnspec, generated by nnspec: do not edit."""`,
    ...(code ? [...imports, ...(/\bnt\./.test(code) ? ["", "import nnspec_torch as nt"] : []), "", "", code, "", ""] : [""]),
    ...fitLine(0, `MODELS = {${classes.map((c) => `${pyLiteral(c.model)}: ${c.className}`).join(", ")}}`),
    "",
  ].join("\n");
  return { text, classes };
}

/** train.py: the spec's train blocks (`blocks`: entries of BLOCKS, already laid out) and a main; `source` is the spec's path from the package's folder. */
export function emitTrainFile(specName: string, source: string, blocks: readonly string[], schedules: readonly string[]): string {
  const name = commentText(specName).replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  const usesMath = schedules.some((b) => b.includes("math."));
  return [
    `"""Trains the models of ${name}.nnspec with PyTorch, as \`nnspec train\` does.`,
    "",
    "Generated by nnspec: do not edit. The data is split and preprocessed as nnspec does it (data/),",
    "every model starts from the weights nnspec initializes (init/), and nnspec_torch.py one folder",
    "up holds the losses, update rules and batch order of nnspec's interpreter. `python3 train.py",
    "--help` lists the options; under torchrun it trains with DistributedDataParallel.",
    '"""',
    ...(usesMath ? ["import math"] : []),
    "import os",
    "import sys",
    ...(blocks.some((b) => b.includes("partial(")) ? ["from functools import partial"] : []),
    "",
    "HERE = os.path.dirname(os.path.abspath(__file__))",
    "sys.path[:0] = [HERE, os.path.dirname(HERE)]",
    "",
    "import nnspec_torch as nt  # noqa: E402",
    "from model import MODELS  # noqa: E402",
    ...schedules,
    "",
    "",
    "BLOCKS = [",
    ...blocks,
    "]",
    "",
    "",
    "def main(argv=None):",
    ...fitLine(4, `return nt.run(${pyLiteral(specName)}, ${pyLiteral(source)}, BLOCKS, MODELS, HERE, argv)`),
    "",
    "",
    'if __name__ == "__main__":',
    "    sys.exit(main())",
    "",
  ].join("\n");
}
