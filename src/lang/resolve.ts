import { DiagnosticSink } from "../diagnostics/diagnostic.ts";
import { pointAt, type Span } from "../diagnostics/span.ts";
import { LAYERS } from "../kinds/layers/registry.ts";
import { LOSSES } from "../kinds/losses/index.ts";
import { OPTIMIZERS, SCHEDULES } from "../kinds/optimizers/index.ts";
import type * as A from "../syntax/ast.ts";
import { shortList } from "../util/list.ts";
import { closest } from "../util/suggest.ts";
import { bindTerms, type OptionsSchema } from "./bind.ts";
import type { BlockUse, DataSpec, LabelSpec, LayerSpec, ModelSpec, NamedOptions, Options, Program, TensorSig, TrainSpec } from "./program.ts";
import { DATA_STATEMENTS, TRAIN_STATEMENTS, type StatementKind } from "./statements.ts";
import { attachUses } from "./blocks.ts";
import { exprText, isCall, lowerExpr, type Json } from "./values.ts";

/** Models another file provides to an `import`; the host resolves and parses the file. */
export interface ImportHost {
  /** Returns the models of the file `path` (relative to `from`), or a reason it cannot. */
  importModels(path: string, from: string): { models: Map<string, ModelSpec>; blocks?: ReadonlyMap<string, A.BlockDecl>; file: string } | { error: string } | { cycle: string[] };
}

const LAYER_NAMES: ReadonlySet<string> = new Set(LAYERS.keys());
const CATALOGS = { loss: LOSSES, optimizer: OPTIMIZERS, schedule: SCHEDULES } as const;

/** Binds names and validates every statement and option of a parsed file. Never throws. */
export function resolve(ast: A.SourceFile, sink: DiagnosticSink, host?: ImportHost): Program {
  const program: Program = { file: ast.path, models: new Map(), data: new Map(), trains: [] };
  const declared = new Map<string, Span>();
  const declare = (what: string, id: A.Ident): boolean => {
    const prev = declared.get(`${what}:${id.name}`);
    if (prev) {
      sink.report("duplicateName", id.span, { what, name: id.name }, { labels: [{ span: prev, message: "first defined here" }] });
      return false;
    }
    declared.set(`${what}:${id.name}`, id.span);
    return true;
  };
  // blocks of other files, and where each comes from
  const imported = new Map<string, A.BlockDecl>();
  const blockFiles = new Map<string, string>();
  for (const d of ast.decls) {
    if (d.kind !== "import" || !d.path) continue;
    if (!host) continue;
    const r = host.importModels(d.path.value, ast.path);
    if ("cycle" in r) {
      sink.report("importCycle", d.path.span, { cycle: r.cycle.join(" → ") });
      continue;
    }
    if ("error" in r) {
      sink.report("importFailed", d.path.span, { path: d.path.raw, reason: r.error });
      continue;
    }
    const theirBlocks = r.blocks ?? new Map<string, A.BlockDecl>();
    const wanted = d.names.length ? d.names : [...r.models.keys(), ...theirBlocks.keys()].map((name) => ({ kind: "ident" as const, name, span: d.path!.span }));
    for (const id of wanted) {
      const m = r.models.get(id.name);
      const b = theirBlocks.get(id.name);
      if (b) {
        if (declare("block", id)) {
          imported.set(id.name, b);
          blockFiles.set(id.name, r.file);
        }
        continue;
      }
      if (!m) {
        const names = [...r.models.keys(), ...theirBlocks.keys()];
        const guess = closest(id.name, names);
        sink.report("unknownName", id.span, { what: "model or block", name: id.name }, guess ? suggest(id.span, guess) : { help: `${d.path.raw} defines: ${names.join(", ") || "no models"}` });
        continue;
      }
      if (declare("model", id)) program.models.set(id.name, m);
    }
  }
  const blocks = new Map<string, A.BlockDecl>(imported);
  for (const d of ast.decls) {
    if (d.kind !== "block" || !d.name) continue;
    if (LAYERS.has(d.name.name)) {
      sink.report("duplicateName", d.name.span, { what: "layer kind", name: d.name.name }, { help: `\`${d.name.name}\` is a layer kind: give the block another name` });
      continue;
    }
    checkBlockParams(d, sink);
    if (declare("block", d.name)) blocks.set(d.name.name, d);
  }
  program.blocks = blocks;
  program.blockFiles = blockFiles;
  for (const d of ast.decls) {
    if (d.kind === "model" && d.name && declare("model", d.name)) program.models.set(d.name.name, resolveModel(d, d.name.name, ast.path, sink, blocks, blockFiles));
    else if (d.kind === "data" && d.name && declare("data set", d.name)) program.data.set(d.name.name, resolveData(d, d.name.name, ast.path, sink));
  }
  for (const d of ast.decls) if (d.kind === "train") program.trains.push(resolveTrain(d, program, ast.path, sink));
  return program;
}

