/**
 * The command line: finds the command, runs it, and turns wrong usage into exit 2 with the
 * command's usage. Each command lives in its own file under commands/; this is the only place
 * that lists them.
 */
import { AllocationError } from "../core/kernel.ts";
import { NNSPEC_VERSION } from "../core/version.ts";
import { enableRelaxedSimd } from "../node/wasm.ts";
import { closest } from "../util/suggest.ts";
import { UsageError, type Command, type Io } from "./common.ts";
import { command as build } from "./commands/build.ts";
import { command as check } from "./commands/check.ts";
import { command as evaluate } from "./commands/eval.ts";
import { command as explain } from "./commands/explain.ts";
import { command as fmt } from "./commands/fmt.ts";
import { command as exportModel } from "./commands/export.ts";
import { command as graph } from "./commands/graph.ts";
import { command as importModel } from "./commands/import.ts";
import { command as layers } from "./commands/layers.ts";
import { command as lsp } from "./commands/lsp.ts";
import { command as playground } from "./commands/playground.ts";
import { command as predict } from "./commands/predict.ts";
import { command as summary } from "./commands/summary.ts";
import { command as train } from "./commands/train.ts";

export type { Io } from "./common.ts";

const help: Command = { name: "help", summary: "show this help", usage: "nnspec help [COMMAND]", run: () => 0 };
/** In the order `nnspec help` lists them. */
const COMMANDS: ReadonlyMap<string, Command> = new Map([check, fmt, explain, layers, train, evaluate, predict, summary, graph, build, importModel, exportModel, lsp, playground, help].map((c) => [c.name, c]));

function helpText(): string {
  const width = Math.max(...[...COMMANDS.keys()].map((c) => c.length));
  return [
    "nnspec: check, run and compile neural-network specs",
    "",
    "Usage: nnspec COMMAND [ARGS]",
    "",
    "Commands:",
    ...[...COMMANDS.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Exit status: 0 success, 1 errors in the input, 2 wrong usage.",
    "",
  ].join("\n");
}

export async function main(argv: string[], io: Io): Promise<number> {
  enableRelaxedSimd();
  const [cmd, ...rest] = argv;
  const command = cmd === undefined ? undefined : COMMANDS.get(cmd);
  try {
    if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
      const topic = rest[0] === undefined ? undefined : COMMANDS.get(rest[0]);
      io.stdout.write(topic ? `${topic.usage}\n  ${topic.summary}\n` : helpText());
      return 0;
    }
    if (cmd === "--version") {
      io.stdout.write(`nnspec ${NNSPEC_VERSION}\n`);
      return 0;
    }
    if (!command) {
      const guess = closest(cmd, COMMANDS.keys());
      throw new UsageError(`unknown command \`${cmd}\`${guess ? `; did you mean \`${guess}\`?` : ""}`);
    }
    // `nnspec CMD --help` (or -h) before any `--`: the command's usage, whatever else is given.
    const flags = rest.indexOf("--") < 0 ? rest : rest.slice(0, rest.indexOf("--"));
    if (flags.includes("--help") || flags.includes("-h")) {
      io.stdout.write(`${command.usage}\n  ${command.summary}\n`);
      return 0;
    }
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`error: ${(e as Error).message}\n${command ? `usage: ${command.usage}\n` : "run `nnspec help` for the commands\n"}`);
      return 2;
    }
    if (e instanceof AllocationError) {
      io.stderr.write(`error: ${e.message}\n  = help: a smaller batch or a smaller model needs less memory\n`);
      return 1;
    }
    throw e;
  }
}
