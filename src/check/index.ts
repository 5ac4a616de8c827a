import type { DiagnosticSink } from "../diagnostics/diagnostic.ts";
import type { Program } from "../lang/program.ts";
import type { CheckedModel, CheckedProgram } from "./ir.ts";
import { checkModel } from "./model.ts";

/** Shape-checks every model of a resolved program. Reports everything it finds; never throws. */
export function check(program: Program, sink: DiagnosticSink): CheckedProgram {
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
  return { program, models, data: program.data, trains: program.trains };
}
