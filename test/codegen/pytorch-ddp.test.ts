/**
 * train.py beyond one process, and its saved models: under torchrun (gloo, CPU) two processes and
 * two simulated nodes on loopback take the steps of one process (weights within 1e-5); the model
 * rank 0 saves is read by `nnspec eval` with the test results train.py printed; `--from` continues
 * a model `nnspec train` saved as `nnspec train --from` does; bad flags and folders are errors, exit
 * 1, nothing written. Runs Debian's python3 with torch; outside CI, without it, skips saying how to
 * install.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasTorch, PYTHON } from "./python.ts";
import * as tf from "@tensorflow/tfjs";
import { OUTPUT_FILES } from "../../src/saved/save.ts";
import { applyWeights, parseSaved } from "../../src/saved/load.ts";
import { FileHost } from "../../src/node/host.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { predict } from "../../src/runtime/train.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const TMP = mkdtempSync(join(tmpdir(), "nnspec-torch-ddp-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const PKG = join(TMP, "pkg");
const nnspec = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, "bin/nnspec.mjs"), ...args], { cwd: ROOT, encoding: "utf8" });
const python = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(PYTHON, args, { cwd: TMP, encoding: "utf8", env: { ...process.env, ...env } });
/** torchrun as Debian ships it; its log redirection crashes on Python 3.11 unless given these. */
const TORCHRUN = ["-m", "torch.distributed.run", "--redirects", "1", "--tee", "1"];

function ok(r: SpawnSyncReturns<string>): string {
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The float32 weights of a saved model, in its manifest's order. */
function weights(dir: string): Float32Array {
  const b = readFileSync(join(dir, "weights.bin"));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** The float32 values of a .npy file nnspec wrote (format 1.0, little endian). */
function npyFloats(path: string): Float32Array {
  const b = readFileSync(path);
  const start = 10 + b.readUInt16LE(8);
  return new Float32Array(b.buffer.slice(b.byteOffset + start, b.byteOffset + b.byteLength));
}

/** The largest difference relative to max(1, |a|). */
function drift(a: Float32Array, b: Float32Array): number {
  expect(b.length).toBe(a.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i])));
  return worst;
}

/** "test (45 examples): loss 0.0832  accuracy 1.0000" lines, the way train.py and nnspec print them. */
const testLine = (text: string): string[] => [...text.matchAll(/test \((\d+) examples\): loss (\S+)\s+accuracy (\S+)/g)].map((m) => m.slice(1, 4).join(" "));

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

/** One torchrun per simulated node, all at once, rendezvous on 127.0.0.1. */
async function nodes(count: number, script: string, args: string[]): Promise<string[]> {
  const port = await freePort();
  const runs = Array.from({ length: count }, (_, rank) => {
    const argv = [...TORCHRUN, `--nnodes=${count}`, "--nproc_per_node=1", `--node_rank=${rank}`, "--master_addr=127.0.0.1", `--master_port=${port}`, script, ...args];
    return new Promise<string>((done) => {
      const p = spawn(PYTHON, argv, { cwd: TMP });
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (out += d));
      p.on("close", (code) => {
        expect(code, out).toBe(0);
        done(out);
      });
    });
  });
  return Promise.all(runs);
}

