/**
 * Training throughput: the interpreter against TensorFlow.js (cpu, and wasm when
 * @tensorflow/tfjs-backend-wasm is installed) in one process, on the models of issue 6: iris
 * 4-16-3 (batch 16), phone 20-128-256-4 (batch 64, Adam), digits 64-25-15-1 (batch 32, Adam), the
 * Fashion-MNIST CNN (batch 64), an LSTM reading Fashion-MNIST as 28 rows of 28 (batch 64), and
 * language_id's bidirectional LSTM and Transformer over 16 characters (batch 64). Data
 * is synthetic and seeded. The interpreter runs its whole training loop (`train()`: shuffling,
 * batch gathering, metrics); tfjs runs a bare loop of `variableGrads` + `applyGradients` on
 * prepared batch tensors, which favours tfjs.
 *
 * With Debian's python3 and torch, PyTorch runs the same models as `nnspec build --target pytorch`
 * writes them (model.py, nnspec_torch's losses and update rules) on one CPU thread
 * (`torch.set_num_threads(1)`), in a bare loop of steps on prepared batches like tfjs's.
 *
 * `BENCH_ONLY=TEXT` keeps the cases whose label contains TEXT. Prints samples/s, the ratios, and memory: the interpreter's buffers (exact) and, for each run,
 * the growth of the process's peak RSS (sampled; run node with --expose-gc for cleaner figures).
 */
import * as tf from "@tensorflow/tfjs";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { HELPER } from "../src/codegen/pytorch/build.ts";
import { emitModelFile, sourceText } from "../src/codegen/pytorch/emit.ts";
import { LOSSES } from "../src/kinds/losses/index.ts";
import { OPTIMIZERS } from "../src/kinds/optimizers/index.ts";
import { pyPartial } from "../src/kinds/torch.ts";
import type { CheckedModel } from "../src/check/ir.ts";
import { registerWasmConv2dFilterGradient, registerWasmSegmentSum } from "../src/codegen/tfjs/runtime.ts";
import { FileHost } from "../src/node/host.ts";
import { RuntimeModel } from "../src/runtime/model.ts";
import { Plan } from "../src/runtime/plan.ts";
import { Rng } from "../src/core/rng.ts";
import { train, trainConfig, type Split, type TrainConfig } from "../src/runtime/train.ts";
import { tfjsTwin, tfStepper } from "../test/runtime/tfjs-ref.ts";
import { record } from "./timing.ts";
import { stopThreads, useThreads } from "../src/node/threads.ts";

export const name = "train";

interface Case {
  label: string;
  spec: string;
  model: string;
  /** Which train block of the spec gives loss and optimizer. */
  train: number;
  batch: number;
  optimizer?: { name: string; opts: Record<string, number> };
  /** Seconds to spend per measurement. */
  seconds: number;
}

const CASES: Case[] = [
  { label: "iris 4-16-3, batch 16, adam", spec: "specs/iris.nnspec", model: "iris_mlp", train: 1, batch: 16, seconds: 1.5 },
  { label: "phone 20-128-256-4, batch 64, adam", spec: "specs/phone_price.nnspec", model: "phone_mlp", train: 0, batch: 64, seconds: 2 },
  { label: "digits 64-25-15-1, batch 32, adam", spec: "specs/digits.nnspec", model: "digits_binary", train: 0, batch: 32, seconds: 1.5 },
  { label: "MLP 784-1024-1024-10, batch 256, adam", spec: "bench/big_mlp.nnspec", model: "big_mlp", train: 0, batch: 256, seconds: 4 },
  { label: "fashion CNN, batch 64, adam", spec: "specs/mnist_cnn.nnspec", model: "fashion_cnn", train: 0, batch: 64, seconds: 4 },
  { label: "fashion rows LSTM 64, batch 64, adam", spec: "specs/fashion_lstm.nnspec", model: "fashion_lstm", train: 0, batch: 64, seconds: 4 },
  { label: "words: bidirectional LSTM 48 over 16 chars, batch 64, adam", spec: "specs/language_id.nnspec", model: "language_id", train: 0, batch: 64, seconds: 4 },
  { label: "words: Transformer, 2 encoder blocks, batch 64, adam", spec: "specs/language_id.nnspec", model: "transformer", train: 1, batch: 64, seconds: 4 },
];

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;

