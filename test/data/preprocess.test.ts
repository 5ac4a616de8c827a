/**
 * Preprocessing: fitted on the training split only (no leakage), reapplied from plain JSON, and the
 * `data` statements that drive it (keep, missing, onehot, minmax, reshape, labels files, k-fold).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadData, type LoadedData, type TableReader } from "../../src/data/index.ts";
import { parseText } from "../../src/data/node/read.ts";
import { fit, matrixFromRows, transform, type FittedStats } from "../../src/data/preprocess.ts";
import { DiagnosticSink } from "../../src/diagnostics/diagnostic.ts";
import type { DataSpec } from "../../src/lang/program.ts";
import { resolve } from "../../src/lang/resolve.ts";
import { parse } from "../../src/syntax/parse.ts";

function specOf(body: string, name = "d"): DataSpec {
  const text = `data ${name} {\n${body}\n}\n`;
  const p = parse(text, "mem.nnspec");
  const sink = new DiagnosticSink("mem.nnspec");
  const program = resolve(p.ast, sink);
  const errors = [...p.diagnostics, ...sink.items].filter((d) => d.severity === "error");
  if (errors.length) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join("; "));
  return program.data.get(name)!;
}

/** A reader over in-memory files, through the real text parser. */
const memory =
  (files: Record<string, string>): TableReader =>
  async (_abs, shown, opts) =>
    shown in files ? parseText(files[shown], shown, opts) : { problems: [{ key: "dataFileUnreadable", params: { path: shown, reason: "no such file" } }] };

async function loadMem(body: string, files: Record<string, string>): Promise<LoadedData> {
  const r = await loadData(specOf(body), "/mem/mem.nnspec", { read: memory(files) });
  if (!r.data) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join("; "));
  return r.data;
}

const csv = (header: string[], rows: (number | string)[][]) => [header.join(","), ...rows.map((r) => r.join(","))].join("\n") + "\n";

/** Rows of k numeric features and a class label 0..2. */
const tableArb = fc.integer({ min: 1, max: 4 }).chain((k) =>
  fc.tuple(
    fc.constant(k),
    fc.array(fc.tuple(fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true, noDefaultInfinity: true }), { minLength: k, maxLength: k }), fc.integer({ min: 0, max: 2 })), { minLength: 12, maxLength: 80 }),
  ),
);

