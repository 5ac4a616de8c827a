import { describe, expect, it } from "vitest";
import { parse } from "../src/syntax/parse.ts";
import type { Layer, ModelDecl, Statement } from "../src/syntax/ast.ts";

const codes = (text: string) => parse(text, "t.nnspec").diagnostics.map((d) => `${d.code}@${d.span.line}`);

describe("parser", () => {
  it("parses the three declaration kinds with spans on every node", () => {
    const text = 'data d {\n  from "x.csv"\n}\nmodel m(x: [4]) -> [3] {\n  dense 3\n}\ntrain m on d {\n  loss mse\n}\n';
    const { ast, diagnostics } = parse(text, "t.nnspec");
    expect(diagnostics).toEqual([]);
    expect(ast.decls.map((d) => d.kind)).toEqual(["data", "model", "train"]);
    const model = ast.decls[1] as ModelDecl;
    expect(text.slice(model.span.start, model.span.end)).toBe("model m(x: [4]) -> [3] {\n  dense 3\n}");
    const layer = model.body[0];
    expect(text.slice(layer.span.start, layer.span.end)).toBe("dense 3");
    expect([layer.op.span.line, layer.op.span.col]).toEqual([5, 3]);
  });

  it("reads every usual number form and keeps the text as written", () => {
    const { ast } = parse("data d {\n  scale 128, 0.5, .5, 1e-3, 2.5E+4, 7e2\n}\n", "t");
    const stmt = (ast.decls[0] as { body: Statement[] }).body[0];
    const values = stmt.terms.map((t) => (t.value.kind === "number" ? [t.value.value, t.value.raw] : null));
    expect(values).toEqual([
      [128, "128"],
      [0.5, "0.5"],
      [0.5, ".5"],
      [0.001, "1e-3"],
      [25000, "2.5E+4"],
      [700, "7e2"],
    ]);
  });

  it("decodes string escapes", () => {
    const { ast, diagnostics } = parse('import "a\\"b\\\\c\\n\\t\\u0041\\u{1F600}"\n', "t");
    expect(diagnostics).toEqual([]);
    expect((ast.decls[0] as { path: { value: string } }).path.value).toBe('a"b\\c\n\tA😀');
  });

  it("parses graphs: named tensors, explicit inputs, merges and grouped outputs", () => {
    const { ast, diagnostics } = parse("model g(x: [16]) -> (a: [3], b: [1]) {\n  h = dense 16 relu\n  s = add x, h\n  a = s -> dense 3\n  b = s -> dense 1\n}\n", "t");
    expect(diagnostics).toEqual([]);
    const m = ast.decls[0] as ModelDecl;
    expect(m.outputs.map((o) => o.name?.name)).toEqual(["a", "b"]);
    const shape = (l: Layer) => [l.target?.name, l.input?.name, l.op.name, l.terms.length];
    expect(m.body.map(shape)).toEqual([
      ["h", undefined, "dense", 2],
      ["s", undefined, "add", 2],
      ["a", "s", "dense", 1],
      ["b", "s", "dense", 1],
    ]);
  });

  it("treats keywords as names where a name is expected", () => {
    const { diagnostics } = parse("data data {\n  columns from, model, train\n}\n", "t");
    expect(diagnostics).toEqual([]);
  });

  it("ignores newlines inside brackets but not after an unclosed one", () => {
    expect(codes("model m(x: [4]) -> [3] {\n  reshape [\n    2,\n    2\n  ]\n}\n")).toEqual([]);
    expect(codes("model m(x: [4]) -> [3] {\n  dense(3\n  dense 3\n}\n")).toEqual(["NN0103@2"]);
  });

  it("keeps what a statement cut short by an error said, spanning it to its last token", () => {
    // the call and the list are never closed: the statement and the layer still end at their last comma
    const data = 'data d {\n  label y: class(3,\n}\n';
    const stmt = (parse(data, "t.nnspec").ast.decls[0] as { body: Statement[] }).body[0];
    expect(stmt.head.name).toBe("label");
    expect(data.slice(stmt.span.start, stmt.span.end)).toBe("label y: class(3,");
    const model = "model m(x: [4]) -> [3] {\n  dense 3 activation: f(1, [2,\n}\n";
    const m = parse(model, "t.nnspec").ast.decls[0] as ModelDecl;
    expect(m.body.map((l) => l.op.name)).toEqual(["dense"]);
    expect(model.slice(m.body[0].span.start, m.body[0].span.end)).toBe("dense 3 activation: f(1, [2,");
    expect(m.body[0].terms[0].value.kind).toBe("number");
  });

  it("reports one diagnostic for one typo and keeps parsing the rest", () => {
    const text = "modle a\nmodel m(x: [4]) -> [3] {\n  dense 3 @\n}\ntrain m on {\n  loss mse\n}\n";
    expect(codes(text)).toEqual(["NN0102@1", "NN0001@3", "NN0101@5"]);
  });

  it("suggests the declaration keyword a typo was meant to be", () => {
    const d = parse("modle m(x: [4]) {\n}\n", "t").diagnostics[0];
    expect(d.code).toBe("NN0102");
    expect(d.help).toBe("did you mean `model`?");
    expect(d.fixes[0].edits[0].newText).toBe("model");
  });
});

