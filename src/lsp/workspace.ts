import { readdirSync } from "node:fs";
import { join, relative, resolve as resolvePath } from "node:path";
import { analyseParsed } from "../analyse.ts";
import type { CheckedProgram } from "../check/ir.ts";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { normalizeLineBreaks, type LineMap } from "../diagnostics/span.ts";
import type { Program } from "../lang/program.ts";
import { dataHost, FileHost, readSpecFile } from "../node/host.ts";
import type { SourceFile } from "../syntax/ast.ts";
import { pathToUri, uriToPath } from "./convert.ts";
import { IncrementalParser } from "./incremental.ts";
import { occurrences, type Occurrence } from "./symbols.ts";

/** Everything known about one version of one file. */
export interface Analysis {
  uri: string;
  /** The editor's version; undefined for a file read from disk. */
  version?: number;
  path: string;
  /** The path diagnostics name (relative to the working directory, as `nnspec check` prints it). */
  shown: string;
  text: string;
  lines: LineMap;
  ast: SourceFile;
  program: Program;
  checked: CheckedProgram;
  diagnostics: Diagnostic[];
  syntaxErrors: boolean;
  /** Names in the file, built on first use. */
  occurrences(): Occurrence[];
}

export interface OpenDocument {
  uri: string;
  version: number;
  getText(): string;
}

/** The files the server knows: open documents (analysed as they change) and the workspace's
 * other .nnspec files (read from disk when a cross-file request needs them). */
export class Workspace {
  roots: string[] = [];
  private readonly parsers = new Map<string, IncrementalParser>();
  private readonly analyses = new Map<string, Analysis>();
  private readonly lastGood = new Map<string, Analysis>();

  constructor(
    private readonly open: () => Iterable<OpenDocument>,
    private readonly get: (uri: string) => OpenDocument | undefined,
  ) {}

  shownPath(path: string): string {
    return relative(process.cwd(), path) || path;
  }

  /** Open documents by file path, so imports see unsaved text. */
  private openByPath(): Map<string, string> {
    const m = new Map<string, string>();
    for (const d of this.open()) m.set(uriToPath(d.uri, this.roots[0]), d.getText());
    return m;
  }

  private host(): FileHost {
    const open = this.openByPath();
    return new FileHost((p) => open.get(resolvePath(p)) ?? readSpecFile(p));
  }


  /** The analysis of an open document's current text (computed now if it is out of date). */
  analysis(uri: string): Analysis | undefined {
    const doc = this.get(uri);
    if (!doc) return undefined;
    const cached = this.analyses.get(uri);
    // Lone CRs as LFs: same offsets, and every feature can split lines at \n.
    const text = normalizeLineBreaks(doc.getText());
    // A document opened again without a close may come back with the same version: compare the text too.
    if (cached && cached.version === doc.version && cached.text === text) return cached;
    const path = uriToPath(uri, this.roots[0]);
    const shown = this.shownPath(path);
    let parser = this.parsers.get(uri);
    if (!parser) {
      parser = new IncrementalParser(shown);
      this.parsers.set(uri, parser);
    }
    const parsed = parser.parse(text);
    const host = this.host();
    const { program, checked, diagnostics, syntaxErrors } = analyseParsed(
      parsed,
      shown,
      { importModels: (p) => host.importModels(p, path) },
      dataHost(path),
    );
    const a = makeAnalysis({ uri, version: doc.version, path, shown, text, lines: parsed.lines, ast: parsed.ast, program, checked, diagnostics, syntaxErrors });
    this.analyses.set(uri, a);
    if (!a.syntaxErrors) this.lastGood.set(uri, a);
    return a;
  }

  /** The last analysis of the document whose text had no syntax errors. */
  lastGoodAnalysis(uri: string): Analysis | undefined {
    return this.lastGood.get(uri);
  }

  /** The last analysis of a document, current or not, without analysing. */
  peek(uri: string): Analysis | undefined {
    return this.analyses.get(uri);
  }

  /** Forgets a document's analysis so the next request analyses it again (an import changed). */
  invalidate(uri: string): void {
    this.analyses.delete(uri);
  }

  isOpen(path: string): boolean {
    return this.get(pathToUri(path)) !== undefined;
  }

  close(uri: string): void {
    this.parsers.delete(uri);
    this.analyses.delete(uri);
    this.lastGood.delete(uri);
  }

  /** The analysis of any file: the open document's, else the file on disk (undefined if unreadable). */
  analysisOfPath(path: string): Analysis | undefined {
    const uri = pathToUri(path);
    if (this.get(uri)) return this.analysis(uri);
    try {
      const f = this.host().analyse(path, this.shownPath(path));
      return makeAnalysis({ uri, path, shown: f.path, text: f.text, lines: f.lines, ast: f.ast, program: f.program, checked: f.checked, diagnostics: f.diagnostics, syntaxErrors: f.syntaxErrors });
    } catch {
      return undefined;
    }
  }

  /** Every .nnspec file of the workspace folders, and every open one. */
  files(limit = 5000): string[] {
    const out = new Set<string>();
    for (const d of this.open()) if (d.uri.startsWith("file:")) out.add(uriToPath(d.uri));
    const walk = (dir: string, depth: number): void => {
      if (out.size >= limit || depth > 12) return;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.name.startsWith(".") || e.name === "node_modules") continue;
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p, depth + 1);
        else if (e.isFile() && e.name.endsWith(".nnspec")) out.add(p);
      }
    };
    for (const r of this.roots) walk(r, 0);
    return [...out];
  }
}

function makeAnalysis(a: Omit<Analysis, "occurrences">): Analysis {
  let occ: Occurrence[] | undefined;
  // the blocks this file imports are used like its own
  return { ...a, occurrences: () => (occ ??= occurrences(a.ast, new Set(a.program.blockFiles?.keys() ?? []))) };
}
