/**
 * The language server end to end: `nnspec lsp` runs as a child process and a real protocol client
 * (vscode-languageserver-protocol) speaks LSP to it over stdio, on the course specs and on broken
 * variants of them. Also: the incremental parser against the whole-file parser, and the .vsix build.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";
import fc from "fast-check";
import { SERVER_NODE_FLAGS } from "../src/cli/commands/lsp.ts";
import { MAX_NESTING } from "../src/syntax/lexer.ts";
import { TextDocument } from "vscode-languageserver-textdocument";
import { describe, expect, it } from "vitest";
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  HoverRequest,
  InlayHintRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
  SemanticTokensRequest,
  type CodeAction,
  type CompletionItem,
  type CompletionList,
  type DocumentSymbol,
  type Hover,
  type InlayHint,
  type Location,
  type MarkupContent,
  type Position,
  type Range,
  type TextEdit,
  type WorkspaceEdit,
} from "vscode-languageserver-protocol/node";
import { generateSpec } from "../bench/parse.ts";
import { hasErrors } from "../src/diagnostics/diagnostic.ts";
import { format } from "../src/format/printer.ts";
import { formatting } from "../src/lsp/formatting.ts";
import { IncrementalParser } from "../src/lsp/incremental.ts";
import type { Analysis } from "../src/lsp/workspace.ts";
import { FileHost } from "../src/node/host.ts";
import { parse } from "../src/syntax/parse.ts";
import { Client, ROOT, SPECS, uriOf, withServer } from "./lsp-client.ts";

const read = (name: string): string => readFileSync(join(SPECS, name), "utf8");

/** The position of the `nth` occurrence of `needle` in `text`, plus `delta` characters. */
function pos(text: string, needle: string, delta = 0, nth = 0): Position {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`\`${needle}\` not found`);
  }
  const o = at + delta;
  const before = text.slice(0, o);
  const line = before.split("\n").length - 1;
  return { line, character: o - (before.lastIndexOf("\n") + 1) };
}

function offsetOf(text: string, p: Position): number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return Math.min(text.length, (starts[p.line] ?? text.length) + p.character);
}

/** Applies LSP text edits (non-overlapping) to a text. */
function applyEdits(text: string, edits: TextEdit[]): string {
  const sorted = edits.map((e) => ({ s: offsetOf(text, e.range.start), e: offsetOf(text, e.range.end), t: e.newText })).sort((a, b) => b.s - a.s);
  for (const x of sorted) text = text.slice(0, x.s) + x.t + text.slice(x.e);
  return text;
}

const hoverText = (h: Hover | null): string => (h ? (h.contents as MarkupContent).value : "");
const items = (r: CompletionItem[] | CompletionList | null): CompletionItem[] => (Array.isArray(r) ? r : (r?.items ?? []));
const labelOf = (h: InlayHint): string => (typeof h.label === "string" ? h.label : h.label.map((p) => p.value).join(""));
const lineOf = (text: string, line: number): string => text.split("\n")[line];
/** Errors `nnspec check` finds in a text, as if it were the file at `path`. */
const checkErrors = (path: string, text: string) => new FileHost().analyse(path, relative(ROOT, path), text).diagnostics.filter((d) => d.severity === "error");

// ── the server ──

