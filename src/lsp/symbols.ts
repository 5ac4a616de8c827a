import type { Span } from "../diagnostics/span.ts";
import { LAYERS } from "../kinds/layers/registry.ts";
import type * as A from "../syntax/ast.ts";

/** What a name in the text stands for. Models and data sets are file-level; tensors and symbolic
 * dimensions belong to one model. */
export type SymbolKind = "model" | "data" | "tensor" | "dim" | "block";

export interface Occurrence {
  kind: SymbolKind;
  name: string;
  span: Span;
  /** Whether this occurrence defines the name. */
  def: boolean;
  /** For tensors and dimensions: the model (or block, for its tensors and parameters) they belong to. */
  scope?: A.ModelDecl | A.BlockDecl;
  /** For a model named in `import a from "..."`: the import. */
  importDecl?: A.ImportDecl;
}

/** Every occurrence of a model, data set, tensor or dimension name in a file, in text order.
 * `imported`: the blocks the file's imports bring (an imported name is a model otherwise). */
export function occurrences(ast: A.SourceFile, imported: ReadonlySet<string> = new Set()): Occurrence[] {
  const out: Occurrence[] = [];
  const blocks = new Set([...imported, ...ast.decls.flatMap((d) => (d.kind === "block" && d.name ? [d.name.name] : []))]);
  for (const d of ast.decls) {
    switch (d.kind) {
      case "import":
        for (const n of d.names) out.push({ kind: imported.has(n.name) ? "block" : "model", name: n.name, span: n.span, def: false, importDecl: d });
        break;
      case "data":
        if (d.name) out.push({ kind: "data", name: d.name.name, span: d.name.span, def: true });
        break;
      case "train":
        if (d.model) out.push({ kind: "model", name: d.model.name, span: d.model.span, def: false });
        if (d.data) out.push({ kind: "data", name: d.data.name, span: d.data.span, def: false });
        break;
      case "model":
        modelOccurrences(d, out, blocks);
        break;
      case "block":
        blockOccurrences(d, out, blocks);
        break;
    }
  }
  return out.sort((a, b) => a.span.start - b.span.start);
}

/** A block's name, its parameters (as dimensions of its scope) and its own tensors. */
function blockOccurrences(d: A.BlockDecl, out: Occurrence[], blocks: ReadonlySet<string>): void {
  if (d.name) out.push({ kind: "block", name: d.name.name, span: d.name.span, def: true });
  const params = new Set(d.params.map((p) => p.name.name));
  for (const p of d.params) {
    out.push({ kind: "dim", name: p.name.name, span: p.name.span, def: true, scope: d });
    if (p.default) walkNames(p.default, (n) => params.has(n.name) && out.push({ kind: "dim", name: n.name, span: n.span, def: false, scope: d }));
  }
  layerOccurrences(d, d.body, new Set(d.body.flatMap(namesOf)), params, out, blocks);
}

/** The tensor names a layer defines: its name, and those of its further outputs. */
const namesOf = (l: A.Layer): string[] => [l.target, ...(l.more ?? [])].flatMap((t) => (t ? [t.name] : []));

