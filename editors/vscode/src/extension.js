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
  );
  try {
    await client.start();
  } catch (e) {
    void vscode.window.showErrorMessage(`nnspec: could not start \`${command} lsp\` (${e instanceof Error ? e.message : String(e)}). Install nnspec in the workspace or set nnspec.server.path.`);
  }
}

async function deactivate() {
  if (client) await client.stop();
}

module.exports = { activate, deactivate };
