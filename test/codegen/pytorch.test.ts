/**
 * The generated PyTorch models against the interpreter: every model of every course spec, with the
 * interpreter's initial weights loaded through the generated weight table, computes the
 * interpreter's outputs (inference mode) within 1e-5. Runs Debian's python3 with torch; outside CI,
 * without torch, it skips saying how to install it.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { hasLinters, hasTorch, PYTHON } from "./python.ts";
import { afterAll, describe, expect, it } from "vitest";
import { emitModelFile, sourceText } from "../../src/codegen/pytorch/emit.ts";
import { FileHost } from "../../src/node/host.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { Plan } from "../../src/runtime/plan.ts";
import { encodeWeights, modelJson } from "../../src/saved/save.ts";
import { Rng } from "../../src/core/rng.ts";
import { epochOrder } from "../../src/data/random.ts";
import { LOSSES } from "../../src/kinds/losses/index.ts";
import { OPTIMIZERS } from "../../src/kinds/optimizers/index.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const SPECS = join(ROOT, "specs");
const HELPER = join(ROOT, "src/codegen/pytorch/nnspec_torch.py");
/** Every kind and option the generator maps, beyond what the course specs use. */
const ZOO = join(ROOT, "test/fixtures/torch/zoo.nnspec");
/** Debian's interpreter, by its full path: the python3 first on PATH may lack torch. */

const TMP = mkdtempSync(join(tmpdir(), "nnspec-torch-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const COMPARE = `
import importlib.util, json, sys
import numpy as np, torch
jobs = json.load(open(sys.argv[1]))
out = []
for job in jobs:
    spec = importlib.util.spec_from_file_location("model_" + job["stem"], job["module"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    import nnspec_torch as nt
    m = mod.MODELS[job["model"]]()
    nt.load_weights(m, job["weights"])
    m.eval()
    xs = [torch.tensor(np.array(x, dtype=np.float32).reshape(s)) for x, s in zip(job["inputs"], job["shapes"])]
    with torch.no_grad():
        ys = m(*xs)
    ys = ys if isinstance(ys, tuple) else (ys,)
    worst = 0.0
    for y, want in zip(ys, job["outputs"]):
        got = y.numpy().reshape(-1).astype(np.float64)
        want = np.array(want, dtype=np.float64)
        worst = max(worst, float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))))
    # a training step's forward pass: batch statistics, and the moving ones updated;
    # dropout masks from the streams of the interpreter's seed
    nt.seed_dropout(m, 7)
    m.train()
    with torch.no_grad():
        ys = m(*xs)
    ys = ys if isinstance(ys, tuple) else (ys,)
    for y, want in zip(ys, job["training"]["outputs"]):
        got = y.numpy().reshape(-1).astype(np.float64)
        want = np.array(want, dtype=np.float64)
        worst = max(worst, float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))))
    after = nt.weights_of(m)
    for name, want in job["training"]["moving"].items():
        got = after[name].reshape(-1).astype(np.float64)
        want = np.array(want, dtype=np.float64)
        worst = max(worst, float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))))
    out.append({"name": job["stem"] + "/" + job["model"], "worst": worst})
print(json.dumps(out))
`;

describe.skipIf(!hasTorch)("generated PyTorch models", () => {
  it("compute the interpreter's outputs from the interpreter's weights (inference, and a training pass with batch statistics), for every course model and every layer kind", { timeout: 300_000 }, () => {
    const jobs: unknown[] = [];
    copyFileSync(HELPER, join(TMP, "nnspec_torch.py"));
    const paths = [...readdirSync(SPECS).filter((f) => f.endsWith(".nnspec")).map((f) => join(SPECS, f)), ZOO];
    for (const path of paths) {
      const file = new FileHost().analyse(path, path.slice(ROOT.length + 1));
      const stem = basename(path).replace(/\.nnspec$/, "");
      const models = [...file.checked.models.values()].filter((m) => m.complete && m.spec.file === file.checked.program.file);
      if (!models.length) continue;
      const dir = join(TMP, stem);
      mkdirSync(dir, { recursive: true });
      const { text } = emitModelFile(stem, models, sourceText(file));
      writeFileSync(join(dir, "model.py"), text);
      for (const checked of models) {
        const { model } = RuntimeModel.lower(checked, { seed: 7 });
        if (!model) continue;
        const rng = new Rng(11);
        // batch norm's moving statistics away from 0 and 1, so inference mode reads them
        for (const p of model.params) if (p.name.startsWith("moving_")) for (let k = 0; k < p.value.length; k++) p.value[k] = 0.5 + rng.uniform();
        const wdir = join(dir, checked.spec.name);
        mkdirSync(wdir, { recursive: true });
        writeFileSync(join(wdir, "model.json"), modelJson(model));
        writeFileSync(join(wdir, "weights.bin"), encodeWeights(model));
        const n = 3;
        const plan = new Plan(model, n);
        const inputs = model.inputs.map((t, i) => {
          const buf = plan.input(i);
          const tensor = model.tensors[t];
          for (let k = 0; k < n * tensor.size; k++) buf[k] = tensor.dtype === "int" ? Math.floor(rng.uniform() * 2) : rng.uniform() * 2 - 1;
          return Array.from(buf.subarray(0, n * tensor.size));
        });
        plan.forward(n, false);
        const outputs = model.outputs.map((_, i) => Array.from(plan.output(i).subarray(0, n * model.tensors[model.outputs[i]].size)));
        // training mode too: batch statistics, and dropout masks (the streams of seed 7)
        plan.forward(n, true);
        const training = {
          outputs: model.outputs.map((_, i) => Array.from(plan.output(i).subarray(0, n * model.tensors[model.outputs[i]].size))),
          moving: Object.fromEntries(model.params.filter((p) => p.name.startsWith("moving_")).map((p) => [p.id, Array.from(p.value)])),
        };
        jobs.push({
          stem,
          model: checked.spec.name,
          module: join(dir, "model.py"),
          weights: wdir,
          inputs,
          shapes: model.inputs.map((t) => [n, ...model.tensors[t].shape]),
          outputs,
          training,
        });
      }
    }
    expect(jobs.length).toBeGreaterThan(20);
    writeFileSync(join(TMP, "jobs.json"), JSON.stringify(jobs));
    const r = spawnSync(PYTHON, ["-c", COMPARE, join(TMP, "jobs.json")], { encoding: "utf8", env: { ...process.env, PYTHONPATH: TMP }, maxBuffer: 1 << 26 });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as { name: string; worst: number }[];
    expect(results).toHaveLength(jobs.length);
    for (const x of results) expect(x.worst, x.name).toBeLessThan(1e-5);
  });

  it("draws the interpreter's random numbers bit for bit (sfc32, forks, permutations)", () => {
    const cases: [number, string][] = [[0, ""], [42, "dropout/dense_1"], [2 ** 31 - 1, "split"], [-7, "ü/λ/😀"]];
    const want = cases.map(([seed, label]) => {
      const r = new Rng(seed, label);
      const f = r.fork("child");
      return { u: Array.from({ length: 20 }, () => r.uniform()), fork: Array.from({ length: 5 }, () => f.uint32()), perm: Array.from(r.permutation(new Int32Array(50))) };
    });
    const script = `