describe.skipIf(!hasTorch)("train.py under torchrun, and its saved models", () => {
  beforeAll(() => {
    ok(nnspec("build", "specs/iris.nnspec", "test/fixtures/torch/digits_cnn.nnspec", "--target", "pytorch", "-o", PKG));
  }, 120_000);

  it("two processes and two nodes take one process's steps: iris (20 epochs) and a CNN with batch norm and dropout", { timeout: 600_000 }, async () => {
    const iris = join(PKG, "iris", "train.py");
    ok(python([iris, "--train", "2", "--epochs", "20", "--device", "cpu", "--out", "iris-1"]));
    const two = ok(python([...TORCHRUN, "--standalone", "--nproc_per_node=2", iris, "--train", "2", "--epochs", "20", "--device", "cpu", "--out", "iris-2"]));
    expect(drift(weights(join(TMP, "iris-1")), weights(join(TMP, "iris-2")))).toBeLessThanOrEqual(1e-5);
    // only rank 0 prints and writes
    expect(two.match(/^\[default1\]:/m)).toBeNull();
    expect(readdirSync(join(TMP, "iris-2")).sort()).toEqual(["model.json", "nnspec.json", "weights.bin"]);

    const cnn = join(PKG, "digits_cnn", "train.py");
    const one = ok(python([cnn, "--device", "cpu", "--out", "cnn-1"]));
    ok(python([...TORCHRUN, "--standalone", "--nproc_per_node=2", cnn, "--device", "cpu", "--out", "cnn-2"]));
    const [node0] = await nodes(2, cnn, ["--device", "cpu", "--out", "cnn-nodes"]);
    const w = weights(join(TMP, "cnn-1"));
    expect(drift(w, weights(join(TMP, "cnn-2")))).toBeLessThanOrEqual(1e-5);
    expect(drift(w, weights(join(TMP, "cnn-nodes")))).toBeLessThanOrEqual(1e-5);
    // the weights moved: the comparison is not between two untrained models
    expect(drift(w, weights(join(PKG, "digits_cnn", "init", "train-1")))).toBeGreaterThan(1e-2);
    expect(testLine(node0)).toEqual(testLine(one));

    // nnspec reads what rank 0 saved, with train.py's test results
    const evald = ok(nnspec("eval", "test/fixtures/torch/digits_cnn.nnspec", "--model", join(TMP, "cnn-nodes")));
    expect(testLine(evald)).toEqual(testLine(node0));
    const meta = JSON.parse(readFileSync(join(TMP, "cnn-nodes", "nnspec.json"), "utf8"));
    expect(meta).toMatchObject({ format: "nnspec-model", model: "digits_cnn", epochs: 2, trainedWith: expect.stringMatching(/^PyTorch /) });

    // TensorFlow.js opens it and predicts what the interpreter predicts with its weights
    const dir = join(TMP, "cnn-nodes");
    const json = readFileSync(join(dir, "model.json"), "utf8");
    const bin = readFileSync(join(dir, "weights.bin"));
    const artifacts = await tf.io.getModelArtifactsForJSON(JSON.parse(json), async (manifest) => [manifest.flatMap((g) => g.weights), bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer]);
    const tfm = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const file = new FileHost().analyse(join(ROOT, "test/fixtures/torch/digits_cnn.nnspec"), "digits_cnn.nnspec");
    const mine = RuntimeModel.lower(file.checked.models.get("digits_cnn")!, { seed: 0 }).model!;
    const saved = parseSaved({ dir, modelJson: json, weights: new Uint8Array(bin), sidecar: readFileSync(join(dir, "nnspec.json"), "utf8") });
    if (!saved.ok) throw new Error(saved.error);
    const applied = applyWeights(mine, saved.value, dir, "digits_cnn.nnspec");
    if (!applied.ok) throw new Error(applied.error);
    const x = npyFloats(join(PKG, "digits_cnn", "data", "train-1", "test_x.npy")).slice(0, 20 * 64);
    const theirs = (tfm.predict(tf.tensor(x, [20, 8, 8, 1])) as tf.Tensor).dataSync();
    const ours = predict(mine, x, 20);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]) / Math.max(1, Math.abs(ours[i])));
    expect(worst).toBeLessThanOrEqual(1e-5);
    tfm.dispose();
  });

  it("--from continues a model nnspec train saved, as nnspec train --from does", { timeout: 300_000 }, () => {
    const start = join(TMP, "from-nnspec");
    ok(nnspec("train", "specs/iris.nnspec", "--train", "2", "--epochs", "3", "--quiet", "--out", start));
    const js = ok(nnspec("train", "specs/iris.nnspec", "--from", start, "--epochs", "4", "--quiet", "--out", join(TMP, "from-js")));
    const py = ok(python([join(PKG, "iris", "train.py"), "--from", start, "--epochs", "4", "--device", "cpu", "--out", "from-py"]));
    // --from selects the saved model's block; the runs agree
    expect(py).toMatch(/^iris_mlp \(train 2\)$/m);
    expect(py).not.toMatch(/iris_softmax/);
    expect(testLine(py)).toEqual(testLine(js));
    expect(drift(weights(join(TMP, "from-js")), weights(join(TMP, "from-py")))).toBeLessThanOrEqual(1e-4);
  });

  it("says what is wrong with a flag or a folder, exit 1, and writes nothing", { timeout: 300_000 }, () => {
    const iris = join(PKG, "iris", "train.py");
    const foreign = join(TMP, "foreign");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "notes.txt"), "mine\n");
    const other = join(TMP, "other-model");
    ok(python([iris, "--train", "1", "--epochs", "1", "--device", "cpu", "--out", other]));
    const cases: [string[], RegExp][] = [
      [["--epochs", "0"], /^error: argument --epochs: needs a positive integer, not `0`$/m],
      [["--train", "9"], /^error: iris\.nnspec has no train block 9 \(give its number, 1 to 2, or its model's name\)$/m],
      [["--out", foreign, "--train", "2"], /^error: .*foreign already holds files nnspec did not write \(notes\.txt\); give an empty or new folder with --out, nothing was written$/m],
      [["--from", join(TMP, "nowhere")], /^error: .*nowhere\/nnspec\.json does not exist: give a folder that `nnspec train` or train\.py wrote/m],
      [["--from", other, "--train", "2", "--out", join(TMP, "never")], /^error: .*other-model holds the model `iris_softmax`, this block trains `iris_mlp`: give a folder saved from it$/m],
      [["--device", "tpu"], /^error: --device tpu: (not a device; )?use cpu, cuda, cuda:N or auto$/m],
    ];
    for (const [args, message] of cases) {
      const r = python([iris, ...args]);
      expect(r.status, `${args.join(" ")}\n${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/Traceback/);
    }
    expect(readdirSync(foreign)).toEqual(["notes.txt"]);
    expect(existsSync(join(TMP, "never"))).toBe(false);
    const cuda = spawnSync(PYTHON, ["-c", "import torch; print(torch.cuda.is_available())"], { encoding: "utf8" }).stdout.trim();
    if (cuda === "False") {
      const r = python([iris, "--device", "cuda", "--epochs", "1"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^error: --device cuda: PyTorch \S+ sees no CUDA GPU on this machine; use --device cpu$/m);
    }
  });

  it("keeps to the run folder's files, as nnspec does", () => {
    const helper = readFileSync(join(ROOT, "src/codegen/pytorch/nnspec_torch.py"), "utf8");
    const listed = /^RUN_FILES = \(([^)]*)\)/m.exec(helper)![1].match(/"([^"]+)"/g)!.map((s) => s.slice(1, -1));
    expect(new Set(listed)).toEqual(OUTPUT_FILES);
  });
});
