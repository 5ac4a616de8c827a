/**
 * The broken-data corpus (test/data/broken/cases.nnspec): every `data` block reads a broken file and
 * must fail with the diagnostic its `# expect:` comment names, with the file, line and column in the
 * message, a span inside the block that led there, and no data half-loaded.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadData } from "../../src/data/index.ts";
import { CATALOG } from "../../src/diagnostics/catalog.ts";
import { FileHost } from "../../src/node/host.ts";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "broken");
const SPEC = join(DIR, "cases.nnspec");
const text = readFileSync(SPEC, "utf8");
const checked = new FileHost().analyse(SPEC, "test/data/broken/cases.nnspec");
const lines = text.split("\n");

interface Case {
  name: string;
  code: string;
  contains: string;
  loads: boolean;
}

/** Each data block with the `# expect:` / `# loads:` comment on the line above it. */
const cases: Case[] = [...checked.program.data.values()].map((d) => {
  const above = lines[d.node.span.line - 2] ?? "";
  const m = /^# (expect|loads): (NN\d{4}) \| (.*)$/.exec(above);
  if (!m) throw new Error(`data ${d.name} (line ${d.node.span.line}) has no # expect: comment above it`);
  return { name: d.name, code: m[2], contains: m[3], loads: m[1] === "loads" };
});

describe("broken data corpus", () => {
  it("the corpus spec itself parses and resolves cleanly", () => {
    // The checker's own look at data headers (NN04xx) may flag some cases before loading; the
    // syntax and the statements (NN00xx–NN02xx) must be clean.
    const front = checked.diagnostics.filter((d) => d.severity === "error" && /^NN0[012]/.test(d.code));
    expect(front.map((d) => `${d.code} ${d.message}`)).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it("covers every data error code of the catalog", () => {
    // NN0623 (a data file not there yet) is the checker's, not the loader's: test/cases covers it.
    const dataCodes = Object.values(CATALOG)
      .filter((e) => e !== CATALOG.dataFileNotFound)
      .map((e) => e.code)
      .filter((c) => c.startsWith("NN06"));
    const covered = new Set(cases.map((c) => c.code));
    expect(dataCodes.filter((c) => !covered.has(c))).toEqual([]);
  });

  for (const c of cases) {
    it(`${c.name}: ${c.code}`, async () => {
      const spec = checked.program.data.get(c.name)!;
      const r = await loadData(spec, SPEC);
      const first = r.diagnostics[0];
      expect(first, `no diagnostic for ${c.name}`).toBeDefined();
      expect(`${first.code} ${first.message}`).toContain(`${c.code} `);
      expect(first.message).toContain(c.contains);
      // The span lies inside this data block of the spec, and inside the spec's text.
      expect(first.file).toBe(spec.file);
      expect(first.span.start).toBeGreaterThanOrEqual(spec.node.span.start);
      expect(first.span.end).toBeLessThanOrEqual(spec.node.span.end);
      expect(first.span.end).toBeLessThanOrEqual(text.length);
      if (c.loads) {
        expect(first.severity).toBe("warning");
        expect(r.data).toBeDefined();
      } else {
        expect(first.severity).toBe("error");
        expect(r.data).toBeUndefined();
      }
    });
  }

  it("suggests the column meant, with a fix", async () => {
    const r = await loadData(checked.program.data.get("unknown_column")!, SPEC);
    expect(r.diagnostics[0].help).toBe("did you mean `petal_length`?");
    const edit = r.diagnostics[0].fixes[0].edits[0];
    expect(text.slice(edit.span.start, edit.span.end)).toBe("petal_lenght");
    expect(edit.newText).toBe("petal_length");
  });

  it("suggests the class name meant", async () => {
    const r = await loadData(checked.program.data.get("unknown_class_name")!, SPEC);
    expect(r.diagnostics[0].help).toBe("did you mean `setosa`?");
  });

  it("points a forgotten header at `header: true`", async () => {
    const r = await loadData(checked.program.data.get("header_forgotten")!, SPEC);
    expect(r.diagnostics[0].help).toContain("header: true");
  });

  it("points cell errors at the `from` line", async () => {
    const spec = checked.program.data.get("non_numeric")!;
    const r = await loadData(spec, SPEC);
    const from = spec.statements.get("from")!;
    expect(r.diagnostics[0].span).toEqual(from.options.spans.get("/path"));
  });

  it("points errors in a labels file at its `labels:` value", async () => {
    const spec = checked.program.data.get("idx_label_out_of_range")!;
    const r = await loadData(spec, SPEC);
    expect(r.diagnostics[0].span).toEqual(spec.statements.get("from")!.options.spans.get("/labels"));
  });

  it("reports a text column once, with `onehot` as the fix", async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},x${i},0`).join("\n");
    const r = await loadData(checked.program.data.get("non_numeric")!, SPEC, {
      read: async (_abs, shown) => (await import("../../src/data/node/read.ts")).parseText(`a,b,y\n${rows}\n`, shown, { header: true }),
    });
    expect(r.data).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NN0604"]);
    expect(r.diagnostics[0].help).toContain("onehot b");
    expect(r.diagnostics[0].fixes[0].edits[0].newText).toContain("onehot b");
  });

  it("reports several bad cells, and stops after ten", async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},,0`).join("\n");
    const r = await loadData(checked.program.data.get("non_numeric")!, SPEC, {
      read: async (_abs, shown) => (await import("../../src/data/node/read.ts")).parseText(`a,b,y\n${rows}\n`, shown, { header: true }),
    });
    expect(r.data).toBeUndefined();
    expect(r.diagnostics).toHaveLength(10);
    expect(new Set(r.diagnostics.map((d) => d.code)).size).toBe(1);
    expect(r.diagnostics[1].message).toContain("line 3, column 1");
    expect(r.diagnostics[9].notes.join(" ")).toContain("stopped after 10 problems");
  });
});

describe("loading never throws", () => {
  const specs = [
    `from "f" header: true\n  label 0: class(3)`,
    `from "f" format: whitespace, skip: 1\n  label 1..2: binary\n  missing mean\n  standardize\n  split train: 0.5, val: 0.25, stratified, seed: 3`,
    `from "f" format: idx, labels: "f"\n  label class(10)\n  reshape [28, 28, 1]`,
    `from "f" delimiter: ";"\n  features 0..3\n  label 4: onehot(2)\n  onehot 1\n  split kfold: 3`,
  ];
  it("on random bytes and random near-CSV text, with any of several specs", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const fc = (await import("fast-check")).default;
    const dir = mkdtempSync(join(tmpdir(), "nnspec-fuzz-"));
    try {
      const text = fc.array(fc.constantFrom("0", "1", "2", "x", ",", ";", " ", "\n", "\r", '"', "NaN", "", "-", "."), { maxLength: 200 }).map((a) => Buffer.from(a.join("")));
      const bytes = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));
      await fc.assert(
        fc.asyncProperty(fc.oneof(text, bytes), fc.constantFrom(...specs), async (content, body) => {
          const file = join(dir, "fuzz.nnspec");
          writeFileSync(join(dir, "f"), content);
          writeFileSync(file, `data fuzz {\n  ${body}\n}\n`);
          const c = new FileHost().analyse(file, "fuzz.nnspec");
          const r = await loadData(c.program.data.get("fuzz")!, file);
          expect(r.data !== undefined || r.diagnostics.some((d) => d.severity === "error")).toBe(true);
          for (const d of r.diagnostics) expect(d.span.end).toBeLessThanOrEqual(c.text.length);
        }),
        { numRuns: 150 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
