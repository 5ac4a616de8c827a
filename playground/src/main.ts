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
import type { TrainMessage, TrainRequest } from "./trainer.ts";
import { learningCurves } from "../../src/runtime/curves.ts";
import { fmt } from "../../src/runtime/report.ts";
import type { EpochRecord } from "../../src/runtime/train.ts";

import { nnspecLanguage } from "./language.ts";

const ROOT = "/specs";
const status = document.getElementById("status")!;

/** LSP over a message port to the worker: the client sends JSON text, the worker's connection takes objects. */
function portTransport(port: MessagePort): Transport {
  let handlers: ((message: string) => void)[] = [];
  port.addEventListener("message", (e: MessageEvent) => {
    const text = JSON.stringify(e.data);
    for (const h of handlers) h(text);
  });
  port.start();
  return {
    send: (message) => port.postMessage(JSON.parse(message)),
    subscribe: (h) => void handlers.push(h),
    unsubscribe: (h) => void (handlers = handlers.filter((x) => x !== h)),
  };
}

// the course specs and their data (files.json), handed to each worker's in-memory file system
const { files: FILES, examples: EXAMPLES } = (await (await fetch(new URL("./files.json", import.meta.url))).json()) as {
  files: Record<string, string | { base64: string }>;
  examples: string[];
};
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const lsp = new MessageChannel();
worker.postMessage({ files: FILES, lsp: lsp.port2 }, [lsp.port2]);
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
}).connect(portTransport(lsp.port1));

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

// ── training: the interpreter in a worker of its own; Stop ends the worker ──
const trainButton = document.getElementById("train") as HTMLButtonElement;
const stopButton = document.getElementById("stop") as HTMLButtonElement;
let trainer: Worker | undefined;
/** Shows the last epoch drawn as stopped (the worker ends with the run). */
let stopRun: (() => void) | undefined;

function finishRun(): void {
  trainer?.terminate();
  trainer = undefined;
  trainButton.disabled = false;
  stopButton.disabled = true;
}

function startRun(): void {
  if (!view) return;
  finishRun();
  const panel = document.getElementById("run")!;
  const progress = document.getElementById("progress")!;
  const curves = document.getElementById("curves")!;
  const report = document.getElementById("report")!;
  const downloads = document.getElementById("downloads")!;
  panel.hidden = false;
  progress.textContent = "loading the data…";
  curves.innerHTML = report.textContent = downloads.innerHTML = "";
  const history: EpochRecord[] = [];
  let title = "";
  let epochs = 0;
  let frame = 0;
  stopRun = () => {
    cancelAnimationFrame(frame);
    const r = history[history.length - 1];
    progress.textContent = `${title}: stopped ${r ? `after epoch ${r.epoch} of ${epochs}` : "before the first epoch ended"}`;
    if (history.length) curves.innerHTML = learningCurves(history, { title });
  };
  trainer = new Worker(new URL("./trainer.js", import.meta.url), { type: "module" });
  trainButton.disabled = true;
  stopButton.disabled = false;
  trainer.addEventListener("message", (e: MessageEvent<TrainMessage>) => {
    const m = e.data;
    if (m.type === "start") {
      title = `${m.title}, ${m.threads} thread${m.threads === 1 ? "" : "s"}`;
      epochs = m.epochs;
      progress.textContent = `training ${title}…`;
    } else if (m.type === "epoch") {
      history.push(m.record);
      // drawn once a frame, however fast epochs end (a small model runs thousands a second)
      if (!frame)
        frame = requestAnimationFrame(() => {
          frame = 0;
          const r = history[history.length - 1];
          progress.textContent = `${title}: epoch ${r.epoch}/${epochs}  ${Object.entries(r.values).map(([k, v]) => `${k} ${fmt(v)}`).join("  ")}`;
          // nnspec's own SVG of the curves, as `nnspec train` writes curves.svg
          curves.innerHTML = learningCurves(history, { title });
        });
    } else if (m.type === "done") {
      cancelAnimationFrame(frame);
      curves.innerHTML = learningCurves(history, { title });
      progress.textContent = `${title}: ${m.stop}`;
      report.textContent = m.report;
      const link = (name: string, data: BlobPart, type: string) => `<a download="${name}" href="${URL.createObjectURL(new Blob([data], { type }))}">${name}</a>`;
      downloads.innerHTML = `the trained model (TensorFlow.js Layers format): ${link("model.json", m.modelJson, "application/json")} ${link("weights.bin", m.weights as Uint8Array<ArrayBuffer>, "application/octet-stream")}`;
      finishRun();
    } else {
      progress.textContent = `cannot train: ${m.message}`;
      finishRun();
    }
  });
  const request: TrainRequest = { files: FILES, path: `${ROOT}/${picker.value}.nnspec`, text: view.state.doc.toString(), offset: view.state.selection.main.head };
  trainer.postMessage(request);
}

