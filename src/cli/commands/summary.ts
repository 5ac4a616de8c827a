/** `nnspec summary`: each model's layers, shapes, parameters, FLOPs and memory. */
import { summarize, summaryJson, summaryText } from "../../check/summary.ts";
import { hasErrors } from "../../diagnostics/diagnostic.ts";
import { analyse, args, UsageError, type Command, type Io } from "../common.ts";
import { check } from "./check.ts";

export const command: Command = {
  name: "summary",
  summary: "show each model's layers, shapes, parameters, FLOPs and memory",
  usage: "nnspec summary FILE... [--format text|json] [--depth N] [--color|--no-color]",
  run: summary,
};

function summary(argv: string[], io: Io): number {
  const { values, positionals } = args(argv, { format: { type: "string", default: "text" }, depth: { type: "string" }, color: { type: "boolean" }, "no-color": { type: "boolean" } });
  if (values.format !== "text" && values.format !== "json") throw new UsageError(`--format must be text or json, got \`${values.format}\``);
  const depth = values.depth === undefined ? Infinity : Number(values.depth);
  if (depth !== Infinity && (!Number.isInteger(depth) || depth < 1)) throw new UsageError(`--depth must be a whole number of at least 1 (1: the model's own layers and block uses), got \`${values.depth}\``);
  if (positionals.length === 0) throw new UsageError("no files given");
  const quiet = { write: () => true };
  const { files, unreadable } = analyse(positionals, { stdout: quiet, stderr: quiet });
  // With errors there is nothing sound to summarize: report them exactly as `check` does.
  if (unreadable || hasErrors(files.flatMap((f) => f.diagnostics))) return check(argv, io);
  const summaries = files.map((f) => ({ path: f.path, models: [...f.checked.models.values()].map((m) => summarize(m, depth)) }));
  if (values.format === "json") io.stdout.write(JSON.stringify({ files: summaries.map((f) => ({ path: f.path, models: f.models.map(summaryJson) })) }, null, 2) + "\n");
  else io.stdout.write(summaries.flatMap((f) => f.models.map(summaryText)).join("\n"));
  return 0;
}