function suggest(span: Span, guess: string) {
  return { help: `did you mean \`${guess}\`?`, fixes: [{ title: `replace with \`${guess}\``, edits: [{ span, newText: guess }] }] };
}

function resolveModel(d: A.ModelDecl, name: string, file: string, sink: DiagnosticSink, blocks: ReadonlyMap<string, A.BlockDecl> = new Map(), blockFiles: ReadonlyMap<string, string> = new Map()): ModelSpec {
  const tensors = new Map<string, Span>();
  const define = (id: A.Ident): void => {
    const prev = tensors.get(id.name);
    if (prev) sink.report("duplicateName", id.span, { what: "tensor", name: id.name }, { labels: [{ span: prev, message: "first defined here" }] });
    tensors.set(id.name, id.span);
  };
  const inputs: TensorSig[] = d.inputs.map((p) => {
    define(p.name);
    return { name: p.name.name, node: p, dtype: dtypeOf(p.type?.dtype, sink), dims: p.type?.dims };
  });
  const layers: LayerSpec[] = [];
  const counts = new Map<string, number>();
  let previous: string | undefined = inputs.length === 1 ? inputs[0].name : undefined;
  const used = new Set<string>();
  const refer = (id: { name: string; span: Span }): string | undefined => {
    if (tensors.has(id.name)) {
      used.add(id.name);
      return id.name;
    }
    const guess = closest(id.name, tensors.keys());
    // The tensor the typo was meant to name is not "unused": don't cascade.
    if (guess) used.add(guess);
    sink.report("unknownName", id.span, { what: "tensor", name: id.name }, guess ? suggest(id.span, guess) : { help: `tensors defined so far: ${tensors.size ? shortList([...tensors.keys()], 20) : "none"}` });
    return undefined;
  };
  // aliases: a block use's name stands for its last layer
  const aliases = new Map<string, string>();
  const top: Scope = { prefix: "", via: [], counts, stack: [] };
  /** Looks a name up in a scope: inside a block, `input` and the block's own tensors only. */
  const lookup = (id: { name: string; span: Span }, scope: Scope): string | undefined => {
    if (!scope.local) {
      const r = refer(id);
      return r === undefined ? undefined : (aliases.get(r) ?? r);
    }
    if (id.name === "input" && scope.input !== undefined) return scope.input;
    const own = scope.local.get(id.name);
    if (own !== undefined) return own;
    const known = ["input", ...scope.local.keys()];
    const guess = closest(id.name, known);
    sink.report("unknownName", id.span, { what: "tensor", name: id.name }, guess ? suggest(id.span, guess) : { help: `inside block \`${scope.via[scope.via.length - 1].block}\` the tensors are \`input\`${scope.local.size ? ` and ${shortList([...scope.local.keys()].map((k) => `\`${k}\``), 20)}` : ""}` });
    return undefined;
  };
  const seen = new Set<string>();
  const place = (body: readonly A.Layer[], scope: Scope, start: string | undefined): string | undefined => {
    let prev = start;
    for (const l of body) {
      const block = blocks.get(l.op.name);
      if (block && !LAYERS.has(l.op.name)) {
        prev = expand(l, block, scope, prev);
        continue;
      }
      // a layer inside a block: its findings carry the uses that placed it
      const from = sink.items.length;
      prev = placeOne(l, scope, prev);
      attachUses(sink, from, scope.via, seen);
    }
    return prev;
  };
  const placeOne = (l: A.Layer, scope: Scope, prev: string | undefined): string | undefined => {
    const kind = LAYERS.get(l.op.name);
    if (!kind) {
      const guess = closest(l.op.name, [...LAYERS.keys(), ...blocks.keys()]);
      sink.report("unknownLayer", l.op.span, { name: l.op.name }, guess ? suggest(l.op.span, guess) : { help: "run `nnspec layers` to list the layer kinds" });
      if (!scope.local) {
        if (l.target) {
          define(l.target);
          used.add(l.target.name);
        }
        if (l.input) used.add(l.input.name);
        if (prev !== undefined) used.add(prev);
        for (const t of l.more ?? []) {
          define(t);
          used.add(t.name);
        }
      }
      // A placeholder no tensor map holds: later layers read it and are skipped without new errors.
      prev = l.target ? `${scope.prefix}${l.target.name}` : `?${l.op.name}@${l.op.span.start}`;
      if (l.target && scope.local) scope.local.set(l.target.name, prev);
      return prev;
    }
    let terms = scope.subst ? substitute(l.terms, scope.subst) : l.terms;
    const inputsOf: string[] = [];
    // `some`: the tensors named as values, or else the one before it, as a one-input layer
    const names = kind.inputs === "many" || (kind.inputs === "some" && terms.some((t) => !t.key && t.value.kind === "name"));
    if (names) {
      // Merge layers name their inputs as values. Report the other forms once and recover, so the
      // schema does not complain about the same mistake again.
      if (l.input) {
        sink.report("invalidArgument", l.input.span, { message: `\`${kind.name}\` takes its inputs as values (\`${kind.name} ${l.input.name}, …\`), not with \`->\`` });
        const named = l.terms.some((t) => !t.key && t.value.kind === "name" && t.value.name === l.input!.name);
        if (!named) terms = [{ value: { kind: "name", name: l.input.name, span: l.input.span }, span: l.input.span }, ...terms];
      }
      // A value that is not a name fails the schema (`inputs` are names), at that value's span.
      for (const t of terms) {
        if (!t.key && t.value.kind === "name") {
          const r = lookup({ name: t.value.name, span: t.value.span }, scope);
          if (r) inputsOf.push(r);
        }
      }
    }
    const bound = bindTerms(terms, kind.args, kind.schema, `\`${kind.name}\``, l.op.span, sink, LAYER_NAMES);
    if (names) {
      // handled above
    } else if (l.input) {
      const r = lookup(l.input, scope);
      if (r) inputsOf.push(r);
    } else if (prev !== undefined) {
      if (!scope.local) used.add(prev);
      inputsOf.push(prev);
    } else {
      sink.report("invalidArgument", l.op.span, { message: `\`${kind.name}\` has no input: the model has several inputs, so say which one with \`name -> ${kind.name}\`` }, { label: "which input?" });
    }
    // further inputs named by an option (a recurrent layer's `initial_state: [h, c]`), after the first
    const tensorTerm = kind.tensorOption ? terms.find((t) => t.key?.kind === "name" && t.key.name === kind.tensorOption) : undefined;
    if (tensorTerm && inputsOf.length)
      for (const it of tensorTerm.value.kind === "list" ? tensorTerm.value.items : [tensorTerm.value]) {
        if (it.kind !== "name") continue;
        const r = lookup({ name: it.name, span: it.span }, scope);
        if (r) inputsOf.push(r);
        else inputsOf.push(`?${it.name}@${it.span.start}`);
      }
    const n = (scope.counts.get(kind.name) ?? 0) + 1;
    scope.counts.set(kind.name, n);
    const layerName = `${scope.prefix}${l.target?.name ?? `${kind.name}_${n}`}`;
    if (l.target) {
      if (scope.local) scope.local.set(l.target.name, layerName);
      else define(l.target);
    }
    // the names of its further outputs (`out, h, c = lstm ... return_state: true`)
    const more = (l.more ?? []).map((t) => {
      const full = `${scope.prefix}${t.name}`;
      if (scope.local) scope.local.set(t.name, full);
      else define(t);
      return full;
    });
    const count = kind.outputs?.(bound.full) ?? 1;
    if (bound.ok && count !== 1 + more.length) {
      // its names are not "unused" on top of this
      for (const t of l.more ?? []) if (!scope.local) used.add(t.name);
      const stateful = "return_state" in (kind.schema.properties ?? {});
      const end = l.terms.length ? l.terms[l.terms.length - 1].span : l.op.span;
      const at = pointAt(end, true);
      const names = [l.target, ...(l.more ?? [])].filter((t) => t !== undefined).map((t) => `\`${t.name}\``);
      sink.report(
        "layerOutputCount",
        l.more?.[count - 1]?.span ?? l.target?.span ?? l.op.span,
        { layer: kind.name, count: count === 1 ? "one tensor" : `${count} tensors`, given: names.length ? `${names.length} names (${names.join(", ")}) take them` : "no name takes them" },
        count < 1 + more.length && stateful && bound.full.return_state !== true
          ? { help: "its states come out with `return_state: true`", fixes: [{ title: "add `return_state: true`", edits: [{ span: at, newText: `${l.terms.length ? "," : ""} return_state: true` }] }] }
          : { help: count > 1 ? `name each: the output, then ${count === 2 ? "the state" : `the ${count - 1} states`} (\`out, ${count === 2 ? "h" : "h, c"} = ${kind.name} ...\`)` : "give it one name" },
      );
    }
    layers.push({ node: l, kind, name: layerName, inputs: inputsOf, ...(more.length ? { more } : {}), options: { ok: bound.ok, values: bound.options, full: bound.full, spans: bound.spans, keySpans: bound.keySpans }, ...(scope.via.length ? { via: scope.via } : {}) });
    return layerName;
  };
  /** A block's layers in place of its use; returns the name of its last layer. */
  const expand = (use: A.Layer, block: A.BlockDecl, scope: Scope, prev: string | undefined): string | undefined => {
    const blockName = use.op.name;
    const n = (scope.counts.get(blockName) ?? 0) + 1;
    scope.counts.set(blockName, n);
    const short = use.target?.name ?? `${blockName}_${n}`;
    const full = `${scope.prefix}${short}`;
    const input = use.input ? lookup(use.input, scope) : prev;
    if (input === undefined && !use.input) sink.report("invalidArgument", use.op.span, { message: `\`${blockName}\` has no input: the model has several inputs, so say which one with \`name -> ${blockName}\`` }, { label: "which input?" });
    if (input !== undefined && !scope.local) used.add(input);
    let last: string | undefined = input;
    const from = sink.items.length;
    if (scope.stack.includes(blockName)) sink.report("invalidArgument", use.op.span, { message: `block \`${blockName}\` uses itself (${[...scope.stack, blockName].join(" → ")})` }, { label: "a block cannot contain itself" });
    else if (scope.stack.length >= MAX_BLOCK_DEPTH) sink.report("invalidArgument", use.op.span, { message: `blocks nest more than ${MAX_BLOCK_DEPTH} deep here` }, { label: "too deep" });
    else {
      const { subst, ok } = bindBlockArgs(use, block, scope.subst, sink);
      if (!ok) {
        // a value is missing: its layers would only repeat that; what reads the use is skipped
        attachUses(sink, from, scope.via, seen);
        return finish(use, scope, short, `?${blockName}@${use.op.span.start}`);
      }
      const via = [...scope.via, { block: blockName, use, name: full, decl: block, ...(blockFiles.has(blockName) ? { file: blockFiles.get(blockName) } : {}) }];
      const inner: Scope = { prefix: `${full}.`, input, local: new Map(), subst, via, counts: new Map(), stack: [...scope.stack, blockName] };
      if (!block.body.length) sink.report("invalidArgument", use.op.span, { message: `block \`${blockName}\` has no layers` }, { label: "an empty block" });
      attachUses(sink, from, scope.via, seen);
      last = place(block.body, inner, input);
      return finish(use, scope, short, last);
    }
    attachUses(sink, from, scope.via, seen);
    return finish(use, scope, short, last);
  };
  const finish = (use: A.Layer, scope: Scope, short: string, last: string | undefined): string | undefined => {
    if (scope.local) {
      if (last !== undefined) scope.local.set(short, last);
    } else if (use.target) {
      define(use.target);
      if (last !== undefined) aliases.set(use.target.name, last);
    }
    return last;
  };
  previous = place(d.body, top, previous);
  const outputs: ModelSpec["outputs"] = [];
  for (const o of d.outputs) {
    const sig: TensorSig = { name: o.name?.name ?? previous ?? "output", node: o, dtype: dtypeOf(o.type?.dtype, sink), dims: o.type?.dims };
    if (o.name && tensors.has(o.name.name)) {
      used.add(o.name.name);
      outputs.push({ name: aliases.get(o.name.name) ?? o.name.name, sig });
    } else if (o.name && d.outputs.length > 1) {
      refer(o.name);
    } else if (previous !== undefined) {
      used.add(previous);
      outputs.push({ name: previous, sig });
    }
  }
  if (d.outputs.length === 0 && previous !== undefined) used.add(previous);
  // a block use is used where the layer it stands for is
  for (const [use, last] of aliases) if (used.has(last)) used.add(use);
  // a layer with several outputs is used when any is (an encoder whose states alone are read); a
  // name starting with `_` is unused on purpose (`out, h, _ = lstm ... return_state: true`)
  for (const l of layers) if (l.more?.some((m) => used.has(m))) used.add(l.name);
  for (const [t, span] of tensors) if (!used.has(t) && !t.startsWith("_") && !inputs.some((i) => i.name === t)) sink.report("unusedTensor", span, { name: t });
  for (const i of inputs) if (!used.has(i.name) && d.body.length > 0) sink.report("unusedTensor", (i.node as A.Param).name.span, { name: i.name });
  return { name, node: d, file, inputs, outputs, layers };
}

