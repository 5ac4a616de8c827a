/** `nnspec lsp`: the language server over stdio. */
import { args, type Command } from "../common.ts";

export const command: Command = {
  name: "lsp",
  summary: "run the language server for editors (LSP over stdio)",
  usage: "nnspec lsp [--stdio]",
  run: (argv) => lsp(argv),
};

/** Serves LSP on stdin/stdout until the client says exit (the server ends the process then). */
function lsp(argv: string[]): Promise<number> {
  // vscode-languageclient passes --stdio, and --clientProcessId=N for its watchdog. Checked before
  // anything starts, so a wrong flag is a usage error.
  args(argv, { stdio: { type: "boolean" }, clientProcessId: { type: "string" } });
  return import("../../lsp/server.ts").then(({ startServer }) => {
    startServer(process.stdin, process.stdout);
    return new Promise<number>(() => undefined);
  });
}