describe("nnspec lsp", () => {
  let c: Client;
  withServer((x) => (c = x));

  it("announces its features", () => {
    const k = c.capabilities;
    expect(k.hoverProvider).toBe(true);
    expect(k.completionProvider).toBeDefined();
    expect(k.definitionProvider).toBe(true);
    expect(k.referencesProvider).toBe(true);
    expect(k.renameProvider).toEqual({ prepareProvider: true });
    expect(k.documentFormattingProvider).toBe(true);
    expect(k.documentSymbolProvider).toBe(true);
    expect(k.foldingRangeProvider).toBe(true);
    expect(k.inlayHintProvider).toBe(true);
    expect(k.codeActionProvider).toBeDefined();
    expect(k.semanticTokensProvider).toBeDefined();
  });

  it("publishes the same diagnostics as `nnspec check` for every course spec", async () => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory() && e.name !== "data") walk(join(d, e.name));
        else if (e.name.endsWith(".nnspec")) files.push(join(d, e.name));
      }
    };
    walk(SPECS);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      const got = await c.open(f, text);
      const want = new FileHost().analyse(f, relative(ROOT, f)).diagnostics;
      expect(
        got.map((d) => `${d.code} ${d.range.start.line + 1}:${d.range.start.character + 1}`),
        f,
      ).toEqual(want.map((d) => `${d.code} ${d.span.line}:${d.span.col}`));
      await c.close(f);
    }
  }, 60_000);

  it("reports errors with codes, links, related spans and severity", async () => {
    const path = join(SPECS, "mnist_cnn.nnspec");
    const text = read("mnist_cnn.nnspec").replace("  flatten\n", "").replace("  dense 64 relu\n", "  dens 64 relu\n");
    const ds = await c.open(path, text);
    const unknown = ds.find((d) => d.code === "NN0201");
    expect(unknown, JSON.stringify(ds, null, 1)).toBeDefined();
    expect(unknown!.severity).toBe(1);
    expect(unknown!.source).toBe("nnspec");
    expect(unknown!.range.start).toEqual(pos(text, "  dens 64", 2));
    expect(unknown!.message).toContain("unknown layer kind `dens`");
    expect(unknown!.message).toContain("help: did you mean `dense`?");
    expect(unknown!.codeDescription?.href).toMatch(/catalog\.ts#L\d+$/);
    // Without flatten (and with the dense misspelled) the output is still rank 3: a shape error whose
    // related information walks back through the layers that made the shape.
    const fixed = text.replace("  dens 64", "  dense 64");
    const ds2 = await c.change(path, fixed);
    const shape = ds2.find((d) => d.code === "NN0305");
    expect(shape, JSON.stringify(ds2)).toBeDefined();
    expect(shape!.relatedInformation?.length).toBeGreaterThan(1);
    expect(shape!.relatedInformation!.map((r) => r.message).join(" ")).toContain("→ [*, 1, 1, 64]");
    expect(shape!.relatedInformation![0].location.uri).toBe(uriOf(path));
    await c.close(path);
    // A warning has warning severity and is marked unnecessary.
    const residual = join(SPECS, "residual.nnspec");
    const unused = await c.open(residual, read("residual.nnspec").replace("  h2 = h1 -> dense 32 relu\n", "  spare = dense 8\n  h2 = h1 -> dense 32 relu\n"));
    const w = unused.find((d) => d.code === "NN0212");
    expect(w?.severity).toBe(2);
    expect(w?.tags).toEqual([1]);
    await c.close(residual);
  });

  it("shows each layer's output shape as an inlay hint, and parameter counts on demand", async () => {
    const path = join(SPECS, "mnist_cnn.nnspec");
    const text = read("mnist_cnn.nnspec");
    await c.open(path, text);
    const all = { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } };
    const hints = (await c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri: uriOf(path) }, range: all })) ?? [];
    expect(hints.map(labelOf)).toEqual(["→ [*, 25, 25, 32]", "→ [*, 8, 8, 32]", "→ [*, 5, 5, 64]", "→ [*, 1, 1, 64]", "→ [*, 64]", "→ [*, 64]", "→ [*, 10]"]);
    const first = hints[0];
    expect(first.position).toEqual(pos(text, "conv2d 32 kernel: 4 relu", "conv2d 32 kernel: 4 relu".length));
    expect(first.paddingLeft).toBe(true);
    expect((first.tooltip as MarkupContent).value).toContain("parameters: 544");
    // Only the requested range.
    const some = (await c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri: uriOf(path) }, range: { start: first.position, end: first.position } })) ?? [];
    expect(some.map(labelOf)).toEqual(["→ [*, 25, 25, 32]"]);
    // Parameter counts when the setting is on.
    await c.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: { nnspec: { inlayHints: { parameterCounts: true } } } });
    const withParams = (await c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri: uriOf(path) }, range: all })) ?? [];
    expect(withParams.map(labelOf)[0]).toBe("→ [*, 25, 25, 32] · 544 params");
    expect(withParams.map(labelOf)[4]).toBe("→ [*, 64]"); // flatten: no parameters, no count
    expect(withParams.map(labelOf)[5]).toBe("→ [*, 64] · 4,160 params");
    await c.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: { nnspec: { inlayHints: { parameterCounts: false } } } });
    await c.close(path);
  });

  it("keeps the last good shapes on unchanged lines while an edit breaks the file", async () => {
    const path = join(SPECS, "mnist_cnn.nnspec");
    const text = read("mnist_cnn.nnspec");
    await c.open(path, text);
    const all = { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } };
    const good = ((await c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri: uriOf(path) }, range: all })) ?? []).map((h) => `${h.position.line}:${labelOf(h)}`);
    expect(good).toHaveLength(7);
    // An unclosed block comment in the data block swallows the rest of the file: the model is gone
    // from the parse, but its lines did not change.
    const broken = text.replace("scale 1 / 255", "scale 1 / 255 /*");
    const ds = await c.change(path, broken);
    expect(ds.some((d) => d.code === "NN0004")).toBe(true);
    const keptHints = (await c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri: uriOf(path) }, range: all })) ?? [];
    expect(keptHints.map((h) => `${h.position.line}:${labelOf(h)}`)).toEqual(good);
    expect((keptHints[0].tooltip as MarkupContent).value).toContain("from the last version of the file without syntax errors");
    // A broken model header: the layers below it may no longer have those shapes, so none of the old
    // hints is shown for them.
    const inModel = text.replace("(image: [28, 28, 1]) -> logits", "(image: [28, 28, 1] -> logits");
    expect((await c.change(path, inModel)).some((d) => d.severity === 1)).toBe(true);
    const partial = (await c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri: uriOf(path) }, range: all })) ?? [];
    expect(partial.filter((h) => (h.tooltip as MarkupContent).value.includes("last version"))).toEqual([]);
    await c.close(path);
  });

  it("answers hover for layers, names, losses and optimizers", async () => {
    const path = join(SPECS, "iris.nnspec");
    const text = read("iris.nnspec");
    await c.open(path, text);
    const h = (p: Position) => c.conn.sendRequest(HoverRequest.type, { textDocument: { uri: uriOf(path) }, position: p });
    const layer = hoverText(await h(pos(text, "dense 16 relu", 1)));
    expect(layer).toContain("**dense**");
    expect(layer).toContain("input `[*, 4]` → output `[*, 16]`");
    expect(layer).toContain("parameters: 80");
    expect(layer).toContain("FLOPs per example: 128");
    expect(layer).toContain("Fully connected layer");
    expect(layer).toMatch(/\| `use_bias` \| `true` \| default \|/);
    expect(layer).toMatch(/\| `activation` \| `relu` \| \|/);
    const model = hoverText(await h(pos(text, "train iris_mlp", 7)));
    expect(model).toContain("model iris_mlp(x: [4]) -> logits: [3]");
    expect(model).toContain("parameters: 131");
    const data = hoverText(await h(pos(text, "on iris {", 4)));
    expect(data).toContain("**data** `iris`");
    expect(data).toContain("data/iris.csv");
    // What the loader made of the file: the examples' shape, the classes and the split.
    expect(data).toContain("examples: `[*, 4]` (sepal_length, sepal_width, petal_length, petal_width)");
    expect(data).toContain("classes: setosa, versicolor, virginica");
    expect(data).toContain("rows: 105 train, 0 val, 45 test");
    const optimizer = hoverText(await h(pos(text, "optimizer adam", 11)));
    expect(optimizer).toContain("**optimizer** `adam`");
    expect(optimizer).toMatch(/\| `lr` \| `0.01` \| \|/);
    expect(optimizer).toMatch(/\| `beta1` \| `0.9` \| default \|/);
    const loss = hoverText(await h(pos(text, "loss sparse_cross_entropy", 6)));
    expect(loss).toMatch(/\| `from_logits` \| `true` \| \|/);
    const option = hoverText(await h(pos(text, "skip: 1", 1)));
    expect(option).toContain("`skip`");
    await c.close(path);

    const residual = join(SPECS, "residual.nnspec");
    const rtext = read("residual.nnspec");
    await c.open(residual, rtext);
    const tensor = hoverText(await c.conn.sendRequest(HoverRequest.type, { textDocument: { uri: uriOf(residual) }, position: pos(rtext, "add h1, h2", 5) }));
    expect(tensor).toContain("**tensor** `h1`: `[*, 32]`");
    expect(tensor).toContain("h1 = dense 32 relu");
    await c.close(residual);
  });

  it("completes keywords, layer kinds, options, values, names and data columns", async () => {
    const path = join(SPECS, "shared_models.nnspec");
    const base = read("shared_models.nnspec");
    const at = async (text: string, needle: string, delta = needle.length): Promise<CompletionItem[]> => {
      await c.change(path, text);
      return items(await c.conn.sendRequest(CompletionRequest.type, { textDocument: { uri: uriOf(path) }, position: pos(text, needle, delta) }));
    };
    await c.open(path, base);
    const labels = (xs: CompletionItem[]) => xs.map((x) => x.label);
    // Top level.
    expect(labels(await at(`${base}\nmo`, "\nmo"))).toEqual(expect.arrayContaining(["data", "model", "train", "import"]));
    const trainHead = await at(`${base}\ntrain `, "\ntrain ");
    expect(labels(trainHead)).toEqual(expect.arrayContaining(["tabular13_regressor", "tabular13_classifier"]));
    expect(labels(await at(`${base}\ntrain tabular13_regressor on `, "tabular13_regressor on "))).toEqual(["boston", "wine"]);
    // Model bodies: layer kinds, then options of the kind, then values of an option.
    const model = `${base}\nmodel m(x: [8, 8, 1]) -> y: [2] {\n  c = conv2d 4 kernel: 3 \n  \n}\n`;
    const kinds = await at(model, "\n  \n", 3);
    expect(labels(kinds)).toEqual(expect.arrayContaining(["dense", "conv2d", "flatten", "x", "c"]));
    expect(kinds.find((k) => k.label === "dense")?.detail).toBe("dense <units>");
    const opts = await at(model, "kernel: 3 ");
    expect(labels(opts)).toEqual(expect.arrayContaining(["padding", "stride", "activation", "relu", "use_bias"]));
    expect(labels(opts)).not.toContain("kernel");
    expect(opts.find((o) => o.label === "padding")?.detail).toBe("padding: `valid` or `same` = valid");
    expect(labels(await at(model.replace("kernel: 3 ", "kernel: 3 padding: "), "padding: "))).toEqual(["valid", "same"]);
    // Train blocks: statements, catalog names, their options.
    const train = base.replace("  loss mse\n", "  loss mse\n  \n");
    expect(labels(await at(train, "loss mse\n  "))).toEqual(expect.arrayContaining(["epochs", "metrics", "early_stopping"]));
    expect(labels(await at(base.replace("optimizer adam lr: 0.001\n  epochs 200", "optimizer \n  epochs 200"), "optimizer "))).toEqual(expect.arrayContaining(["adam", "sgd", "rmsprop"]));
    expect(labels(await at(base.replace("optimizer adam lr: 0.001\n  epochs 200", "optimizer sgd lr: 0.1 \n  epochs 200"), "lr: 0.1 "))).toEqual(["momentum", "nesterov"]);
    // Data blocks: column names from the header row of data/boston_house_prices.csv (`header: true`).
    const cols = await at(base.replace("features CRIM..LSTAT", "features "), "features ");
    expect(labels(cols)).toEqual(expect.arrayContaining(["CRIM", "ZN", "LSTAT", "MEDV"]));
    // ... and from a `columns` statement.
    const iris = base.replace("features 0..12", "columns a, b, c\n  standardize ");
    expect(labels(await at(iris, "standardize "))).toEqual(expect.arrayContaining(["a", "b", "c"]));
    // Nothing in comments or strings (the lexer's tokens decide), but after a closed comment.
    expect(await at(`${base}\n# mod`, "# mod")).toEqual([]);
    expect(await at(`${base}\n/* mod`, "/* mod")).toEqual([]);
    expect(await at(base.replace("optimizer adam", 'optimizer "ad'), '"ad')).toEqual([]);
    expect(labels(await at(base.replace("optimizer adam", "optimizer /* which */ ad"), "/* which */ ad"))).toContain("adam");
    await c.close(path);
  });

  it("goes to definitions and finds references, within a file and across imports", async () => {
    const residual = join(SPECS, "residual.nnspec");
    const rtext = read("residual.nnspec");
    await c.open(residual, rtext);
    const uri = uriOf(residual);
    const def = (await c.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: pos(rtext, "add h1, h2", 5) })) as Location[];
    expect(def).toEqual([{ uri, range: { start: pos(rtext, "h1 = dense"), end: pos(rtext, "h1 = dense", 2) } }]);
    const refs = (await c.conn.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position: pos(rtext, "h1 = dense"), context: { includeDeclaration: true } })) ?? [];
    expect(refs.map((r) => r.range.start)).toEqual([pos(rtext, "h1 = dense"), pos(rtext, "h1 -> dense"), pos(rtext, "add h1", 4)]);
    // Tensors are local to their model: `h` of wine_two_heads is another tensor than `h1`, and `s` exists in both models.
    const sRefs = (await c.conn.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position: pos(rtext, "s = add h1"), context: { includeDeclaration: true } })) ?? [];
    expect(sRefs).toHaveLength(2);
    await c.close(residual);

    // A model imported from another file.
    const shared = join(SPECS, "shared_models.nnspec");
    const stext = read("shared_models.nnspec");
    await c.open(shared, stext);
    const d2 = (await c.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri: uriOf(shared) }, position: pos(stext, "train tabular13_regressor", 8) })) as Location[];
    const models = join(SPECS, "shared", "models.nnspec");
    const mtext = readFileSync(models, "utf8");
    expect(d2).toEqual([{ uri: uriOf(models), range: { start: pos(mtext, "tabular13_regressor("), end: pos(mtext, "tabular13_regressor(", "tabular13_regressor".length) } }]);
    const r2 =
      (await c.conn.sendRequest(ReferencesRequest.type, { textDocument: { uri: uriOf(shared) }, position: pos(stext, "train tabular13_regressor", 8), context: { includeDeclaration: true } })) ?? [];
    expect(r2.map((l) => `${relative(SPECS, fileURLToPath(l.uri))}:${l.range.start.line + 1}`).sort()).toEqual(
      [
        "shared/models.nnspec:" + (pos(mtext, "model tabular13_regressor").line + 1),
        `shared_models.nnspec:${pos(stext, "import tabular13_regressor").line + 1}`,
        `shared_models.nnspec:${pos(stext, "train tabular13_regressor").line + 1}`,
      ].sort(),
    );
    // The import's path goes to the file.
    const d3 = (await c.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri: uriOf(shared) }, position: pos(stext, '"shared/models.nnspec"', 3) })) as Location[];
    expect(d3[0].uri).toBe(uriOf(models));
    await c.close(shared);
  });

  it("knows blocks: hover, definition, rename, and each use's shapes inside the block", async () => {
    const path = join(SPECS, "language_id.nnspec");
    const text = read("language_id.nnspec");
    await c.open(path, text);
    const uri = uriOf(path);
    const use = pos(text, "  encoder 32 heads: 4", 2);
    const h = (await c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: use })) as Hover;
    const hv = (h.contents as MarkupContent).value;
    expect(hv).toContain("block encoder(d, heads, ff: 2 * d)");
    expect(hv).toContain("`encoder_1` in model `transformer` → `[*, 16, 32]`");
    const def = (await c.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: use })) as Location[];
    expect(def).toEqual([{ uri, range: { start: pos(text, "encoder(d,"), end: pos(text, "encoder(d,", "encoder".length) } }]);
    // a parameter inside the block is defined in its header
    const param = (await c.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: pos(text, "key_dim: d / heads", "key_dim: d / ".length) })) as Location[];
    expect(param[0].range.start).toEqual(pos(text, "heads, ff:"));
    const edit = (await c.conn.sendRequest(RenameRequest.type, { textDocument: { uri }, position: use, newName: "encoder_layer" })) as WorkspaceEdit;
    expect(edit.changes![uri].map((e) => e.range.start.line)).toEqual([pos(text, "block encoder").line, pos(text, "  encoder 32").line, pos(text, "  encoder 32", 0, 1).line]);
    const all = { start: { line: 0, character: 0 }, end: { line: 500, character: 0 } };
    const hints = (await c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: all })) ?? [];
    const at = (needle: string) => hints.filter((x) => x.position.line === pos(text, needle).line).map(labelOf);
    expect(at("  f = dense ff relu")).toEqual(["→ [*, 16, 64]"]);
    expect(at("  encoder 32 heads: 4")).toEqual(["→ [*, 16, 32]"]);
    const tip = hints.find((x) => x.position.line === pos(text, "  f = dense ff relu").line)!.tooltip as MarkupContent;
    expect(tip.value).toContain("`encoder_1.f`");
    expect(tip.value).toContain("`encoder_2.f`");
    await c.close(path);
  });

  it("follows an imported block to its file: definition, and a rename that edits both files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnspec-blocks-"));
    const lib = join(dir, "layers.nnspec");
    const libText = `block ff(d) {\n  a = dense d relu\n  b = dense d\n  s = add input, b\n}\n`;
    writeFileSync(lib, libText);
    const main = join(dir, "main.nnspec");
    const text = `import ff from "layers.nnspec"\n\nmodel m(x: [8]) -> y: [2] {\n  dense 8 relu\n  ff 8\n  ff 8\n  dense 2\n}\n`;
    expect(await c.open(main, text)).toEqual([]);
    const uri = uriOf(main);
    const def = (await c.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: pos(text, "  ff 8", 2) })) as Location[];
    expect(def).toEqual([{ uri: uriOf(lib), range: { start: pos(libText, "ff(d)"), end: pos(libText, "ff(d)", 2) } }]);
    const fromImport = (await c.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: pos(text, "import ff", 7) })) as Location[];
    expect(fromImport[0].uri).toBe(uriOf(lib));
    const edit = (await c.conn.sendRequest(RenameRequest.type, { textDocument: { uri }, position: pos(text, "  ff 8", 2), newName: "feed_forward" })) as WorkspaceEdit;
    expect(Object.keys(edit.changes!).sort()).toEqual([uriOf(lib), uri].sort());
    const renamed = applyEdits(text, edit.changes![uri]);
    expect(renamed).toContain('import feed_forward from "layers.nnspec"');
    expect(renamed.match(/ {2}feed_forward 8\n/g)).toHaveLength(2);
    expect(applyEdits(libText, edit.changes![uriOf(lib)])).toContain("block feed_forward(d) {");
    await c.close(main);
    rmSync(dir, { recursive: true, force: true });
  });

  it("checks open documents again when a spec they import or a data file changes on disk", async () => {
    const watched = c.registrations.find((r) => r.method === DidChangeWatchedFilesNotification.method);
    expect(JSON.stringify(watched?.registerOptions)).toMatch(/\*\*\/\*\.nnspec.*\*\*\/\*\.csv/);
    const dir = mkdtempSync(join(tmpdir(), "nnspec-watch-"));
    try {
      const lib = join(dir, "lib.nnspec");
      const csv = join(dir, "rows.csv");
      const main = join(dir, "main.nnspec");
      writeFileSync(lib, "model m(x: [3]) -> [1] {\n  dense 1\n}\n");
      writeFileSync(csv, "a,b,c,y\n1,2,3,4\n");
      const text = 'import m from "lib.nnspec"\ndata d {\n  from "rows.csv" header: true\n  label y: regression\n}\ntrain m on d {\n  loss mse\n  optimizer adam\n}\n';
      expect((await c.open(main, text)).filter((d) => d.severity === 1)).toEqual([]);
      const uri = uriOf(main);
      // The imported model now takes 4 inputs: the 3 columns no longer fit.
      writeFileSync(lib, "model m(x: [4]) -> [1] {\n  dense 1\n}\n");
      let got = c.waitFor(uri);
      await c.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: uriOf(lib), type: FileChangeType.Changed }] });
      expect((await got).diagnostics.map((d) => d.code)).toContain("NN0406");
      // The data file gains a column: 4 features, and the error is gone.
      writeFileSync(csv, "a,b,c,e,y\n1,2,3,4,5\n");
      got = c.waitFor(uri);
      await c.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: uriOf(csv), type: FileChangeType.Changed }] });
      expect((await got).diagnostics.filter((d) => d.severity === 1)).toEqual([]);
      // Text in a feature column: the loader's finding, reported in the editor as by `nnspec check`.
      writeFileSync(csv, "a,b,c,e,y\n1,x,3,4,5\n");
      got = c.waitFor(uri);
      await c.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: uriOf(csv), type: FileChangeType.Changed }] });
      const text404 = (await got).diagnostics.filter((d) => d.severity === 1);
      expect(text404.map((d) => d.code)).toEqual(["NN0604"]);
      expect(text404[0].message).toContain("`x` is not a number");
      await c.close(main);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("knows a recurrent layer's states: hover gives their shape, rename and definition follow them into initial_state", async () => {
    const file = join(SPECS, "states-scratch.nnspec");
    const text = `model s2s(a: [5, 3], b: [4, 2]) -> y: [4, 2] {\n  e, h, c = a -> lstm 6 return_state: true\n  d = b -> lstm 6 return_sequences: true, initial_state: [h, c]\n  y = d -> dense 2\n}\n`;
    expect(await c.open(file, text)).toEqual([]);
    const uri = uriOf(file);
    const hover = hoverText(await c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: pos(text, "[h, c]", 4) }));
    expect(hover).toContain("**tensor** `c`: `[*, 6]`");
    expect(hover).toContain("defined on line 2");
    const def = (await c.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: pos(text, "[h, c]", 1) })) as Location[];
    expect(def.map((l) => l.range.start)).toEqual([pos(text, "h, c =")]);
    const edit = (await c.conn.sendRequest(RenameRequest.type, { textDocument: { uri }, position: pos(text, "h, c ="), newName: "state_h" })) as WorkspaceEdit;
    const renamed = applyEdits(text, edit.changes![uri]);
    expect(renamed).toContain("e, state_h, c = a -> lstm 6");
    expect(renamed).toContain("initial_state: [state_h, c]");
    await c.close(file);
  });

  it("renames tensors, data sets and models across imports", async () => {
    const residual = join(SPECS, "residual.nnspec");
    const rtext = read("residual.nnspec");
    await c.open(residual, rtext);
    const uri = uriOf(residual);
    const prep = await c.conn.sendRequest(PrepareRenameRequest.type, { textDocument: { uri }, position: pos(rtext, "h1 -> dense", 1) });
    expect(prep).toEqual({ range: { start: pos(rtext, "h1 -> dense"), end: pos(rtext, "h1 -> dense", 2) }, placeholder: "h1" });
    expect(await c.conn.sendRequest(PrepareRenameRequest.type, { textDocument: { uri }, position: pos(rtext, "dense 32 relu", 2) })).toBeNull();
    const edit = (await c.conn.sendRequest(RenameRequest.type, { textDocument: { uri }, position: pos(rtext, "h1 -> dense", 1), newName: "hidden" })) as WorkspaceEdit;
    const renamed = applyEdits(rtext, edit.changes![uri]);
    expect(renamed).toContain("hidden = dense 32 relu\n  h2 = hidden -> dense 32 relu\n  s = add hidden, h2");
    expect(renamed).toContain("h = dense 32 relu"); // the other model's tensors untouched
    expect(checkErrors(residual, renamed)).toEqual([]);
    const data = (await c.conn.sendRequest(RenameRequest.type, { textDocument: { uri }, position: pos(rtext, "data wine", 6), newName: "wine13" })) as WorkspaceEdit;
    expect(data.changes![uri]).toHaveLength(2);
    await expect(c.conn.sendRequest(RenameRequest.type, { textDocument: { uri }, position: pos(rtext, "h1 -> dense"), newName: "2x" })).rejects.toThrow(/not a name/);
    await expect(c.conn.sendRequest(RenameRequest.type, { textDocument: { uri }, position: pos(rtext, "h1 -> dense"), newName: "h2" })).rejects.toThrow(/already exists/);
    await c.close(residual);

    // A model defined in shared/models.nnspec: its importer changes too.
    const models = join(SPECS, "shared", "models.nnspec");
    const mtext = readFileSync(models, "utf8");
    await c.open(models, mtext);
    const medit = (await c.conn.sendRequest(RenameRequest.type, {
      textDocument: { uri: uriOf(models) },
      position: pos(mtext, "model tabular13_regressor", 7),
      newName: "regressor13",
    })) as WorkspaceEdit;
    const shared = join(SPECS, "shared_models.nnspec");
    expect(Object.keys(medit.changes!).sort()).toEqual([uriOf(models), uriOf(shared)].sort());
    const newShared = applyEdits(read("shared_models.nnspec"), medit.changes![uriOf(shared)]);
    expect(newShared).toContain("import regressor13, tabular13_classifier from");
    expect(newShared).toContain("train regressor13 on boston");
    await c.close(models);
  });

  it("formats like `nnspec fmt`, and refuses a file with syntax errors", async () => {
    const path = join(SPECS, "wine.nnspec");
    const text = read("wine.nnspec");
    const messy = text
      .replace("model ", "\n\n\nmodel   ")
      .replace(/^  (dense)/m, "      $1")
      .replace(/  (\w+) /, "  $1    ");
    expect(messy).not.toBe(text);
    await c.open(path, messy);
    const edits = (await c.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: uriOf(path) }, options: { tabSize: 2, insertSpaces: true } })) ?? [];
    expect(edits.length).toBeGreaterThan(0);
    expect(applyEdits(messy, edits)).toBe(format(parse(messy, "wine.nnspec").ast));
    expect(applyEdits(messy, edits)).toBe(text);
    await c.change(path, `${messy}\nmodel broken(x: [4] {\n`);
    expect(await c.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: uriOf(path) }, options: { tabSize: 2, insertSpaces: true } })).toEqual([]);
    await c.close(path);
  });

  it("breaks lines at a lone CR as clients do (old Mac files)", async () => {
    const path = join(SPECS, "iris.nnspec");
    const text = read("iris.nnspec").replace(/\n/g, "\r").replace("  dense 3", "      desne    3");
    // positions as the client library counts them (it breaks at \n, \r\n and \r)
    const doc = TextDocument.create(uriOf(path), "nnspec", 1, text);
    const ds = await c.open(path, text);
    const unknown = ds.find((d) => d.code === "NN0201");
    expect(unknown?.range.start).toEqual(doc.positionAt(text.indexOf("desne")));
    expect(unknown?.range.start.line).toBeGreaterThan(0);
    const edits = (await c.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: uriOf(path) }, options: { tabSize: 2, insertSpaces: true } })) ?? [];
    expect(edits.length).toBeGreaterThan(0);
    // lines the edits leave alone keep their CR: the editor owns the file's line-break style
    expect(TextDocument.applyEdits(doc, edits).replace(/\r/g, "\n")).toBe(read("iris.nnspec").replace("  dense 3", "  desne 3"));
    await c.close(path);
  });

  it("gives an outline, folding ranges and semantic tokens", async () => {
    const path = join(SPECS, "iris.nnspec");
    const text = read("iris.nnspec");
    await c.open(path, text);
    const uri = uriOf(path);
    const symbols = (await c.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
    expect(symbols.map((s) => s.name)).toEqual(["iris", "iris_softmax", "iris_mlp", "train iris_softmax on iris", "train iris_mlp on iris"]);
    const mlp = symbols[2];
    expect(mlp.detail).toBe("(x: [4]) -> logits: [3]");
    expect(mlp.children!.map((s) => `${s.name} ${s.detail}`)).toEqual(["x input [*, 4]", "dense_1 dense → [*, 16]", "dense_2 dense → [*, 3]"]);
    expect(symbols[0].children!.map((s) => s.name)).toContain("split");
    const folds = (await c.conn.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } })) ?? [];
    expect(folds).toContainEqual({ startLine: pos(text, "data iris").line, endLine: pos(text, "split train").line });
    expect(folds).toContainEqual({ startLine: 0, endLine: 3, kind: "comment" });
    const legend = (c.capabilities.semanticTokensProvider as { legend: { tokenTypes: string[] } }).legend;
    const tokens = (await c.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } }))!.data;
    expect(tokens.length % 5).toBe(0);
    const decoded: string[] = [];
    let line = 0;
    let ch = 0;
    for (let i = 0; i < tokens.length; i += 5) {
      line += tokens[i];
      ch = tokens[i] === 0 ? ch + tokens[i + 1] : tokens[i + 1];
      decoded.push(`${line}:${ch}:${lineOf(text, line).slice(ch, ch + tokens[i + 2])}:${legend.tokenTypes[tokens[i + 3]]}`);
    }
    const mlpLine = pos(text, "dense 16 relu").line;
    expect(decoded).toContain(`${mlpLine}:2:dense:function`);
    expect(decoded).toContain(`${mlpLine}:11:relu:enumMember`);
    expect(decoded).toContain(`${pos(text, "model iris_mlp").line}:6:iris_mlp:class`);
    expect(decoded).toContain(`${pos(text, "train iris_mlp on").line}:15:on:keyword`);
    expect(decoded).toContain(`0:0:# Course example: iris flowers, softmax regression against a small MLP.:comment`);
    await c.close(path);
  });

  /** Broken variants of the course specs, each repaired by the quick fixes the server offers. */
  const BROKEN: [string, string, (t: string) => string][] = [
    ["a misspelled layer kind", "iris.nnspec", (t) => t.replace("dense 16 relu", "dens 16 relu")],
    ["a misspelled optimizer", "iris.nnspec", (t) => t.replace("optimizer adam", "optimizer adma")],
    ["a misspelled option", "iris.nnspec", (t) => t.replace("(from_logits: true)\n  optimizer adam", "(from_logit: true)\n  optimizer adam")],
    ["a misspelled statement", "iris.nnspec", (t) => t.replace("standardize", "standardise")],
    [
      "two statements on one line",
      "iris.nnspec",
      (t) => t.replace("epochs 200\n  batch 16\n  seed 1\n  metrics accuracy  # course: 0.978", "epochs 200 batch 16\n  seed 1\n  metrics accuracy  # course: 0.978"),
    ],
    ["a misspelled tensor", "residual.nnspec", (t) => t.replace("h2 = h1 -> dense", "h2 = hl -> dense")],
    ["a missing flatten", "mnist_cnn.nnspec", (t) => t.replace("  flatten\n", "")],
    ["wrong output units", "iris.nnspec", (t) => t.replace("dense 16 relu\n  dense 3", "dense 16 relu\n  dense 4")],
    ["flat input to a conv2d", "mnist_cnn.nnspec", (t) => t.replace("image: [28, 28, 1]", "image: [784]").replace("  reshape [28, 28, 1]\n", "")],
    ["a misspelled declaration keyword", "iris.nnspec", (t) => t.replace("model iris_softmax", "modle iris_softmax")],
  ];

  it.each(BROKEN)("offers a quick fix for %s", async (_what, spec, breakIt) => {
    const path = join(SPECS, spec);
    const text = breakIt(read(spec));
    expect(text).not.toBe(read(spec));
    const ds = await c.open(path, text);
    // The same diagnostics as `nnspec check` on the broken text.
    const want = new FileHost().analyse(path, relative(ROOT, path), text).diagnostics;
    expect(ds.map((d) => `${d.code} ${d.range.start.line + 1}:${d.range.start.character + 1}`)).toEqual(want.map((d) => `${d.code} ${d.span.line}:${d.span.col}`));
    const errors = ds.filter((d) => d.severity === 1);
    expect(errors.length, JSON.stringify(ds)).toBeGreaterThan(0);
    const actions = (await c.conn.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: uriOf(path) },
      range: errors[0].range,
      context: { diagnostics: [errors[0]], only: ["quickfix"] },
    })) as CodeAction[];
    expect(actions.length, JSON.stringify(errors[0])).toBeGreaterThan(0);
    expect(actions[0].kind).toBe("quickfix");
    expect(actions[0].diagnostics?.[0].code).toBe(errors[0].code);
    await c.close(path);
  });

  it("repairs every broken case by applying every quick fix offered, to a file that checks clean", async () => {
    for (const [what, spec, breakIt] of BROKEN) {
      const path = join(SPECS, spec);
      let text = breakIt(read(spec));
      let ds = await c.open(path, text);
      for (let round = 0; round < 10 && ds.some((d) => d.severity === 1); round++) {
        const whole: Range = { start: { line: 0, character: 0 }, end: { line: text.split("\n").length, character: 0 } };
        const actions = (await c.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri: uriOf(path) }, range: whole, context: { diagnostics: ds } })) as CodeAction[];
        expect(actions.length, `${what}: no fix for ${JSON.stringify(ds)}`).toBeGreaterThan(0);
        // One fix per diagnostic (the first when a diagnostic offers alternatives), all applied at once.
        const seen = new Set<string>();
        const edits: TextEdit[] = [];
        for (const a of actions) {
          const key = JSON.stringify(a.diagnostics?.[0]?.range) + a.diagnostics?.[0]?.code;
          if (seen.has(key)) continue;
          seen.add(key);
          edits.push(...a.edit!.changes![uriOf(path)]);
        }
        text = applyEdits(text, edits);
        ds = await c.change(path, text);
      }
      expect(
        ds.filter((d) => d.severity === 1),
        `${what}:\n${text}`,
      ).toEqual([]);
      expect(hasErrors(checkErrors(path, text)), what).toBe(false);
      // The fixes undo the breakage (up to layout), except where the repair is another valid one.
      if (what !== "flat input to a conv2d") expect(format(parse(text, spec).ast), what).toBe(read(spec));
      await c.close(path);
    }
  }, 60_000);

  it("answers every request on any text, and survives garbage", async () => {
    const path = join(SPECS, "garbage.nnspec");
    const texts = [
      "",
      "}}}",
      "model",
      "model m(x: [4]) -> y: [3] {\n  dense 3 kernel: \n",
      '"unterminated\n/* open',
      "\u0000\uffff\ud800 ±§",
      "data d { from 1..2..3 ((( [[[ }",
      generateSpec(120).slice(0, 2000),
    ];
    await c.open(path, texts[0]);
    for (const t of texts) {
      await c.change(path, t);
      const uri = uriOf(path);
      const p = { line: 0, character: 3 };
      await c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: p });
      await c.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: p });
      await c.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: p });
      await c.conn.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position: p, context: { includeDeclaration: true } });
      await c.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } });
      await c.conn.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } });
      await c.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } });
      await c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 999, character: 0 } } });
      await c.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
      await c.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: { start: p, end: p }, context: { diagnostics: [] } });
    }
    // Requests for a document that is not open, and positions outside the text.
    const other = { uri: uriOf(join(SPECS, "not-open.nnspec")) };
    expect(await c.conn.sendRequest(HoverRequest.type, { textDocument: other, position: { line: 0, character: 0 } })).toBeNull();
    expect(await c.conn.sendRequest(HoverRequest.type, { textDocument: { uri: uriOf(path) }, position: { line: 9999, character: 9999 } })).toBeNull();
    await c.close(path);
    expect(c.proc.exitCode).toBeNull();
  });
});