/** How deep blocks may nest inside each other. */
const MAX_BLOCK_DEPTH = 16;

/** Where layers are being placed: the model itself, or a use of a block inside it. */
interface Scope {
  /** Prepended to the names of the layers placed here (`encoder_1.`). */
  prefix: string;
  /** Inside a block: the tensor its name `input` reads. */
  input?: string;
  /** Inside a block: its tensors by the names its layers give them. */
  local?: Map<string, string>;
  /** Inside a block: its parameters' values at this use. */
  subst?: Map<string, A.Expr>;
  via: BlockUse[];
  counts: Map<string, number>;
  /** The blocks being expanded, outermost first (a block may not use itself). */
  stack: string[];
}

/** A block's parameters: no name twice, and every default after the parameters without one may read. */
function checkBlockParams(d: A.BlockDecl, sink: DiagnosticSink): void {
  const seen = new Map<string, Span>();
  for (const p of d.params) {
    const prev = seen.get(p.name.name);
    if (prev) sink.report("duplicateName", p.name.span, { what: "block parameter", name: p.name.name }, { labels: [{ span: prev, message: "first defined here" }] });
    seen.set(p.name.name, p.name.span);
  }
}

/**
 * The values of a block's parameters at one use: positional values in order, then `name: value`,
 * then defaults (which may read the parameters before them). Values are expressions: numbers, or
 * dimension names and arithmetic, evaluated where the block's layers use them.
 */
