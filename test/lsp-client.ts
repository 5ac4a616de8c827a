/**
 * A small LSP client over `nnspec lsp --stdio`, built on vscode-languageserver-protocol: what the
 * language-server tests and the editor fuzzer speak to the real server with.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type InitializeResult,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type TextDocumentContentChangeEvent,
} from "vscode-languageserver-protocol/node";
import { afterAll, beforeAll } from "vitest";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const SPECS = join(ROOT, "specs");
export const uriOf = (p: string): string => pathToFileURL(p).href;

export class Client {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  private waiters: { uri: string; version?: number; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  private versions = new Map<string, number>();
  readonly texts = new Map<string, string>();
  /** What the server registered dynamically (client/registerCapability). */
  readonly registrations: { method: string; registerOptions?: unknown }[] = [];
  capabilities!: InitializeResult["capabilities"];
  stderr = "";
  /** Errors the server logged (a request or a check that threw). */
  readonly errors: string[] = [];

  private constructor(
    readonly proc: ChildProcess,
    readonly conn: ProtocolConnection,
  ) {}

  static async start(initializationOptions: object = {}): Promise<Client> {
    const proc = spawn(process.execPath, [join(ROOT, "bin", "nnspec.mjs"), "lsp", "--stdio"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const c = new Client(proc, conn);
    proc.stderr!.on("data", (d) => (c.stderr += String(d)));
    conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
      c.diagnostics.set(p.uri, p);
      c.waiters = c.waiters.filter((w) => {
        if (w.uri !== p.uri || (w.version !== undefined && p.version !== w.version)) return true;
        w.resolve(p);
        return false;
      });
    });
    conn.onNotification("window/logMessage", (m: { type: number; message: string }) => {
      if (m.type === 1) c.errors.push(m.message);
    });
    conn.onRequest("workspace/inlayHint/refresh", () => null);
    conn.onRequest("client/registerCapability", (p: { registrations: { method: string; registerOptions?: unknown }[] }) => {
      c.registrations.push(...p.registrations);
      return null;
    });
    conn.listen();
    const init = await conn.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: uriOf(ROOT),
      workspaceFolders: [{ uri: uriOf(SPECS), name: "specs" }],
      capabilities: { textDocument: { completion: { completionItem: { snippetSupport: true } } }, workspace: { inlayHint: { refreshSupport: true }, didChangeWatchedFiles: { dynamicRegistration: true } } },
      initializationOptions,
    });
    c.capabilities = init.capabilities;
    await conn.sendNotification(InitializedNotification.type, {});
    return c;
  }

  /** Opens a document and waits for its diagnostics. */
  async open(path: string, text: string): Promise<Diagnostic[]> {
    const uri = uriOf(path);
    this.versions.set(uri, 1);
    this.texts.set(uri, text);
    const got = this.waitFor(uri, 1);
    await this.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "nnspec", version: 1, text } });
    return (await got).diagnostics;
  }

  /** Replaces a document's text and waits for the diagnostics of the new version. */
  async change(path: string, text: string): Promise<Diagnostic[]> {
    const uri = uriOf(path);
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    this.texts.set(uri, text);
    const got = this.waitFor(uri, version);
    await this.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text }] });
    return (await got).diagnostics;
  }

  /** Sends ranged edits (applied in order, as an editor does) and waits for the new version's diagnostics. */
  async edit(path: string, changes: TextDocumentContentChangeEvent[], text: string): Promise<Diagnostic[]> {
    const uri = uriOf(path);
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    this.texts.set(uri, text);
    const got = this.waitFor(uri, version);
    await this.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: changes });
    return (await got).diagnostics;
  }

  async close(path: string): Promise<void> {
    await this.conn.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: uriOf(path) } });
  }

  waitFor(uri: string, version?: number): Promise<PublishDiagnosticsParams> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no diagnostics for ${uri} v${version}; server stderr: ${this.stderr}`)), 20_000);
      this.waiters.push({
        uri,
        version,
        resolve: (p) => {
          clearTimeout(t);
          resolve(p);
        },
      });
    });
  }

  async stop(): Promise<void> {
    await this.conn.sendRequest(ShutdownRequest.type);
    const exited = new Promise((r) => this.proc.once("exit", r));
    await this.conn.sendNotification(ExitNotification.type);
    await exited;
    this.conn.dispose();
  }
}

/** Starts the server before the enclosing describe's tests and stops it after; `use` receives the client. */
export function withServer(use: (c: Client) => void): void {
  let c: Client | undefined;
  beforeAll(async () => {
    c = await Client.start();
    use(c);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });
}
