/**
 * Generated code for a `split kfold: K` spec cross-validates as `nnspec train` does: the same folds
 * (the data runtime's), a fresh seeded model per fold, scores on the held-out rows, and main()
 * prints the mean ± sd before training the final model.
 */
import * as tf from "@tensorflow/tfjs";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSpecs, writeBuilt } from "../../src/codegen/tfjs/build.ts";
import type { FoldTraining } from "../../src/codegen/tfjs/runtime.ts";
import { crossValidate as tfjsCrossValidate } from "../../src/codegen/tfjs/runtime.ts";
import { loadData } from "../../src/data/index.ts";
import type { LoadedData } from "../../src/data/runtime.ts";
import { FileHost } from "../../src/node/host.ts";
import { crossValidate } from "../../src/runtime/crossval.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { trainConfig } from "../../src/runtime/train.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const work = join(root, "tmp", `codegen-kfold-${process.pid}`);
const spec = join(work, "iris_kfold.nnspec");

interface Module {
  TRAININGS: readonly (FoldTraining & { name: string; loadData(): Promise<LoadedData> })[];
  main(): Promise<void>;
}
let mod: Module;
let source: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  mkdirSync(work, { recursive: true });
  writeFileSync(
    spec,
    readFileSync(join(root, "specs/iris.nnspec"), "utf8")
      .replace('"data/iris.csv"', JSON.stringify(join(root, "specs/data/iris.csv")))
      .replace("split train: 0.7, test: 0.3, stratified, seed: 42", "split kfold: 3, test: 0.3, stratified, seed: 42")
      .replace(/epochs 200/g, "epochs 30"),
  );
  const built = await buildSpecs([spec], { cwd: root, outRoot: join(work, "out") });
  expect(built.errors).toEqual([]);
  writeBuilt(built.files);
  source = built.files[0].text;
  mod = (await import(pathToFileURL(built.files[0].path).href)) as Module;
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("generated k-fold cross-validation", () => {
  it("scores each fold on its held-out rows, in the interpreter's band", async () => {
    // main() runs the helpers' runSpec, which cross-validates whenever the data has folds.
    expect(source).toMatch(/runSpec\(MODELS, TRAININGS\)/);
    const t = mod.TRAININGS.find((x) => x.name === "train iris_mlp on iris")!;
    const data = await t.loadData();
    expect(data.folds).toHaveLength(3);
    const cv = await tfjsCrossValidate(t, data);
    expect(cv.folds).toHaveLength(3);
    expect(Object.keys(cv.mean).sort()).toEqual(["accuracy", "loss"]);
    const acc = cv.folds.map((f) => f.accuracy);
    const mean = acc.reduce((a, b) => a + b, 0) / 3;
    expect(cv.mean.accuracy).toBeCloseTo(mean, 6);

    // The interpreter on the same folds: each side draws its own initial weights from the seed, so
    // the scores agree as a band (30 epochs of iris: both well above chance, means within 0.15).
    const f = new FileHost().analyse(spec, spec);
    const tr = f.checked.trains[1];
    const checked = f.checked.models.get("iris_mlp")!;
    const interp = (await loadData(tr.data!, spec)).data!;
    expect(interp.folds!.map((x) => x.val.n)).toEqual(data.folds!.map((x) => x.val.n));
    const mine = crossValidate(() => RuntimeModel.lower(checked, { seed: 1 }).model!, interp.folds!, trainConfig(tr, {}));
    expect(mine.mean.accuracy).toBeGreaterThan(0.6);
    expect(cv.mean.accuracy).toBeGreaterThan(0.6);
    expect(Math.abs(cv.mean.accuracy - mine.mean.accuracy)).toBeLessThan(0.15);
  });

  it("main() cross-validates first, then trains each block and prints its test metrics", async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(" "));
    try {
      await mod.main();
    } finally {
      console.log = log;
    }
    const cv = lines.findIndex((l) => /^train iris_mlp on iris: cross-validation \(3 folds, held-out rows, mean ± sd\): .*accuracy \d/.test(l));
    const final = lines.findIndex((l) => /^train iris_mlp on iris \(line \d+\): 30 epochs; .*test: .*accuracy/.test(l));
    expect(cv, lines.join("\n")).toBeGreaterThanOrEqual(0);
    expect(final).toBeGreaterThan(cv);
  }, 120_000);
});