function bindBlockArgs(use: A.Layer, block: A.BlockDecl, outer: Map<string, A.Expr> | undefined, sink: DiagnosticSink): { subst: Map<string, A.Expr>; ok: boolean } {
  const out = new Map<string, A.Expr>();
  let ok = true;
  const params = block.params.map((p) => p.name.name);
  const name = use.op.name;
  let pos = 0;
  for (const t of use.terms) {
    const value = outer ? substituteExpr(t.value, outer) : t.value;
    if (!t.key) {
      if (pos >= params.length) {
        sink.report("invalidArgument", t.span, { message: `block \`${name}\` takes ${params.length} parameter${params.length === 1 ? "" : "s"} (${params.join(", ") || "none"})` }, { label: "one value too many" });
        continue;
      }
      out.set(params[pos++], value);
      continue;
    }
    const key = t.key.kind === "name" ? t.key.name : undefined;
    if (key === undefined || !params.includes(key)) {
      const guess = key === undefined ? undefined : closest(key, params);
      sink.report("invalidArgument", t.key.span, { message: `block \`${name}\` has no parameter \`${exprText(t.key)}\`` }, guess ? suggest(t.key.span, guess) : { help: `its parameters: ${params.join(", ") || "none"}` });
      continue;
    }
    if (out.has(key)) {
      sink.report("invalidArgument", t.key.span, { message: `\`${key}\` is given twice` }, { label: "given twice" });
      continue;
    }
    out.set(key, value);
  }
  for (const p of block.params) {
    if (out.has(p.name.name)) continue;
    if (p.default) out.set(p.name.name, substituteExpr(p.default, out));
    else {
      ok = false;
      sink.report("invalidArgument", use.op.span, { message: `block \`${name}\` needs a value for \`${p.name.name}\`` }, { label: `\`${p.name.name}\` missing`, labels: [{ span: p.name.span, message: "the parameter" }] });
    }
  }
  return { subst: out, ok };
}

