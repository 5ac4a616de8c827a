/**
 * Training in PyTorch against the interpreter: for every train block of every course spec whose
 * data is here (and of test/fixtures/torch/train-zoo.nnspec, for the rest of the losses and options), the generated model starts from the interpreter's initial weights, takes the
 * interpreter's batches in the interpreter's order (losses, penalties, every optimizer, dropout
 * masks, batch norm), for 20 steps:
 * - in float64 on both sides, losses and weights agree within 1e-9: the same arithmetic;
 * - in float32, as users train, within 1e-4 relative. Adam turns rounding noise in gradients near
 *   zero into whole steps, so the Fashion-MNIST CNN drifts further (3.8e-4 in the losses, 1.2e-3 in
 *   the weights after 20 steps) while the same model on MNIST stays within 1e-4: that block is
 *   held to the float64 check only.
 * Runs Debian's python3 with torch; outside CI, without it, skips saying how to install.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { hasTorch, PYTHON } from "./python.ts";
import { afterAll, describe, expect, it } from "vitest";
import { emitModelFile, sourceText } from "../../src/codegen/pytorch/emit.ts";
import { loadData } from "../../src/data/index.ts";
import { epochOrder } from "../../src/data/random.ts";
import { FileHost } from "../../src/node/host.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { encodeWeights, modelJson } from "../../src/saved/save.ts";
import { TrainStep } from "../../src/runtime/step.ts";
import { scheduledLr, trainConfig } from "../../src/runtime/train.ts";
import { LOSSES } from "../../src/kinds/losses/index.ts";
import { OPTIMIZERS } from "../../src/kinds/optimizers/index.ts";
import { pyPartial } from "../../src/kinds/torch.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const SPECS = join(ROOT, "specs");
const HELPER = join(ROOT, "src/codegen/pytorch/nnspec_torch.py");
/** Losses, labels and options the course specs do not train with. */
const ZOO = join(ROOT, "test/fixtures/torch/train-zoo.nnspec");
const STEPS = 20;
/** Float32 noise that Adam amplifies past 1e-4 (see above); float64 still checks it exactly. */
const FLOAT32_DRIFT = new Set(["fashion_cnn train 1"]);

