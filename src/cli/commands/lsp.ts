/** `nnspec lsp`: the language server over stdio. */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { args, type Command } from "../common.ts";

export const command: Command = {
  name: "lsp",
  summary: "run the language server for editors (LSP over stdio)",
  usage: "nnspec lsp [--stdio]",
  run: (argv) => lsp(argv),
};

/**
 * Node's flags the server runs with: a 64 MB young generation. Checking a large spec allocates tens
 * of MB, and with V8's default the scavenges copy the half-built syntax tree several times per
 * keystroke (bench/README.md: a 5,000-line spec's diagnostics 55 -> 43 ms, median).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64"];

/** Set in the relaunched server, so it never relaunches again. */
const RELAUNCHED = "NNSPEC_LSP_RELAUNCHED";

/** Serves LSP on stdin/stdout until the client says exit (the server ends the process then). */
function lsp(argv: string[]): Promise<number> {
  // vscode-languageclient passes --stdio, and --clientProcessId=N for its watchdog. Checked before
  // anything starts, so a wrong flag is a usage error.
  args(argv, { stdio: { type: "boolean" }, clientProcessId: { type: "string" } });
  const flagged = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].some((a) => a.startsWith("--max-semi-space-size"));
  if (!flagged && !process.env[RELAUNCHED]) return relaunch(argv);
  return import("../../lsp/server.ts").then(({ startServer }) => {
    startServer(process.stdin, process.stdout);
    return new Promise<number>(() => undefined);
  });
}

/**
 * The same command line in a child Node with SERVER_NODE_FLAGS (they can only be given at start),
 * on this process's stdin and stdout; its exit code is this one's. Signals to this process go on
 * to it. Where it cannot start, the server runs here.
 */
function relaunch(argv: string[]): Promise<number> {
  return new Promise<number>((done) => {
    const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit", env: { ...process.env, [RELAUNCHED]: "1" } });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const signals = (["SIGTERM", "SIGINT", "SIGHUP"] as const).map((s) => [s, forward(s)] as const);
    for (const [s, f] of signals) process.on(s, f);
    child.on("error", () => {
      for (const [s, f] of signals) process.off(s, f);
      process.env[RELAUNCHED] = "1";
      done(lsp(argv));
    });
    child.on("exit", (code, signal) => {
      for (const [s, f] of signals) process.off(s, f);
      done(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