/** A block's layer terms with its parameters replaced by their values (keys stay as written). */
function substitute(terms: readonly A.Term[], subst: Map<string, A.Expr>): A.Term[] {
  return terms.map((t) => ({ ...t, value: substituteExpr(t.value, subst) }));
}

function substituteExpr(e: A.Expr, subst: Map<string, A.Expr>): A.Expr {
  switch (e.kind) {
    case "name":
      return subst.get(e.name) ?? e;
    case "list":
      return { ...e, items: e.items.map((x) => substituteExpr(x, subst)) };
    case "range":
      return { ...e, from: substituteExpr(e.from, subst), to: substituteExpr(e.to, subst) };
    case "binary":
      return { ...e, left: substituteExpr(e.left, subst), right: substituteExpr(e.right, subst) };
    case "negate":
      return { ...e, operand: substituteExpr(e.operand, subst) };
    case "paren":
      return { ...e, inner: substituteExpr(e.inner, subst) };
    case "call":
      return { ...e, args: substitute(e.args, subst) };
    default:
      return e;
  }
}

function dtypeOf(id: A.Ident | undefined, sink: DiagnosticSink): "float" | "int" {
  if (!id || id.name === "float") return "float";
  if (id.name === "int") return "int";
  const guess = closest(id.name, ["float", "int"]);
  sink.report("unknownChoice", id.span, { what: "element type", name: id.name }, guess ? suggest(id.span, guess) : { help: "element types are `float` (the default) and `int`" });
  return "float";
}