/** Peak RSS while `f` runs, sampled by `sample()` calls from inside it. */
class PeakRss {
  private base = 0;
  peak = 0;
  start(): void {
    gc();
    this.base = process.memoryUsage().rss;
    this.peak = this.base;
  }
  sample(): void {
    const r = process.memoryUsage().rss;
    if (r > this.peak) this.peak = r;
  }
  get growth(): number {
    return this.peak - this.base;
  }
}

function load(c: Case): { checked: CheckedModel; cfg: TrainConfig } {
  const f = new FileHost().analyse(resolvePath(c.spec), c.spec);
  const checked = f.checked.models.get(c.model);
  if (!checked) throw new Error(`${c.spec}: no model ${c.model}`);
  const cfg = trainConfig(f.checked.trains[c.train], { batch: c.batch, seed: 1 });
  if (c.optimizer) cfg.optimizer = c.optimizer;
  return { checked, cfg };
}

/** A synthetic split: standard normal features (pixels in [0, 1]), labels of the loss's kind. */
function synthetic(m: RuntimeModel, cfg: TrainConfig, n: number): Split {
  const rng = new Rng(3, "bench");
  const inT = m.tensors[m.inputs[0]];
  const out = m.tensors[m.outputs[0]].shape;
  const K = out[out.length - 1];
  const x = new Float32Array(n * inT.size);
  const pixels = inT.shape.length === 3;
  // ids: a word's characters, then padding (id 0) to the length
  const ids = inT.dtype === "int";
  const steps = inT.shape[0];
  for (let i = 0; i < x.length; i++) x[i] = ids ? (i % steps < 3 + (Math.floor(i / steps) % 10) ? 2 + Math.floor(rng.uniform() * 40) : 0) : pixels ? rng.uniform() : rng.normal();
  const sparse = cfg.loss.name === "sparse_cross_entropy";
  const y = new Float32Array(n * (sparse ? 1 : K));
  for (let i = 0; i < y.length; i++) y[i] = sparse ? Math.floor(rng.uniform() * K) : rng.uniform() < 0.5 ? 0 : 1;
  return { x, y, n, featureShape: inT.shape, labelShape: sparse ? [] : [K] };
}

function interpreter(c: Case, checked: CheckedModel, cfg: TrainConfig, rss: PeakRss): { sps: number; bytes: number } {
  const m = RuntimeModel.lower(checked, { seed: 1 }).model!;
  // One epoch of about `seconds`: size the data from a short calibration run.
  const calib = synthetic(m, cfg, c.batch * 8);
  const t0 = performance.now();
  train(m, { train: calib }, { ...cfg, epochs: 2, earlyStopping: undefined });
  const perSample = (performance.now() - t0) / (2 * calib.n);
  const n = Math.max(c.batch * 4, Math.round((c.seconds * 1000) / perSample / c.batch) * c.batch);
  const data = synthetic(m, cfg, n);
  rss.start();
  const r = train(m, { train: data }, { ...cfg, epochs: 1, earlyStopping: undefined }, { onBatch: (_e, s) => void (s % 16 === 0 && rss.sample()) });
  rss.sample();
  const h = r.history[0];
  // Exact buffer bytes: a training plan like train()'s, the parameters, gradients and optimizer state.
  const plan = new Plan(m, c.batch, { train: true });
  // (after a step: kernels allocate some scratch when they first run)
  plan.forward(c.batch, true);
  plan.backward(c.batch);
  const params = m.params.reduce((s, p) => s + p.value.byteLength + (p.grad?.byteLength ?? 0), 0);
  const state = cfg.optimizer.name.startsWith("adam") ? 2 : cfg.optimizer.name === "sgd" ? 0 : 1;
  const bytes = plan.bytes + params + state * m.trainable.reduce((s, p) => s + p.value.byteLength, 0);
  return { sps: h.samplesPerSecond, bytes };
}