describe("no leakage: statistics come from the training split only", () => {
  it("standardize and minmax: changing val/test rows changes neither the statistics nor the training tensors", async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, fc.integer(), fc.constantFrom("standardize", "minmax", "standardize\n  minmax range: [-1, 1]"), async ([k, rows], seed, stmt) => {
        const header = [...Array.from({ length: k }, (_, j) => `f${j}`), "y"];
        const body = `  from "t.csv" header: true\n  label y: class(3)\n  ${stmt}\n  split train: 0.6, val: 0.2, test: 0.2, seed: ${seed}`;
        const a = await loadMem(body, { "t.csv": csv(header, rows.map(([f, y]) => [...f, y])) });
        // Scramble every row outside the training split.
        const train = new Set(a.train.rows);
        const scrambled = rows.map(([f, y], i) => (train.has(i) ? [...f, y] : [...f.map((v) => v * 1000 + 12345), y]));
        const b = await loadMem(body, { "t.csv": csv(header, scrambled) });
        expect([...b.train.rows]).toEqual([...a.train.rows]);
        expect(b.stats).toEqual(a.stats);
        expect(Buffer.from(b.train.x.buffer).equals(Buffer.from(a.train.x.buffer))).toBe(true);
        // The statistics are those of the training rows alone.
        const trainRows = [...a.train.rows].map((i) => rows[i][0]);
        for (let j = 0; j < k; j++) {
          const col = trainRows.map((r) => r[j]);
          const f = a.stats.features[j];
          if (f.mean !== undefined) {
            const mean = col.reduce((s, v) => s + v, 0) / col.length;
            expect(f.mean).toBeCloseTo(mean, 6);
          }
          if (f.min !== undefined && !stmt.includes("standardize")) {
            expect(f.min).toBe(Math.min(...col));
            expect(f.max).toBe(Math.max(...col));
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it("the training split is standardized to mean 0 and deviation 1; val and test are not re-fitted", async () => {
    const rows = Array.from({ length: 40 }, (_, i) => [i, i % 7, i % 3]);
    const d = await loadMem(`  from "t.csv" header: true\n  label y: class(3)\n  standardize\n  split train: 0.5, test: 0.5, seed: 9`, { "t.csv": csv(["a", "b", "y"], rows) });
    const col = (x: Float32Array, n: number, j: number) => Array.from({ length: n }, (_, i) => x[i * 2 + j]);
    const a = col(d.train.x, d.train.n, 0);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(1e-6);
    expect(sd).toBeCloseTo(1, 5);
    // The test split uses the training mean and deviation: its raw values map through them.
    const f = d.stats.features[0];
    for (let i = 0; i < d.test.n; i++) expect(d.test.x[i * 2]).toBeCloseTo((rows[d.test.rows[i]][0] - f.mean!) / f.std!, 5);
  });

  it("missing mean fills with the training mean, whatever the other rows hold", async () => {
    const rows: (number | string)[][] = Array.from({ length: 20 }, (_, i) => [i, i % 2]);
    rows[3][0] = "";
    const body = `  from "t.csv" header: true\n  label y: binary\n  missing mean\n  split train: 0.5, test: 0.5, seed: 4`;
    const d = await loadMem(body, { "t.csv": csv(["a", "y"], rows) });
    const trainVals = [...d.train.rows].filter((r) => r !== 3).map((r) => rows[r][0] as number);
    const mean = trainVals.reduce((s, v) => s + v, 0) / trainVals.length;
    expect(d.stats.features[0].fill).toBeCloseTo(mean, 10);
    const where = d.train.rows.indexOf(3) >= 0 ? d.train : d.test;
    expect(where.x[where.rows.indexOf(3)]).toBeCloseTo(mean, 4);
  });

  it("onehot learns its categories from the training split; a category seen only in test encodes as zeros", async () => {
    const rows = [
      ["red", 1, 0],
      ["blue", 2, 1],
      ["red", 3, 0],
      ["green", 4, 1],
      ["blue", 5, 0],
      ["purple", 6, 1],
    ];
    const d = await loadMem(`  from "t.csv" header: true\n  label y: binary\n  onehot color\n  split train: 5, test: 1, shuffle: false`, { "t.csv": csv(["color", "n", "y"], rows) });
    expect(d.stats.features[0].categories).toEqual(["blue", "green", "red"]);
    expect(d.featureNames).toEqual(["color=blue", "color=green", "color=red", "n"]);
    expect([...d.train.x.slice(0, 4)]).toEqual([0, 0, 1, 1]);
    expect([...d.test.x]).toEqual([0, 0, 0, 6]);
  });

  it("k-fold fits every fold on that fold's training rows", async () => {
    const rows = Array.from({ length: 30 }, (_, i) => [i * i, i % 3]);
    const d = await loadMem(`  from "t.csv" header: true\n  label y: class(3)\n  standardize\n  split kfold: 3, stratified, seed: 1`, { "t.csv": csv(["a", "y"], rows) });
    expect(d.folds).toHaveLength(3);
    for (const f of d.folds!) {
      const vals = [...f.train.rows].map((r) => rows[r][0]);
      expect(f.stats.features[0].mean).toBeCloseTo(vals.reduce((s, v) => s + v, 0) / vals.length, 6);
      expect(f.train.n + f.val.n).toBe(30);
      expect(new Set([...f.train.rows, ...f.val.rows]).size).toBe(30);
    }
    expect(new Set(d.folds!.map((f) => f.stats.features[0].mean)).size).toBe(3);
  });
});

describe("fitted statistics are plain JSON that predict reapplies", () => {
  it("transform(JSON round trip of stats) on plain rows reproduces the loaded test tensors", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => [(i * 37) % 11, i % 5 === 0 ? "x" : "z", (i * 13) % 7, i % 2]);
    const d = await loadMem(`  from "t.csv" header: true\n  label y: binary\n  onehot kind\n  scale 0.5\n  standardize a\n  minmax b range: [-1, 1]\n  split train: 0.7, test: 0.3, seed: 11`, {
      "t.csv": csv(["a", "kind", "b", "y"], rows),
    });
    const saved: FittedStats = JSON.parse(JSON.stringify(d.stats));
    expect(saved).toEqual(d.stats);
    const fresh = [...d.test.rows].map((r) => rows[r].slice(0, 3) as (number | string)[]);
    const x = transform(matrixFromRows(fresh), saved);
    expect([...x]).toEqual([...d.test.x]);
    expect(saved.label).toEqual({ kind: "binary", columns: ["y"] });
  });

  it("fit handles constant features and reshape with -1", () => {
    const m = matrixFromRows([
      [1, 5],
      [1, 7],
      [1, 9],
      [1, 11],
    ]);
    const stats = fit(m, { names: ["c", "v"], standardize: [0, 1], minmax: { features: [0] }, shape: [-1, 1] });
    expect(stats.features[0]).toMatchObject({ mean: 1, std: 1, min: 0, max: 0 });
    expect(stats.shape).toEqual([2, 1]);
    const x = transform(m, stats);
    expect([...x.filter((_, i) => i % 2 === 0)]).toEqual([0, 0, 0, 0]);
  });
});

describe("data statements", () => {
  it("keep filters rows by number or text, before the split", async () => {
    const rows = Array.from({ length: 30 }, (_, i) => [i, ["a", "b", "c"][i % 3], i % 3]);
    const d = await loadMem(`  from "t.csv" header: true\n  features n\n  keep kind: [a, c]\n  label y: class(3)`, { "t.csv": csv(["n", "kind", "y"], rows) });
    expect(d.provenance.source).toMatchObject({ rowsRead: 30, rowsKept: 20, droppedByKeep: 10 });
    expect(new Set(d.train.y)).toEqual(new Set([0, 2]));
    const e = await loadMem(`  from "t.csv" header: true\n  features n\n  keep y: [1]\n  label y: class(3)`, { "t.csv": csv(["n", "kind", "y"], rows) });
    expect(e.train.n).toBe(10);
  });

  it("codes reads a category column as the position of its value in the list, and transform reapplies it", async () => {
    const file = { "t.csv": "sex,len,y\nM,0.5,1\nF,0.25,0\nI,0.75,1\nM,1,0\n3,0.5,1\n" };
    const d = await loadMem(`  from "t.csv" header: true\n  features sex, len\n  codes sex: [F, M, I, 3]\n  standardize len\n  label y: binary`, file);
    expect(Array.from({ length: 5 }, (_, i) => d.train.x[i * 2])).toEqual([1, 0, 2, 1, 3]);
    expect(d.stats.features[0]).toMatchObject({ name: "sex", kind: "numeric", codes: ["F", "M", "I", "3"] });
    expect(d.stats.features[0].mean).toBeUndefined();
    // new rows, as predict reads them: text and numbers alike; a value outside the list is missing
    const x = transform(matrixFromRows([["I", 0.6], ["F", 0.6], [3, 0.6], ["X", 0.6]]), d.stats);
    expect([x[0], x[2], x[4]]).toEqual([2, 0, 3]);
    expect(x[6]).toBeNaN();
    // the column may also be standardized, after coding
    const s = await loadMem(`  from "t.csv" header: true\n  features sex, len\n  codes sex: [F, M, I, 3]\n  standardize\n  label y: binary`, file);
    expect(s.stats.features[0].mean).toBeCloseTo(1.4, 12);
  });

  it("missing drop removes rows with empty or NaN cells before the split", async () => {
    const d = await loadMem(`  from "t.csv" header: true\n  label y: binary\n  missing drop`, { "t.csv": "a,b,y\n1,2,0\n,3,1\n4,NaN,0\n5,6,\n7,8,1\n" });
    expect(d.provenance.source).toMatchObject({ rowsRead: 5, rowsKept: 2, droppedMissing: 3 });
    expect([...d.train.x]).toEqual([1, 2, 7, 8]);
  });

  it("text class labels map through `names`, or through their sorted distinct values", async () => {
    const file = { "t.csv": "a,s\n1,virginica\n2,setosa\n3,versicolor\n4,setosa\n" };
    const named = await loadMem(`  from "t.csv" header: true\n  label s: class(3, names: [virginica, setosa, versicolor])`, file);
    expect([...named.train.y]).toEqual([0, 1, 2, 1]);
    const sorted = await loadMem(`  from "t.csv" header: true\n  label s: class(3)`, file);
    expect(sorted.classNames).toEqual(["setosa", "versicolor", "virginica"]);
    expect([...sorted.train.y]).toEqual([2, 0, 1, 0]);
    const onehot = await loadMem(`  from "t.csv" header: true\n  label s: onehot(3)`, file);
    expect(onehot.train.labelShape).toEqual([3]);
    expect([...onehot.train.y]).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0]);
  });

  it("multi-column binary labels, label ranges and name ranges", async () => {
    const d = await loadMem(`  from "t.csv" header: true\n  features a..b\n  label 2..3: binary`, { "t.csv": "a,b,t1,t2\n1,2,0,1\n3,4,1,1\n" });
    expect(d.train.labelShape).toEqual([2]);
    expect([...d.train.y]).toEqual([0, 1, 1, 1]);
    expect(d.label.columns).toEqual(["t1", "t2"]);
  });

  it("reshape and scale turn flat pixels into images", async () => {
    const rows = Array.from({ length: 3 }, (_, r) => [...Array.from({ length: 4 }, (_, i) => (r * 4 + i) * 10), r % 2]);
    const d = await loadMem(`  from "t.csv"\n  label 4: binary\n  scale 1 / 10\n  reshape [2, 2, 1]`, { "t.csv": rows.map((r) => r.join(",")).join("\n") });
    expect(d.train.featureShape).toEqual([2, 2, 1]);
    expect([...d.train.x.slice(4, 8)]).toEqual([4, 5, 6, 7]);
  });

  it("a separate labels file supplies the label, row for row", async () => {
    const d = await loadMem(`  from "x.txt" format: whitespace, labels: "y.txt"\n  columns p, q\n  label regression`, { "x.txt": "1 2\n3   4\n\n5\t6\n", "y.txt": "10\n20\n30\n" });
    expect([...d.train.x]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...d.train.y]).toEqual([10, 20, 30]);
    expect(d.label.columns).toEqual(["label"]);
  });

  it("test_from supplies the test split, transformed with the training statistics", async () => {
    const d = await loadMem(`  from "train.csv" header: true\n  test_from "test.csv" header: true\n  label y: binary\n  standardize\n  split train: 0.75, val: 0.25, seed: 2`, {
      "train.csv": "a,y\n0,0\n2,1\n4,0\n6,1\n",
      "test.csv": "a,y\n100,1\n",
    });
    expect([d.train.n, d.val.n, d.test.n]).toEqual([3, 1, 1]);
    const f = d.stats.features[0];
    expect(d.test.x[0]).toBeCloseTo((100 - f.mean!) / f.std!, 4);
    expect(d.provenance.test).toMatchObject({ file: "test.csv", rowsRead: 1 });
  });
});

describe("the shared core stays pure", () => {
  it("no module of src/data/ but index.ts and node/ uses Node APIs, so generated tfjs code can import it", async () => {
    const { readdirSync, readFileSync } = await import("node:fs");
    const { dirname, join } = await import("node:path");
    const { fileURLToPath } = await import("node:url");
    const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "data");
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "index.ts")) {
      const src = readFileSync(join(dir, f), "utf8");
      expect(src, f).not.toMatch(/from "node:|\bBuffer\b|\bprocess\.|\brequire\(/);
      expect(src, f).not.toMatch(/from "\.\/node\//);
    }
    expect(readFileSync(join(dir, "random.ts"), "utf8")).not.toMatch(/^import /m);
  });
});