function resolveBlock(
  body: A.Statement[],
  catalog: ReadonlyMap<string, StatementKind>,
  block: string,
  sink: DiagnosticSink,
  special: (s: A.Statement, k: StatementKind) => boolean,
  /** Receives the statements that misspelt heads were probably meant to be. */
  meant: Set<string> = new Set(),
): Map<string, { node: A.Statement; options: Options }> {
  const out = new Map<string, { node: A.Statement; options: Options }>();
  const heads = new Set(catalog.keys());
  for (const s of body) {
    const k = catalog.get(s.head.name);
    if (!k) {
      const guess = closest(s.head.name, catalog.keys());
      if (guess) meant.add(guess);
      sink.report("unknownStatement", s.head.span, { name: s.head.name, block }, guess ? suggest(s.head.span, guess) : { help: `${block} statements: ${[...catalog.keys()].join(", ")}` });
      continue;
    }
    const prev = out.get(k.name);
    if (prev && k.once) {
      sink.report("duplicateStatement", s.head.span, { name: k.name }, { labels: [{ span: prev.node.head.span, message: "first given here" }] });
      continue;
    }
    if (special(s, k)) {
      out.set(k.name, { node: s, options: { values: {}, full: {}, spans: new Map(), keySpans: new Map() } });
      continue;
    }
    const b = bindTerms(s.terms, k.args, k.schema, `\`${k.name}\``, s.head.span, sink, heads);
    out.set(k.name, { node: s, options: { values: b.options, full: b.full, spans: b.spans, keySpans: b.keySpans } });
  }
  return out;
}

function resolveData(d: A.DataDecl, name: string, file: string, sink: DiagnosticSink): DataSpec {
  let label: LabelSpec | undefined;
  let keep: DataSpec["keep"];
  let codes: DataSpec["codes"];
  const meant = new Set<string>();
  const statements = resolveBlock(d.body, DATA_STATEMENTS, "data", sink, (s, k) => {
    if (k.name === "label") label = resolveLabel(s, sink);
    else if (k.name === "keep") keep = resolveKeep(s, sink);
    else if (k.name === "codes") codes = resolveCodes(s, sink);
    else return false;
    return true;
  }, meant);
  for (const req of ["from", "label"]) if (!statements.has(req) && !meant.has(req)) sink.report("missingStatement", d.name?.span ?? d.span, { block: "data", name, statement: req });
  return { name, node: d, file, statements, label, keep, ...(codes ? { codes } : {}) };
}