/** The tensors, dimensions and block uses of a body's layers. */
function layerOccurrences(scope: A.ModelDecl | A.BlockDecl, body: readonly A.Layer[], tensors: ReadonlySet<string>, dims: ReadonlySet<string>, out: Occurrence[], blocks: ReadonlySet<string>): void {
  for (const l of body) {
    for (const t of [l.target, ...(l.more ?? [])]) if (t) out.push({ kind: "tensor", name: t.name, span: t.span, def: true, scope });
    if (l.input) out.push({ kind: "tensor", name: l.input.name, span: l.input.span, def: false, scope });
    const use = blocks.has(l.op.name) && !LAYERS.has(l.op.name);
    if (use) out.push({ kind: "block", name: l.op.name, span: l.op.span, def: false });
    const inputs = LAYERS.get(l.op.name)?.inputs;
    const many = inputs === "many" || inputs === "some";
    // the tensors an option names (a recurrent layer's `initial_state: [h, c]`)
    const option = LAYERS.get(l.op.name)?.tensorOption;
    for (const t of l.terms) {
      if (option && t.key?.kind === "name" && t.key.name === option) {
        for (const v of t.value.kind === "list" ? t.value.items : [t.value]) if (v.kind === "name" && tensors.has(v.name)) out.push({ kind: "tensor", name: v.name, span: v.span, def: false, scope });
      } else if (many && !t.key && t.value.kind === "name" && tensors.has(t.value.name)) out.push({ kind: "tensor", name: t.value.name, span: t.value.span, def: false, scope });
      else walkNames(t.value, (n) => dims.has(n.name) && !tensors.has(n.name) && out.push({ kind: "dim", name: n.name, span: n.span, def: false, scope }));
    }
  }
}

function modelOccurrences(d: A.ModelDecl, out: Occurrence[], blocks: ReadonlySet<string>): void {
  if (d.name) out.push({ kind: "model", name: d.name.name, span: d.name.span, def: true });
  const tensors = new Set<string>();
  const dims = new Set<string>();
  for (const p of d.inputs) tensors.add(p.name.name);
  for (const l of d.body) for (const n of namesOf(l)) tensors.add(n);
  const dimNames = (ds: A.Expr[] | undefined, declaring: boolean): void => {
    for (const e of ds ?? []) {
      if (declaring && e.kind === "name" && !dims.has(e.name)) {
        dims.add(e.name);
        out.push({ kind: "dim", name: e.name, span: e.span, def: true, scope: d });
      } else walkNames(e, (n) => dims.has(n.name) && out.push({ kind: "dim", name: n.name, span: n.span, def: false, scope: d }));
    }
  };
  // A symbol is declared by its first appearance alone as a dimension of an input.
  for (const p of d.inputs) {
    out.push({ kind: "tensor", name: p.name.name, span: p.name.span, def: true, scope: d });
    dimNames(p.type?.dims, true);
  }
  for (const o of d.outputs) {
    if (o.name && tensors.has(o.name.name)) out.push({ kind: "tensor", name: o.name.name, span: o.name.span, def: false, scope: d });
    dimNames(o.type?.dims, false);
  }
  layerOccurrences(d, d.body, tensors, dims, out, blocks);
}

/** The names inside an expression (not those of calls, which name functions). */
function walkNames(e: A.Expr, f: (n: A.NameRef) => unknown): void {
  switch (e.kind) {
    case "name":
      f(e);
      return;
    case "list":
      e.items.forEach((i) => walkNames(i, f));
      return;
    case "binary":
      walkNames(e.left, f);
      walkNames(e.right, f);
      return;
    case "negate":
      walkNames(e.operand, f);
      return;
    case "paren":
      walkNames(e.inner, f);
      return;
    default:
      return;
  }
}

/** The occurrence under (or touching) an offset. */
export function occurrenceAt(occ: Occurrence[], offset: number): Occurrence | undefined {
  let lo = 0;
  let hi = occ.length - 1;
  let found: Occurrence | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const o = occ[mid];
    if (o.span.end < offset) lo = mid + 1;
    else if (o.span.start > offset) hi = mid - 1;
    else {
      found = o;
      // Prefer the occurrence that starts at the offset when two touch it (`a,b` with the cursor on `b`).
      if (o.span.end === offset && occ[mid + 1]?.span.start === offset) found = occ[mid + 1];
      break;
    }
  }
  return found;
}

/** Occurrences of the same symbol in the same file (tensors and dimensions within their model). */
export function sameSymbol(occ: Occurrence[], target: Occurrence): Occurrence[] {
  return occ.filter((o) => o.kind === target.kind && o.name === target.name && o.scope === target.scope);
}

export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
