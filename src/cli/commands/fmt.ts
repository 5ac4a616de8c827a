/** `nnspec fmt`: formats specs in place, or checks that they are. */
import { resolve as resolvePath } from "node:path";
import { category } from "../../diagnostics/catalog.ts";
import type { Diagnostic } from "../../diagnostics/diagnostic.ts";
import { renderDiagnostic } from "../../diagnostics/render.ts";
import { format } from "../../format/printer.ts";
import { writeFile } from "../../node/write.ts";
import { analyse, args, UsageError, useColor, type Command, type Io } from "../common.ts";

export const command: Command = {
  name: "fmt",
  summary: "format specs in place (or verify with --check)",
  usage: "nnspec fmt FILE... [--check] [--stdout]",
  run: fmt,
};

function fmt(argv: string[], io: Io): number {
  const { values, positionals } = args(argv, { check: { type: "boolean" }, stdout: { type: "boolean" }, color: { type: "boolean" }, "no-color": { type: "boolean" } });
  if (positionals.length === 0) throw new UsageError("no files given");
  if (values.check && values.stdout) throw new UsageError("--check and --stdout cannot be combined");
  const { files, unreadable } = analyse(positionals, io);
  const color = useColor(io, values);
  let failed = unreadable > 0;
  for (const f of files) {
    if (f.syntaxErrors) {
      const syntax = f.diagnostics.filter((d: Diagnostic) => d.severity === "error" && (category(d.code) === "lexical" || category(d.code) === "syntax"));
      // Never rewrite a file the parser could not fully read: formatting could drop what it skipped.
      for (const d of syntax) io.stderr.write(renderDiagnostic(d, { color, sources: new Map([[f.path, f.lines]]) }) + "\n\n");
      io.stderr.write(`${f.path}: not formatted because of syntax errors\n`);
      failed = true;
      continue;
    }
    const out = format(f.ast);
    if (values.stdout) io.stdout.write(out);
    else if (values.check) {
      if (out !== f.text) {
        io.stderr.write(`${f.path}: not formatted (run \`nnspec fmt ${f.path}\`)\n`);
        failed = true;
      }
    } else if (out !== f.text) {
      const w = writeFile(resolvePath(f.path), out);
      if (!w.ok) {
        io.stderr.write(`error: ${w.error}\n`);
        failed = true;
        continue;
      }
      io.stderr.write(`formatted ${f.path}\n`);
    }
  }
  return failed ? 1 : 0;
}
