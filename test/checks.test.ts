/**
 * Cross-declaration checks, lints and `nnspec: allow` comments, where a corpus case
 * (test/cases/checks, test/cases/lints) is awkward: reading data-file headers from temporary files,
 * checking without a host, applying the fixes, and the catalog entries themselves.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { check, type DataHost } from "../src/check/index.ts";
import { applySuppressions } from "../src/check/suppress.ts";
import { CATALOG, type CatalogEntry } from "../src/diagnostics/catalog.ts";
import { DiagnosticSink, type Diagnostic, type Fix } from "../src/diagnostics/diagnostic.ts";
import { resolve } from "../src/lang/resolve.ts";
import { FileHost, readDataHeader } from "../src/node/host.ts";
import { parse } from "../src/syntax/parse.ts";

const dir = mkdtempSync(join(tmpdir(), "nnspec-checks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** Parse, resolve and check `text` as `nnspec check` does, with suppressions applied. */
function run(text: string, host?: DataHost): Diagnostic[] {
  const parsed = parse(text, "t.nnspec");
  const sink = new DiagnosticSink("t.nnspec");
  const program = resolve(parsed.ast, sink);
  check(program, sink, host, parsed.diagnostics);
  return applySuppressions(parsed.ast, parsed.lines, "t.nnspec", [...parsed.diagnostics, ...sink.items]).diagnostics;
}
const codes = (ds: Diagnostic[]) => ds.map((d) => `${d.code}@${d.span.line}`).sort();

/** Applies one fix's edits (they never overlap) to the text. */
function applyFix(text: string, fix: Fix): string {
  const edits = [...fix.edits].sort((a, b) => b.span.start - a.span.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.end);
  return out;
}