// ── the incremental parser equals the whole-file parser ──

describe("the server's process", () => {
  // Linux's /proc shows the child and its command line
  it.skipIf(process.platform !== "linux")("runs in a child Node with a 64 MB young generation, which checks, stops with the server, and whose exit code is the server's", async () => {
    const childrenOf = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    const c = await Client.start();
    const [child] = childrenOf(c.proc.pid!);
    const argv = readFileSync(`/proc/${child}/cmdline`, "utf8").split("\0").slice(0, -1);
    expect(argv.slice(1, 1 + SERVER_NODE_FLAGS.length)).toEqual([...SERVER_NODE_FLAGS]);
    expect(argv.slice(-2)).toEqual(["lsp", "--stdio"]);
    // it does not start another
    expect(childrenOf(Number(child)).filter((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").includes("nnspec"))).toEqual([]);
    const path = join(SPECS, "iris.nnspec");
    expect(await c.open(path, readFileSync(path, "utf8").replace("dense 16", "dense 16 actvation: relu"))).toHaveLength(1);
    await c.stop();
    expect(c.proc.exitCode).toBe(0);
    expect(existsSync(`/proc/${child}`)).toBe(false);
    // a signal to the server ends both; the exit code says which signal
    const d = await Client.start();
    const [second] = childrenOf(d.proc.pid!);
    const exited = new Promise<number | null>((r) => d.proc.once("exit", (code) => r(code)));
    d.proc.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(existsSync(`/proc/${second}`)).toBe(false);
    d.conn.dispose();
  });
});

describe("incremental parsing", () => {
  const specs = readdirSync(SPECS)
    .filter((f) => f.endsWith(".nnspec"))
    .map(read);
  specs.push(generateSpec(200));
  const same = (text: string, inc: IncrementalParser): void => {
    const whole = parse(text, "x.nnspec");
    const part = inc.parse(text);
    expect(JSON.stringify({ d: part.ast.decls, c: part.ast.comments, g: part.diagnostics })).toBe(JSON.stringify({ d: whole.ast.decls, c: whole.ast.comments, g: whole.diagnostics }));
  };

  it("gives the same tree and diagnostics as parse() under random edits", () => {
    const pieces = ["{", "}", "(", ")", "[", "]", ",", "\n", ";", "model ", "data ", "train ", "import ", "#", "/*", "*/", '"', "x", ":", " ", "->", "=", "1", "\\", "dense 3\n"];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: specs.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 30 }), fc.constantFrom(...pieces)), { minLength: 1, maxLength: 6 }), (i, edits) => {
        const inc = new IncrementalParser("x.nnspec");
        let text = specs[i];
        same(text, inc);
        for (const [at, del, ins] of edits) {
          const p = at % (text.length + 1);
          text = text.slice(0, p) + ins + text.slice(p + del);
          same(text, inc);
        }
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 150), seed: Number(process.env.FC_SEED ?? 20261122) },
    );
  }, 60_000);

  // Edit sequences random runs once found where the chunks disagreed with parse(): an unmatched
  // bracket drops errors at the end of the file, and a header's missing `{` claims a stray `}`.
  it.each([
    ["digits.nnspec", [[0, 3, "/*"], [0, 3, ":"], [1255145057, 4, "*/"], [950355293, 28, "("]]],
    ["iris.nnspec", [[0, 27, "data "], [0, 22, "data "], [1675485599, 0, "import "], [0, 0, ")"]]],
    ["coffee_roasting.nnspec", [[0, 4, "{"], [0, 26, "]"], [223495061, 24, '"'], [320534935, 30, "data "], [0, 0, "{"]]],
    ["iris.nnspec", [[603852145, 3, "data "], [653337745, 6, "\n"], [0, 0, "{"]]],
  ] as [string, [number, number, string][]][])("agrees with parse() on a found case (%s)", (name, edits) => {
    const inc = new IncrementalParser("x.nnspec");
    let text = read(name);
    same(text, inc);
    for (const [at, del, ins] of edits) {
      const p = at % (text.length + 1);
      text = text.slice(0, p) + ins + text.slice(p + del);
      same(text, inc);
    }
  });

  it("agrees with parse() on a found case: brackets past the limit in three declarations", () => {
    // Shrunk from a random case: the file's one nesting report went to the first declaration only.
    const text =
      "([])[]{([([(([{{[({[(({({[{{{{[([{([[([[[{([{{[[{{{({([{[[[{[{{{{[{[{({[[]]})}]}]}}}}]}]]]}])})}}}]]}}])}]]])]])}])]}}}}]})}))]})]}}]))])])}\n" +
      "model([])[]{[({[({[({[[[[[{{[{([({{[([[({{{([{([{[{{({[{{[[({((({({{}})})))})]]}}]})}}]}])}])}}})]])]}})])}]}}]]]]]})]})]})]}\n" +
      "train{{[[[[[([[[([[{({({{{({([(([[[(([{{[{[{(({([{[[[(({([(([({((((((({{}})))))))})]))])}))]]]}])}))}]}]}}]))]]]))])})}}})})}]])]]])]]]]]}}";
    same(text, new IncrementalParser("x.nnspec"));
    expect(parse(text, "x.nnspec").diagnostics.filter((d) => d.code === "NN0006")).toHaveLength(2);
  });

  it("agrees with parse() where brackets nest past the limit in several declarations", () => {
    // a bracket run of random kinds, depth around MAX_NESTING, with a few closes left out
    const run = fc.array(fc.tuple(fc.constantFrom("(", "[", "{"), fc.boolean(), fc.integer({ min: 0, max: 99 })), { minLength: MAX_NESTING - 8, maxLength: MAX_NESTING + 8 }).map((xs) => {
      const close: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
      return xs.map(([o, item]) => o + (item ? "1, " : "")).join("") + "1" + xs.map(([o, , drop]) => (drop < 4 ? "" : close[o])).reverse().join("");
    });
    fc.assert(
      fc.property(fc.array(run, { minLength: 2, maxLength: 4 }), (runs) => {
        const text = runs.map((r, i) => (i % 2 ? `train m on d {\n  epochs ${r}\n}\n` : `model m${i}(x: [4]) -> y: [3] {\n  dense ${r}\n}\n`)).join("");
        const inc = new IncrementalParser("x.nnspec");
        same(text, inc);
        same(text.replace("dense", "dens"), inc);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 100), seed: Number(process.env.FC_SEED ?? 20261205) },
    );
  }, 60_000);

  it("re-parses only the declaration an edit touched", () => {
    const text = generateSpec(2000);
    const inc = new IncrementalParser("x.nnspec");
    inc.parse(text);
    const at = text.indexOf("dense 64");
    const edited = `${text.slice(0, at)}dense 65${text.slice(at + 8)}`;
    inc.parse(edited);
    expect(inc.lastReparsed).toBe(1);
    inc.parse(`\n${edited}`); // everything moves one line down: only the first chunk changed
    expect(inc.lastReparsed).toBeLessThanOrEqual(1);
  });
});

