import { dirname, resolve as resolvePath } from "node:path";
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type Range } from "vscode-languageserver/node";
import type { IToken } from "chevrotain";
import { DiagnosticSink } from "../diagnostics/diagnostic.ts";
import { lex } from "../syntax/lexer.ts";
import * as T from "../syntax/tokens.ts";
import { KEYWORDS } from "../syntax/tokens.ts";
import type { OptionsSchema, PropertySchema } from "../lang/bind.ts";
import { DATA_STATEMENTS, METRICS, TRAIN_STATEMENTS, type StatementKind } from "../lang/statements.ts";
import { LAYERS } from "../kinds/layers/registry.ts";
import type { LayerKind } from "../kinds/layers/types.ts";
import { LOSSES } from "../kinds/losses/index.ts";
import { OPTIMIZERS, SCHEDULES } from "../kinds/optimizers/index.ts";
import { readDataHeader } from "../node/host.ts";
import { sourceOf } from "../data/source.ts";
import { toPosition } from "./convert.ts";
import { jsonText } from "./describe.ts";
import { IDENTIFIER } from "./symbols.ts";
import type { Analysis } from "./workspace.ts";

const CATALOGS = { loss: LOSSES, optimizer: OPTIMIZERS, schedule: SCHEDULES } as const;
const LABEL_KINDS: [string, string, string][] = [
  ["class", "class(${1:N})", "class indices 0..N-1: `class(3, names: [a, b, c])`"],
  ["onehot", "onehot(${1:N})", "one-hot rows of N columns"],
  ["binary", "binary", "0/1 labels, one or several columns (multi-label)"],
  ["regression", "regression", "real-valued targets"],
];
/** Statements whose values are columns. */
const COLUMN_STATEMENTS = new Set(["features", "standardize", "minmax", "onehot", "keep", "label", "columns"]);

interface Block {
  kind: "data" | "model" | "train";
  /** Offset of the block's `{`. */
  open: number;
  /** The declaration's header text, from its keyword to the `{`. */
  header: string;
}

type Scan = { inert: true } | { inert: false; block?: Block };

/** Whether the offset is in a comment or string, and which top-level block it is in: read from the lexer's tokens. */
function scan(text: string, offset: number): Scan {
  const { tokens, comments } = lex(text.slice(0, offset), new DiagnosticSink(""));
  const last = tokens[tokens.length - 1];
  if (last && last.tokenType === T.UnterminatedString && last.startOffset + last.image.length >= offset) return { inert: true };
  for (const c of comments) {
    const end = c.startOffset + c.image.length;
    if (c.tokenType === T.UnterminatedComment || (c.tokenType === T.LineComment && end >= offset)) return { inert: true };
  }
  const braces: IToken[] = [];
  for (const t of tokens) {
    if (t.tokenType === T.LBrace) braces.push(t);
    else if (t.tokenType === T.RBrace) braces.pop();
  }
  if (braces.length === 0) return { inert: false };
  const open = braces[0].startOffset;
  let head: IToken | undefined;
  for (const t of tokens) {
    if (t.startOffset >= open) break;
    if (t.tokenType === T.Data || t.tokenType === T.Model || t.tokenType === T.Train) head = t;
  }
  if (!head) return { inert: false };
  return { inert: false, block: { kind: head.image as Block["kind"], open, header: text.slice(head.startOffset, open) } };
}

type Tok = { t: "name" | "num" | "str" | "punct"; v: string };

/** The statement's tokens, as the lexer reads them. */
function tokenize(s: string): Tok[] {
  return lex(s, new DiagnosticSink(""))
    .tokens.filter((t) => t.tokenType !== T.Newline)
    .map((t): Tok => {
      if (t.tokenType === T.StringLiteral || t.tokenType === T.UnterminatedString) return { t: "str", v: t.image };
      if (t.tokenType === T.NumberLiteral || t.tokenType === T.MalformedNumber) return { t: "num", v: t.image };
      if (t.tokenType === T.Identifier || (KEYWORDS as readonly string[]).includes(t.image)) return { t: "name", v: t.image };
      return { t: "punct", v: t.image };
    });
}