trainButton.addEventListener("click", startRun);
stopButton.addEventListener("click", () => {
  stopRun?.();
  finishRun();
});

// ── a CSV of the user's: added to both workers' files as data/NAME.csv, with a data block to start from ──
async function addCsv(file: File): Promise<void> {
  if (!view) return;
  const name = file.name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^(?![A-Za-z])/, "d");
  const path = `${ROOT}/data/${name.endsWith(".csv") ? name : `${name}.csv`}`;
  const text = await file.text();
  FILES[path] = text;
  worker.postMessage({ files: { [path]: text } });
  client.notification("workspace/didChangeWatchedFiles", { changes: [{ uri: `file://${path}`, type: 1 }] });
  const block = dataBlock(path.slice(ROOT.length + 1), text);
  const at = view.state.doc.length;
  view.dispatch({ changes: { from: at, insert: `${view.state.doc.sliceString(at - 1) === "\n" ? "" : "\n"}\n${block}` }, selection: { anchor: at + 1 } });
  status.textContent = `added ${path.slice(ROOT.length + 1)} (${text.split("\n").filter((l) => l.trim()).length} lines)`;
}

/** A data block for a CSV: its columns by the header, the last as the label (classes when it holds few distinct values). */
function dataBlock(rel: string, text: string): string {
  const rows = text.split(/\r?\n/).filter((l) => l.trim());
  const header = rows[0]?.split(",").map((c) => c.trim().replace(/^"|"$/g, "")) ?? [];
  const named = header.length > 0 && header.every((c) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(c));
  const stem = rel.replace(/^data\//, "").replace(/\.csv$/, "").replace(/[^A-Za-z0-9_]/g, "_");
  const last = named ? header[header.length - 1] : String(header.length - 1);
  const values = new Set(rows.slice(named ? 1 : 0).map((r) => r.split(",").pop()!.trim()));
  const label = values.size <= 20 ? `class(${values.size})` : "regression";
  const features = named ? `${header[0]}..${header[header.length - 2]}` : `0..${header.length - 2}`;
  return `data ${stem} {\n  from "${rel}"${named ? " header: true" : ""}\n  features ${features}\n  label ${last}: ${label}\n  standardize\n  split train: 0.7, test: 0.3, seed: 1\n}\n`;
}

const csvInput = document.getElementById("csv") as HTMLInputElement;
csvInput.addEventListener("change", () => {
  const f = csvInput.files?.[0];
  if (f) void addCsv(f);
  csvInput.value = "";
});
document.body.addEventListener("dragover", (e) => {
  if (!e.dataTransfer?.types.includes("Files")) return;
  e.preventDefault();
  document.body.classList.add("dropping");
});
document.body.addEventListener("dragleave", () => document.body.classList.remove("dropping"));
document.body.addEventListener("drop", (e) => {
  document.body.classList.remove("dropping");
  const f = e.dataTransfer?.files[0];
  if (!f) return;
  e.preventDefault();
  void addCsv(f);
});

picker.addEventListener("change", () => {
  open(picker.value);
  share();
});
void client.initializing.then(() => open(first, shared.text));
