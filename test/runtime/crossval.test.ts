/**
 * `split kfold: K`: `nnspec train` cross-validates (K fresh models, each scored on its held-out
 * fold) before training the final model on every non-test row, and reports each fold and the
 * mean ± sd in the terminal, report.txt, report.json and --json.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainCommand } from "../../src/cli/commands/train.ts";
import { loadData } from "../../src/data/index.ts";
import { FileHost } from "../../src/node/host.ts";
import { crossValidate } from "../../src/runtime/crossval.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { evaluate, train, trainConfig } from "../../src/runtime/train.ts";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { text: () => out.join(""), errors: () => err.join(""), io: { stdout: { write: (s: string) => out.push(s), isTTY: false }, stderr: { write: (s: string) => err.push(s) } } };
}

const dir = mkdtempSync(join(tmpdir(), "nnspec-kfold-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** specs/iris.nnspec with 4-fold cross-validation on the 70% that is not test, and 20 epochs. */
const SPEC = join(dir, "iris-kfold.nnspec");
writeFileSync(
  SPEC,
  readFileSync("specs/iris.nnspec", "utf8")
    .replace('"data/iris.csv"', JSON.stringify(resolve("specs/data/iris.csv")))
    .replace("split train: 0.7, test: 0.3, stratified, seed: 42", "split kfold: 4, test: 0.3, stratified, seed: 42")
    .replace(/epochs 200/g, "epochs 20"),
);

describe("k-fold cross-validation", () => {
  it("scores a fresh model per fold on the fold's held-out rows", async () => {
    const f = new FileHost().analyse(SPEC, SPEC);
    const t = f.checked.trains[1];
    const checked = f.checked.models.get(t.model!.name)!;
    const cfg = trainConfig(t, {});
    const data = (await loadData(t.data!, SPEC)).data!;
    expect(data.folds).toHaveLength(4);
    const folds = data.folds!;
    // The held-out parts cover the non-test rows once.
    expect(folds.reduce((s, fo) => s + fo.val.n, 0)).toBe(data.train.n);
    for (const fo of folds) expect(fo.train.n + fo.val.n).toBe(data.train.n);

    const cv = crossValidate(() => RuntimeModel.lower(checked, { seed: cfg.seed }).model!, folds, cfg);
    expect(cv.folds.map((r) => r.n)).toEqual(folds.map((fo) => fo.val.n));
    // Fold 3 by hand: a model from the seed, trained on the fold's rows, evaluated on its held-out rows.
    const m = RuntimeModel.lower(checked, { seed: cfg.seed }).model!;
    train(m, { train: folds[2].train, val: folds[2].val }, cfg);
    const ev = evaluate(m, folds[2].val, cfg.loss);
    expect(cv.folds[2].values.loss).toBe(ev.loss);
    expect(cv.folds[2].values.accuracy).toBe(ev.report.values.accuracy);
    // Different folds score differently, and the summary is their mean and sample sd.
    const acc = cv.folds.map((r) => r.values.accuracy);
    expect(new Set(cv.folds.map((r) => r.values.loss)).size).toBe(4);
    const mean = acc.reduce((a, b) => a + b, 0) / 4;
    expect(cv.mean.accuracy).toBeCloseTo(mean, 12);
    expect(cv.sd.accuracy).toBeCloseTo(Math.sqrt(acc.reduce((a, x) => a + (x - mean) ** 2, 0) / 3), 12);
  });

  it("nnspec train reports the folds, then trains the final model on every non-test row", async () => {
    const out = join(dir, "out");
    const t = io();
    expect(await trainCommand([SPEC, "--train", "iris_mlp", "--out", out], t.io)).toBe(0);
    const text = t.text();
    expect(text).toMatch(/cross-validation, 4 folds/);
    expect(text.match(/^fold \d\/4 {2}20 epoch\(s\) {2}held out \d+: loss [\d.]+ {2}accuracy [\d.]+$/gm)).toHaveLength(4);
    expect(text).toMatch(/cross-validation \(4 folds, held-out rows, mean ± sd\): loss [\d.]+ ± [\d.]+ {2}accuracy [\d.]+ ± [\d.]+/);
    expect(text).toMatch(/final model: trained on all 105 non-test rows/);
    expect(text).toMatch(/test \(45 examples\)/);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.crossValidation.folds).toHaveLength(4);
    expect(report.crossValidation.mean.accuracy).toBeGreaterThan(0.5);
    expect(readFileSync(join(out, "report.txt"), "utf8")).toMatch(/cross-validation \(4 folds/);
    const j = io();
    expect(await trainCommand([SPEC, "--train", "iris_mlp", "--out", join(dir, "out-json"), "--json"], j.io)).toBe(0);
    const runs = JSON.parse(j.text()).runs;
    expect(runs[0].crossValidation.mean).toEqual(report.crossValidation.mean);
  });
});