import json, sys
import nnspec_torch as nt
out = []
for seed, label in json.loads(sys.argv[1]):
    r = nt.Rng(seed, label)
    f = r.fork("child")
    out.append({"u": [r.uniform() for _ in range(20)], "fork": [f.uint32() for _ in range(5)], "perm": r.permutation(50)})
print(json.dumps(out))
`;
    const r = spawnSync(PYTHON, ["-c", script, JSON.stringify(cases)], { encoding: "utf8", env: { ...process.env, PYTHONPATH: dirname(HELPER) } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(want);
  });

  it("visits the training rows in the interpreter's order, every epoch", () => {
    const cases: [number, number, number][] = [[150, 42, 0], [150, 42, 1], [1, 0, 0], [1000, 2 ** 31 - 1, 199], [97, -3, 5], [64, 2 ** 40 + 5, 2]];
    const want = cases.map(([n, seed, epoch]) => Array.from(epochOrder(n, seed, epoch)));
    const script = `
import json, sys
import nnspec_torch as nt
print(json.dumps([nt.epoch_order(n, seed, epoch) for n, seed, epoch in json.loads(sys.argv[1])]))
`;
    const r = spawnSync(PYTHON, ["-c", script, JSON.stringify(cases)], { encoding: "utf8", env: { ...process.env, PYTHONPATH: dirname(HELPER) } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(want);
  });

  it("has the loss function and update rule each registry entry names, taking the kind's options as keywords", () => {
    const kinds = [
      ...[...LOSSES.values()].map((k) => ({ kind: `loss ${k.name}`, fn: k.torch, leading: ["pred", "y"], options: Object.keys(k.schema.properties ?? {}) })),
      ...[...OPTIMIZERS.values()].map((k) => ({ kind: `optimizer ${k.name}`, fn: k.torch, leading: ["params"], options: Object.keys(k.schema.properties ?? {}) })),
    ];
    const script = `
import inspect, json, sys
import nnspec_torch as nt
out = {}
for k in json.loads(sys.argv[1]):
    fn = getattr(nt, k["fn"].removeprefix("nt."), None)
    out[k["kind"]] = None if fn is None else list(inspect.signature(fn).parameters)
print(json.dumps(out))
`;
    const r = spawnSync(PYTHON, ["-c", script, JSON.stringify(kinds)], { encoding: "utf8", env: { ...process.env, PYTHONPATH: dirname(HELPER) } });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as Record<string, string[] | null>;
    for (const k of kinds) {
      expect(k.fn, k.kind).toMatch(/^nt\.[A-Za-z_]\w*$/);
      expect(got[k.kind]?.slice(0, k.leading.length), `${k.kind}: ${k.fn} in nnspec_torch.py`).toEqual(k.leading);
      expect([...got[k.kind]!.slice(k.leading.length)].sort(), `${k.kind}: keyword arguments of ${k.fn}`).toEqual([...k.options].sort());
    }
  });

  it("is clean under pyflakes and formatted as black formats it", { skip: !hasLinters }, () => {
    const files = readdirSync(TMP, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith("model.py"))
      .map((f) => join(TMP, f));
    expect(files.length).toBeGreaterThan(15);
    files.push(HELPER);
    const flakes = spawnSync("pyflakes3", files, { encoding: "utf8" });
    expect(flakes.stdout + flakes.stderr).toBe("");
    const black = spawnSync("black", ["--check", "--diff", "--quiet", ...files], { encoding: "utf8" });
    expect(black.stdout + black.stderr, "black would change the generated code").toBe("");
    expect(black.status).toBe(0);
  });
});
