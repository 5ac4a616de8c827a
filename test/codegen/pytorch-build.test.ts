/**
 * `nnspec build --target pytorch` end to end: the package it writes for each course spec holds the
 * interpreter's split and preprocessed arrays bit for bit and its initial weights; `python3
 * train.py` trains to the interpreter's test results; the code passes pyflakes and black; what the
 * target cannot run yet is an error that writes nothing. Runs Debian's python3 with torch; outside
 * CI, without it, skips saying how to install.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { hasLinters, hasTorch, PYTHON } from "./python.ts";
import { afterAll, describe, expect, it } from "vitest";
import { writeBuilt } from "../../src/codegen/build.ts";
import { buildPytorch, initialModel } from "../../src/codegen/pytorch/build.ts";
import { encodeWeights, modelJson } from "../../src/saved/save.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { loadData } from "../../src/data/index.ts";
import { FileHost } from "../../src/node/host.ts";

const ROOT = resolve(import.meta.dirname, "../..");

const TMP = mkdtempSync(join(tmpdir(), "nnspec-torch-build-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** Specs the PyTorch target runs, with data shipped in the repository. */
const SPECS = ["iris", "wine", "breast_cancer", "boston_linear", "diabetes", "digits", "dropout_batchnorm", "l2_comparison", "optimizers", "residual", "lr_schedule"];

const nnspec = (...args: string[]) => spawnSync(process.execPath, ["bin/nnspec.mjs", ...args], { cwd: ROOT, encoding: "utf8" });
const sha = (a: Float32Array): string => createHash("sha256").update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest("hex");

describe.skipIf(!hasTorch)("nnspec build --target pytorch", () => {
  const out = join(TMP, "out");

  it("writes each spec's package: the interpreter's arrays bit for bit, clean code", { timeout: 300_000 }, async () => {
    const built = await buildPytorch(
      SPECS.map((s) => `specs/${s}.nnspec`),
      { cwd: ROOT, outRoot: out },
    );
    expect(built.errors).toEqual([]);
    writeBuilt(built.files);
    // the arrays numpy reads are the loader's, byte for byte
    const want: Record<string, string> = {};
    for (const s of SPECS) {
      const path = join(ROOT, "specs", `${s}.nnspec`);
      const file = new FileHost().analyse(path, `specs/${s}.nnspec`);
      for (const [i, t] of file.checked.trains.entries()) {
        const { data } = await loadData(t.data!, path);
        for (const part of ["train", "val", "test"] as const)
          if (data![part].n > 0) {
            want[`${s}/data/train-${i + 1}/${part}_x.npy`] = sha(data![part].x);
            want[`${s}/data/train-${i + 1}/${part}_y.npy`] = sha(Float32Array.from(data![part].y));
          }
      }
    }
    const script = `
import hashlib, json, sys
import numpy as np
out = {}
for rel in json.loads(sys.argv[2]):
    a = np.load(sys.argv[1] + "/" + rel)
    assert a.dtype == np.dtype("<f4"), rel
    out[rel] = hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
print(json.dumps(out))
`;
    const r = spawnSync(PYTHON, ["-c", script, out, JSON.stringify(Object.keys(want))], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(want);
    expect(existsSync(join(out, "nnspec_torch.py"))).toBe(true);
    if (hasLinters) {
      const py = SPECS.flatMap((s) => readdirSync(join(out, s)).filter((f) => f.endsWith(".py")).map((f) => join(out, s, f)));
      expect(spawnSync("pyflakes3", py, { encoding: "utf8" }).stdout).toBe("");
      const black = spawnSync("black", ["--check", "--quiet", ...py], { encoding: "utf8" });
      expect(black.status, black.stderr).toBe(0);
    }
  });

  it("trains to the interpreter's results: python3 train.py beside nnspec train", { timeout: 300_000 }, async () => {
    // lr_schedule: step, cosine, reduce_on_plateau and exponential rates, early stopping on val_loss and
    // val_accuracy with the best weights restored: 40 epochs are enough for stops to happen.
    // metrics: k-fold cross-validation, early stopping on F1, recall and R², every metric of the report.
    const fixture = "test/fixtures/torch/metrics.nnspec";
    const built = await buildPytorch([fixture], { cwd: ROOT, outRoot: out });
    expect(built.errors).toEqual([]);
    writeBuilt(built.files);
    for (const [spec, epochs] of [["specs/iris.nnspec", "3"], ["specs/breast_cancer.nnspec", "3"], ["specs/boston_linear.nnspec", "3"], ["specs/lr_schedule.nnspec", "40"], [fixture, undefined]] as const) {
      const stem = spec.replace(/^.*\/|\.nnspec$/g, "");
      const more = epochs ? ["--epochs", epochs] : [];
      const py = spawnSync(PYTHON, [join(out, stem, "train.py"), ...more, "--device", "cpu"], { cwd: TMP, encoding: "utf8" });
      expect(py.status, py.stderr).toBe(0);
      if (stem === "lr_schedule") expect(py.stdout).toMatch(/^stopped: `val_accuracy` did not improve/m);
      const js = nnspec("train", spec, ...more, "--out", join(TMP, "js", stem));
      expect(js.status, js.stderr).toBe(0);
      // each block's test line with every metric ("test (45 examples): loss 0.0832  accuracy 1.0000  precision …"),
      // and with k folds each fold's line and the mean ± sd
      const results = (text: string) => text.split("\n").filter((l) => /^(test \(|fold \d+\/\d+ |cross-validation \()/.test(l));
      expect(results(py.stdout).length, py.stdout).toBeGreaterThan(0);
      expect(results(py.stdout), stem).toEqual(results(js.stdout));
    }
  });

  it("starts every model from the interpreter's initial weights, bit for bit, saved as nnspec saves a model", () => {
    for (const s of ["iris", "dropout_batchnorm", "mnist_cnn", "residual", "shared_models"]) {
      const file = new FileHost().analyse(join(ROOT, "specs", `${s}.nnspec`), `specs/${s}.nnspec`);
      for (const m of file.checked.models.values()) {
        const { model } = RuntimeModel.lower(m, { seed: 17 });
        const init = initialModel(m, 17);
        expect(Buffer.from(encodeWeights(init)).equals(Buffer.from(encodeWeights(model!))), `${s}/${m.spec.name}`).toBe(true);
        expect(modelJson(init)).toBe(modelJson(model!));
      }
    }
  });

  it("refuses what check refuses: a train block on a model with two inputs, nothing written, exit 1", () => {
    const dir = join(TMP, "refused");
    const r = nnspec("build", "test/cases/checks/train-several-inputs.nnspec", "--target", "pytorch", "-o", dir);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error\[NN0423\]: `two` has 2 inputs and 1 output/);
    expect(r.stderr).toMatch(/^nothing written$/m);
    expect(existsSync(dir)).toBe(false);
  });
});