const TMP = mkdtempSync(join(tmpdir(), "nnspec-torch-train-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const f32 = (a: ArrayLike<number>): Buffer => Buffer.from(Float32Array.from(a).buffer);

const STEP = `
import importlib.util, json, sys
from functools import partial
import numpy as np, torch
import nnspec_torch as nt
out = []
for job in json.load(open(sys.argv[1])):
    spec = importlib.util.spec_from_file_location("m", job["module"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    m = mod.MODELS[job["model"]]()
    nt.load_weights(m, job["dir"])
    if job["f64"]:
        m.double()
    nt.seed_dropout(m, job["seed"])
    m.train()
    x = torch.from_numpy(np.fromfile(job["x"], dtype="<f4").reshape([-1] + job["featureShape"]))
    y = torch.from_numpy(np.fromfile(job["y"], dtype="<f4").reshape([x.shape[0], -1]))
    if job["f64"]:
        x, y = x.double(), y.double()
    # the loss and update rule as the registry maps them (what train.py's BLOCKS hold)
    loss_fn = eval(job["loss"], {"nt": nt, "partial": partial})
    upd = eval(job["optimizer"], {"nt": nt, "partial": partial})(m.parameters())
    losses = []
    epoch = 0
    while len(losses) < job["steps"]:
        order = torch.tensor(nt.epoch_order(x.shape[0], job["seed"], epoch))
        for start in range(0, x.shape[0], job["batch"]):
            if len(losses) == job["steps"]:
                break
            rows = order[start : start + job["batch"]]
            for p in m.parameters():
                p.grad = None
            loss = loss_fn(m(x[rows]), y[rows]) + nt.penalty(m)
            loss.backward()
            upd.step(job["lrs"][epoch])
            losses.append(float(loss))
        epoch += 1
    out.append({"losses": losses, "weights": {k: v.reshape(-1).tolist() for k, v in nt.weights_of(m).items()}})
print(json.dumps(out))
`;

interface Job {
  name: string;
  want: { losses: number[]; weights: Record<string, number[]> };
  [k: string]: unknown;
}

describe.skipIf(!hasTorch)("PyTorch training", () => {
  it(`takes the interpreter's ${STEPS} steps for every course train block (losses and weights within 1e-4)`, { timeout: 300_000 }, async () => {
    copyFileSync(HELPER, join(TMP, "nnspec_torch.py"));
    const jobs: Job[] = [];
    const paths = [
      ...readdirSync(SPECS)
        .filter((f) => f.endsWith(".nnspec"))
        .map((f) => join(SPECS, f)),
      ZOO,
      join(ROOT, "test/fixtures/torch/digits_cnn.nnspec"),
    ];
    for (const path of paths) {
      const name = basename(path);
      const file = new FileHost().analyse(path, path.slice(ROOT.length + 1));
      const stem = name.replace(/\.nnspec$/, "");
      const models = [...file.checked.models.values()].filter((m) => m.complete);
      const dir = join(TMP, stem);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, "model.py"),
        emitModelFile(stem, models, sourceText(file)).text,
      );
      for (const [i, t] of file.checked.trains.entries()) {
        const checked = t.model && file.checked.models.get(t.model.name);
        if (!t.config || !t.data || !checked || checked.spec.inputs.length !== 1 || checked.outputs.length !== 1) continue;
        const { data } = await loadData(t.data, path);
        if (!data) {
          // data that is not here (NN0623: not shipped, or Debian's outside CI) is skipped; in CI Debian's must load
          const absent = file.diagnostics.some((d) => d.code === "NN0623");
          expect(absent && !(process.env.CI && file.text.includes("/usr/share/datasets")), `${name}: its data did not load`).toBe(true);
          continue;
        }
        const cfg = trainConfig(t);
        for (const precision of ["f64", "f32"] as const) {
          const model = RuntimeModel.lower(checked, {
            seed: cfg.seed,
            precision,
          }).model!;
          // both start from the float32 weights the file holds
          for (const p of model.params) for (let k = 0; k < p.value.length; k++) p.value[k] = Math.fround(p.value[k]);
          const wdir = join(dir, `train-${i}-${precision}`);
          mkdirSync(wdir, { recursive: true });
          writeFileSync(join(wdir, "model.json"), modelJson(model));
          writeFileSync(join(wdir, "weights.bin"), encodeWeights(model));
          const tr = data.train;
          writeFileSync(join(wdir, "x.f32"), f32(tr.x));
          writeFileSync(join(wdir, "y.f32"), f32(tr.y));
          // the interpreter's steps, batch by batch as train() takes them
          const batch = Math.max(1, Math.min(cfg.batch, tr.n));
          const fw = tr.x.length / tr.n;
          const lw = tr.y.length / tr.n;
          const step = new TrainStep(model, batch, cfg.loss, cfg.optimizer, lw);
          const losses: number[] = [];
          const lrs: number[] = [];
          for (let e = 0; losses.length < STEPS; e++) {
            lrs.push(scheduledLr(cfg.schedule, step.optimizer.baseLr, e));
            const order = epochOrder(tr.n, cfg.seed, e);
            for (let from = 0; from < tr.n && losses.length < STEPS; from += batch) {
              const n = Math.min(batch, tr.n - from);
              const xb = step.plan.input(0);
              for (let r = 0; r < n; r++) {
                xb.set(tr.x.subarray(order[from + r] * fw, (order[from + r] + 1) * fw), r * fw);
                for (let j = 0; j < lw; j++) step.labels[r * lw + j] = tr.y[order[from + r] * lw + j];
              }
              losses.push(step.run(n, lrs[e]));
            }
          }
          jobs.push({
            name: `${stem} train ${i + 1}`,
            what: `${checked.spec.name}, ${cfg.optimizer.name}, ${cfg.loss.name}, ${precision}`,
            module: join(dir, "model.py"),
            model: checked.spec.name,
            dir: wdir,
            x: join(wdir, "x.f32"),
            y: join(wdir, "y.f32"),
            featureShape: tr.featureShape,
            seed: cfg.seed,
            batch,
            steps: STEPS,
            f64: precision === "f64",
            lrs,
            loss: pyPartial(LOSSES.get(cfg.loss.name)!.torch, cfg.loss.opts),
            optimizer: pyPartial(OPTIMIZERS.get(cfg.optimizer.name)!.torch, cfg.optimizer.opts),
            want: {
              losses,
              // attention's key bias shifts every score of a query alike: its gradient is zero in
              // exact arithmetic, and Adam or RMSprop scale each side's rounding noise up to steps
              weights: Object.fromEntries(model.params.filter((p) => !(p.name === "key/bias" && model.layers.some((l) => l.info.name === p.layer && l.info.kind === "multi_head_attention"))).map((p) => [p.id, Array.from(p.value)])),
            },
          });
        }
      }
    }
    expect(jobs.length).toBeGreaterThan(20);
    // every block of the zoo, in both precisions
    expect(jobs.filter((j) => j.name.startsWith("train-zoo ")).length).toBe(26);
    writeFileSync(join(TMP, "jobs.json"), JSON.stringify(jobs.map(({ want: _, ...j }) => j)));
    // the float32 drift is real and only that block's: if it ever vanishes, the exemption goes
    expect(jobs.some((j) => FLOAT32_DRIFT.has(j.name)) || process.env.CI === undefined).toBe(true);
    const r = spawnSync(PYTHON, ["-c", STEP, join(TMP, "jobs.json")], {
      encoding: "utf8",
      env: { ...process.env, PYTHONPATH: TMP },
      maxBuffer: 1 << 28,
    });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as Job["want"][];
    // relative to the tensor, or to a millionth of the model's largest where the tensor is rounding
    // noise on both sides (attention's key bias: its gradient is zero in exact arithmetic)
    const norm = (b: number[]) => Math.sqrt(b.reduce((a, x) => a + x * x, 0));
    const rel = (a: number[], b: number[], floor: number): number => {
      let d = 0;
      for (let k = 0; k < b.length; k++) d += (a[k] - b[k]) ** 2;
      return Math.sqrt(d) / Math.max(norm(b), floor, 1e-15);
    };
    // every disagreement at once, with its size
    const worse: string[] = [];
    for (const [k, job] of jobs.entries()) {
      expect(got[k].losses.length, job.name).toBe(STEPS);
      const lossErr = Math.max(...job.want.losses.map((l, s) => Math.abs(got[k].losses[s] - l) / Math.max(1e-6, Math.abs(l))));
      const floor = 1e-6 * Math.max(...Object.values(job.want.weights).map(norm));
      const weightErr = Math.max(...Object.entries(job.want.weights).map(([w, v]) => rel(got[k].weights[w], v, floor)));
      const bound = job.f64 ? 1e-9 : FLOAT32_DRIFT.has(job.name) ? Infinity : 1e-4;
      if (!(lossErr < bound && weightErr < bound)) worse.push(`${job.name} (${job.what}): losses ${lossErr.toExponential(2)}, weights ${weightErr.toExponential(2)}`);
    }
    expect(worse).toEqual([]);
  });
});