describe("expression precedence", () => {
  const value = (src: string) => {
    const { ast, diagnostics } = parse(`data d {\n  features ${src}\n}\n`, "t");
    expect(diagnostics).toEqual([]);
    return (ast.decls[0] as { body: Statement[] }).body[0].terms[0].value;
  };
  it("binds a range loosest, so both ends may be arithmetic", () => {
    const r = value("0..n - 1");
    expect(r.kind).toBe("range");
    expect(r.kind === "range" && r.to.kind).toBe("binary");
    const neg = value("-1..3");
    expect(neg.kind === "range" && neg.from.kind).toBe("negate");
  });
  it("multiplies before it adds", () => {
    const e = value("1 + 2 * 3");
    expect(e.kind === "binary" && e.op).toBe("+");
    expect(e.kind === "binary" && e.right.kind === "binary" && e.right.op).toBe("*");
  });
  it("groups each level from the left, and parentheses and negation as written", () => {
    const show = (e: ReturnType<typeof value>): string =>
      e.kind === "binary" ? `(${show(e.left)} ${e.op} ${show(e.right)})` : e.kind === "negate" ? `-${show(e.operand)}` : e.kind === "paren" ? `[${show(e.inner)}]` : e.kind === "name" ? e.name : e.kind === "number" ? e.raw : "?";
    expect(show(value("a - b * c / d - e"))).toBe("((a - ((b * c) / d)) - e)");
    expect(show(value("a / b / c * d"))).toBe("(((a / b) / c) * d)");
    expect(show(value("-a * (b + c) - -2"))).toBe("((-a * [(b + c)]) - -2)");
    expect(show(value("a + b + c * d * e + f"))).toBe("(((a + b) + ((c * d) * e)) + f)");
  });
});

describe("formatter line width", () => {
  it("wraps a long statement after its commas, and the wrapped text parses to the same tree", async () => {
    const { format } = await import("../src/format/printer.ts");
    const cols = Array.from({ length: 30 }, (_, i) => `column_${i}`).join(", ");
    const src = `data d {\n  columns ${cols}  # names\n}\n`;
    const out = format(parse(src, "t").ast);
    const lines = out.split("\n");
    expect(lines.every((l) => l.length <= 100 || !l.includes(","))).toBe(true);
    expect(lines[2].startsWith("      column_")).toBe(true);
    expect(out).toContain("  # names");
    const again = parse(out, "t");
    expect(again.diagnostics).toEqual([]);
    expect(format(again.ast)).toBe(out);
    const terms = (f: typeof again) => (f.ast.decls[0] as { body: Statement[] }).body[0].terms.map((t) => (t.value.kind === "name" ? t.value.name : ""));
    expect(terms(again)).toEqual(terms(parse(src, "t")));
  });
});
