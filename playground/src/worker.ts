/**
 * nnspec's language server in a Web Worker: the same server `nnspec lsp` runs (src/lsp/server.ts),
 * with the course specs and their data in an in-memory file system. The page sends the files and a
 * MessagePort first; LSP then runs over the port, and the worker's own channel takes files the
 * user adds later (a CSV dropped on the page).
 */
import { BrowserMessageReader, BrowserMessageWriter, createConnection } from "vscode-languageserver/browser";
import { serve } from "../../src/lsp/server.ts";
import { writeFiles, type Files } from "./files.ts";

// the worker's global scope, typed by what it is used for (DOM has no worker types)
const scope = self as unknown as Worker;
let started = false;
scope.addEventListener("message", (e: MessageEvent<Files & { lsp?: MessagePort }>) => {
  writeFiles(e.data.files);
  if (started || !e.data.lsp) return;
  started = true;
  serve(createConnection(new BrowserMessageReader(e.data.lsp), new BrowserMessageWriter(e.data.lsp)));
});