describe("readDataHeader", () => {
  it("reads a header row, honouring skip and quotes", () => {
    const p = file("boston.csv", '506,13,,,\n"CRIM","ZN","B, quoted",MEDV\n0.1,18,2.3,24\n');
    expect(readDataHeader(p, { skip: 1, header: true })).toEqual({ columns: ["CRIM", "ZN", "B, quoted", "MEDV"], count: 4 });
  });

  it("takes the row count from a scikit-learn metadata line", () => {
    const p = file("iris.csv", "3,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n4.7,3.2,1.3,0.2,0\n");
    expect(readDataHeader(p, { skip: 1 })).toEqual({ count: 5, rows: 3 });
    // Not skipped, the metadata line is just the first row: no header, no row count.
    expect(readDataHeader(p, { skip: 0 })).toEqual({ count: 5 });
  });

  it("reads no header unless `header: true`, as the loader does", () => {
    const p = file("named.csv", "a,b,c\n1,2,3\n");
    expect(readDataHeader(p, { skip: 0 })).toEqual({ count: 3 });
    expect(readDataHeader(p, { skip: 0, header: true })).toEqual({ columns: ["a", "b", "c"], count: 3 });
  });

  it("honours the delimiter and whitespace-separated files", () => {
    expect(readDataHeader(file("semi.csv", "x;y\n1;2\n"), { skip: 0, header: true, delimiter: ";" })).toEqual({ columns: ["x", "y"], count: 2 });
    expect(readDataHeader(file("ws.txt", "  59 2 32.1\t101.0\n48 1 21.6 87.0\n"), { skip: 0, format: "whitespace" })).toEqual({ count: 4 });
  });

  it("reads only the beginning of a gzip file, however large", () => {
    // Random-ish digits compress poorly, so the first compressed chunk holds only part of the file.
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 1000) / 10;
    const rows = Array.from({ length: 20_000 }, () => Array.from({ length: 11 }, rnd).join(",")).join("\n");
    const p = file("big.csv.gz", gzipSync(`f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,y\n${rows}\n`));
    expect(readDataHeader(p, { skip: 0, header: true })).toEqual({ columns: ["f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "y"], count: 11 });
    expect(readDataHeader(join(__dirname, "..", "specs", "data", "digits.csv.gz"), { skip: 0, header: false })).toEqual({ count: 65 });
  });

  it("reads an IDX header: rows and values per example", () => {
    const header = Buffer.alloc(16);
    header.writeUInt32BE(0x00000803, 0);
    header.writeUInt32BE(2, 4);
    header.writeUInt32BE(28, 8);
    header.writeUInt32BE(28, 12);
    const p = file("images.idx.gz", gzipSync(Buffer.concat([header, Buffer.alloc(2 * 28 * 28)])));
    expect(readDataHeader(p, { skip: 0, format: "idx" })).toEqual({ rows: 2, count: 784 });
  });

  it("names the files beside a missing one, and gives an error for what cannot be read", () => {
    file("nope.cvs", "a\n1\n");
    expect(readDataHeader(join(dir, "nope.csv"), { skip: 0 })).toMatchObject({ error: "no such file", missing: true, siblings: expect.arrayContaining(["nope.cvs"]) });
    mkdirSync(join(dir, "adir"), { recursive: true });
    expect(readDataHeader(join(dir, "adir"), { skip: 0 })).toHaveProperty("error");
    expect(readDataHeader(file("broken.gz", Buffer.from([0x1f, 0x8b, 1, 2, 3])), { skip: 0 })).toHaveProperty("error");
  });
});

describe("check with and without data", () => {
  const spec = (from: string) => `data d {
  from "${from}" header: true
  features a..c
  label y: class(3)
}
model m(x: [4]) -> [3] {
  dense 3
}
train m on d {
  loss sparse_cross_entropy(from_logits: true)
  optimizer adam
}
`;

  it("checks without a host, and a missing file is no error", () => {
    expect(run(spec("x.csv"))).toEqual([]);
    expect(run(spec("x.csv"), { readHeader: () => undefined })).toEqual([]);
  });

  it("reports a file the host cannot read, and survives a host that throws", () => {
    expect(codes(run(spec("x.csv"), { readHeader: () => ({ error: "EACCES" }) }))).toEqual(["NN0601@2"]);
    const thrown = run(spec("x.csv"), {
      readHeader: () => {
        throw new Error("boom");
      },
    });
    expect(codes(thrown)).toEqual(["NN0601@2"]);
    expect(thrown[0].message).toBe("cannot read x.csv: boom");
  });

  it("a missing file: an error with a fix when a file beside it is close, else a warning", () => {
    const typo = run(spec("data/iris.cvs"), { readHeader: () => ({ error: "no such file", missing: true, siblings: ["iris.csv", "wine.csv"] }) });
    expect(codes(typo)).toEqual(["NN0601@2"]);
    expect(typo[0].fixes[0].edits[0].newText).toBe('"data/iris.csv"');
    const absent = run(spec("data/phones.csv"), { readHeader: () => ({ error: "no such file", missing: true, siblings: ["iris.csv"] }) });
    expect(absent.map((d) => `${d.severity} ${d.code}`)).toEqual(["warning NN0623"]);
  });

  it("resolves a name range against the header the host reads", () => {
    const host: DataHost = { readHeader: () => ({ columns: ["a", "b", "c", "y"], count: 4 }) };
    const d = run(spec("x.csv"), host);
    expect(codes(d)).toEqual(["NN0406@6"]);
    expect(d[0].message).toBe("data `d` gives examples of [*, 3], but model `m` takes [*, 4]");
  });

  it("reads the real file through FileHost, relative to the spec", () => {
    const csv = file("flowers.csv", "a,b,c,d,y\n1,2,3,4,0\n");
    const p = file("flowers.nnspec", spec("flowers.csv").replace("features a..c", "features a..e"));
    const f = new FileHost().analyse(p, "flowers.nnspec");
    expect(f.diagnostics.map((d) => d.code)).toEqual(["NN0408"]);
    expect(f.diagnostics[0].message).toBe('column `e` is not in "flowers.csv"');
    expect(f.diagnostics[0].help).toBe("the columns are: a, b, c, d, y");
    void csv;
  });
});

describe("fixes", () => {
  /** Each snippet's first diagnostic with a fix goes away when its first fix is applied, and nothing new appears. */
  const cases: [string, string][] = [
    ["NN0401", "data d {\n  from \"a.csv\"\n  label y: class(3)\n}\nmodel m(x: [4]) -> [4] {\n  dense 4\n}\ntrain m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer adam\n}\n"],
    ["NN0402", "data d {\n  from \"a.csv\"\n  label y: onehot(3)\n}\nmodel m(x: [4]) -> [3] {\n  dense 3\n}\ntrain m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer adam\n}\n"],
    ["NN0404", "data d {\n  from \"a.csv\"\n  label y: class(3)\n}\nmodel m(x: [4]) -> [3] {\n  dense 3, softmax, use_bias: false\n}\ntrain m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer adam\n}\n"],
    ["NN0404", "data d {\n  from \"a.csv\"\n  label y: class(3)\n}\nmodel m(x: [4]) -> [3] {\n  dense 3\n  softmax\n}\ntrain m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer adam\n}\n"],
    ["NN0405", "data d {\n  from \"a.csv\"\n  label y: class(3)\n}\nmodel m(x: [4]) -> [3] {\n  dense 3\n}\ntrain m on d {\n  loss sparse_cross_entropy\n  optimizer adam\n}\n"],
    ["NN0405", "data d {\n  from \"a.csv\"\n  label y: onehot(3)\n}\nmodel m(x: [4]) -> [3] {\n  dense 3\n}\ntrain m on d {\n  loss cross_entropy(label_smoothing: 0.1)\n  optimizer adam\n}\n"],
    ["NN0405", "data d {\n  from \"a.csv\"\n  label y: binary\n}\nmodel m(x: [4]) -> [1] {\n  dense 1\n}\ntrain m on d {\n  loss binary_cross_entropy label_smoothing: 0.1\n  optimizer adam\n}\n"],
    ["NN0406", "data d {\n  from \"a.csv\"\n  features 0..63\n  label 64: class(10)\n}\nmodel m(x: [8, 8, 1]) -> [10] {\n  flatten\n  dense 10\n}\ntrain m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer adam\n}\n"],
    ["NN0406", "data d {\n  from \"a.csv\"\n  features 0..4\n  label 5: class(3)\n}\nmodel m(x: [4]) -> [3] {\n  dense 3\n}\ntrain m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer adam\n}\n"],
    ["NN0410", "data d {\n  from \"a.csv\"\n  label y: regression\n  split train: 0.8, val: 0.2, test: 0.2, seed: 3\n}\n"],
    ["NN0411", "data d {\n  from \"a.csv\"\n  label y: regression\n  split train: 0.8, val: 0.1, seed: 3\n}\n"],
    ["NN0414", "data d {\n  from \"a.csv\"\n  label y: regression\n  split train: 0.8, test: 0.2, stratified, seed: 3\n}\n"],
    ["NN0414", "data d {\n  from \"a.csv\"\n  label y: regression\n  split train: 0.8, test: 0.2, stratified\n}\n"],
    ["NN0415", "data d {\n  from \"a.csv\"\n  label y: regression\n}\nmodel m(x: [4]) -> [1] {\n  dense 1\n}\ntrain m on d {\n  loss mse\n  optimizer adam\n  metrics mae, accuracy, r2\n}\n"],
    ["NN0501", "model m(x: [4]) -> [3] {\n  dense 16 use_bias: false\n  dense 3\n}\n"],
    ["NN0502", "model m(x: [4]) -> [3] {\n  dense 8 tanh\n  dense 8 tanh\n  dense 8\n  tanh\n  dense 3\n}\n"],
    ["NN0503", "data d {\n  from \"a.csv\"\n  label y: regression\n}\nmodel m(x: [4]) -> [1] {\n  dense 8 relu\n  dense 1 relu\n}\ntrain m on d {\n  loss mse\n  optimizer adam\n}\n"],
    ["NN0504", "model m(x: [4]) -> [1] {\n  dense 1 softmax\n}\n"],
    ["NN0505", "model m(x: [4]) -> [3] {\n  dense 3\n  dropout 0.5\n}\n"],
    ["NN0506", "data d {\n  from \"a.csv\"\n  label y: class(3)\n}\nmodel m(x: [4]) -> [3] {\n  dense 3\n}\ntrain m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer adam lr: 3\n}\n"],
    ["NN0592", "model m(x: [4]) -> [3] {\n  dense 3  # nnspec: allow NN0501\n}\n"],
    ["NN0592", "model m(x: [4]) -> [3] {\n  # nnspec: allow NN0501, NN0504\n  dense 16\n  dense 3\n}\n"],
    ["NN0592", "model m(x: [4]) -> [3] {\n  # nnspec: allow NN0501\n  dense 3\n}\n"],
  ];
  it.each(cases)("%s: the fix repairs what it is offered for", (code, text) => {
    const before = run(text);
    const d = before.find((x) => x.code === code && x.fixes.length > 0);
    expect(d, `${code} with a fix in:\n${codes(before).join("\n")}`).toBeDefined();
    for (const fix of d!.fixes) {
      const after = run(applyFix(text, fix));
      expect(
        after.filter((x) => x.code === code || x.severity === "error").map((x) => `${x.code} ${x.message}`),
        `after "${fix.title}":\n${applyFix(text, fix)}`,
      ).toEqual([]);
    }
  });
});

describe("nnspec: allow", () => {
  const model = "model m(x: [4]) -> [3] {\n  dense 16\n  dense 3\n}\n";

  it("silences by code or name, on the line or the line before, or in the file", () => {
    expect(codes(run(model))).toEqual(["NN0501@2"]);
    expect(run(model.replace("dense 16\n", "dense 16  # nnspec: allow NN0501\n"))).toEqual([]);
    expect(run(model.replace("dense 16\n", "dense 16  // nnspec: allow linear-collapse -- why\n"))).toEqual([]);
    expect(run(model.replace("  dense 16\n", "  # nnspec: allow nn0501\n  dense 16\n"))).toEqual([]);
    expect(run(model.replace("  dense 16\n", "  /* nnspec: allow linear-collapse */ dense 16\n"))).toEqual([]);
    expect(run(`${model}# nnspec: allow-file linear-collapse\n`)).toEqual([]);
  });

  it("does not reach further than the next line", () => {
    const text = model.replace("model m", "# nnspec: allow NN0501\nmodel m");
    expect(codes(run(text))).toEqual(["NN0501@3", "NN0592@1"]);
  });

  it("never silences errors, and says so", () => {
    const text = "model m(x: [4]) -> [3] {\n  dense 3 colour: red  # nnspec: allow NN0202\n}\n";
    expect(codes(run(text))).toEqual(["NN0202@2", "NN0591@2"]);
  });

  it("leaves files without directives untouched", () => {
    const parsed = parse(model, "t.nnspec");
    const ds: Diagnostic[] = [];
    expect(applySuppressions(parsed.ast, parsed.lines, "t.nnspec", ds)).toEqual({ diagnostics: [], silenced: [] });
  });
});

describe("catalog", () => {
  const entries = Object.entries(CATALOG) as [string, CatalogEntry][];
  const ours = entries.filter(([, e]) => /^NN0[45]\d\d$/.test(e.code));

  it("gives every new code an explanation, and warnings a unique name", () => {
    expect(ours.length).toBeGreaterThanOrEqual(29);
    for (const [key, e] of ours) {
      expect(e.explain.length, key).toBeGreaterThan(60);
      if (e.code.startsWith("NN05") && !e.code.startsWith("NN059")) expect(e.severity, key).toBe("warning");
      if (e.severity === "warning" && !e.code.startsWith("NN059")) expect(e.name, `${key} needs a name for \`nnspec: allow\``).toMatch(/^[a-z]+(-[a-z]+)*$/);
    }
    const names = entries.map(([, e]) => e.name).filter((n) => n !== undefined);
    expect(new Set(names).size).toBe(names.length);
    const all = entries.map(([, e]) => e.code);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe("diagnostic categories", () => {
  it("are read from each code's hundreds, for every catalog entry", async () => {
    const { CATALOG: catalog, category } = await import("../src/diagnostics/catalog.ts");
    const seen = new Set(Object.values(catalog).map((e) => category(e.code)));
    expect(seen.has(undefined)).toBe(false);
    expect(category("NN0305")).toBe("shapes");
    expect(category("NN0199")).toBe("syntax");
    expect(category("NN0623")).toBe("data");
    expect(category("NN1000")).toBeUndefined();
    expect(category("XX0101")).toBeUndefined();
  });
});

describe("the checker's data load", () => {
  it("moves a cached answer with its data block when the text above it changes", async () => {
    const { FileHost: Host } = await import("../src/node/host.ts");
    const spec = join(process.cwd(), "test/cases/checks/text-column.nnspec");
    const text = readFileSync(spec, "utf8");
    const at = (t: string) => {
      const f = new Host().analyse(spec, "text-column.nnspec", t);
      const d = f.diagnostics.find((x) => x.code === "NN0604")!;
      return { t, d };
    };
    const first = at(text);
    const moved = at(`# two lines\n# above\n${text}`);
    for (const { t, d } of [first, moved]) {
      expect(t.slice(d.span.start, d.span.end)).toBe('"data/cars.csv"');
      expect(t.split("\n")[d.span.line - 1]).toContain('from "data/cars.csv"');
      const edit = d.fixes[0].edits[0];
      const fixed = t.slice(0, edit.span.start) + edit.newText + t.slice(edit.span.end);
      expect(fixed).toContain("  split train: 0.8, test: 0.2, seed: 1\n  onehot colour\n}");
    }
    expect(moved.d.span.line).toBe(first.d.span.line + 2);
  });
});

describe("special files", () => {
  it("an import of /dev/zero, a data path that is a named pipe, and a spec that is one are located errors, at once", async () => {
    const { FileHost: Host, readSpecFile } = await import("../src/node/host.ts");
    const { execFileSync } = await import("node:child_process");
    const dir = mkdtempSync(join(tmpdir(), "nnspec-special-"));
    try {
      execFileSync("mkfifo", [join(dir, "pipe")]);
      const started = Date.now();
      const imp = new Host().analyse(join(dir, "imp.nnspec"), "imp.nnspec", 'import m from "/dev/zero"\n');
      expect(imp.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual(['NN0210 cannot import "/dev/zero": it is not a regular file']);
      const fifo = new Host().analyse(join(dir, "fifo.nnspec"), "fifo.nnspec", 'data d {\n  from "pipe"\n  label y: regression\n}\n');
      expect(fifo.diagnostics.map((d) => `${d.code}@${d.span.line} ${d.message}`)).toEqual(["NN0601@2 cannot read pipe: it is not a regular file"]);
      expect(() => readSpecFile(join(dir, "pipe"))).toThrow(/not a regular file/);
      expect(Date.now() - started).toBeLessThan(10_000); // nothing blocked on the pipe
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("deep imports", () => {
  it("a chain of imports deeper than MAX_IMPORT_DEPTH is a located error, not a stack overflow", async () => {
    const { FileHost: Host, MAX_IMPORT_DEPTH } = await import("../src/node/host.ts");
    const dir = mkdtempSync(join(tmpdir(), "nnspec-deep-"));
    try {
      const n = MAX_IMPORT_DEPTH + 20;
      for (let i = 0; i < n; i++) writeFileSync(join(dir, `f${i}.nnspec`), `${i < n - 1 ? `import "f${i + 1}.nnspec"\n` : ""}model m${i}(x: [4]) -> [3] {\n  dense 3\n}\n`);
      const top = new Host().analyse(join(dir, "f0.nnspec"), "f0.nnspec");
      expect(top.diagnostics.map((d) => `${d.code}@${d.span.line}`)).toEqual(["NN0210@1"]);
      // The file where the chain gets too deep says so.
      const host = new Host();
      host.analyse(join(dir, "f0.nnspec"), "f0.nnspec");
      const deep = host.analyse(join(dir, `f${MAX_IMPORT_DEPTH - 1}.nnspec`), `f${MAX_IMPORT_DEPTH - 1}.nnspec`);
      expect(deep.diagnostics.map((d) => d.message).join("\n")).toMatch(/imports nest more than \d+ files deep/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("byte order marks", () => {
  it("a UTF-8 BOM before a quoted header is not part of the first column's name", async () => {
    const { readDataHeader } = await import("../src/node/host.ts");
    const dir = mkdtempSync(join(tmpdir(), "nnspec-bom-"));
    try {
      const p = join(dir, "bom.csv");
      writeFileSync(p, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('"a","b","y"\n1,2,0\n')]));
      expect(readDataHeader(p, { skip: 0, header: true })).toEqual({ columns: ["a", "b", "y"], count: 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("rendering text from specs and data", () => {
  it("shows control characters as pictures, never raw, with carets still aligned", async () => {
    const { renderDiagnostic } = await import("../src/diagnostics/render.ts");
    const { LineMap } = await import("../src/diagnostics/span.ts");
    const text = 'data d {\n  from "\u001b[2Jx.csv"\n}\n';
    const lines = new LineMap(text);
    const start = text.indexOf('"');
    const d: Diagnostic = {
      code: "NN0601",
      severity: "error",
      message: "cannot read \u001b[2Jx.csv: no such file",
      file: "a.nnspec",
      span: lines.span(start, start + 12),
      label: "the file\u0007",
      labels: [],
      notes: ["columns: a, \u001b]0;pwned\u0007"],
      help: "did you mean \u009bx?",
      fixes: [],
    };
    for (const color of [false, true]) {
      const out = renderDiagnostic(d, { color, sources: new Map([["a.nnspec", lines]]) });
      // Only our own colour codes (ESC [ ... m) may remain.
      expect(out.replace(/\u001b\[[0-9;]*m/g, "")).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(out).toContain("\u241b[2Jx.csv");
    }
    const plain = renderDiagnostic(d, { color: false, sources: new Map([["a.nnspec", lines]]) }).split("\n");
    const src = plain.findIndex((l) => l.includes('from "'));
    // The caret line starts under the opening quote.
    expect(plain[src + 1].indexOf("^")).toBe(plain[src].indexOf('"'));
  });
});