/** `codes COLUMN: [values], ...`: each value a name, a string or a number, none twice in a list. */
function resolveCodes(s: A.Statement, sink: DiagnosticSink): DataSpec["codes"] {
  const out: NonNullable<DataSpec["codes"]> = [];
  if (!s.terms.length) sink.report("invalidArgument", s.head.span, { message: "`codes` takes columns and their categories in code order, as in `codes sex: [F, M, I]`" }, { label: "expected `COLUMN: [values]`" });
  for (const t of s.terms) {
    if (!t.key || t.value.kind !== "list" || !(t.key.kind === "name" || t.key.kind === "string" || t.key.kind === "number")) {
      sink.report("invalidArgument", t.span, { message: "`codes` takes columns and their categories in code order, as in `codes sex: [F, M, I]`" }, { label: "expected `COLUMN: [values]`" });
      continue;
    }
    const values: string[] = [];
    for (const it of t.value.items) {
      const v = it.kind === "name" ? it.name : it.kind === "string" ? it.value : it.kind === "number" ? String(it.value) : it.kind === "negate" && it.operand.kind === "number" ? String(-it.operand.value) : undefined;
      if (v === undefined) sink.report("invalidArgument", it.span, { message: `a category is a name, a string or a number, not \`${exprText(it)}\`` }, { label: "not a category" });
      else if (values.includes(v)) sink.report("invalidArgument", it.span, { message: `\`${v}\` is listed twice: each category has one code` }, { label: "listed before" });
      else values.push(v);
    }
    if (!values.length) {
      sink.report("invalidArgument", t.value.span, { message: "a column's list of categories is empty" }, { label: "no categories" });
      continue;
    }
    out.push({ column: lowerExpr(t.key, "/column", new Map()), values, span: t.key.span, listSpan: t.value.span });
  }
  return out.length ? out : undefined;
}

function resolveKeep(s: A.Statement, sink: DiagnosticSink): DataSpec["keep"] {
  const t = s.terms[0];
  if (s.terms.length !== 1 || !t.key || t.value.kind !== "list") {
    sink.report("invalidArgument", t?.span ?? s.head.span, { message: "`keep` takes a column and the values to keep, as in `keep 64: [0, 1]`" }, { label: "expected `COLUMN: [values]`" });
    return undefined;
  }
  const spans = new Map();
  return { column: lowerExpr(t.key, "/column", spans), values: lowerExpr(t.value, "/values", spans) as Json[], span: s.span };
}

const LABEL_KINDS = ["class", "onehot", "binary", "regression"] as const;

function resolveLabel(s: A.Statement, sink: DiagnosticSink): LabelSpec | undefined {
  // `label COLUMNS: KIND` or `label COLUMNS KIND`
  let columnsExpr: A.Expr[] = [];
  let kindExpr: A.Expr | undefined;
  const only = s.terms.length === 1 ? s.terms[0].value : undefined;
  const onlyName = only?.kind === "call" ? only.callee.name : only?.kind === "name" ? only.name : undefined;
  if (only && !s.terms[0].key && onlyName && (LABEL_KINDS as readonly string[]).includes(onlyName)) {
    // `label class(10)`: the labels come from a separate file (`from ... labels: "..."`).
    kindExpr = only;
  } else if (s.terms.length === 1 && s.terms[0].key) {
    columnsExpr = [s.terms[0].key];
    kindExpr = s.terms[0].value;
  } else if (s.terms.length >= 2 && s.terms.every((t) => !t.key)) {
    columnsExpr = s.terms.slice(0, -1).map((t) => t.value);
    kindExpr = s.terms[s.terms.length - 1].value;
  } else if (s.terms.length >= 1 && s.terms[s.terms.length - 1].key) {
    columnsExpr = [...s.terms.slice(0, -1).map((t) => t.value), s.terms[s.terms.length - 1].key!];
    kindExpr = s.terms[s.terms.length - 1].value;
  }
  if (!kindExpr) {
    sink.report("invalidArgument", s.head.span, { message: "`label` needs the label column and its kind, as in `label species: class(3)`" }, { label: "incomplete label" });
    return undefined;
  }
  // A column is a name, a 0-based index or a range of them; anything else (`f(1)`, `[1, 2]`) is not.
  const bad = columnsExpr.find((e) => !(e.kind === "name" || e.kind === "number" || e.kind === "string" || (e.kind === "range" && [e.from, e.to].every((x) => x.kind === "name" || x.kind === "number"))));
  if (bad) {
    sink.report("invalidArgument", bad.span, { message: `\`${exprText(bad)}\` is not a column: name label columns, give their 0-based indices, or a range such as 30..34` }, { label: "not a column" });
    return undefined;
  }
  const spans = new Map();
  const columns = columnsExpr.map((e, i) => lowerExpr(e, `/columns/${i}`, spans));
  const kindName = kindExpr.kind === "call" ? kindExpr.callee.name : kindExpr.kind === "name" ? kindExpr.name : undefined;
  const kindSpan = kindExpr.kind === "call" ? kindExpr.callee.span : kindExpr.span;
  if (!kindName || !(LABEL_KINDS as readonly string[]).includes(kindName)) {
    const guess = kindName ? closest(kindName, LABEL_KINDS) : undefined;
    sink.report("unknownChoice", kindSpan, { what: "label kind", name: kindName ?? exprText(kindExpr) }, guess ? suggest(kindSpan, guess) : { help: "label kinds: class(N), onehot(N), binary, regression" });
    return undefined;
  }
  const kind = kindName as LabelSpec["kind"];
  const v = kindExpr.kind === "call" ? lowerExpr(kindExpr, "/kind", spans) : undefined;
  const label: LabelSpec = { columns, kind, span: s.span };
  if (kind === "class" || kind === "onehot") {
    const n = v && isCall(v) ? (v.args[0] ?? v.options.classes) : undefined;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 2) {
      sink.report("invalidArgument", kindExpr.span, { message: `${kind} labels need the number of classes, an integer of at least 2, as in \`${kind}(3)\`` }, { label: "class count missing or invalid" });
    } else label.classes = n;
    const names = v && isCall(v) ? v.options.names : undefined;
    if (names !== undefined) {
      if (!Array.isArray(names) || names.some((x) => typeof x !== "string")) sink.report("invalidArgument", kindExpr.span, { message: "`names` must be a list of class names" });
      else {
        label.names = names as string[];
        if (label.classes !== undefined && names.length !== label.classes) sink.report("invalidArgument", kindExpr.span, { message: `${names.length} class names given for ${label.classes} classes` });
      }
    }
  } else if (kindExpr.kind === "call" && kindExpr.args.length) {
    sink.report("invalidArgument", kindExpr.span, { message: `\`${kind}\` labels take no arguments` });
  }
  return label;
}

