/**
 * `nnspec graph`: a picture of each model, with the shapes on its edges. A spec with errors is
 * drawn as far as it checked, its errors on the layers they are about (in red), and reported as
 * `check` reports them; the exit status is then 1.
 */
import { hasErrors } from "../../diagnostics/diagnostic.ts";
import { graphDot, graphJson, graphSvg, programGraphs } from "../../graph/index.ts";
import { writeFile } from "../../node/write.ts";
import { closest } from "../../util/suggest.ts";
import { analyse, args, UsageError, type Command, type Io } from "../common.ts";
import { check } from "./check.ts";

const FORMATS = ["svg", "dot", "json"] as const;
type Format = (typeof FORMATS)[number];

export const command: Command = {
  name: "graph",
  summary: "draw each model as a graph (SVG, DOT or JSON), shapes on its edges",
  usage: "nnspec graph FILE [--model M] [--out FILE.svg] [--format svg|dot|json]",
  run: graph,
};

function graph(argv: string[], io: Io): number {
  const { values, positionals } = args(argv, { model: { type: "string" }, out: { type: "string" }, format: { type: "string" } });
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `one file at a time, got ${positionals.length}` : "no file given");
  const fromOut = values.out?.match(/\.(svg|dot|gv|json)$/i)?.[1].toLowerCase();
  const format = (values.format ?? (fromOut === "gv" ? "dot" : fromOut) ?? "svg") as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be svg, dot or json, got \`${values.format}\``);
  const quiet = { write: () => true };
  const { files, unreadable } = analyse(positionals, { stdout: quiet, stderr: io.stderr });
  if (unreadable) return 1;
  const f = files[0];
  if (values.model !== undefined && !f.program.models.has(values.model)) {
    const names = [...f.program.models.keys()];
    const guess = closest(values.model, names);
    io.stderr.write(`error: ${positionals[0]} has no model \`${values.model}\`${guess ? `; did you mean \`${guess}\`?` : names.length ? ` (its models: ${names.join(", ")})` : " (it declares no model)"}\n`);
    return 1;
  }
  const graphs = programGraphs(f.program, f.checked, f.diagnostics, values.model);
  if (graphs.length === 0) {
    io.stderr.write(`error: ${positionals[0]} declares no model to draw\n`);
    return 1;
  }
  const text = format === "svg" ? graphSvg(graphs) : format === "dot" ? graphDot(graphs) : graphJson(graphs);
  const errors = hasErrors(f.diagnostics);
  // the errors as `check` shows them; the picture marks the layers they are about
  if (errors) check([positionals[0]], { stdout: quiet, stderr: io.stderr });
  if (values.out === undefined) io.stdout.write(text);
  else {
    const written = writeFile(values.out, text);
    if (!written.ok) {
      io.stderr.write(`error: ${written.error}\n`);
      return 1;
    }
    io.stderr.write(`wrote ${values.out}: ${graphs.map((g) => g.model).join(", ")}${errors ? " (errors drawn in red)" : ""}\n`);
  }
  return errors ? 1 : 0;
}