/** The text of the statement before the cursor: its line, and the lines before when they end in a comma. */
function statementPrefix(text: string, offset: number, floor: number): string {
  let start = text.lastIndexOf("\n", offset - 1) + 1;
  for (;;) {
    if (start <= floor + 1) break;
    const prevStart = text.lastIndexOf("\n", start - 2) + 1;
    const prev = text
      .slice(prevStart, start - 1)
      .replace(/(#|\/\/).*$/, "")
      .trimEnd();
    if (!prev.endsWith(",")) break;
    start = prevStart;
  }
  start = Math.max(start, floor + 1);
  const s = text.slice(start, offset);
  const semi = s.lastIndexOf(";");
  return semi >= 0 ? s.slice(semi + 1) : s;
}

export function complete(a: Analysis, offset: number, snippets: boolean): CompletionItem[] {
  const text = a.text;
  const sc = scan(text, offset);
  if (sc.inert) return [];
  const block = sc.block;
  const prefix = statementPrefix(text, offset, block ? block.open : -1);
  const word = /[A-Za-z_][A-Za-z0-9_]*$/.exec(prefix)?.[0] ?? "";
  const toks = tokenize(prefix.slice(0, prefix.length - word.length));
  const range: Range = { start: toPosition(a.lines, offset - word.length), end: toPosition(a.lines, offset) };
  const items: CompletionItem[] = [];
  const add = (label: string, kind: CompletionItemKind, o: { detail?: string; doc?: string; insert?: string; snippet?: boolean } = {}): void => {
    if (items.some((i) => i.label === label)) return;
    const snippet = Boolean(o.snippet && snippets);
    const newText = snippet ? o.insert! : (o.insert ?? label).replace(/\$\{\d+:([^}]*)\}/g, "$1").replace(/\$\d/g, "");
    items.push({
      label,
      kind,
      detail: o.detail,
      documentation: o.doc ? { kind: MarkupKind.Markdown, value: o.doc } : undefined,
      textEdit: { range, newText },
      insertTextFormat: snippet ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
      sortText: String(items.length).padStart(4, "0"),
    });
  };
  const ctx: Ctx = { a, toks, add, offset, block };
  if (!block) topLevel(ctx);
  else if (block.kind === "model") modelBlock(ctx, text, block);
  else if (block.kind === "train") trainBlock(ctx);
  else dataBlock(ctx);
  return items;
}

interface Ctx {
  a: Analysis;
  toks: Tok[];
  add: (label: string, kind: CompletionItemKind, o?: { detail?: string; doc?: string; insert?: string; snippet?: boolean }) => void;
  offset: number;
  block?: Block;
}

function modelNames(a: Analysis): string[] {
  const names = new Set(a.program.models.keys());
  for (const d of a.ast.decls) if (d.kind === "model" && d.name) names.add(d.name.name);
  return [...names];
}

function dataNames(a: Analysis): string[] {
  const names = new Set(a.program.data.keys());
  for (const d of a.ast.decls) if (d.kind === "data" && d.name) names.add(d.name.name);
  return [...names];
}

function topLevel(c: Ctx): void {
  const { toks, add, a } = c;
  if (toks.length === 0) {
    add("data", CompletionItemKind.Keyword, {
      detail: "data NAME { … }",
      doc: "A data set: its file, columns, features, label, preprocessing and split.",
      insert: 'data ${1:name} {\n  from "${2:data.csv}"\n  $0\n}',
      snippet: true,
    });
    add("model", CompletionItemKind.Keyword, {
      detail: "model NAME(x: [N]) -> y: [M] { … }",
      doc: "A model: its inputs, outputs and one layer per line.",
      insert: "model ${1:name}(${2:x}: [${3:4}]) -> ${4:logits}: [${5:3}] {\n  $0\n}",
      snippet: true,
    });
    add("train", CompletionItemKind.Keyword, {
      detail: "train MODEL on DATA { … }",
      doc: "How a model is trained on a data set: loss, optimizer, epochs, batch, metrics.",
      insert: "train ${1:model} on ${2:data} {\n  loss ${3:sparse_cross_entropy}\n  optimizer ${4:adam}\n  $0\n}",
      snippet: true,
    });
    add("import", CompletionItemKind.Keyword, {
      detail: 'import NAMES from "FILE"',
      doc: "Brings in the models of another .nnspec file.",
      insert: 'import ${1:model} from "${2:file.nnspec}"',
      snippet: true,
    });
    return;
  }
  const head = toks[0].v;
  if (head === "train") {
    if (toks.length === 1) for (const m of modelNames(a)) add(m, CompletionItemKind.Class, { detail: "model" });
    else if (toks.length === 2) add("on", CompletionItemKind.Keyword);
    else if (toks.length === 3 && toks[2].v === "on") for (const d of dataNames(a)) add(d, CompletionItemKind.Module, { detail: "data set" });
  } else if (head === "import" && toks.length >= 2 && toks[toks.length - 1].t === "name") add("from", CompletionItemKind.Keyword);
}

/** Values an option accepts, when they are a fixed set. */
function choices(p: PropertySchema | undefined): string[] {
  if (!p) return [];
  if (p.type === "boolean") return ["true", "false"];
  const out: string[] = [];
  if (Array.isArray(p.enum)) out.push(...(p.enum as string[]));
  for (const k of ["anyOf", "oneOf"]) {
    const alts = p[k];
    if (Array.isArray(alts)) for (const x of alts) if (x && Array.isArray((x as { enum?: unknown }).enum)) out.push(...((x as { enum: string[] }).enum as string[]));
  }
  return [...new Set(out.map(String))];
}

function optionDoc(name: string, p: PropertySchema): { detail: string; doc: string } {
  const dflt = p.default !== undefined ? ` = ${jsonText(p.default)}` : "";
  return { detail: `${name}: ${p.description}${dflt}`, doc: `${p.description}${p.default !== undefined ? `\n\ndefault: \`${jsonText(p.default)}\`` : ""}` };
}

/** Keys already given (`key:`) and bare names given, in the statement's tokens. */
function used(toks: Tok[]): Set<string> {
  const s = new Set<string>();
  toks.forEach((t, i) => {
    if (t.t === "name") s.add(t.v);
    if (t.v === ":" && toks[i - 1]?.t === "name") s.add(toks[i - 1].v);
  });
  return s;
}

/** After `key:` at the end: the key. */
function pendingKey(toks: Tok[]): string | undefined {
  const n = toks.length;
  return n >= 2 && toks[n - 1].v === ":" && toks[n - 2].t === "name" ? toks[n - 2].v : undefined;
}

/** Option names (as `key: `), boolean flags and fixed values of a schema. */
function options(c: Ctx, schema: OptionsSchema, rest: Tok[], owner: string, skip: string[] = []): void {
  const key = pendingKey(rest);
  if (key) {
    for (const v of choices(schema.properties[key])) c.add(v, CompletionItemKind.EnumMember, { detail: `${owner} ${key}` });
    return;
  }
  const have = used(rest);
  for (const [name, p] of Object.entries(schema.properties)) {
    if (skip.includes(name) || have.has(name)) continue;
    const { detail, doc } = optionDoc(name, p);
    if (p.type === "boolean") add2(c, name, CompletionItemKind.Property, detail, doc, name);
    else add2(c, name, CompletionItemKind.Property, detail, doc, `${name}: `);
  }
}

const add2 = (c: Ctx, label: string, kind: CompletionItemKind, detail: string, doc: string, insert: string): void => c.add(label, kind, { detail, doc, insert });

function layerDoc(k: LayerKind): { detail: string; doc: string } {
  const pos = k.args.positional.map((p) => `<${p}>`).join(" ");
  const opts = Object.entries(k.schema.properties)
    .filter(([n]) => !k.args.positional.includes(n) && n !== k.args.rest)
    .map(([n, p]) => `- \`${n}\`: ${p.description}${p.default !== undefined ? ` (default \`${jsonText(p.default)}\`)` : ""}`);
  return { detail: `${k.name}${pos ? ` ${pos}` : k.args.rest ? ` <${k.args.rest}>…` : ""}`, doc: [k.doc, ...(opts.length ? ["", ...opts] : [])].join("\n") };
}

function modelBlock(c: Ctx, text: string, block: Block): void {
  const { toks } = c;
  // Tensors defined so far: the inputs of the header and the targets of the lines before.
  const tensors: string[] = [];
  const params = /\(([\s\S]*)\)/.exec(block.header)?.[1] ?? "";
  for (const m of params.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*:/g)) tensors.push(m[1]);
  const body = text.slice(block.open + 1, text.lastIndexOf("\n", c.offset - 1) + 1);
  for (const m of body.matchAll(/^[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*=/gm)) tensors.push(m[1]);
  const addTensors = (): void => {
    for (const t of [...new Set(tensors)].reverse()) c.add(t, CompletionItemKind.Variable, { detail: "tensor" });
  };
  const addKinds = (): void => {
    for (const k of LAYERS.values()) {
      const { detail, doc } = layerDoc(k);
      c.add(k.name, CompletionItemKind.Function, { detail, doc });
    }
  };
  let i = 0;
  if (toks[0]?.t === "name" && toks[1]?.v === "=") i = 2;
  const afterTarget = i === 2;
  if (toks[i]?.t === "name" && toks[i + 1]?.v === "->") i += 2;
  if (i >= toks.length) {
    addKinds();
    // `x -> dense 3` reads a named tensor: offer them where one may start the line.
    if (i === 0 || (afterTarget && i === 2)) addTensors();
    return;
  }
  const kind = LAYERS.get(toks[i].v);
  if (!kind) return;
  const rest = toks.slice(i + 1);
  if (kind.inputs === "many" && !pendingKey(rest)) addTensors();
  const bare = kind.args.bareChoice;
  const have = used(rest);
  if (bare && !pendingKey(rest) && !bare.values.some((v) => have.has(v)) && !have.has(bare.option)) {
    for (const v of bare.values) c.add(v, CompletionItemKind.EnumMember, { detail: `${bare.option} of ${kind.name}` });
  }
  // Positional options (`units`, `filters`) are written as bare values, not offered by name.
  options(c, kind.schema, rest, kind.name, [...kind.args.positional, ...(kind.args.rest ? [kind.args.rest] : [])]);
}

function statementOptions(c: Ctx, k: StatementKind, rest: Tok[]): void {
  const key = pendingKey(rest);
  if (!key && k.args.positional.length && rest.length === 0) {
    for (const v of choices(k.schema.properties[k.args.positional[0]])) c.add(v, CompletionItemKind.EnumMember, { detail: `${k.name} ${k.args.positional[0]}` });
  }
  for (const f of k.args.flags ?? []) if (!key && !used(rest).has(f)) c.add(f, CompletionItemKind.Property, { detail: `${f}: ${k.schema.properties[f]?.description ?? "flag"}` });
  options(c, k.schema, rest, k.name, [...k.args.positional, ...(k.args.rest ? [k.args.rest] : [])]);
}

function heads(c: Ctx, catalog: ReadonlyMap<string, StatementKind>): void {
  for (const k of catalog.values()) c.add(k.name, CompletionItemKind.Keyword, { detail: `${k.name} statement`, doc: k.doc, insert: `${k.name} ` });
}

function trainBlock(c: Ctx): void {
  const { toks } = c;
  if (toks.length === 0) return heads(c, TRAIN_STATEMENTS);
  const k = TRAIN_STATEMENTS.get(toks[0].v);
  if (!k) return;
  const rest = toks.slice(1);
  if (k.catalog) {
    const catalog = CATALOGS[k.catalog] as ReadonlyMap<string, { name: string; doc: string; schema: OptionsSchema }>;
    if (rest.length === 0) {
      for (const e of catalog.values()) c.add(e.name, CompletionItemKind.EnumMember, { detail: k.catalog, doc: e.doc });
      return;
    }
    const entry = catalog.get(rest[0].v);
    if (!entry) return;
    // `loss huber(delta: 2)` or `loss huber delta: 2`
    const args = rest.slice(1).filter((t) => t.v !== "(" && t.v !== ")");
    options(c, entry.schema, args, `${k.catalog} ${entry.name}`);
    return;
  }
  if (k.name === "metrics") {
    const have = used(rest);
    for (const m of METRICS) if (!have.has(m)) c.add(m, CompletionItemKind.EnumMember, { detail: "metric" });
    return;
  }
  statementOptions(c, k, rest);
}

function dataBlock(c: Ctx): void {
  const { toks } = c;
  if (toks.length === 0) return heads(c, DATA_STATEMENTS);
  const k = DATA_STATEMENTS.get(toks[0].v);
  if (!k) return;
  const rest = toks.slice(1);
  if (k.name === "label" && pendingKey(rest)) {
    for (const [name, insert, doc] of LABEL_KINDS) c.add(name, CompletionItemKind.EnumMember, { detail: "label kind", doc, insert, snippet: true });
    return;
  }
  if (COLUMN_STATEMENTS.has(k.name) && k.name !== "columns" && !pendingKey(rest)) {
    for (const col of columnsOf(c)) c.add(col, CompletionItemKind.Field, { detail: "column", insert: IDENTIFIER.test(col) ? col : JSON.stringify(col) });
    if (k.name === "label" || k.name === "keep") return;
  }
  statementOptions(c, k, rest);
}

/** Column names of the data block at the cursor: its `columns` statement, else its data file's header row. */
function columnsOf(c: Ctx): string[] {
  const d = c.a.ast.decls.find((x) => x.kind === "data" && x.span.start <= c.offset && c.offset <= x.span.end);
  if (!d || d.kind !== "data" || !d.name) return [];
  const spec = c.a.program.data.get(d.name.name);
  const names = spec?.node === d ? spec.statements.get("columns")?.options.values.names : undefined;
  if (Array.isArray(names)) return names.filter((n): n is string => typeof n === "string");
  const source = spec?.node === d ? sourceOf(spec, "from") : undefined;
  if (!source?.path) return [];
  // The loader's own reading of the header row (only with `header: true`, as the loader reads it).
  const header = readDataHeader(resolvePath(dirname(c.a.path), source.path), source.opts);
  return header && "columns" in header && header.columns ? header.columns : [];
}
