/**
 * The playground page: a CodeMirror 6 editor on a course spec, talking LSP (@codemirror/lsp-client)
 * to nnspec's own language server in a Web Worker, and beside it the graph of the model under the
 * cursor, redrawn as the spec changes.
 */
import {
  findReferencesKeymap,
  formatKeymap,
  hoverTooltips,
  jumpToDefinitionKeymap,
  LSPClient,
  renameKeymap,
  serverCompletion,
  signatureHelp,
  type Transport,
} from "@codemirror/lsp-client";
import { keymap } from "@codemirror/view";
import { basicSetup, EditorView } from "codemirror";
import type { PublishDiagnosticsParams } from "vscode-languageserver-protocol";
import { inlayHints, refreshHints, showDiagnostics } from "./server-views.ts";
import { decodeShared, encodeShared } from "./share.ts";
import { FILES, EXAMPLES } from "nnspec:files";
import { nnspecLanguage } from "./language.ts";

const ROOT = "/specs";
const status = document.getElementById("status")!;

/** LSP over the worker's messages: the client sends JSON text, the worker's connection takes objects. */
function workerTransport(worker: Worker): Transport {
  let handlers: ((message: string) => void)[] = [];
  worker.addEventListener("message", (e: MessageEvent) => {
    const text = JSON.stringify(e.data);
    for (const h of handlers) h(text);
  });
  return {
    send: (message) => worker.postMessage(JSON.parse(message)),
    subscribe: (h) => void handlers.push(h),
    unsubscribe: (h) => void (handlers = handlers.filter((x) => x !== h)),
  };
}

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
worker.postMessage({ files: FILES });
// lsp-client's own extensions but its diagnostics: the page's show each finding's quick fixes too
const client = new LSPClient({
  rootUri: `file://${ROOT}`,
  extensions: [serverCompletion(), hoverTooltips(), keymap.of([...formatKeymap, ...renameKeymap, ...jumpToDefinitionKeymap, ...findReferencesKeymap]), signatureHelp()],
  notificationHandlers: {
    "textDocument/publishDiagnostics": (_c, params: PublishDiagnosticsParams) => {
      if (view) void showDiagnostics(client, view, fileUri(picker.value), params);
      return true;
    },
  },
}).connect(workerTransport(worker));

const picker = document.getElementById("examples") as HTMLSelectElement;
for (const name of EXAMPLES) picker.append(new Option(name, name));
// a shared link names its example and carries its text
const shared = decodeShared(location.hash);
const first = shared.example && EXAMPLES.includes(shared.example) ? shared.example : EXAMPLES.includes("iris") ? "iris" : EXAMPLES[0];
picker.value = first;

let view: EditorView | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

async function drawGraph(): Promise<void> {
  if (!view) return;
  const v = view;
  const uri = fileUri(picker.value);
  client.sync();
  const line = v.state.doc.lineAt(v.state.selection.main.head);
  const r = await client.request<unknown, { models: string[]; text: string } | null>("workspace/executeCommand", {
    command: "nnspec.graph",
    arguments: [{ textDocument: { uri }, position: { line: line.number - 1, character: v.state.selection.main.head - line.from } }],
  });
  const graph = document.getElementById("graph")!;
  // nnspec's own SVG: no scripts, every name escaped
  graph.innerHTML = r ? r.text : "<p>No model in this spec.</p>";
  status.textContent = r ? r.models.join(", ") : "";
}

let hintsStale = true;
function redrawSoon(docChanged = true): void {
  clearTimeout(timer);
  hintsStale ||= docChanged;
  timer = setTimeout(() => {
    const v = view;
    if (v && hintsStale) void refreshHints(client, v, fileUri(picker.value)).catch((e: unknown) => (status.textContent = String(e)));
    hintsStale = false;
    void drawGraph().catch((e: unknown) => (status.textContent = String(e)));
  }, 250);
}

function fileUri(name: string): string {
  return `file://${ROOT}/${name}.nnspec`;
}

/** The address of this page with the spec as it stands. */
function share(): void {
  if (!view) return;
  const text = view.state.doc.toString();
  const original = FILES[`${ROOT}/${picker.value}.nnspec`];
  history.replaceState(null, "", encodeShared({ example: picker.value, ...(text !== original ? { text } : {}) }));
}

function open(name: string, text = FILES[`${ROOT}/${name}.nnspec`] as string): void {
  view?.destroy();
  view = new EditorView({
    doc: text,
    extensions: [
      basicSetup,
      nnspecLanguage,
      inlayHints,
      client.plugin(fileUri(name), "nnspec"),
      EditorView.updateListener.of((u) => {
        if (u.docChanged || u.selectionSet) redrawSoon(u.docChanged);
        if (u.docChanged) share();
      }),
    ],
    parent: document.getElementById("editor")!,
  });
  redrawSoon();
}

picker.addEventListener("change", () => {
  open(picker.value);
  share();
});
void client.initializing.then(() => open(first, shared.text));
