/**
 * Language server latency: the time from a `textDocument/didChange` notification to the
 * `textDocument/publishDiagnostics` for that version, measured by a protocol client against the
 * real server (`nnspec lsp` as a child process, stdio), on generated specs of 500 and 5,000 lines.
 * Each edit changes one layer's units (a one-character incremental change, as editors send them);
 * edits are spaced beyond the server's debounce, so this is the latency of a keystroke after a pause.
 * Targets: 20 ms (500 lines), 150 ms (5,000 lines).
 */
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type PublishDiagnosticsParams,
} from "vscode-languageserver-protocol/node";
import { generateSpec } from "./parse.ts";
import { record } from "./timing.ts";

export const name = "lsp";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(): Promise<void> {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 40);
  // NNSPEC_LSP_SERVER: another server script to measure (a bundled build, say) instead of bin/nnspec.mjs.
  const server = process.env.NNSPEC_LSP_SERVER ? [resolve(process.env.NNSPEC_LSP_SERVER)] : [join(ROOT, "bin", "nnspec.mjs"), "lsp", "--stdio"];
  const proc = spawn(process.execPath, server, { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  const waiting = new Map<string, (p: PublishDiagnosticsParams) => void>();
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
    const key = `${p.uri}@${p.version}`;
    waiting.get(key)?.(p);
    waiting.delete(key);
  });
  conn.onNotification("window/logMessage", () => undefined);
  conn.listen();
  await conn.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: pathToFileURL(ROOT).href, capabilities: {}, workspaceFolders: null });
  await conn.sendNotification(InitializedNotification.type, {});
  const diagnosticsFor = (uri: string, version: number) => new Promise<PublishDiagnosticsParams>((r) => waiting.set(`${uri}@${version}`, r));

  console.log(`lsp: didChange → publishDiagnostics, ${iterations} one-character edits per file, spaced beyond the debounce`);
  for (const [lines, target] of [
    [500, 20],
    [5000, 150],
  ] as const) {
    const text = generateSpec(lines);
    const nLines = text.split("\n").length;
    const uri = pathToFileURL(join(ROOT, `bench-${lines}.nnspec`)).href;
    let t0 = performance.now();
    const first = diagnosticsFor(uri, 1);
    await conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "nnspec", version: 1, text } });
    const opened = await first;
    const openMs = performance.now() - t0;
    if (opened.diagnostics.some((d) => d.severity === 1)) throw new Error(`the generated spec has errors: ${opened.diagnostics[0].message}`);
    // Edit the units of `dense N` lines spread over the file: `dense 64` ⇄ `dense 65`, one character.
    const at: { line: number; character: number; digit: string }[] = [];
    text.split("\n").forEach((l, i) => {
      const m = /^ {2}dense (\d+) /.exec(l);
      if (m) at.push({ line: i, character: 8 + m[1].length - 1, digit: m[1][m[1].length - 1] });
    });
    const ms: number[] = [];
    let version = 1;
    for (let i = 0; i < iterations + 3; i++) {
      const site = at[Math.floor((i * 7919) % at.length)];
      const digit = site.digit === "4" ? "5" : "4";
      site.digit = digit;
      version++;
      await sleep(200); // past the debounce (150 ms by default): each edit is checked at once
      const got = diagnosticsFor(uri, version);
      t0 = performance.now();
      await conn.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: { line: site.line, character: site.character }, end: { line: site.line, character: site.character + 1 } }, text: digit }],
      });
      const p = await got;
      if (i >= 3) ms.push(performance.now() - t0); // the first edits warm the JIT up
      if (p.diagnostics.some((d) => d.severity === 1)) throw new Error(`edit ${i} made an error: ${p.diagnostics[0].message}`);
    }
    ms.sort((a, b) => a - b);
    const q = (f: number) => ms[Math.min(ms.length - 1, Math.floor(f * ms.length))].toFixed(1);
    const median = ms[Math.floor(ms.length / 2)];
    record({ lines: nLines, medianMs: median, p90Ms: Number(q(0.9)), maxMs: Number(q(1)), targetMs: target, openMs });
    console.log(
      `  ${String(nLines).padStart(5)} lines: median ${median.toFixed(1)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms  (target ${target} ms: ${median <= target ? "met" : "MISSED"}); open: ${openMs.toFixed(0)} ms`,
    );
  }
  await conn.sendRequest(ShutdownRequest.type);
  const exited = new Promise((r) => proc.once("exit", r));
  await conn.sendNotification(ExitNotification.type);
  await exited;
  conn.dispose();
}

// `npx tsx bench/lsp.ts` runs it alone.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await run();
