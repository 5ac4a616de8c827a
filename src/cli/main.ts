import { writeFile } from "../node/write.ts";
import { NNSPEC_VERSION } from "../core/version.ts";
import { parseArgs } from "node:util";
import { category, entryByCode, CATALOG, type CatalogEntry } from "../diagnostics/catalog.ts";
import { hasErrors, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { diagnosticToJson, renderDiagnostic, renderSummary } from "../diagnostics/render.ts";
import type { LineMap } from "../diagnostics/span.ts";
import { format } from "../format/printer.ts";
import { summarize, summaryJson, summaryText } from "../check/summary.ts";
import type { Io } from "./saved.ts";
import { TRAIN_USAGE, trainCommand } from "./train.ts";
import { EVAL_USAGE, evalCommand } from "./eval.ts";
import { PREDICT_USAGE, predictCommand } from "./predict.ts";
import { LAYERS } from "../kinds/layers/registry.ts";
import { FileHost, type CheckedFile } from "../node/host.ts";
import { closest } from "../util/suggest.ts";
import { createRequire } from "node:module";
import { dirname as dirnamePath, relative as relativePath, resolve as resolvePath } from "node:path";

export type { Io } from "./saved.ts";

class UsageError extends Error {}

const COMMANDS: Record<string, { summary: string; usage: string }> = {
  check: { summary: "parse and check specs; exit 1 on errors", usage: "nnspec check FILE... [--format text|json] [--color|--no-color]" },
  fmt: { summary: "format specs in place (or verify with --check)", usage: "nnspec fmt FILE... [--check] [--stdout]" },
  explain: { summary: "explain a diagnostic code", usage: "nnspec explain CODE" },
  layers: { summary: "list the layer kinds and their options", usage: "nnspec layers [KIND]" },
  train: { summary: "train a spec's model with the in-house interpreter and report the test split", usage: TRAIN_USAGE },
  eval: { summary: "evaluate a saved model on its data's test split", usage: EVAL_USAGE },
  predict: { summary: "predict new rows (CSV in, CSV out) with a saved model", usage: PREDICT_USAGE },
  summary: { summary: "show each model's layers, shapes, parameters, FLOPs and memory", usage: "nnspec summary FILE... [--format text|json] [--color|--no-color]" },
  build: { summary: "generate TensorFlow.js code: one module per spec in OUT/<spec>/ (default generated/)", usage: "nnspec build FILE... --target tfjs [--out DIR] [--color|--no-color]" },
  lsp: { summary: "run the language server for editors (LSP over stdio)", usage: "nnspec lsp [--stdio]" },
  help: { summary: "show this help", usage: "nnspec help [COMMAND]" },
};

function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    "nnspec: check, run and compile neural-network specs",
    "",
    "Usage: nnspec COMMAND [ARGS]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([c, d]) => `  ${c.padEnd(width)}  ${d.summary}`),
    "",
    "Exit status: 0 success, 1 errors in the input, 2 wrong usage.",
    "",
  ].join("\n");
}

/** Runs one CLI invocation and returns its exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        if (rest[0] && COMMANDS[rest[0]]) io.stdout.write(`${COMMANDS[rest[0]].usage}\n  ${COMMANDS[rest[0]].summary}\n`);
        else io.stdout.write(helpText());
        return 0;
      case "--version":
        io.stdout.write(`nnspec ${NNSPEC_VERSION}\n`);
        return 0;
      case "check":
        return check(rest, io);
      case "fmt":
        return fmt(rest, io);
      case "explain":
        return explain(rest, io);
      case "layers":
        return layers(rest, io);
      case "train":
        return trainCommand(rest, io);
      case "eval":
        return evalCommand(rest, io);
      case "predict":
        return predictCommand(rest, io);
      case "summary":
        return summary(rest, io);
      case "build":
        return await build(rest, io);
      case "lsp":
        return lsp(rest);
      default: {
        const guess = closest(cmd, Object.keys(COMMANDS));
        throw new UsageError(`unknown command \`${cmd}\`${guess ? `; did you mean \`${guess}\`?` : ""}`);
      }
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`error: ${(e as Error).message}\n${cmd && COMMANDS[cmd] ? `usage: ${COMMANDS[cmd].usage}\n` : "run `nnspec help` for the commands\n"}`);
      return 2;
    }
    throw e;
  }
}

function args(argv: string[], options: NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>) {
  return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
}

function useColor(io: Io, values: Record<string, unknown>): boolean {
  if (values.color === true) return true;
  if (values["no-color"] === true || process.env.NO_COLOR) return false;
  return Boolean(io.stderr.isTTY ?? io.stdout.isTTY);
}

function analyse(paths: string[], io: Io): { files: CheckedFile[]; unreadable: number } {
  const host = new FileHost();
  const files: CheckedFile[] = [];
  let unreadable = 0;
  for (const p of paths) {
    try {
      files.push(host.analyse(resolvePath(p), p));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      io.stderr.write(`error: cannot read ${p}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message}\n`);
      unreadable++;
    }
  }
  return { files, unreadable };
}

function check(argv: string[], io: Io): number {
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

function summary(argv: string[], io: Io): number {
  const { values, positionals } = args(argv, { format: { type: "string", default: "text" }, color: { type: "boolean" }, "no-color": { type: "boolean" } });
  if (values.format !== "text" && values.format !== "json") throw new UsageError(`--format must be text or json, got \`${values.format}\``);
  if (positionals.length === 0) throw new UsageError("no files given");
  const quiet = { write: () => true };
  const { files, unreadable } = analyse(positionals, { stdout: quiet, stderr: quiet });
  // With errors there is nothing sound to summarize: report them exactly as `check` does.
  if (unreadable || hasErrors(files.flatMap((f) => f.diagnostics))) return check(argv, io);
  const summaries = files.map((f) => ({ path: f.path, models: [...f.checked.models.values()].map(summarize) }));
  if (values.format === "json") io.stdout.write(JSON.stringify({ files: summaries.map((f) => ({ path: f.path, models: f.models.map(summaryJson) })) }, null, 2) + "\n");
  else io.stdout.write(summaries.flatMap((f) => f.models.map(summaryText)).join("\n"));
  return 0;
}

/**
 * `build --target tfjs`: with any error in the specs (or anything TensorFlow.js cannot express)
 * reports it and writes nothing; else writes every module atomically (src/node/write.ts).
 */