// ── formatting edits ──

describe("formatting edits", () => {
  it("turn any syntactically valid text into the printer's output", () => {
    const specs = readdirSync(SPECS)
      .filter((f) => f.endsWith(".nnspec"))
      .map(read);
    const noise = ["\n", "\n\n", "  ", " ", "\t", "# c\n", "\r\n"];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: specs.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...noise)), { maxLength: 8 }), fc.boolean(), (i, edits, trim) => {
        let text = specs[i];
        for (const [at, ins] of edits) {
          // Only at line starts and ends, where layout may change but the syntax does not.
          const lines = text.split("\n");
          const l = at % lines.length;
          lines[l] = at % 2 ? ins.replace(/\n/g, "") + lines[l] : lines[l] + (ins.startsWith("#") ? ` ${ins.trim()}` : ins.replace(/\n/g, ""));
          if (ins.includes("\n") && !ins.startsWith("#")) lines.splice(l, 0, "");
          text = lines.join("\n");
        }
        if (trim) text = text.trimEnd();
        const p = parse(text, "x.nnspec");
        fc.pre(!p.diagnostics.some((d) => d.severity === "error"));
        const edits2 = formatting({ text, ast: p.ast, syntaxErrors: false } as Analysis)!;
        expect(applyEdits(text, edits2)).toBe(format(p.ast));
      }),
      { numRuns: 300 },
    );
  });
});

