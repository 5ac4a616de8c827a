/**
 * `nnspec playground`: serves the static playground (playground/dist/, built by `npm run
 * playground:build` and shipped in the package) on localhost and prints its address. Nothing runs
 * on the server: the page checks, draws and edits specs in the browser.
 */
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import sirv from "sirv";
import { args, UsageError, type Command, type Io } from "../common.ts";

export const command: Command = {
  name: "playground",
  summary: "serve the playground (editor, checks and graphs in the browser) on localhost",
  usage: "nnspec playground [--port N] [--host H]",
  run: playground,
};

/** The built page, beside the sources (in a clone, or in the installed package). */
export const PLAYGROUND_DIR = fileURLToPath(new URL("../../../playground/dist/", import.meta.url));

function playground(argv: string[], io: Io): Promise<number> | number {
  const { values } = args(argv, { port: { type: "string", default: "8080" }, host: { type: "string", default: "127.0.0.1" } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number (0 to 65535; 0 picks a free one), got \`${values.port}\``);
  if (!existsSync(`${PLAYGROUND_DIR}index.html`)) {
    io.stderr.write(`error: the playground is not built (${PLAYGROUND_DIR} has no index.html): run \`npm run playground:build\` in nnspec's folder\n`);
    return 1;
  }
  const serveFiles = sirv(PLAYGROUND_DIR, { dev: false, etag: true, gzip: false, brotli: false });
  const server = createServer((req, res) => {
    // cross-origin isolation lets the page share memory between its workers (training on every core)
    res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    serveFiles(req, res, () => {
      res.statusCode = 404;
      res.end("not found");
    });
  });
  return new Promise<number>((resolve) => {
    server.on("error", (e: NodeJS.ErrnoException) => {
      io.stderr.write(`error: cannot serve on ${values.host}:${port}: ${e.code === "EADDRINUSE" ? "the port is in use; choose another with --port N (0 picks a free one)" : e.message}\n`);
      resolve(1);
    });
    server.listen(port, values.host, () => {
      const a = server.address();
      const at = typeof a === "object" && a ? a.port : port;
      io.stdout.write(`nnspec playground: http://${values.host === "0.0.0.0" ? "localhost" : values.host}:${at}/ (Ctrl+C stops it)\n`);
    });
  });
}