async function build(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { target: { type: "string" }, out: { type: "string" }, color: { type: "boolean" }, "no-color": { type: "boolean" } });
  if (values.target !== "tfjs") throw new UsageError(values.target === undefined ? "give the target: --target tfjs" : `unknown target \`${values.target}\`; the only target is tfjs`);
  if (positionals.length === 0) throw new UsageError("no files given");
  const { buildSpecs, writeBuilt } = await import("../codegen/tfjs/build.ts");
  const r = await buildSpecs(positionals, { outRoot: typeof values.out === "string" ? values.out : undefined });
  const color = useColor(io, values);
  const sources = new Map<string, LineMap>(r.checked.map((f) => [f.path, f.lines]));
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  for (const d of errors) io.stderr.write(renderDiagnostic(d, { color, sources }) + "\n\n");
  for (const e of r.errors) io.stderr.write(`error: ${e}\n`);
  if (errors.length || r.errors.length) {
    io.stderr.write(`${errors.length ? `${renderSummary(errors, color)}\n` : ""}nothing written\n`);
    return 1;
  }
  try {
    writeBuilt(r.files);
  } catch (e) {
    io.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
  for (const f of r.files) io.stderr.write(`wrote ${relativePath(process.cwd(), f.path)}\n`);
  // Node finds packages in node_modules folders above the importing file: say so when the modules
  // were written where @tensorflow/tfjs cannot be found, before running them fails with less to go on.
  const lost = r.files.find((f) => {
    try {
      createRequire(f.path).resolve("@tensorflow/tfjs");
      return false;
    } catch {
      return true;
    }
  });
  if (lost) io.stderr.write(`note: ${relativePath(process.cwd(), dirnamePath(lost.path))} cannot import @tensorflow/tfjs (no node_modules above it holds it): run the code from a project that depends on @tensorflow/tfjs, or \`npm install @tensorflow/tfjs\` there\n`);
  return 0;
}

/** Serves LSP on stdin/stdout until the client says exit (the server ends the process then). */
function lsp(argv: string[]): Promise<number> {
  // vscode-languageclient passes --stdio, and --clientProcessId=N for its watchdog. Checked before
  // anything starts, so a wrong flag is a usage error.
  args(argv, { stdio: { type: "boolean" }, clientProcessId: { type: "string" } });
  return import("../lsp/server.ts").then(({ startServer }) => {
    startServer(process.stdin, process.stdout);
    return new Promise<number>(() => undefined);
  });
}

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

function explain(argv: string[], io: Io): number {
  const { positionals } = args(argv, {});
  if (positionals.length !== 1) throw new UsageError("give one diagnostic code or lint name, such as NN0101 or linear-collapse");
  const wanted = positionals[0];
  const entries: CatalogEntry[] = Object.values(CATALOG);
  const e = entryByCode(wanted.toUpperCase()) ?? entries.find((x) => x.name === wanted);
  if (!e) {
    const guess = closest(wanted, [...entries.map((x) => x.code), ...entries.flatMap((x) => (x.name ? [x.name] : []))]);
    io.stderr.write(`error: no diagnostic code or lint named \`${wanted}\`${guess ? `; did you mean ${guess}?` : ""}\n`);
    return 1;
  }
  const silence = e.severity === "warning" ? `\n\nSilence it on a line with \`# nnspec: allow ${e.name ?? e.code}\`, or in a whole file with \`# nnspec: allow-file ${e.name ?? e.code}\`.` : "";
  io.stdout.write(`${e.code}${e.name ? ` ${e.name}` : ""} (${e.severity}): ${e.message}\n\n${e.explain}${silence}\n`);
  return 0;
}

function layers(argv: string[], io: Io): number {
  const { positionals } = args(argv, {});
  const list = positionals.length ? positionals : [...LAYERS.keys()];
  let bad = 0;
  for (const name of list) {
    const k = LAYERS.get(name);
    if (!k) {
      const guess = closest(name, LAYERS.keys());
      io.stderr.write(`error: unknown layer kind \`${name}\`${guess ? `; did you mean \`${guess}\`?` : ""}\n`);
      bad++;
      continue;
    }
    const opts = Object.entries(k.schema.properties)
      .map(([o, s]) => `    ${o}: ${s.description}${s.default !== undefined ? ` (default ${JSON.stringify(s.default)})` : ""}`)
      .join("\n");
    const pos = k.args.positional.length ? ` ${k.args.positional.map((p) => `<${p}>`).join(" ")}` : k.args.rest ? ` <${k.args.rest}>...` : "";
    io.stdout.write(`${k.name}${pos}\n  ${k.doc}\n${opts}\n\n`);
  }
  return bad ? 1 : 0;
}