// ── the VS Code extension package ──

/** The names of the files in a zip archive, and a reader for one of them. */
function unzip(buf: Buffer): Map<string, () => Buffer> {
  const out = new Map<string, () => Buffer>();
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extra = buf.readUInt16LE(p + 30);
    const comment = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString("utf8", p + 46, p + 46 + nameLen);
    out.set(name, () => {
      const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
      const data = buf.subarray(start, start + size);
      return method === 8 ? inflateRawSync(data) : data;
    });
    p += 46 + nameLen + extra + comment;
  }
  return out;
}

describe("the VS Code extension", () => {
  it("builds a .vsix with the manifest, the grammar and the client", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnspec-vsix-"));
    try {
      const r = spawnSync("npm", ["run", "--silent", "vsix", "--", "--out", dir], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
      expect(r.status, r.stderr + r.stdout).toBe(0);
      const file = join(dir, "nnspec-0.1.0.vsix");
      const zip = unzip(readFileSync(file));
      expect([...zip.keys()]).toEqual(
        expect.arrayContaining([
          "extension.vsixmanifest",
          "extension/package.json",
          "extension/syntaxes/nnspec.tmLanguage.json",
          "extension/language-configuration.json",
          "extension/dist/extension.js",
        ]),
      );
      const manifest = JSON.parse(zip.get("extension/package.json")!().toString("utf8"));
      expect(manifest.contributes.languages[0]).toMatchObject({ id: "nnspec", extensions: [".nnspec"] });
      expect(manifest.contributes.grammars[0]).toMatchObject({ language: "nnspec", scopeName: "source.nnspec" });
      // The grammar is grammar/'s, copied, not a hand-kept duplicate.
      expect(zip.get("extension/syntaxes/nnspec.tmLanguage.json")!().toString("utf8")).toBe(readFileSync(join(ROOT, "grammar", "nnspec.tmLanguage.json"), "utf8"));
      expect(zip.get("extension/dist/extension.js")!().toString("utf8")).toContain("nnspec.toggleParameterCounts");
      // the graph panel asks the server's nnspec.graph command (the client registers the server's id itself)
      expect(manifest.contributes.commands.map((c: { command: string }) => c.command)).toContain("nnspec.showGraph");
      expect(zip.get("extension/dist/extension.js")!().toString("utf8")).toMatch(/command:\s*"nnspec\.graph"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