async function tfjs(c: Case, checked: CheckedModel, cfg: TrainConfig, backend: string, rss: PeakRss): Promise<{ sps: number; tensors: number }> {
  await tf.setBackend(backend);
  await tf.ready();
  const m = RuntimeModel.lower(checked, { seed: 1 }).model!;
  const tfm = tfjsTwin(checked, m);
  const step = tfStepper(m, tfm, cfg.loss.name, cfg.loss.opts, cfg.optimizer.name, cfg.optimizer.opts);
  const data = synthetic(m, cfg, c.batch * 4);
  const inT = m.tensors[m.inputs[0]];
  const lw = data.labelShape.length ? data.labelShape[0] : 1;
  const batches = Array.from({ length: 4 }, (_, b) => ({
    x: tf.tensor(data.x.subarray(b * c.batch * inT.size, (b + 1) * c.batch * inT.size), [c.batch, ...inT.shape]),
    y: tf.tensor(Array.prototype.slice.call(data.y, b * c.batch * lw, (b + 1) * c.batch * lw) as number[], [c.batch, lw]),
  }));
  // Warm up (kernel compilation, first allocations), then time whole steps for about `seconds`.
  step(batches[0].x, batches[0].y);
  rss.start();
  let steps = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < c.seconds * 1000 || steps < 2) {
    const b = batches[steps % 4];
    step(b.x, b.y);
    steps++;
    rss.sample();
    t = performance.now();
  }
  const sps = (steps * c.batch) / ((t - t0) / 1000);
  const tensors = tf.memory().numTensors;
  for (const b of batches) tf.dispose([b.x, b.y]);
  tfm.dispose();
  return { sps, tensors };
}

const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch, numpy"]).status === 0;

