import { check, type DataHost } from "./check/index.ts";
import type { CheckedProgram } from "./check/ir.ts";
import { applySuppressions } from "./check/suppress.ts";
import { dropCascades } from "./diagnostics/cascade.ts";
import { DiagnosticSink, hasErrors, type Diagnostic } from "./diagnostics/diagnostic.ts";
import type { Program } from "./lang/program.ts";
import { resolve, type ImportHost } from "./lang/resolve.ts";
import type { ParseResult } from "./syntax/parse.ts";

export interface Analysed {
  program: Program;
  checked: CheckedProgram;
  /** Everything found, parse problems included, in source order. */
  diagnostics: Diagnostic[];
  /** Whether the parser itself met errors (the tree may then be incomplete). */
  syntaxErrors: boolean;
}

/**
 * The pipeline after parsing, in one place for the CLI and the language server: resolve, check,
 * drop cascades on lines the parser already flagged, apply `# nnspec: allow` comments.
 */
export function analyseParsed(parsed: ParseResult, shownPath: string, imports: ImportHost, data: DataHost): Analysed {
  const sink = new DiagnosticSink(shownPath);
  const program = resolve(parsed.ast, sink, imports);
  const checked = check(program, sink, data, parsed.diagnostics);
  const all = [...parsed.diagnostics, ...dropCascades(parsed.diagnostics, sink.items)];
  const diagnostics = applySuppressions(parsed.ast, parsed.lines, shownPath, all).diagnostics.sort((a, b) => a.span.start - b.span.start);
  return { program, checked, diagnostics, syntaxErrors: hasErrors(parsed.diagnostics) };
}
