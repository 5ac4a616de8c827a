import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import type { Location, Range, TextEdit, WorkspaceEdit } from "vscode-languageserver/node";
import { LAYERS } from "../kinds/layers/registry.ts";
import { KEYWORDS } from "../syntax/tokens.ts";
import { contains, pathToUri, toRange } from "./convert.ts";
import { IDENTIFIER, occurrenceAt, sameSymbol, type Occurrence } from "./symbols.ts";
import type { Analysis, Workspace } from "./workspace.ts";

/** Go to definition, find references and rename. Tensors and dimensions live in one model, data
 * sets in one file; models and blocks cross files through imports, so their references are searched
 * in every .nnspec file of the workspace. */

/** The absolute path of a file as a model spec names it (the shown path, relative to the working directory). */
function absOf(a: Analysis, file: string): string {
  return file === a.shown ? a.path : isAbsolute(file) ? file : resolvePath(file);
}

interface ModelTarget {
  name: string;
  path: string;
  start: number;
  range: Range;
}

/** Where a model or block is declared, in this file or one it imports. */
function declTarget(a: Analysis, kind: "model" | "block", name: string): ModelTarget | undefined {
  if (kind === "block") {
    const decl = a.program.blocks?.get(name);
    if (!decl?.name) return undefined;
    return { name, path: absOf(a, a.program.blockFiles?.get(name) ?? a.program.file), start: decl.name.span.start, range: toRange(decl.name.span) };
  }
  const spec = a.program.models.get(name);
  if (!spec?.node.name) return undefined;
  return { name, path: absOf(a, spec.file), start: spec.node.name.span.start, range: toRange(spec.node.name.span) };
}

const crossesFiles = (o: Occurrence): o is Occurrence & { kind: "model" | "block" } => o.kind === "model" || o.kind === "block";

export function definition(a: Analysis, offset: number): Location[] {
  const imp = a.ast.decls.find((d) => d.kind === "import" && d.path && contains(d.path.span, offset));
  if (imp?.kind === "import" && imp.path) {
    const file = resolvePath(dirname(a.path), imp.path.value);
    return [{ uri: pathToUri(file), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } }];
  }
  const occ = occurrenceAt(a.occurrences(), offset);
  if (!occ) return [];
  if (crossesFiles(occ)) {
    const t = declTarget(a, occ.kind, occ.name);
    return t ? [{ uri: t.path === a.path ? a.uri : pathToUri(t.path), range: t.range }] : [];
  }
  const def = sameSymbol(a.occurrences(), occ).find((o) => o.def);
  return def ? [{ uri: a.uri, range: toRange(def.span) }] : [];
}

/** Every occurrence of the symbol under the offset, by file. */
function symbolOccurrences(ws: Workspace, a: Analysis, offset: number): { occ: Occurrence; sites: Map<string, Occurrence[]> } | undefined {
  const occ = occurrenceAt(a.occurrences(), offset);
  if (!occ) return undefined;
  const sites = new Map<string, Occurrence[]>();
  if (!crossesFiles(occ)) {
    sites.set(a.uri, sameSymbol(a.occurrences(), occ));
    return { occ, sites };
  }
  const kind = occ.kind;
  const target = declTarget(a, kind, occ.name);
  if (!target) {
    // An unknown model or block: its uses in this file.
    sites.set(a.uri, sameSymbol(a.occurrences(), occ));
    return { occ, sites };
  }
  const files = new Set([a.path, target.path, ...ws.files()]);
  for (const f of files) {
    let fa: Analysis | undefined;
    if (f === a.path) fa = a;
    else {
      try {
        if (!ws.isOpen(f) && !readFileSync(f, "utf8").includes(occ.name)) continue;
      } catch {
        continue;
      }
      fa = ws.analysisOfPath(f);
    }
    if (!fa) continue;
    const here = fa.occurrences().filter((o) => {
      if (o.kind !== kind || o.name !== occ.name) return false;
      const t = declTarget(fa, kind, o.name);
      return t !== undefined && t.path === target.path && t.start === target.start;
    });
    if (here.length) sites.set(fa.uri, here);
  }
  return { occ, sites };
}

export function references(ws: Workspace, a: Analysis, offset: number, includeDeclaration: boolean): Location[] {
  const r = symbolOccurrences(ws, a, offset);
  if (!r) return [];
  const out: Location[] = [];
  for (const [uri, occs] of r.sites) for (const o of occs) if (includeDeclaration || !o.def) out.push({ uri, range: toRange(o.span) });
  return out;
}

export function prepareRename(a: Analysis, offset: number): { range: Range; placeholder: string } | null {
  const occ = occurrenceAt(a.occurrences(), offset);
  if (!occ) return null;
  return { range: toRange(occ.span), placeholder: occ.name };
}

/** Why a name cannot be used, or undefined when it can. */
export function badName(name: string): string | undefined {
  if (!IDENTIFIER.test(name)) return `\`${name}\` is not a name: use letters, digits and _, not starting with a digit`;
  if ((KEYWORDS as readonly string[]).includes(name)) return `\`${name}\` is a keyword`;
  return undefined;
}

export function rename(ws: Workspace, a: Analysis, offset: number, newName: string): WorkspaceEdit | { error: string } | null {
  const r = symbolOccurrences(ws, a, offset);
  if (!r) return null;
  const bad = badName(newName);
  if (bad) return { error: bad };
  if ((r.occ.kind === "tensor" || r.occ.kind === "block") && LAYERS.has(newName)) return { error: `\`${newName}\` is a layer kind; a ${r.occ.kind} of that name would read as a layer` };
  const taken = r.occ.kind === "model" ? a.program.models.has(newName) : r.occ.kind === "block" ? (a.program.blocks?.has(newName) ?? false) : a.occurrences().some((o) => o.def && o.kind === r.occ.kind && o.name === newName && o.scope === r.occ.scope);
  if (taken && newName !== r.occ.name) return { error: `${r.occ.kind === "data" ? "a data set" : `a ${r.occ.kind}`} named \`${newName}\` already exists` };
  const changes: Record<string, TextEdit[]> = {};
  for (const [uri, occs] of r.sites) changes[uri] = occs.map((o) => ({ range: toRange(o.span), newText: newName }));
  return { changes };
}
