/** `nnspec check`: every problem of the specs, as code frames or JSON. */
import { hasErrors } from "../../diagnostics/diagnostic.ts";
import { diagnosticToJson, renderDiagnostic, renderSummary } from "../../diagnostics/render.ts";
import type { LineMap } from "../../diagnostics/span.ts";
import { analyse, args, UsageError, useColor, type Command, type Io } from "../common.ts";

export const command: Command = {
  name: "check",
  summary: "parse and check specs; exit 1 on errors",
  usage: "nnspec check FILE... [--format text|json] [--color|--no-color]",
  run: check,
};

export function check(argv: string[], io: Io): number {
  const { values, positionals } = args(argv, { format: { type: "string", default: "text" }, color: { type: "boolean" }, "no-color": { type: "boolean" } });
  if (values.format !== "text" && values.format !== "json") throw new UsageError(`--format must be text or json, got \`${values.format}\``);
  if (positionals.length === 0) throw new UsageError("no files given");
  const { files, unreadable } = analyse(positionals, io);
  const all = files.flatMap((f) => f.diagnostics);
  if (values.format === "json") {
    io.stdout.write(JSON.stringify({ files: files.map((f) => f.path), diagnostics: all.map(diagnosticToJson) }, null, 2) + "\n");
  } else {
    const color = useColor(io, values);
    const sources = new Map<string, LineMap>(files.map((f) => [f.path, f.lines]));
    for (const d of all) io.stderr.write(renderDiagnostic(d, { color, sources }) + "\n\n");
    const summary = renderSummary(all, color);
    if (summary) io.stderr.write(`${summary}\n`);
    else if (!unreadable) io.stderr.write(`ok: ${files.length} file${files.length === 1 ? "" : "s"} checked, no problems\n`);
  }
  return hasErrors(all) || unreadable ? 1 : 0;
}
