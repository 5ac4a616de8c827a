/**
 * Reusable blocks: a block's layers are placed at each use with the use's parameters, named after
 * the use, checked per use (shapes and findings name the use), summarized as nested rows, and
 * formatted; the model runs exactly as the same layers written out by hand.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { summarize, summaryText } from "../src/check/summary.ts";
import { format } from "../src/format/printer.ts";
import { FileHost } from "../src/node/host.ts";
import { RuntimeModel } from "../src/runtime/model.ts";
import { predict } from "../src/runtime/train.ts";
import { Rng } from "../src/core/rng.ts";
import { parse } from "../src/syntax/parse.ts";

const analyse = (text: string) => new FileHost().analyse("/tmp/blocks.nnspec", "blocks.nnspec", text);
const codes = (text: string) => analyse(text).diagnostics.map((d) => `${d.severity} ${d.code} ${d.span.line}`);

const ENCODER = `block encoder(d, heads, ff: 2 * d) {
  a = multi_head_attention heads: heads, key_dim: d / heads
  s = add input, a
  n = layernorm
  f = dense ff relu
  g = dense d
  s2 = add n, g
  layernorm
}
`;

describe("blocks", () => {
  it("place their layers at each use, with the use's values, and run as the same layers written out", () => {
    const blocks = `${ENCODER}
model m(ids: int[6]) -> logits: [3] {
  embedding 20 8
  encoder 8 heads: 2
  e = encoder 8, 4, ff: 12
  global_avgpool1d
  dense 3
}
`;
    const inline = `model m(ids: int[6]) -> logits: [3] {
  e0 = embedding 20 8
  encoder_1.a = multi_head_attention heads: 2, key_dim: 4
  encoder_1.s = add e0, encoder_1.a
  encoder_1.n = layernorm
  encoder_1.f = dense 16 relu
  encoder_1.g = dense 8
  encoder_1.s2 = add encoder_1.n, encoder_1.g
  encoder_1.layernorm_2 = layernorm
  e.a = multi_head_attention heads: 4, key_dim: 2
  e.s = add encoder_1.layernorm_2, e.a
  e.n = layernorm
  e.f = dense 12 relu
  e.g = dense 8
  e.s2 = add e.n, e.g
  e.layernorm_2 = layernorm
  global_avgpool1d
  dense 3
}
`;
    const a = analyse(blocks);
    expect(a.diagnostics).toEqual([]);
    const m = a.checked.models.get("m")!;
    expect(m.layers.map((l) => l.spec.name)).toEqual(["embedding_1", "encoder_1.a", "encoder_1.s", "encoder_1.n", "encoder_1.f", "encoder_1.g", "encoder_1.s2", "encoder_1.layernorm_2", "e.a", "e.s", "e.n", "e.f", "e.g", "e.s2", "e.layernorm_2", "global_avgpool1d_1", "dense_1"]);
    expect(m.layers.find((l) => l.spec.name === "e.f")!.output.map(String)).toEqual(["6", "12"]);
    // the hand-written model: names with dots are not names, so compare by position
    const b = analyse(inline.replace(/(\w+)\.(\w+)/g, "$1__$2"));
    const hand = b.checked.models.get("m")!;
    expect(b.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(m.layers.map((l) => [l.spec.kind.name, l.output.map(String), l.params])).toEqual(hand.layers.map((l) => [l.spec.kind.name, l.output.map(String), l.params]));
    // one seed, the same weights in the same order, the same predictions
    const x = RuntimeModel.lower(m, { seed: 3 }).model!;
    const y = RuntimeModel.lower(hand, { seed: 3 }).model!;
    y.params.forEach((p, i) => p.value.set(x.params[i].value));
    const rng = new Rng(1);
    const ids = Float32Array.from({ length: 4 * 6 }, () => Math.floor(rng.uniform() * 20));
    expect(Array.from(predict(x, ids, 4))).toEqual(Array.from(predict(y, ids, 4)));
  });

  it("report a finding inside a block once, at its line, labelled with the use it came through", () => {
    const text = `${ENCODER}
model m(x: [8, 5]) -> y {
  encoder 5 heads: 2
  encoder 5 heads: 2
}
`;
    const ds = analyse(text).diagnostics;
    // key_dim 5 / 2 is no integer: found through both uses, reported once
    const bad = ds.filter((d) => d.code === "NN0208");
    expect(bad).toHaveLength(1);
    expect(bad[0].span.line).toBe(2);
    expect(bad[0].labels.map((l) => [l.span.line, l.message])).toContainEqual([12, "in `encoder_1`, a use of block `encoder`"]);
  });

  it("check the uses' values: unknown, missing, repeated and surplus values, and a block that uses itself", () => {
    expect(codes(`${ENCODER}\nmodel m(x: [8, 4]) -> y {\n  encoder 4 heads: 2, fff: 3\n}\n`)).toEqual(["error NN0208 12"]);
    expect(codes(`${ENCODER}\nmodel m(x: [8, 4]) -> y {\n  encoder 4\n}\n`)).toEqual(["error NN0208 12"]);
    expect(codes(`${ENCODER}\nmodel m(x: [8, 4]) -> y {\n  encoder 4, 2, 8, 9\n}\n`)).toEqual(["error NN0208 12"]);
    expect(codes(`${ENCODER}\nmodel m(x: [8, 4]) -> y {\n  encoder 4, heads: 2, heads: 2\n}\n`)).toEqual(["error NN0208 12"]);
    const fix = analyse(`${ENCODER}\nmodel m(x: [8, 4]) -> y {\n  encoder 4 heads: 2, fff: 3\n}\n`).diagnostics[0];
    expect(fix.fixes[0].edits[0].newText).toBe("ff");
    expect(codes(`block loop(d) {\n  dense d\n  loop d\n}\nmodel m(x: [4]) -> y {\n  loop 3\n}\n`)).toEqual(["error NN0208 3"]);
    expect(codes(`block dense(d) {\n  relu\n}\n`)).toEqual(["error NN0207 1"]);
  });

  it("nest, with defaults that read earlier parameters and tensors named inside", () => {
    const text = `block mlp(d, hidden: d * 3) {
  h = dense hidden relu
  dense d tanh
}
block twice(d) {
  a = mlp d
  b = mlp d, hidden: 2
  add a, b
}
model m(x: [4]) -> y: [4] {
  twice 4
}
`;
    const a = analyse(text);
    expect(a.diagnostics).toEqual([]);
    const names = a.checked.models.get("m")!.layers.map((l) => `${l.spec.name} ${l.output.map(String).join("x")}`);
    expect(names).toEqual(["twice_1.a.h 12", "twice_1.a.dense_2 4", "twice_1.b.h 2", "twice_1.b.dense_2 4", "twice_1.add_1 4"]);
    // summary: a row per use summing its layers, its layers one level deeper
    const s = summarize(a.checked.models.get("m")!);
    expect(s.rows.map((r) => `${r.depth} ${r.name} ${r.trainable}`)).toEqual([
      "0 twice_1 134",
      "1 twice_1.a 112",
      "2 twice_1.a.h 60",
      "2 twice_1.a.dense_2 52",
      "1 twice_1.b 22",
      "2 twice_1.b.h 10",
      "2 twice_1.b.dense_2 12",
      "1 twice_1.add_1 0",
    ]);
    const top = summarize(a.checked.models.get("m")!, 1);
    expect(top.rows.map((r) => r.name)).toEqual(["twice_1"]);
    expect(top.totals).toEqual(s.totals);
    expect(summaryText(s)).toContain("      h ");
  });

  it("are imported from other files like models; a finding inside one is reported at the use, naming the block's line", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnspec-blocks-"));
    writeFileSync(join(dir, "layers.nnspec"), ENCODER);
    const main = join(dir, "main.nnspec");
    const text = `import encoder from "layers.nnspec"\n\nmodel m(x: [6, 8]) -> y {\n  encoder 8 heads: 2\n  e = encoder 8 heads: 3\n}\n`;
    writeFileSync(main, text);
    const a = new FileHost().analyse(main, "main.nnspec");
    const ds = a.diagnostics;
    // 8 / 3 is no integer key_dim: reported at the second use, in this file, with where in the block
    expect(ds.map((d) => `${d.code} ${d.span.line}`)).toEqual(["NN0208 5"]);
    expect(ds[0].notes[0]).toMatch(/found in block `encoder` at .*layers\.nnspec:2/);
    expect(ds[0].fixes).toEqual([]);
    const m = a.checked.models.get("m")!;
    expect(m.layers.filter((l) => l.spec.name.startsWith("encoder_1.")).map((l) => l.output.map(String).join("x"))).toEqual(["6x8", "6x8", "6x8", "6x16", "6x8", "6x8", "6x8"]);
    // `import "layers.nnspec"` brings every block too; an unknown name says what the file has
    writeFileSync(main, `import enc from "layers.nnspec"\n`);
    const bad = new FileHost().analyse(main, "main.nnspec").diagnostics;
    expect(bad.map((d) => d.code)).toEqual(["NN0206"]);
    expect(bad[0].help).toContain("encoder");
  });

  it("keep a lint's places in their files: a layer of an imported block is a note naming its file, or the use here", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnspec-blocks-"));
    writeFileSync(join(dir, "layers.nnspec"), `block ff(d) {\n  a = dense d\n  b = dense d relu\n}\n`);
    const main = join(dir, "main.nnspec");
    // line 4's linear dense feeds the block's first dense; the block's own linear pair is the use's
    writeFileSync(main, `import ff from "layers.nnspec"\n\nmodel m(x: [8]) -> y {\n  dense 8\n  ff 8\n}\n`);
    const ds = new FileHost().analyse(main, "main.nnspec").diagnostics.filter((d) => d.code === "NN0501");
    expect(ds.map((d) => d.span.line)).toEqual([4, 5]);
    const inLayers = (l: { file?: string; span: { line: number } }) => [l.file?.endsWith(`${basename(dir)}/layers.nnspec`), l.span.line];
    expect(ds[0].labels.map(inLayers)).toEqual([[true, 2]]);
    expect(ds[1].fixes).toEqual([]);
    expect(ds[1].labels.map(inLayers)).toEqual([[true, 3]]);
  });

  it("format canonically and idempotently", () => {
    const messy = "block  enc( d ,heads,ff:2*d ){\n  a=multi_head_attention heads:heads,key_dim:d/heads\n   add input,a\n}\n";
    const once = format(parse(messy, "b.nnspec").ast);
    expect(once).toBe("block enc(d, heads, ff: 2 * d) {\n  a = multi_head_attention heads: heads, key_dim: d / heads\n  add input, a\n}\n");
    expect(format(parse(once, "b.nnspec").ast)).toBe(once);
  });
});
