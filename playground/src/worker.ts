/**
 * nnspec's language server in a Web Worker: the same server `nnspec lsp` runs (src/lsp/server.ts),
 * over the worker's messages instead of stdio, with the course specs and their data in an in-memory
 * file system (the page sends the files first, then speaks LSP).
 */
import { vol } from "memfs";
import { BrowserMessageReader, BrowserMessageWriter, createConnection } from "vscode-languageserver/browser";
import { serve } from "../../src/lsp/server.ts";

/** The first message: every file, by absolute path (text, or base64 for binary files). */
export interface Files {
  files: Record<string, string | { base64: string }>;
}

const bytes = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

// the worker's global scope, typed by what the reader and writer use of it (DOM has no worker types)
const scope = self as unknown as Worker;
scope.addEventListener(
  "message",
  (e: MessageEvent<Files>) => {
    for (const [path, content] of Object.entries(e.data.files)) {
      vol.mkdirSync(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true });
      vol.writeFileSync(path, typeof content === "string" ? content : bytes(content.base64));
    }
    serve(createConnection(new BrowserMessageReader(scope), new BrowserMessageWriter(scope)));
  },
  { once: true },
);
