import { category } from "../diagnostics/catalog.ts";
import type { Diagnostic, DiagnosticSink } from "../diagnostics/diagnostic.ts";
import type { Span } from "../diagnostics/span.ts";
import type { Program } from "../lang/program.ts";
import { checkCrossDecl, type DataHost } from "./crossdecl.ts";
import type { CheckedModel, CheckedProgram, CheckedTrain, DataLayout } from "./ir.ts";
import { lint } from "./lints.ts";
import { checkModel } from "./model.ts";
import { trainConfigOf } from "./train.ts";

export type { DataHeader, DataHost, HeaderRequest } from "./crossdecl.ts";

/**
 * Shape-checks every model of a resolved program, then checks each `train` for a model, data and
 * loss that fit together, and runs the lints. Reports everything it finds; never throws. `host`
 * reads the first lines of data files (optional: a spec checks without its data). `earlier` are
 * the parser's diagnostics: the checks across declarations and the lints skip every declaration
 * that already has an error, so that one mistake is not reported again as a mismatch.
 */
export function check(program: Program, sink: DiagnosticSink, host?: DataHost, earlier: readonly Diagnostic[] = []): CheckedProgram {
  const models = new Map<string, CheckedModel>();
  for (const [name, m] of program.models) {
    // Imported models were checked in their own file; check them here only for their shapes.
    if (m.file !== program.file) {
      const quiet = { ...sink, items: [] as typeof sink.items, report: () => undefined } as unknown as DiagnosticSink;
      models.set(name, checkModel(m, quiet));
      continue;
    }
    models.set(name, checkModel(m, sink));
  }
  const clean = withoutErrors(program.file, [...earlier, ...sink.items]);
  const errors = [...earlier, ...sink.items].filter((d) => d.severity === "error" && d.file === program.file);
  const errorsIn = (span: Span) => errors.filter((d) => d.span.start >= span.start && d.span.start < Math.max(span.end, span.start + 1));
  const infos = checkCrossDecl(program, models, sink, host, clean, errorsIn);
  const layouts = new Map<string, DataLayout>();
  for (const [name, info] of infos) if (info.layout) layouts.set(name, info.layout);
  // Lints read the layers as written, not the shapes: a shape error does not hide them.
  const written = withoutErrors(program.file, [...earlier, ...sink.items.filter((d) => category(d.code) !== "shapes" && category(d.code) !== "cross-declaration")]);
  lint(program, models, sink, written);
  // The train blocks become checked ones in place: callers key maps by them.
  const trains = program.trains as CheckedTrain[];
  for (const t of trains) t.config = trainConfigOf(t);
  return { program, models, data: program.data, layouts, trains };
}

/** A test of whether a declaration's span holds no error of this file. */
function withoutErrors(file: string, diagnostics: readonly Diagnostic[]): (span: Span) => boolean {
  const starts = diagnostics
    .filter((d) => d.severity === "error" && d.file === file)
    .map((d) => d.span.start)
    .sort((a, b) => a - b);
  return (span) => {
    // the first error at or after span.start
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] < span.start) lo = mid + 1;
      else hi = mid;
    }
    return lo === starts.length || starts[lo] >= Math.max(span.end, span.start + 1);
  };
}
