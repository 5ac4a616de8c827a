// The VS Code client: starts `nnspec lsp` and connects it to .nnspec documents. Bundled with
// vscode-languageclient into dist/extension.js by build.mjs.
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

/** @type {LanguageClient | undefined} */
let client;

/** The nnspec executable: the setting, else the workspace's own install, else the PATH. */
function serverCommand(config) {
  const configured = config.get("server.path");
  if (configured) return configured;
  const bin = process.platform === "win32" ? "nnspec.cmd" : "nnspec";
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const local = join(folder.uri.fsPath, "node_modules", ".bin", bin);
    if (existsSync(local)) return local;
  }
  return bin;
}

/** The settings the server reads (its initialization options and `nnspec` configuration section). */
function serverSettings(config) {
  return {
    inlayHints: { shapes: config.get("inlayHints.shapes"), parameterCounts: config.get("inlayHints.parameterCounts") },
    debounceMs: config.get("debounceMs"),
    diagnosticsUrl: config.get("diagnosticsUrl") || undefined,
  };
}

async function activate(context) {
  const config = vscode.workspace.getConfiguration("nnspec");
  const command = serverCommand(config);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const server = {
    command,
    args: config.get("server.args") ?? ["lsp"],
    transport: TransportKind.stdio,
    options: { cwd: folder, shell: process.platform === "win32" && command.endsWith(".cmd") },
  };
  client = new LanguageClient("nnspec", "nnspec", server, {
    documentSelector: [{ language: "nnspec" }],
    synchronize: { configurationSection: "nnspec" },
    initializationOptions: serverSettings(config),
  });
  context.subscriptions.push(
    vscode.commands.registerCommand("nnspec.toggleParameterCounts", async () => {
      const c = vscode.workspace.getConfiguration("nnspec");
      await c.update("inlayHints.parameterCounts", !c.get("inlayHints.parameterCounts"), vscode.ConfigurationTarget.Global);
    }),
    vscode.commands.registerCommand("nnspec.restartServer", async () => {
      if (client) await client.restart();
    }),
    vscode.commands.registerCommand("nnspec.showGraph", () => showGraph(context)),
  );
  try {
    await client.start();
  } catch (e) {
    void vscode.window.showErrorMessage(`nnspec: could not start \`${command} lsp\` (${e instanceof Error ? e.message : String(e)}). Install nnspec in the workspace or set nnspec.server.path.`);
  }
}

/** The graph panel: one, beside the editor, redrawn for the model under the cursor as the spec changes. */
let panel;

/** Asks the server for the picture of the model under the cursor (its `nnspec.graph` command). */
async function drawGraph() {
  const editor = vscode.window.activeTextEditor;
  if (!panel || !client || !editor || editor.document.languageId !== "nnspec") return;
  const position = editor.selection.active;
  try {
    const r = await client.sendRequest("workspace/executeCommand", {
      command: "nnspec.graph",
      arguments: [{ textDocument: { uri: editor.document.uri.toString() }, position: { line: position.line, character: position.character } }],
    });
    const svg = r && typeof r.text === "string" ? r.text : "<p>No model in this file.</p>";
    panel.title = r && r.models ? `nnspec: ${r.models.join(", ")}` : "nnspec graph";
    // the SVG is nnspec's own: no scripts, names escaped; the page allows no scripts either
    panel.webview.html = `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><style>body{background:#fff;margin:0;padding:8px}</style></head><body>${svg}</body></html>`;
  } catch (e) {
    panel.webview.html = `<p>nnspec: ${String(e instanceof Error ? e.message : e).replace(/[<&]/g, (c) => (c === "<" ? "&lt;" : "&amp;"))}</p>`;
  }
}

function showGraph(context) {
  if (panel) panel.reveal(vscode.ViewColumn.Beside, true);
  else {
    panel = vscode.window.createWebviewPanel("nnspecGraph", "nnspec graph", { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: false });
    let timer;
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void drawGraph(), 300);
    };
    const subs = [
      vscode.workspace.onDidChangeTextDocument((e) => e.document.languageId === "nnspec" && later()),
      vscode.window.onDidChangeTextEditorSelection((e) => e.textEditor.document.languageId === "nnspec" && later()),
      vscode.window.onDidChangeActiveTextEditor(() => later()),
    ];
    panel.onDidDispose(() => {
      subs.forEach((d) => d.dispose());
      panel = undefined;
    });
    context.subscriptions.push(...subs);
  }
  void drawGraph();
}

async function deactivate() {
  if (client) await client.stop();
}

module.exports = { activate, deactivate };
