/**
 * Time series (`window`): each example is `size` consecutive rows, labelled `horizon` rows after
 * the window's last; the split cuts the rows in time order and windows each part on its own, so no
 * window reads a row of another part; preprocessing is fitted on the training rows.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadData, type LoadedData } from "../../src/data/index.ts";
import { FileHost } from "../../src/node/host.ts";

// the spec is written beside a copy of the series, outside the repository
const DIR = mkdtempSync(join(tmpdir(), "nnspec-window-"));
copyFileSync(join(import.meta.dirname, "series", "ramp.csv"), join(DIR, "ramp.csv"));

async function load(body: string, model = ""): Promise<{ data?: LoadedData; codes: string[] }> {
  const file = join(DIR, "spec.nnspec");
  writeFileSync(file, `data s {\n  from "ramp.csv" header: true\n${body}\n}\n${model}`);
  const checked = new FileHost().analyse(file, "spec.nnspec");
  const r = await loadData(checked.program.data.get("s")!, file);
  return { data: r.data, codes: [...new Set([...checked.diagnostics, ...r.diagnostics].filter((d) => d.severity === "error").map((d) => d.code))] };
}

describe("window", () => {
  it("cuts each part of the split into windows of its own rows, labelled horizon rows later", async () => {
    const { data, codes } = await load(`  features value, noise\n  label value: regression\n  window 4, horizon: 1, stride: 2\n  split train: 0.5, val: 0.2, test: 0.3`);
    expect(codes).toEqual([]);
    const d = data!;
    expect(d.train.featureShape).toEqual([4, 2]);
    // rows 0..14 train: windows start at 0, 2, ..., 10 (the label of the last is row 14)
    expect(d.train.n).toBe(6);
    for (let k = 0; k < d.train.n; k++) {
      const x = Array.from(d.train.x.subarray(k * 8, (k + 1) * 8)).filter((_, i) => i % 2 === 0);
      expect(x).toEqual([2 * k, 2 * k + 1, 2 * k + 2, 2 * k + 3]);
      expect(d.train.y[k]).toBe(2 * k + 4);
    }
    // every window and its label lie inside one part
    const parts = [d.train, d.val, d.test];
    const ranges = parts.map((p) => [Math.min(...Array.from({ length: p.n * 4 }, (_, i) => p.x[i * 2])), Math.max(...Array.from(p.y))]);
    expect(ranges[0][1]).toBeLessThan(ranges[1][0]);
    expect(ranges[1][1]).toBeLessThan(ranges[2][0]);
    expect(d.val.n + d.test.n).toBeGreaterThan(0);
  });

  it("fits standardize on the training rows only", async () => {
    const { data } = await load(`  features value\n  label value: regression\n  standardize\n  window 3, horizon: 0\n  split train: 0.5, test: 0.5`);
    const f = data!.stats.features[0];
    // rows 0..14: mean 7, population sd sqrt(18.67)
    expect(f.mean).toBeCloseTo(7, 10);
    expect(f.std).toBeCloseTo(Math.sqrt(280 / 15), 10);
    // horizon 0 labels the window's last row
    expect(data!.train.y[0]).toBe(2);
  });

  it("refuses cross-validation, which would train on the future, and checks the model's input against [size, features]", async () => {
    expect((await load(`  features value\n  label value: regression\n  window 3\n  split kfold: 3`)).codes).toEqual(["NN0614"]);
    const model = `model m(x: [4, 1]) -> y: [1] {\n  lstm 2\n  dense 1\n}\ntrain m on s {\n  loss mse\n  optimizer adam\n}\n`;
    expect((await load(`  features value\n  label value: regression\n  window 3`, model)).codes).toContain("NN0406");
    expect((await load(`  features value\n  label value: regression\n  window 4`, model)).codes).toEqual([]);
  });
});