/** Samples/s of the generated PyTorch module on one thread, or why there is no figure. */
function pytorch(c: Case, checked: CheckedModel, cfg: TrainConfig): number | string {
  if (!hasTorch) return "no torch";
  const dir = mkdtempSync(join(tmpdir(), "nnspec-bench-torch-"));
  try {
    const src = new FileHost().analyse(resolvePath(c.spec), c.spec);
    writeFileSync(join(dir, "model.py"), emitModelFile("bench", [checked], sourceText(src)).text);
    copyFileSync(HELPER, join(dir, "nnspec_torch.py"));
    const input = checked.inputs[0].shape.map((d) => d.value!);
    const out = checked.outputs[0].shape.map((d) => d.value!);
    const script = `
import json, sys, time
from functools import partial
sys.path.insert(0, sys.argv[1])
import torch
torch.set_num_threads(1)
import nnspec_torch as nt
from model import MODELS
c = json.loads(sys.argv[2])
torch.manual_seed(3)
module = MODELS[c["model"]]()
module.train()
shape = [4, c["batch"]] + c["input"]
if c["ids"]:
    # a word's characters, then padding (id 0), as the interpreter's batches
    steps = c["input"][0]
    length = 3 + torch.arange(4 * c["batch"]).reshape(4, c["batch"], 1) % 10
    x = torch.where(torch.arange(steps) < length, torch.randint(2, 42, shape), 0).float()
else:
    x = torch.rand(shape) if len(c["input"]) == 3 else torch.randn(shape)
k = c["out"][-1]
if c["sparse"]:
    y = torch.randint(0, k, (4, c["batch"])).float()
else:
    y = (torch.rand(4, c["batch"], k) < 0.5).float()
loss_fn = eval(c["loss"], {"nt": nt, "partial": partial})
updater = eval(c["optimizer"], {"nt": nt, "partial": partial})(module.parameters())
lr = updater.base_lr
def step(b):
    for p in module.parameters():
        p.grad = None
    loss = loss_fn(module(x[b]), y[b]) + nt.penalty(module)
    loss.backward()
    updater.step(lr)
step(0)
steps, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < c["seconds"] or steps < 2:
    step(steps % 4)
    steps += 1
print(steps * c["batch"] / (time.perf_counter() - t0))
`;
    const job = {
      model: c.model,
      batch: c.batch,
      input,
      out,
      sparse: cfg.loss.name === "sparse_cross_entropy",
      ids: checked.inputs[0].dtype === "int",
      loss: pyPartial(LOSSES.get(cfg.loss.name)!.torch, cfg.loss.opts),
      optimizer: pyPartial(OPTIMIZERS.get(cfg.optimizer.name)!.torch, cfg.optimizer.opts),
      seconds: c.seconds,
    };
    const r = spawnSync(PYTHON, ["-c", script, dir, JSON.stringify(job)], { encoding: "utf8" });
    if (r.status !== 0) return `failed: ${r.stderr.trim().split("\n").pop()}`;
    return Number(r.stdout.trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  let wasm = false;
  try {
    await import("@tensorflow/tfjs-backend-wasm" as string);
    // tfjs-wasm 4.22 cannot train a conv2d (no Conv2DBackpropFilter): register the kernel generated code uses.
    registerWasmConv2dFilterGradient();
    registerWasmSegmentSum();
    wasm = true;
  } catch {
    // not installed: cpu only
  }
  console.log(`train: samples/s while training (higher is better); tfjs ${tf.version.tfjs}, backends cpu${wasm ? " and wasm" : " (wasm not installed: npm i -D @tensorflow/tfjs-backend-wasm@4.22.0)"}`);
  if (!hasTorch) console.log(`PyTorch: ${PYTHON} has no torch (apt-get install -y --no-install-recommends python3-torch python3-numpy)`);
  const rows: string[][] = [["model", "interpreter", "2 threads", "×1", "tfjs-cpu", "×cpu", "tfjs-wasm", "×wasm", "torch 1 thread", "×torch", "interp. buffers", "Δ peak RSS interp / cpu / wasm"]];
  // BENCH_ONLY=words: only the cases whose label contains it
  const only = process.env.BENCH_ONLY;
  for (const c of CASES.filter((x) => !only || x.label.includes(only))) {
    const { checked, cfg } = load(c);
    const rss = new PeakRss();
    const mine = interpreter(c, checked, cfg, rss);
    const rssMine = rss.growth;
    useThreads(2);
    const two = interpreter(c, checked, cfg, rss);
    const rssTwo = rss.growth;
    stopThreads();
    const cpu = await tfjs(c, checked, cfg, "cpu", rss);
    const rssCpu = rss.growth;
    let w: { sps: number } | undefined;
    let rssWasm = 0;
    if (wasm) {
      w = await tfjs(c, checked, cfg, "wasm", rss);
      rssWasm = rss.growth;
    }
    const torch = pytorch(c, checked, cfg);
    record({ model: c.label, interpreter: mine.sps, interpreter2Threads: two.sps, tfjsCpu: cpu.sps, tfjsWasm: w?.sps ?? null, torch1: typeof torch === "number" ? torch : null, interpreterBytes: mine.bytes, peakRss: { interpreter: rssMine, interpreter2Threads: rssTwo, tfjsCpu: rssCpu, tfjsWasm: w ? rssWasm : null } });
    rows.push([
      c.label,
      mine.sps.toFixed(0),
      two.sps.toFixed(0),
      `${(two.sps / mine.sps).toFixed(2)}×`,
      cpu.sps.toFixed(0),
      `${(mine.sps / cpu.sps).toFixed(1)}×`,
      w ? w.sps.toFixed(0) : "-",
      w ? `${(mine.sps / w.sps).toFixed(1)}×` : "-",
      typeof torch === "number" ? torch.toFixed(0) : torch,
      typeof torch === "number" ? `${(mine.sps / torch).toFixed(1)}×` : "-",
      mb(mine.bytes),
      `${mb(rssMine)} (2 threads ${mb(rssTwo)}) / ${mb(rssCpu)} / ${w ? mb(rssWasm) : "-"}`,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  "));
  if (wasm) console.log("tfjs-wasm 4.22 has no Conv2DBackpropFilter kernel; the CNN runs with the one nnspec registers for generated code (src/codegen/tfjs/runtime.ts).");
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
