import { readFileSync } from "node:fs";
import { dirname, relative, resolve as resolvePath } from "node:path";
import { DiagnosticSink, hasErrors, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { LineMap } from "../diagnostics/span.ts";
import type { ModelSpec, Program } from "../lang/program.ts";
import { resolve, type ImportHost } from "../lang/resolve.ts";
import type { SourceFile } from "../syntax/ast.ts";
import { check } from "../check/index.ts";
import type { CheckedProgram } from "../check/ir.ts";
import { parse } from "../syntax/parse.ts";

export interface CheckedFile {
  path: string;
  text: string;
  ast: SourceFile;
  lines: LineMap;
  program: Program;
  checked: CheckedProgram;
  /** Everything found, parse problems included. */
  diagnostics: Diagnostic[];
  /** Whether the parser itself met errors (the tree may then be incomplete). */
  syntaxErrors: boolean;
}

/** Reads files from disk for imports, with each file analysed once and cycles reported. */
export class FileHost implements ImportHost {
  private readonly cache = new Map<string, CheckedFile | "in-progress">();
  constructor(private readonly read: (path: string) => string = (p) => readFileSync(p, "utf8")) {}

  importModels(path: string, from: string): { models: Map<string, ModelSpec>; file: string } | { error: string } {
    const target = resolvePath(dirname(from), path);
    const state = this.cache.get(target);
    if (state === "in-progress") return { error: "the files import each other in a cycle" };
    let checked: CheckedFile;
    try {
      checked = state ?? this.analyse(target, relative(process.cwd(), target) || target);
    } catch (e) {
      return { error: (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message };
    }
    if (hasErrors(checked.diagnostics)) return { error: `it has ${checked.diagnostics.filter((d) => d.severity === "error").length} error(s); run \`nnspec check ${checked.path}\`` };
    return { models: checked.program.models, file: checked.path };
  }

  /** Parses and resolves one file. Throws only when the file cannot be read. */
  analyse(absPath: string, shownPath: string, text?: string): CheckedFile {
    const key = resolvePath(absPath);
    const cached = this.cache.get(key);
    if (cached && cached !== "in-progress" && text === undefined) return cached;
    const src = text ?? this.read(key);
    this.cache.set(key, "in-progress");
    const parsed = parse(src, shownPath);
    const sink = new DiagnosticSink(shownPath);
    const program = resolve(parsed.ast, sink, { importModels: (p, _from) => this.importModels(p, key) });
    const checked = check(program, sink);
    const result: CheckedFile = { path: shownPath, text: src, ast: parsed.ast, lines: parsed.lines, program, checked, syntaxErrors: hasErrors(parsed.diagnostics), diagnostics: [...parsed.diagnostics, ...sink.items].sort((a, b) => a.span.start - b.span.start) };
    this.cache.set(key, result);
    return result;
  }
}
