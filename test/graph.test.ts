/**
 * `nnspec graph`: the graph read from the checked IR (nodes, edges with the checker's shapes, joins,
 * block clusters, findings on the layers they are about), its layout (no two boxes overlap, edges
 * run from box to box), the SVG (well-formed XML), DOT and JSON, the command line, `nnspec train`'s
 * graph.svg, the language server's `nnspec.graph` command, and generated/graph/ against the specs.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ExecuteCommandRequest } from "vscode-languageserver-protocol/node";
import { describe, expect, it } from "vitest";
import { summarize } from "../src/check/summary.ts";
import { graphDot, graphJson, graphSvg, layoutGraph, programGraphs, type ModelGraph } from "../src/graph/index.ts";
import { FileHost } from "../src/node/host.ts";
import { Client, ROOT, SPECS, uriOf, withServer } from "./lsp-client.ts";

const DIR = mkdtempSync(join(tmpdir(), "nnspec-graph-"));
const host = new FileHost();
const analyse = (path: string) => host.analyse(path, path);

function graphsOf(text: string, name = "spec.nnspec"): { graphs: ModelGraph[]; codes: string[] } {
  const file = join(DIR, name);
  writeFileSync(file, text);
  const f = new FileHost().analyse(file, name);
  return { graphs: programGraphs(f.program, f.checked, f.diagnostics), codes: f.diagnostics.map((d) => d.code) };
}

const nnspec = (args: string[]) => spawnSync(process.execPath, [join(ROOT, "bin", "nnspec.mjs"), ...args], { cwd: ROOT, encoding: "utf8" });

describe("the graph of a model", () => {
  it("has a node per input, layer and output, and an edge per tensor read, with the checker's shapes", () => {
    const f = analyse(join(SPECS, "residual.nnspec"));
    const [g] = programGraphs(f.program, f.checked, f.diagnostics, "wine_residual");
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    expect(g.nodes.map((n) => n.id)).toEqual(["in:x", "layer:h1", "layer:h2", "layer:s", "layer:c", "layer:dense_3", "out:logits"]);
    // the joins are drawn as joins, and read two tensors each
    expect(["layer:s", "layer:c"].map((id) => byId.get(id)!.kind)).toEqual(["join", "join"]);
    const into = (id: string) => g.edges.filter((e) => e.to === id).map((e) => `${e.from} ${e.shape}`);
    expect(into("layer:s")).toEqual(["layer:h1 [*, 32]", "layer:h2 [*, 32]"]);
    expect(into("layer:c")).toEqual(["layer:s [*, 32]", "in:x [*, 13]"]);
    expect(into("out:logits")).toEqual(["layer:dense_3 [*, 3]"]);
    expect(byId.get("layer:h1")!.text).toBe("dense 32 relu");
    // parameters as `nnspec summary` counts them
    const s = summarize(f.checked.models.get("wine_residual")!);
    expect(g.params).toBe(s.totals.params);
    expect(g.nodes.filter((n) => n.kind !== "input" && n.kind !== "output").map((n) => n.params ?? 0)).toEqual(s.rows.map((r) => r.trainable! + r.frozen!));
    expect(g.nodes.every((n) => n.checked && n.problems.length === 0)).toBe(true);
  });

  it("draws a broken model as far as it resolved, each error on its layer", () => {
    const { graphs, codes } = graphsOf(`model broken(x: [8]) -> y: [3] {\n  h = dense 16 relu\n  a = dense 12\n  s = add h, a\n  dens 3\n  dense 3\n}\n`);
    expect(codes).toEqual(expect.arrayContaining(["NN0201"]));
    const g = graphs[0];
    const byName = new Map(g.nodes.map((n) => [n.name, n]));
    // the add of [16] and [12] carries its shape error; what follows it has no shape
    expect(byName.get("s")!.problems.map((p) => p.severity)).toContain("error");
    expect(byName.get("s")!.problems.map((p) => p.message).join()).toMatch(/16.*12|12.*16/);
    expect(byName.get("h")!.problems).toEqual([]);
    expect(byName.get("h")!.checked).toBe(true);
    // the unknown kind is drawn from the text, with its error, between the layers around it
    const unknown = byName.get("dens")!;
    expect(unknown.problems.map((p) => p.code)).toEqual(["NN0201"]);
    expect(unknown.checked).toBe(false);
    expect(g.edges.some((e) => e.from === "layer:s" && e.to === unknown.id)).toBe(true);
    expect(g.edges.some((e) => e.from === unknown.id && e.to === "layer:dense_3")).toBe(true);
    expect(byName.get("y")!.checked).toBe(false);
    // an unknown kind on the last line is what the output reads
    const last = graphsOf(`model m(x: [4]) -> y: [3] {\n  dense 8 relu\n  dens 3\n}\n`).graphs[0];
    expect(last.edges.map((e) => `${e.from} -> ${e.to}`)).toEqual(["in:x -> layer:dense_1", "layer:dense_1 -> layer:?dens@45", "layer:?dens@45 -> out:y"]);
    // the SVG draws the findings in the error colour, with their messages
    const svg = graphSvg(graphs);
    expect(svg).toContain("#c62828");
    expect(svg).toContain("NN0201: unknown layer kind `dens`");
  });

  it("draws each use of a block as a cluster around its layers, nested uses inside", () => {
    const { graphs, codes } = graphsOf(
      `block ff(d) {\n  a = dense d relu\n  b = dense d\n  s = add input, b\n}\nblock twice(d) {\n  ff d\n  ff d\n}\nmodel m(x: [8]) -> y: [2] {\n  dense 8\n  t = twice 8\n  dense 2\n}\n`,
    );
    expect(codes.filter((c) => c.startsWith("NN0") && !c.startsWith("NN05"))).toEqual([]);
    const g = graphs[0];
    expect(g.clusters.map((c) => [c.id, c.parent ?? null, c.label])).toEqual([
      ["t", null, "t = twice 8"],
      ["t.ff_1", "t", "t.ff_1 = ff d"],
      ["t.ff_2", "t", "t.ff_2 = ff d"],
    ]);
    expect(g.nodes.filter((n) => n.cluster === "t.ff_1").map((n) => n.name)).toEqual(["t.ff_1.a", "t.ff_1.b", "t.ff_1.s"]);
    // the second use reads the first's output
    expect(g.edges.some((e) => e.from === "layer:t.ff_1.s" && e.to === "layer:t.ff_2.a")).toBe(true);
    // clusters hold their layers in the layout
    const p = layoutGraph(g);
    for (const c of p.clusters) {
      for (const n of p.nodes.filter((n) => n.cluster === c.id)) {
        expect(Math.abs(n.x - c.x) + n.width / 2).toBeLessThanOrEqual(c.width / 2 + 0.5);
        expect(Math.abs(n.y - c.y) + n.height / 2).toBeLessThanOrEqual(c.height / 2 + 0.5);
      }
    }
  });
});

describe("the graph of a model with several outputs per layer", () => {
  it("draws a recurrent layer's states as edges from its node, named", () => {
    const { graphs } = graphsOf(`model s2s(a: [5, 3], b: [4, 2]) -> y: [4, 2] {\n  e, h, c = a -> lstm 6 return_state: true\n  d = b -> lstm 6 return_sequences: true, initial_state: [h, c]\n  y = d -> dense 2\n}\n`);
    expect(graphs[0].edges.filter((e) => e.to === "layer:d").map((e) => `${e.from} ${e.shape}`)).toEqual(["in:b [*, 4, 2]", "layer:e h [*, 6]", "layer:e c [*, 6]"]);
  });
});

describe("the drawing", () => {
  const specs = readdirSync(SPECS).filter((f) => f.endsWith(".nnspec"));

  it("places no two boxes over each other and runs each edge from its source box to its target box, for every course model", () => {
    for (const s of specs) {
      const f = analyse(join(SPECS, s));
      for (const g of programGraphs(f.program, f.checked, f.diagnostics).map(layoutGraph)) {
        const where = `${s}: ${g.model}`;
        for (let i = 0; i < g.nodes.length; i++)
          for (let j = i + 1; j < g.nodes.length; j++) {
            const a = g.nodes[i];
            const b = g.nodes[j];
            const apart = Math.abs(a.x - b.x) >= (a.width + b.width) / 2 || Math.abs(a.y - b.y) >= (a.height + b.height) / 2;
            expect(apart, `${where}: ${a.id} and ${b.id} overlap`).toBe(true);
          }
        const box = new Map(g.nodes.map((n) => [n.id, n]));
        for (const e of g.edges) {
          const [first, last] = [e.points[0], e.points[e.points.length - 1]];
          const near = (p: { x: number; y: number }, id: string) => {
            const n = box.get(id)!;
            return Math.abs(p.x - n.x) <= n.width / 2 + 1 && Math.abs(p.y - n.y) <= n.height / 2 + 1;
          };
          expect(near(first, e.from) && near(last, e.to), `${where}: ${e.from} -> ${e.to}`).toBe(true);
        }
        expect(g.width).toBeGreaterThan(0);
      }
    }
  });

  it("writes well-formed, self-contained SVG, the same for the same spec", () => {
    const f = analyse(join(SPECS, "language_id.nnspec"));
    const svg = graphSvg(programGraphs(f.program, f.checked, f.diagnostics));
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(svg) as { svg: Record<string, unknown> };
    expect(doc.svg["@_xmlns"]).toBe("http://www.w3.org/2000/svg");
    // nothing it would fetch or run
    expect(svg).not.toMatch(/<script|<image|href="http|@import|<foreignObject/);
    expect(graphSvg(programGraphs(f.program, f.checked, f.diagnostics))).toBe(svg);
    // names from the spec are escaped
    const { graphs } = graphsOf(`model m(x: [4]) -> y: [2] {\n  dense 2 activation: softmax\n}\n`, "a<b>&.nnspec");
    expect(XMLValidator.validate(graphSvg(graphs))).toBe(true);
  });

  it("writes DOT with a cluster per block use and JSON with the layout", () => {
    const f = analyse(join(SPECS, "language_id.nnspec"));
    const graphs = programGraphs(f.program, f.checked, f.diagnostics, "transformer");
    const dot = graphDot(graphs);
    expect(dot).toMatch(/^digraph "transformer" \{/);
    expect(dot.match(/subgraph "cluster_encoder_\d"/g)).toEqual(['subgraph "cluster_encoder_1"', 'subgraph "cluster_encoder_2"']);
    expect(dot).toContain(`"layer:embedding_1" -> "layer:positional_embedding_1" [label="[*, 16, 32]"];`);
    const json = JSON.parse(graphJson(graphs)) as { models: { model: string; nodes: { id: string; x: number; lines: string[] }[]; edges: { points: unknown[] }[] }[] };
    expect(json.models.map((m) => m.model)).toEqual(["transformer"]);
    expect(json.models[0].nodes.find((n) => n.id === "layer:encoder_1.a")!.lines[1]).toBe("multi_head_attention heads: heads, key_dim: d / heads, dropout: 0.1");
    expect(json.models[0].edges.every((e) => e.points.length >= 2)).toBe(true);
  });

  it("generated/graph/ holds each course spec's picture as `nnspec graph` draws it today (else run `npm run generate`)", () => {
    const stale: string[] = [];
    for (const s of specs) {
      const f = analyse(join(SPECS, s));
      const file = join(ROOT, "generated", "graph", s.replace(/\.nnspec$/, ".svg"));
      if (!existsSync(file)) stale.push(`${file} is missing`);
      else if (readFileSync(file, "utf8") !== graphSvg(programGraphs(f.program, f.checked, f.diagnostics))) stale.push(`${file} differs`);
    }
    const extra = readdirSync(join(ROOT, "generated", "graph")).filter((n) => !specs.includes(n.replace(/\.svg$/, ".nnspec")));
    expect([...stale, ...extra], "generated/graph/ is out of date: run `npm run generate`").toEqual([]);
  });
});

describe("nnspec graph", () => {
  it("writes SVG to stdout, or the format --out's extension names; --model picks one", () => {
    const r = nnspec(["graph", "specs/iris.nnspec"]);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith("<svg")).toBe(true);
    expect(r.stdout).toContain("iris_softmax");
    const out = join(DIR, "iris.dot");
    const d = nnspec(["graph", "specs/iris.nnspec", "--model", "iris_mlp", "--out", out]);
    expect(d.status).toBe(0);
    expect(d.stderr).toContain(`wrote ${out}: iris_mlp`);
    expect(readFileSync(out, "utf8")).toMatch(/^digraph "iris_mlp"/);
    expect(JSON.parse(nnspec(["graph", "specs/iris.nnspec", "--format", "json"]).stdout).models).toHaveLength(2);
  });

  it("draws a spec with errors, reports them as check does, and exits 1", () => {
    const file = join(DIR, "bad.nnspec");
    writeFileSync(file, `model m(x: [4]) -> y: [3] {\n  dense 8 relu\n  dense 3 actvation: softmax\n}\n`);
    const out = join(DIR, "bad.svg");
    const r = nnspec(["graph", file, "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error[NN0202]");
    expect(r.stderr).toContain("--> ");
    expect(r.stderr).toContain("(errors drawn in red)");
    expect(readFileSync(out, "utf8")).toContain("NN0202");
  });

  it("names a missing model with the nearest, and refuses a wrong format or file count (exit 2)", () => {
    const r = nnspec(["graph", "specs/iris.nnspec", "--model", "iris_mpl"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("has no model `iris_mpl`; did you mean `iris_mlp`?");
    expect(r.stdout).toBe("");
    const f = nnspec(["graph", "specs/iris.nnspec", "--format", "png"]);
    expect(f.status).toBe(2);
    expect(f.stderr).toContain("--format must be svg, dot or json");
    expect(nnspec(["graph", "specs/iris.nnspec", "specs/wine.nnspec"]).status).toBe(2);
    const missing = nnspec(["graph", "specs/nope.nnspec"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("cannot read specs/nope.nnspec");
  });

  it("draws the models a file imports when it declares none", () => {
    const r = nnspec(["graph", "specs/shared_models.nnspec", "--format", "json"]);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { models: { model: string }[] }).models.map((m) => m.model)).toEqual(["tabular13_regressor", "tabular13_classifier"]);
  });
});

describe("the language server's nnspec.graph command", () => {
  let c: Client;
  withServer((client) => (c = client));

  it("returns the SVG of the model under the cursor, every model elsewhere, and redraws after an edit", async () => {
    expect(c.capabilities.executeCommandProvider?.commands).toContain("nnspec.graph");
    const path = join(SPECS, "residual.nnspec");
    const text = readFileSync(path, "utf8");
    await c.open(path, text);
    const uri = uriOf(path);
    const line = text.split("\n").findIndex((l) => l.includes("wine_two_heads"));
    const one = (await c.conn.sendRequest(ExecuteCommandRequest.type, { command: "nnspec.graph", arguments: [{ textDocument: { uri }, position: { line: line + 1, character: 2 } }] })) as { models: string[]; text: string };
    expect(one.models).toEqual(["wine_two_heads"]);
    expect(XMLValidator.validate(one.text)).toBe(true);
    const all = (await c.conn.sendRequest(ExecuteCommandRequest.type, { command: "nnspec.graph", arguments: [{ textDocument: { uri }, format: "dot" }] })) as { models: string[]; text: string };
    expect(all.models).toEqual(["wine_residual", "wine_two_heads"]);
    expect(all.text).toContain('digraph "wine_residual"');
    // an edit that breaks a layer: the picture shows the error
    await c.change(path, text.replace("h2 = h1 -> dense 32 relu", "h2 = h1 -> dense 32 relu actvation: relu"));
    const broken = (await c.conn.sendRequest(ExecuteCommandRequest.type, { command: "nnspec.graph", arguments: [{ textDocument: { uri } }] })) as { text: string };
    expect(broken.text).toContain("NN0202");
    await c.close(path);
    // a wrong argument is the client's mistake, answered as such
    await expect(c.conn.sendRequest(ExecuteCommandRequest.type, { command: "nnspec.graph", arguments: [{ format: "png" }] })).rejects.toThrow(/takes \{ textDocument/);
    expect(c.errors).toEqual([]);
  });
});

describe("nnspec train", () => {
  it("writes graph.svg beside curves.svg", () => {
    const out = join(DIR, "run");
    const r = nnspec(["train", "specs/iris.nnspec", "--train", "iris_mlp", "--epochs", "1", "--out", out, "--quiet"]);
    expect(r.status, r.stderr).toBe(0);
    const svg = readFileSync(join(out, "graph.svg"), "utf8");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain("model iris_mlp");
  });
});
