import { describe, expect, it } from "vitest";
import { DiagnosticSink } from "../src/diagnostics/diagnostic.ts";
import { resolve } from "../src/lang/resolve.ts";
import { parse } from "../src/syntax/parse.ts";

function check(text: string) {
  const { ast } = parse(text, "t.nnspec");
  const sink = new DiagnosticSink("t.nnspec");
  const program = resolve(ast, sink);
  return { program, diagnostics: sink.items };
}

const model = (body: string) => `model m(x: [4]) -> [3] {\n${body}\n}\n`;

describe("resolve", () => {
  it("binds positional values, bare activations and named options", () => {
    const { program, diagnostics } = check(model("  dense 16 relu l2: 0.01 use_bias: false"));
    expect(diagnostics).toEqual([]);
    expect(program.models.get("m")!.layers[0].options.values).toEqual({ units: 16, activation: "relu", l2: 0.01, use_bias: false });
  });

  it("suggests the layer kind a typo was meant to be, with a fix", () => {
    const d = check(model("  dens 3")).diagnostics;
    expect(d.map((x) => x.code)).toEqual(["NN0201"]);
    expect(d[0].help).toBe("did you mean `dense`?");
    expect(d[0].fixes[0].edits[0].newText).toBe("dense");
  });

  it("suggests option names and points at the option's key", () => {
    const d = check(model("  dense 3 activaton: relu")).diagnostics;
    expect(d.map((x) => [x.code, x.help])).toEqual([["NN0202", "did you mean `activation`?"]]);
    expect(d[0].span.col).toBe(11);
  });

  it("maps schema violations to plain messages at the value's span", () => {
    const d = check(model("  dense 0")).diagnostics;
    expect(d.map((x) => x.message)).toEqual(["units must be a positive integer (units), got 0"]);
    expect(d[0].span.col).toBe(9);
    const p = check(model("  conv2d 8 kernel: 3 padding: sme")).diagnostics;
    expect(p.map((x) => [x.code, x.help])).toEqual([["NN0209", "did you mean `same`? (padding is one of valid, same)"]]);
  });

  it("checks statement names, duplicates and the loss and optimizer catalogs", () => {
    const text = `data d {\n  from "a.csv"\n  label y: class(3)\n  splitt train: 0.8\n}\n${model("  dense 3")}train m on d {\n  loss sparse_cross_entropyy\n  optimizer adam lr: 0.01 beta: 0.9\n  epochs 10\n  epochs 20\n}\n`;
    const d = check(text).diagnostics.map((x) => [x.code, x.span.line, x.help]);
    expect(d).toEqual([
      ["NN0203", 4, "did you mean `split`?"],
      ["NN0209", 10, "did you mean `sparse_cross_entropy`?"],
      ["NN0202", 11, "did you mean `beta1`?"],
      ["NN0204", 13, "remove one of them"],
    ]);
  });

  it("resolves tensor names in graphs and warns about unused ones", () => {
    const { diagnostics } = check("model g(x: [4]) -> [3] {\n  h = dense 4\n  u = x -> dense 2\n  s = add x, hh\n  dense 3\n}\n");
    const found = diagnostics.map((x) => [x.code, x.span.line, x.help]).sort((a, b) => Number(a[1]) - Number(b[1]));
    expect(found).toEqual([
      ["NN0212", 3, undefined],
      ["NN0206", 4, "did you mean `h`?"],
    ]);
  });

  it("reports undefined models and data sets in train", () => {
    const d = check(`${model("  dense 3")}train mm on nothing {\n  loss mse\n  optimizer sgd\n}\n`).diagnostics;
    expect(d.map((x) => [x.code, x.help])).toEqual([
      ["NN0206", "did you mean `m`?"],
      ["NN0206", undefined],
    ]);
  });
});

describe("help that stays readable", () => {
  it("lists at most 20 tensors defined so far, then how many in all", async () => {
    const { parse } = await import("../src/syntax/parse.ts");
    const { resolve } = await import("../src/lang/resolve.ts");
    const { DiagnosticSink } = await import("../src/diagnostics/diagnostic.ts");
    const text = ["model m(x: [4]) -> y {", ...Array.from({ length: 50 }, (_, i) => `  t${i} = dense 2`), "  u = nope -> dense 2", "}"].join("\n") + "\n";
    const sink = new DiagnosticSink("a.nnspec");
    resolve(parse(text, "a.nnspec").ast, sink, { importModels: () => ({ error: "none" }) });
    const help = sink.items.find((d) => d.code === "NN0204" || d.message.includes("nope"))!.help!;
    expect(help).toMatch(/^tensors defined so far: x, t0, t1, .*, … \(51 in all\)$/);
    expect(help.split(", ").length).toBeLessThanOrEqual(21);
  });
});
