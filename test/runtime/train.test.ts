/**
 * The training loop: reproducibility, early stopping with restore, the NaN stop, schedules,
 * metrics, and fused cross-entropy on huge logits.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { named } from "../../src/kinds/index.ts";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadData, type LoadedData } from "../../src/data/index.ts";
import { lossKernel } from "../../src/kinds/losses/kernels.ts";
import { MetricAccumulator } from "../../src/kinds/metrics/kernel.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { Plan } from "../../src/runtime/plan.ts";
import { AllocationError } from "../../src/core/kernel.ts";
import { Rng } from "../../src/core/rng.ts";
import { TrainStep } from "../../src/runtime/step.ts";
import { evaluate, Evaluator, penalty, predict, scheduledLr, train, trainConfig, type Split, type TrainConfig } from "../../src/runtime/train.ts";
import { FileHost } from "../../src/node/host.ts";
import { bytesOf, modelOf, specFile } from "./helpers.ts";

async function iris(): Promise<{ data: LoadedData; cfg: TrainConfig; model: () => RuntimeModel }> {
  const f = specFile("specs/iris.nnspec");
  const t = f.checked.trains[1];
  const { data } = await loadData(t.data!, resolve("specs/iris.nnspec"));
  const cfg = trainConfig(t, { epochs: 30 });
  return { data: data!, cfg, model: () => RuntimeModel.lower(f.checked.models.get("iris_mlp")!, { seed: cfg.seed }).model! };
}

function synthetic(n: number, features: number, seed: number, f: (x: Float32Array) => number): Split & { y: Float32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * features);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < features; j++) x[i * features + j] = rng.normal();
    y[i] = f(x.subarray(i * features, (i + 1) * features));
  }
  return { x, y, n, featureShape: [features], labelShape: [] };
}

describe("training loop", () => {
  it("is bit-for-bit reproducible for a seed, and the seed matters", async () => {
    const { data, cfg, model } = await iris();
    const a = model();
    const ra = train(a, data, cfg);
    const b = model();
    const rb = train(b, data, cfg);
    expect(rb.history.map((h) => h.values)).toEqual(ra.history.map((h) => h.values));
    a.params.forEach((p, i) => expect(bytesOf(b.params[i].value).equals(bytesOf(p.value))).toBe(true));
    expect(Array.from(predict(a, data.test.x, data.test.n))).toEqual(Array.from(predict(b, data.test.x, data.test.n)));
    const c = RuntimeModel.lower(specFile("specs/iris.nnspec").checked.models.get("iris_mlp")!, { seed: 2 }).model!;
    train(c, data, { ...cfg, seed: 2 });
    expect(Array.from(c.params[0].value)).not.toEqual(Array.from(a.params[0].value));
  });

  it("learns iris and reports test metrics", async () => {
    const { data, cfg, model } = await iris();
    const m = model();
    const r = train(m, data, { ...cfg, epochs: 100 });
    expect(r.stop.reason).toBe("completed");
    expect(r.history[99].values.loss).toBeLessThan(r.history[0].values.loss / 5);
    const test = evaluate(m, data.test, cfg.loss);
    expect(test.report.values.accuracy).toBeGreaterThan(0.9);
    expect(test.report.confusion!.flat().reduce((a, b) => a + b, 0)).toBe(data.test.n);
    // predict agrees with evaluate's accuracy
    const out = predict(m, data.test.x, data.test.n);
    let right = 0;
    for (let i = 0; i < data.test.n; i++) {
      const row = Array.from(out.subarray(i * 3, i * 3 + 3));
      if (row.indexOf(Math.max(...row)) === data.test.y[i]) right++;
    }
    expect(right / data.test.n).toBeCloseTo(test.report.values.accuracy, 10);
  });

  it("learns the real digits with a CNN (conv, pool, dense on the SIMD products)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnspec-cnn-"));
    try {
      const path = join(dir, "digits_cnn.nnspec");
      writeFileSync(
        path,
        `data digits {
  from ${JSON.stringify(resolve("specs/data/digits.csv.gz"))} header: false
  features 0..63
  label 64: class(10)
  scale 1 / 16
  reshape [8, 8, 1]
  split train: 0.8, test: 0.2, stratified, seed: 42
}
model cnn(image: [8, 8, 1]) -> logits: [10] {
  conv2d 16 kernel: 3 padding: same relu
  maxpool2d 2
  conv2d 32 kernel: 3 relu
  flatten
  dense 10
}
train cnn on digits {
  loss sparse_cross_entropy(from_logits: true)
  optimizer adam lr: 0.003
  epochs 6
  batch 32
  seed 1
}
`,
      );
      const f = new FileHost().analyse(path, path);
      expect(f.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const t = f.checked.trains[0];
      const { data } = await loadData(t.data!, path);
      const cfg = trainConfig(t);
      const m = RuntimeModel.lower(f.checked.models.get("cnn")!, { seed: cfg.seed }).model!;
      const r = train(m, { train: data!.train }, cfg);
      expect(r.history[5].values.loss).toBeLessThan(r.history[0].values.loss / 2);
      expect(evaluate(m, data!.test, cfg.loss).report.values.accuracy).toBeGreaterThan(0.95);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("counts a frozen layer's L2 penalty in the training loss, as in evaluation, without moving it", () => {
    const m = RuntimeModel.lower(modelOf("model f(x: [3]) -> [2] {\n  dense 4 l2: 0.5 trainable: false\n  dense 2 l2: 0.1\n}"), { seed: 1 }).model!;
    const step = new TrainStep(m, 4, named("loss", "mse"), named("optimizer", "sgd", { lr: 0.1 }), 2);
    step.plan.input(0).set([1, 2, 3, -1, 0, 1, 2, 2, 2, 0, 0, 1]);
    step.labels.set([1, 0, 0, 1, 1, 1, 0, 0]);
    const frozen = Float32Array.from(m.params[0].value);
    const total = step.gradients(4);
    expect(total - step.loss.compute(4)).toBeCloseTo(penalty(m), 6);
    expect(penalty(m)).toBeGreaterThan(0.5 * frozen.reduce((a, v) => a + v * v, 0) - 1e-6);
    step.optimizer.step(0.1);
    expect(Array.from(m.params[0].value)).toEqual(Array.from(frozen));
  });

  it("stops early and restores the best epoch's weights", () => {
    // Labels unrelated to the features: the validation loss soon rises while training memorizes.
    const tr = synthetic(64, 8, 1, () => 0);
    const rng = new Rng(9);
    for (let i = 0; i < tr.n; i++) tr.y[i] = Math.floor(rng.uniform() * 3);
    const val = synthetic(64, 8, 2, () => Math.floor(rng.uniform() * 3));
    const m = RuntimeModel.lower(modelOf(`model m(x: [8]) -> y: [3] {\n  dense 64 relu\n  dense 3\n}`), { seed: 1 }).model!;
    const cfg: TrainConfig = {
      loss: named("loss", "sparse_cross_entropy", { from_logits: true }),
      optimizer: named("optimizer", "adam", { lr: 0.01 }),
      epochs: 200,
      batch: 16,
      seed: 1,
      metrics: ["accuracy"],
      earlyStopping: { monitor: "val_loss", patience: 5, minDelta: 0, restoreBest: true },
    };
    const r = train(m, { train: tr, val }, cfg);
    expect(r.stop.reason).toBe("early_stopping");
    expect(r.history.length).toBe(r.bestEpoch! + 5);
    const best = Math.min(...r.history.map((h) => h.values.val_loss));
    expect(r.history[r.bestEpoch! - 1].values.val_loss).toBe(best);
    expect(evaluate(m, val, cfg.loss).loss).toBeCloseTo(best, 12);
    expect(r.stop.message).toMatch(/restored the weights of epoch/);
  });

  it("stops on a non-finite loss, names epoch, step and cause, keeps finite weights", () => {
    const tr = synthetic(40, 4, 3, (x) => x[0] * 5000);
    for (let i = 0; i < tr.x.length; i++) tr.x[i] *= 1e4;
    const m = RuntimeModel.lower(modelOf(`model m(x: [4]) -> y: [1] {\n  dense 8 relu\n  dense 1\n}`), { seed: 1 }).model!;
    const r = train(m, { train: { ...tr, labelShape: [1] } }, { loss: named("loss", "mse", {}), optimizer: named("optimizer", "sgd", { lr: 0.5 }), epochs: 50, batch: 8, seed: 1, metrics: [] });
    expect(r.stop.reason).toBe("non_finite");
    expect(r.stop.message).toMatch(/at epoch \d+, step \d+/);
    expect(r.stop.message).toMatch(/standardize/);
    expect(m.finite()).toBe(true);
  });

  it("names what it could not allocate instead of throwing a bare RangeError", () => {
    const m = RuntimeModel.lower(modelOf(`model m(x: [4]) -> y: [3] {\n  h = dense 8 relu\n  dense 3\n}`), { seed: 1 }).model!;
    // 2^32 rows of 4 values: past any typed array, so it fails at once without touching memory
    expect(() => new Plan(m, 2 ** 32, { train: true })).toThrow(AllocationError);
    expect(() => new Plan(m, 2 ** 32)).toThrow(/^cannot allocate `x` for a batch of 4294967296: 17,179,869,184 values \(64\.0 GiB\); Invalid typed array length/);
    expect(() => predict(m, new Float32Array(4), 2 ** 33, 1)).toThrow(/^cannot allocate the predictions for 8589934592 examples/);
  });

  it("counts the scratch its kernels allocate when they first run (a convolution keeps its windows for the backward pass)", () => {
    const m = RuntimeModel.lower(modelOf(`model m(x: [10, 10, 1]) -> y: [4] {\n  conv2d 8 kernel: 3 relu\n  flatten\n  dense 4\n}`), { seed: 1 }).model!;
    const plan = new Plan(m, 8, { train: true });
    const before = plan.bytes;
    plan.forward(8, true);
    plan.backward(8);
    // 8 images × 8·8 positions × 3·3 window values, float32
    expect(plan.bytes - before).toBe(8 * 64 * 9 * 4);
  });

  it("applies learning-rate schedules", () => {
    expect(scheduledLr({ name: "step", opts: { every: 10, factor: 0.5 } }, 0.1, 25)).toBeCloseTo(0.025);
    expect(scheduledLr({ name: "exponential", opts: { rate: 0.9 } }, 1, 2)).toBeCloseTo(0.81);
    expect(scheduledLr({ name: "cosine", opts: { epochs: 10, min_lr: 0.001 } }, 0.1, 0)).toBeCloseTo(0.1);
    expect(scheduledLr({ name: "cosine", opts: { epochs: 10, min_lr: 0.001 } }, 0.1, 10)).toBeCloseTo(0.001);
    expect(scheduledLr({ name: "cosine", opts: { epochs: 10, min_lr: 0 } }, 0.1, 5)).toBeCloseTo(0.05);
    // reduce_on_plateau on a loss that cannot improve (all-zero features)
    const tr: Split = { x: new Float32Array(32), y: new Float32Array(32).map((_, i) => i % 2), n: 32, featureShape: [1], labelShape: [] };
    const m = RuntimeModel.lower(modelOf(`model m(x: [1]) -> y: [2] {\n  dense 2 use_bias: false\n}`), { seed: 1 }).model!;
    const r = train(m, { train: tr }, { loss: named("loss", "sparse_cross_entropy", { from_logits: true }), optimizer: named("optimizer", "sgd", { lr: 0.1 }), schedule: named("schedule", "reduce_on_plateau", { factor: 0.5, patience: 2, min_lr: 0.02 }), epochs: 12, batch: 8, seed: 1, metrics: [] });
    const lrs = r.history.map((h) => h.lr);
    expect(lrs[0]).toBe(0.1);
    expect(lrs[lrs.length - 1]).toBe(0.02);
    expect(r.notes).toEqual([]);
  });
});

describe("metrics", () => {
  it("multiclass: accuracy, confusion matrix, per-class and macro precision/recall/F1", () => {
    const acc = new MetricAccumulator("sparse_cross_entropy", { from_logits: true }, [3], 1);
    // predictions (argmax): 0, 1, 1, 2, 2, 0 ; truth: 0, 1, 2, 2, 1, 0
    const pred = Float32Array.from([5, 0, 0, 0, 5, 0, 0, 5, 0, 0, 0, 5, 0, 0, 5, 5, 0, 0]);
    acc.add(pred, [0, 1, 2, 2, 1, 0], 6);
    const r = acc.result();
    expect(r.values.accuracy).toBeCloseTo(4 / 6);
    expect(r.confusion).toEqual([
      [2, 0, 0],
      [0, 1, 1],
      [0, 1, 1],
    ]);
    expect(r.perClass![1]).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(r.values.f1).toBeCloseTo((1 + 0.5 + 0.5) / 3);
  });

  it("binary: thresholds probabilities at 0.5 and logits at 0; reports the positive class", () => {
    const p = new MetricAccumulator("binary_cross_entropy", {}, [1], 1);
    p.add(Float32Array.from([0.9, 0.2, 0.6, 0.4]), [1, 0, 0, 1], 4);
    const r = p.result();
    expect(r.values.accuracy).toBe(0.5);
    expect(r.values.precision).toBe(0.5);
    expect(r.values.recall).toBe(0.5);
    expect(r.confusion).toEqual([
      [1, 1],
      [1, 1],
    ]);
    const l = new MetricAccumulator("binary_cross_entropy", { from_logits: true }, [1], 1);
    l.add(Float32Array.from([2, -1, -0.5]), [1, 0, 0], 3);
    expect(l.result().values.accuracy).toBe(1);
  });

  it("regression: MSE, RMSE, MAE and R²", () => {
    const a = new MetricAccumulator("mse", {}, [1], 1);
    const y = [1, 2, 3, 4];
    a.add(Float32Array.from([1.5, 2, 2.5, 4]), y, 4);
    const r = a.result().values;
    expect(r.mse).toBeCloseTo(0.125);
    expect(r.rmse).toBeCloseTo(Math.sqrt(0.125));
    expect(r.mae).toBeCloseTo(0.25);
    expect(r.r2).toBeCloseTo(1 - 0.5 / 5);
  });
});

describe("losses", () => {
  it("fused softmax cross-entropy stays finite on huge logits", () => {
    const pred = Float32Array.from([1e30, -1e30, 0, 3e38, 3e38, -3e38]);
    const d = new Float32Array(6);
    const k = lossKernel({ ...named("loss", "sparse_cross_entropy", { from_logits: true }), outShape: [3], pred, dPred: d, labels: [1, 2], labelWidth: 1 });
    const loss = k.compute(2);
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeGreaterThan(1e29);
    expect(Array.from(d).every(Number.isFinite)).toBe(true);
    const b = lossKernel({ ...named("loss", "binary_cross_entropy", { from_logits: true }), outShape: [1], pred: Float32Array.from([1e30, -1e30]), dPred: new Float32Array(2), labels: [0, 1], labelWidth: 1 });
    expect(Number.isFinite(b.compute(2))).toBe(true);
  });
});

describe("a diverging run", () => {
  it("says the loss never came near its starting value and names the learning rate", async () => {
    const { data, cfg, model } = await iris();
    const wild = train(model(), { train: data.train, val: data.val }, { ...cfg, epochs: 3, optimizer: named("optimizer", "adam", { lr: 1e6 }) });
    const note = wild.notes.find((n) => n.includes("never came near"));
    expect(note).toMatch(/orders of magnitude higher; the learning rate 1000000 \(usual for adam: 0\.00001 to 0\.1\) is probably too high/);
    const sane = train(model(), { train: data.train, val: data.val }, { ...cfg, epochs: 3 });
    expect(sane.notes.filter((n) => n.includes("never came near"))).toEqual([]);
  });

  it("measures the loss before training on 2,048 examples spread over a large split, which the note prints", () => {
    // 10,000 rows whose targets grow along the split: its first rows alone would understate the loss
    const tr = synthetic(10_000, 4, 5, (x) => x[0]);
    for (let i = 0; i < tr.n; i++) tr.y[i] += i / 100;
    const m = RuntimeModel.lower(modelOf(`model m(x: [4]) -> y: [1] {\n  dense 8 relu\n  dense 1\n}`), { seed: 1 }).model!;
    const rows = Int32Array.from({ length: 2048 }, (_, i) => Math.floor((i * tr.n) / 2048));
    const ev = new Evaluator(m, named("loss", "mse", {}), 256, 1);
    const sample = ev.run({ ...tr, labelShape: [1] }, rows).loss;
    // the rows named, and only those, as a split holding just them
    const sub: Split = { x: new Float32Array(2048 * 4), y: new Float32Array(2048), n: 2048, featureShape: [4], labelShape: [1] };
    rows.forEach((r, i) => {
      sub.x.set(tr.x.subarray(r * 4, r * 4 + 4), i * 4);
      (sub.y as Float32Array)[i] = tr.y[r];
    });
    expect(sample).toBe(ev.run(sub).loss);
    // within a few percent of the whole split's loss
    const all = ev.run({ ...tr, labelShape: [1] }).loss;
    expect(Math.abs(sample - all) / all).toBeLessThan(0.05);
    // an outlier in a row the sample skips (rows 0, 4, 9, …) is not counted
    tr.y[1] = 1e4;
    expect(ev.run({ ...tr, labelShape: [1] }, rows).loss).toBe(sample);
    const wild = train(m, { train: { ...tr, labelShape: [1] } }, { loss: named("loss", "mse", {}), optimizer: named("optimizer", "adam", { lr: 1e6 }), epochs: 2, batch: 256, seed: 1, metrics: [] });
    const note = wild.notes.find((n) => n.includes("never came near"));
    expect(note).toContain(`about ${sample.toPrecision(3)} at the start`);
  });
});