function resolveTrain(d: A.TrainDecl, program: Program, file: string, sink: DiagnosticSink): TrainSpec {
  const t: TrainSpec = { node: d, file, statements: new Map() };
  if (d.model) {
    t.model = program.models.get(d.model.name);
    if (!t.model) {
      const guess = closest(d.model.name, program.models.keys());
      sink.report("unknownName", d.model.span, { what: "model", name: d.model.name }, guess ? suggest(d.model.span, guess) : {});
    }
  }
  if (d.data) {
    t.data = program.data.get(d.data.name);
    if (!t.data) {
      const guess = closest(d.data.name, program.data.keys());
      sink.report("unknownName", d.data.span, { what: "data set", name: d.data.name }, guess ? suggest(d.data.span, guess) : {});
    }
  }
  const meant = new Set<string>();
  t.statements = resolveBlock(d.body, TRAIN_STATEMENTS, "train", sink, (s, k) => {
    if (!k.catalog) return false;
    const r = resolveNamed(s, k.catalog, sink);
    if (r) t[k.catalog] = r;
    return true;
  }, meant);
  for (const req of ["loss", "optimizer"]) if (!t.statements.has(req) && !meant.has(req)) sink.report("missingStatement", d.model?.span ?? d.span, { block: "train", name: d.model?.name ?? "", statement: req });
  return t;
}

/** `loss huber(delta: 2)` or `loss huber delta: 2`: the first value names a catalog entry. */
function resolveNamed(s: A.Statement, which: keyof typeof CATALOGS, sink: DiagnosticSink): NamedOptions | undefined {
  const first = s.terms[0];
  const catalog = CATALOGS[which] as ReadonlyMap<string, { name: string; schema: OptionsSchema }>;
  if (!first || first.key || (first.value.kind !== "name" && first.value.kind !== "call")) {
    sink.report("invalidArgument", first?.span ?? s.head.span, { message: `\`${which}\` needs a name first: one of ${[...catalog.keys()].join(", ")}` }, { label: `expected a ${which} name` });
    return undefined;
  }
  const id = first.value.kind === "call" ? first.value.callee : { name: first.value.name, span: first.value.span };
  const entry = catalog.get(id.name);
  if (!entry) {
    const guess = closest(id.name, catalog.keys());
    sink.report("unknownChoice", id.span, { what: which, name: id.name }, guess ? suggest(id.span, guess) : { help: `known: ${[...catalog.keys()].join(", ")}` });
    return undefined;
  }
  const terms = [...(first.value.kind === "call" ? first.value.args : []), ...s.terms.slice(1)];
  const b = bindTerms(terms, { positional: [] }, entry.schema, `${which} \`${entry.name}\``, id.span, sink);
  const values: Record<string, Json> = b.options;
  return { kind: entry.name, kindSpan: id.span, values, full: b.full, spans: b.spans, keySpans: b.keySpans };
}

