import { basename, dirname, resolve as resolvePath } from "node:path";
import { NNSPEC_VERSION } from "../core/version.ts";
import {
  CodeActionKind,
  createConnection,
  DidChangeWatchedFilesNotification,
  ErrorCodes,
  ProposedFeatures,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import { codeActions } from "./code-actions.ts";
import { complete } from "./completion.ts";
import { toOffset, uriToPath } from "./convert.ts";
import { lspDiagnostics } from "./diagnostics.ts";
import { formatting } from "./formatting.ts";
import { GRAPH_COMMAND, graphAt } from "./graph.ts";
import { hover } from "./hover.ts";
import { inlayHints } from "./inlay-hints.ts";
import { definition, prepareRename, references, rename } from "./navigation.ts";
import { documentSymbols, foldingRanges } from "./outline.ts";
import { SEMANTIC_LEGEND, semanticTokens } from "./semantic-tokens.ts";
import { Workspace, type Analysis } from "./workspace.ts";

/** Settings, from the client's initialization options and `nnspec` configuration section. */
export interface Settings {
  inlayHints: {
    /** Each layer's output shape at the end of its line. */
    shapes: boolean;
    /** The layer's parameter count next to its shape. */
    parameterCounts: boolean;
  };
  /** Changes within this many milliseconds of the last check are checked together, once. */
  debounceMs: number;
  /** Where a diagnostic code links to, with `{code}` in it; by default its entry in the message catalog. */
  diagnosticsUrl?: string;
}

export const DEFAULT_SETTINGS: Settings = { inlayHints: { shapes: true, parameterCounts: false }, debounceMs: 150 };

function merge(base: Settings, given: unknown): Settings {
  if (!given || typeof given !== "object") return base;
  const g = given as Partial<Settings> & { inlayHints?: Partial<Settings["inlayHints"]> };
  return {
    inlayHints: {
      shapes: typeof g.inlayHints?.shapes === "boolean" ? g.inlayHints.shapes : base.inlayHints.shapes,
      parameterCounts: typeof g.inlayHints?.parameterCounts === "boolean" ? g.inlayHints.parameterCounts : base.inlayHints.parameterCounts,
    },
    debounceMs: typeof g.debounceMs === "number" && g.debounceMs >= 0 ? g.debounceMs : base.debounceMs,
    diagnosticsUrl: typeof g.diagnosticsUrl === "string" && g.diagnosticsUrl ? g.diagnosticsUrl : base.diagnosticsUrl,
  };
}

/** Runs the language server over a pair of streams (stdio for `nnspec lsp`). */
export function startServer(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Connection {
  const connection = createConnection(ProposedFeatures.all, new StreamMessageReader(input), new StreamMessageWriter(output));
  // stdout carries the protocol: anything printed must go to the client's log instead.
  console.log = (...a: unknown[]) => connection.console.log(a.map(String).join(" "));
  console.info = (...a: unknown[]) => connection.console.info(a.map(String).join(" "));
  console.warn = (...a: unknown[]) => connection.console.warn(a.map(String).join(" "));
  console.error = (...a: unknown[]) => connection.console.error(a.map(String).join(" "));
  // A bug in a timer or an event handler is logged, not fatal: the editor keeps its server.
  const log = (e: unknown) => connection.console.error(`nnspec: a background task failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.on("uncaughtException", log);
  process.on("unhandledRejection", log);
  return serve(connection);
}

/**
 * The language server on a connection, whatever carries it (stdio, or a browser worker's messages
 * in the playground). Every request handler is guarded: an exception is logged to the client's
 * output and answered with an empty result, so one failing feature never takes the server down.
 */
export function serve(connection: Connection): Connection {
  const documents = new TextDocuments(TextDocument);
  const ws = new Workspace(
    () => documents.all(),
    (uri) => documents.get(uri),
  );
  let settings = DEFAULT_SETTINGS;
  let snippets = false;
  let inlayRefresh = false;
  let watchRegistration = false;

  const log = (what: string, e: unknown): void => {
    connection.console.error(`nnspec: ${what} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  };
  function guard<P, R>(what: string, empty: R, f: (p: P) => R): (p: P) => R {
    return (p: P) => {
      try {
        return f(p);
      } catch (e) {
        log(what, e);
        return empty;
      }
    };
  }
  /** The analysis of a request's document, with the request's position as an offset. */
  const at = (p: { textDocument: { uri: string }; position: { line: number; character: number } }): [Analysis, number] | undefined => {
    const a = ws.analysis(p.textDocument.uri);
    // A position past the end of the text (a stale request) points at nothing.
    if (!a || p.position.line >= a.lines.lineCount) return undefined;
    return [a, toOffset(a.lines, p.position)];
  };

  connection.onInitialize((params): InitializeResult => {
    const folders = params.workspaceFolders?.map((f) => uriToPath(f.uri)) ?? (params.rootUri ? [uriToPath(params.rootUri)] : params.rootPath ? [params.rootPath] : []);
    ws.roots = folders;
    settings = merge(DEFAULT_SETTINGS, params.initializationOptions);
    snippets = params.capabilities.textDocument?.completion?.completionItem?.snippetSupport === true;
    inlayRefresh = params.capabilities.workspace?.inlayHint?.refreshSupport === true;
    watchRegistration = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        completionProvider: { triggerCharacters: [":", ">", ","] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        foldingRangeProvider: true,
        documentFormattingProvider: true,
        semanticTokensProvider: { legend: SEMANTIC_LEGEND, full: true },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        inlayHintProvider: true,
        executeCommandProvider: { commands: [GRAPH_COMMAND] },
      },
      serverInfo: { name: "nnspec", version: NNSPEC_VERSION },
    };
  });

  connection.onDidChangeConfiguration(
    guard("configuration", undefined, (p) => {
      const s = (p.settings as { nnspec?: unknown } | undefined)?.nnspec;
      if (!s) return;
      settings = merge(settings, s);
      if (inlayRefresh) void connection.languages.inlayHint.refresh().catch(() => undefined);
      for (const d of documents.all()) schedule(d.uri, true);
    }),
  );

  // ── diagnostics: checked on open at once; on change at once after a quiet spell, else once per
  //    `debounceMs` with the latest text ──
  const pending = new Map<string, () => void>();
  const lastRun = new Map<string, number>();
  const publish = (uri: string): void => {
    try {
      const a = ws.analysis(uri);
      if (!a) return;
      void connection.sendDiagnostics({ uri, version: a.version, diagnostics: lspDiagnostics(a, settings.diagnosticsUrl) });
    } catch (e) {
      log("checking", e);
    } finally {
      lastRun.set(uri, performance.now());
    }
  };
  function schedule(uri: string, now = false): void {
    if (pending.has(uri)) return;
    const since = performance.now() - (lastRun.get(uri) ?? -Infinity);
    const wait = now ? 0 : Math.max(0, settings.debounceMs - since);
    const run = (): void => {
      pending.delete(uri);
      publish(uri);
      try {
        dependents(uri);
      } catch (e) {
        log("checking the files that import this one", e);
      }
    };
    if (wait === 0) {
      const h = setImmediate(run);
      pending.set(uri, () => clearImmediate(h));
    } else {
      const h = setTimeout(run, wait);
      pending.set(uri, () => clearTimeout(h));
    }
  }
  /** Open documents that import this one are checked again when it changes. */
  function dependents(uri: string): void {
    const changed = uriToPath(uri);
    for (const d of documents.all()) {
      if (d.uri === uri || !d.getText().includes("import")) continue;
      const a = ws.peek(d.uri);
      if (a?.ast.decls.some((x) => x.kind === "import" && x.path && resolvePath(dirname(a.path), x.path.value) === changed)) {
        ws.invalidate(d.uri);
        schedule(d.uri);
      }
    }
  }
  // ── files changed on disk: specs that open documents import, and data files whose headers they read ──
  connection.onInitialized(() => {
    if (!watchRegistration) return;
    const globs = ["**/*.nnspec", "**/*.csv", "**/*.tsv", "**/*.txt", "**/*.data", "**/*.gz", "**/*-ubyte"];
    void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: globs.map((globPattern) => ({ globPattern })) }).catch((e: unknown) => log("watching files", e));
  });
  connection.onDidChangeWatchedFiles(
    guard("a watched file", undefined, (p) => {
      const changed = p.changes.map((c) => uriToPath(c.uri)).filter((path) => !ws.isOpen(path));
      if (!changed.length) return;
      // An open document is checked again when its text names a changed file (by its name: paths are
      // written relative to the document), which covers imports and data files alike.
      for (const d of documents.all()) {
        const text = d.getText();
        if (!changed.some((path) => text.includes(basename(path)))) continue;
        ws.invalidate(d.uri);
        schedule(d.uri, true);
      }
    }),
  );
  documents.onDidOpen((e) => schedule(e.document.uri, true));
  documents.onDidChangeContent((e) => schedule(e.document.uri));
  documents.onDidClose((e) => {
    pending.get(e.document.uri)?.();
    pending.delete(e.document.uri);
    ws.close(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  // ── requests ──
  connection.onHover(
    guard("hover", null, (p) => {
      const r = at(p);
      return r ? hover(...r) : null;
    }),
  );
  connection.onCompletion(
    guard("completion", [], (p) => {
      const r = at(p);
      return r ? complete(r[0], r[1], snippets) : [];
    }),
  );
  connection.onDefinition(
    guard("definition", [], (p) => {
      const r = at(p);
      return r ? definition(...r) : [];
    }),
  );
  connection.onReferences(
    guard("references", [], (p) => {
      const r = at(p);
      return r ? references(ws, r[0], r[1], p.context.includeDeclaration) : [];
    }),
  );
  connection.onPrepareRename(
    guard("prepare rename", null, (p) => {
      const r = at(p);
      return r ? prepareRename(...r) : null;
    }),
  );
  connection.onRenameRequest(
    guard("rename", null, (p) => {
      const r = at(p);
      if (!r) return null;
      const edit = rename(ws, r[0], r[1], p.newName);
      if (edit && "error" in edit) return new ResponseError(ErrorCodes.InvalidParams, edit.error) as never;
      return edit;
    }),
  );
  connection.onDocumentSymbol(
    guard("document symbols", [], (p) => {
      const a = ws.analysis(p.textDocument.uri);
      return a ? documentSymbols(a) : [];
    }),
  );
  connection.onFoldingRanges(
    guard("folding", [], (p) => {
      const a = ws.analysis(p.textDocument.uri);
      return a ? foldingRanges(a) : [];
    }),
  );
  connection.onDocumentFormatting(
    guard("formatting", [], (p) => {
      const a = ws.analysis(p.textDocument.uri);
      if (!a) return [];
      const edits = formatting(a);
      if (!edits) {
        connection.console.info(`nnspec: ${a.shown} not formatted because of syntax errors`);
        return [];
      }
      return edits;
    }),
  );
  connection.languages.semanticTokens.on(
    guard("semantic tokens", { data: [] }, (p) => {
      const a = ws.analysis(p.textDocument.uri);
      return a ? semanticTokens(a) : { data: [] };
    }),
  );
  // `nnspec.graph` with { textDocument: { uri }, position?, format? }: the picture of the model there
  connection.onExecuteCommand(
    guard("graph", null, (p) => {
      if (p.command !== GRAPH_COMMAND) return new ResponseError(ErrorCodes.InvalidParams, `unknown command \`${p.command}\`; nnspec offers ${GRAPH_COMMAND}`) as never;
      const arg = p.arguments?.[0] as { textDocument?: { uri?: unknown }; position?: { line: number; character: number }; format?: unknown } | undefined;
      const uri = arg?.textDocument?.uri;
      const format = arg?.format ?? "svg";
      if (typeof uri !== "string" || (format !== "svg" && format !== "dot" && format !== "json"))
        return new ResponseError(ErrorCodes.InvalidParams, `${GRAPH_COMMAND} takes { textDocument: { uri }, position?, format?: "svg" | "dot" | "json" }`) as never;
      const a = ws.analysis(uri);
      if (!a) return null;
      const offset = arg?.position ? at({ textDocument: { uri }, position: arg.position })?.[1] : undefined;
      return graphAt(a, offset, format);
    }),
  );
  connection.onCodeAction(
    guard("code actions", [], (p) => {
      const a = ws.analysis(p.textDocument.uri);
      return a ? codeActions(a, p.range, p.context.only, settings.diagnosticsUrl) : [];
    }),
  );
  connection.languages.inlayHint.on(
    guard("inlay hints", [], (p) => {
      const a = ws.analysis(p.textDocument.uri);
      if (!a) return [];
      return inlayHints(a, ws.lastGoodAnalysis(p.textDocument.uri), p.range, { shapes: settings.inlayHints.shapes, params: settings.inlayHints.parameterCounts });
    }),
  );

  documents.listen(connection);
  connection.listen();
  return connection;
}
