/** The README's own examples do what it says: the tour's spec, copied as written, checks and trains. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadData } from "../src/data/index.ts";
import { RuntimeModel } from "../src/runtime/model.ts";
import { checkTrainable, train, trainConfig } from "../src/runtime/train.ts";
import { analyse } from "./runtime/helpers.ts";

const readme = readFileSync(resolve("README.md"), "utf8");

describe("README", () => {
  it("the five-minute tour's spec checks clean and trains (as if saved in specs/)", async () => {
    const tour = readme.slice(readme.indexOf("## A five-minute tour"));
    const text = /```nnspec\n([\s\S]*?)```/.exec(tour)![1];
    expect(text).toContain("standardize features");
    const f = analyse(text, "tour.nnspec");
    expect(f.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
    const t = f.checked.trains[0];
    const cfg = trainConfig(t, { epochs: 2 });
    const { data, diagnostics } = await loadData(t.data!, resolve("specs/tour.nnspec"));
    expect(diagnostics).toEqual([]);
    const { model } = RuntimeModel.lower(f.checked.models.get(t.model!.name)!, { seed: cfg.seed });
    expect(checkTrainable(model!, cfg, data!)).toEqual([]);
    const r = train(model!, { train: data!.train, val: data!.val }, cfg);
    expect(r.history).toHaveLength(2);
    expect(Number.isFinite(r.history[1].values.loss)).toBe(true);
  });
});
