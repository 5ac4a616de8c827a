/** `nnspec train` (src/cli/commands/train.ts) end to end on the shipped iris data. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { parallelProducts } from "../../src/core/simd/index.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { trainCommand } from "../../src/cli/commands/train.ts";

/** A fresh output folder, so runs never write into the repository or into each other. */
const outDir = (): string => join(mkdtempSync(join(tmpdir(), "nnspec-train-")), "out");

function io(tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: { write: (s: string) => out.push(s), isTTY: tty }, stderr: { write: (s: string) => err.push(s) } } };
}

describe("nnspec train", () => {
  it("trains a spec's train block and reports the test split", async () => {
    const t = io();
    expect(await trainCommand(["specs/iris.nnspec", "--train", "iris_mlp", "--epochs", "3", "--seed", "4", "--out", outDir()], t.io)).toBe(0);
    const text = t.out.join("");
    expect(text).toMatch(/epoch 3\/3 {2}loss \d/);
    expect(text).toMatch(/test \(45 examples\): loss/);
    expect(text).toMatch(/confusion matrix/);
    expect(text).toMatch(/virginica/);
  });

  it("draws a progress bar on a terminal and replaces it with each epoch's line", async () => {
    const t = io(true);
    expect(await trainCommand(["specs/digits.nnspec", "--train", "2", "--epochs", "2", "--out", outDir()], t.io)).toBe(0);
    const text = t.out.join("");
    // The bar at the end of each epoch: every batch done, the loss, the running accuracy, the throughput.
    expect(text).toMatch(/epoch 1\/2 \[=+\] 45\/45 batches {2}loss \d\.\d{4} {2}accuracy 0\.\d{4} {2}[\d,]+ samples\/s/);
    expect(text).toMatch(/epoch 2\/2 \[=+\] 45\/45 batches/);
    // Then the line is cleared and the epoch's summary takes its place.
    expect(text).toMatch(/\u001b\[2Kepoch 1\/2 {2}loss \d/);
    const plain = io(false);
    expect(await trainCommand(["specs/digits.nnspec", "--train", "2", "--epochs", "2", "--out", outDir()], plain.io)).toBe(0);
    expect(plain.out.join("")).not.toMatch(/batches|\u001b/);
  });

  it("writes the history as JSON, reproducibly", async () => {
    const runs = await Promise.all([io(), io()].map(async (t) => (await trainCommand(["specs/iris.nnspec", "--train", "2", "--epochs", "2", "--json", "--out", outDir()], t.io), JSON.parse(t.out.join("")))));
    expect(runs[0].runs[0].history.map((h: { values: object }) => h.values)).toEqual(runs[1].runs[0].history.map((h: { values: object }) => h.values));
    expect(runs[0].runs[0].test.values.accuracy).toBeGreaterThan(0);
  });

  /** `rows` lines of `width` seeded values in [−1, 1] and a class (row number mod `classes`), at `path`. */
  const writeRandomCsv = (path: string, rows: number, width: number, classes: number, seed: number): void => {
    let s = seed;
    const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const lines = Array.from({ length: rows }, (_, i) => [...Array.from({ length: width }, () => r().toFixed(4)), i % classes].join(","));
    writeFileSync(path, lines.join("\n") + "\n");
  };

  /** Trains `spec` on the given threads into a folder of its own each time; the weights.bin it wrote. */
  const weightsOf = (spec: string) => {
    let run = 0;
    return async (threads: string): Promise<Buffer> => {
      const t = io();
      const out = `${spec}.run${++run}`;
      expect(await trainCommand([spec, "--threads", threads, "--out", out, "--quiet"], t.io), t.err.join("")).toBe(0);
      return readFileSync(join(out, "weights.bin"));
    };
  };

  it("trains to the same bits on one thread and on two, the large products shared between them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnspec-threads-"));
    writeRandomCsv(join(dir, "wide.csv"), 256, 64, 4, 7);
    writeFileSync(
      join(dir, "wide.nnspec"),
      "data wide {\n  from \"wide.csv\"\n  label 64: class(4)\n  split train: 0.75, test: 0.25, seed: 1\n}\nmodel m(x: [64]) -> logits: [4] {\n  dense 512 relu\n  dropout 0.2\n  dense 512 relu\n  dense 4\n}\ntrain m on wide {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer adam\n  epochs 2\n  batch 64\n}\n",
    );
    const weights = weightsOf(join(dir, "wide.nnspec"));
    const before = parallelProducts();
    const one = await weights("1");
    expect(parallelProducts()).toBe(before);
    const two = await weights("2");
    const shared = parallelProducts() - before;
    expect(shared).toBeGreaterThan(0);
    expect(two.equals(one)).toBe(true);
    // threads started again after the last run stopped them share the products too
    const again = await weights("2");
    expect(parallelProducts() - before).toBe(2 * shared);
    expect(again.equals(one)).toBe(true);
    const bad = io();
    expect(await trainCommand([join(dir, "wide.nnspec"), "--threads", "0"], bad.io)).toBe(2);
    expect(bad.err.join("")).toMatch(/--threads needs a positive integer/);
  });

  it("trains a CNN to the same bits on one thread and on two, its windows and poolings shared between them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnspec-threads-cnn-"));
    writeRandomCsv(join(dir, "images.csv"), 192, 12 * 12 * 4, 3, 11);
    writeFileSync(
      join(dir, "images.nnspec"),
      "data images {\n  from \"images.csv\"\n  label 576: class(3)\n  reshape [12, 12, 4]\n  split train: 0.75, test: 0.25, seed: 1\n}\n" +
        "model m(x: [12, 12, 4]) -> logits: [3] {\n  conv2d 32 kernel: 3 padding: same relu\n  maxpool2d 3 stride: 2 padding: same\n  conv2d 32 kernel: 3 relu\n  maxpool2d 2\n  flatten\n  dense 3\n}\n" +
        "train m on images {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer adam\n  epochs 2\n  batch 64\n}\n",
    );
    const weights = weightsOf(join(dir, "images.nnspec"));
    const before = parallelProducts();
    const one = await weights("1");
    expect(parallelProducts()).toBe(before);
    const two = await weights("2");
    expect(parallelProducts()).toBeGreaterThan(before);
    expect(two.equals(one)).toBe(true);
  });

  it("rejects bad flags with usage, and reports unreadable data as a diagnostic", async () => {
    const a = io();
    expect(await trainCommand(["specs/iris.nnspec", "--epochs", "0"], a.io)).toBe(2);
    expect(a.err.join("")).toMatch(/usage: nnspec train/);
    // A negative value reaches the check (node's parseArgs would call it an "ambiguous" option).
    const neg = io();
    expect(await trainCommand(["specs/iris.nnspec", "--epochs", "-1"], neg.io)).toBe(2);
    expect(neg.err.join("")).toMatch(/^error: --epochs needs a positive integer/);
    const none = io();
    expect(await trainCommand(["specs/iris.nnspec", "--train", "7"], none.io)).toBe(1);
    expect(none.err.join("")).toMatch(/^error: specs\/iris\.nnspec has no train block 7 \(give its number, 1 to 2, or its model's name\)/);
    const b = io();
    expect(await trainCommand(["specs/phone_price.nnspec", "--quiet"], b.io)).toBe(1);
    expect(b.err.join("")).toMatch(/NN\d{4}/);
  });

  it("a run whose loss turns NaN exits 1 and leaves the model saved before untouched", async () => {
    const { readFileSync, writeFileSync } = await import("node:fs");
    const dir = outDir();
    const good = io();
    expect(await trainCommand(["specs/boston_linear.nnspec", "--epochs", "5", "--quiet", "--out", dir], good.io)).toBe(0);
    const weights = readFileSync(join(dir, "weights.bin"));
    const report = readFileSync(join(dir, "report.json"), "utf8");
    // The same spec, its learning rate a million: the loss turns NaN in the first epoch.
    const spec = join(dir, "..", "boston-nan.nnspec");
    writeFileSync(spec, readFileSync("specs/boston_linear.nnspec", "utf8").replace(/optimizer .*/, "optimizer sgd lr: 1e6").replace(/"data\//g, `"${join(process.cwd(), "specs", "data")}/`));
    const bad = io();
    expect(await trainCommand([spec, "--epochs", "5", "--quiet", "--out", dir], bad.io)).toBe(1);
    expect(bad.err.join("")).toMatch(/loss became NaN/);
    expect(bad.err.join("")).toContain(`nothing written to ${dir}`);
    expect(readFileSync(join(dir, "weights.bin")).equals(weights)).toBe(true);
    expect(readFileSync(join(dir, "report.json"), "utf8")).toBe(report);
  });
});

describe("a run killed during the folder swap", () => {
  it("is repaired by the next command on that folder: the moved-aside model comes back, stale temporaries go", async () => {
    const { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync } = await import("node:fs");
    const { dirname, basename } = await import("node:path");
    const { evalCommand } = await import("../../src/cli/commands/eval.ts");
    const dir = outDir();
    const t = io();
    expect(await trainCommand(["specs/iris.nnspec", "--train", "2", "--epochs", "2", "--quiet", "--out", dir], t.io)).toBe(0);
    const weights = readFileSync(join(dir, "weights.bin"));
    // What a kill between the two renames leaves: the old model moved aside, the new one beside it, `dir` missing.
    const dead = 999999; // no such process
    const base = join(dirname(dir), `.${basename(dir)}.tmp-${dead}-abcd1234`);
    mkdirSync(base);
    cpSync(dir, `${base}.old`, { recursive: true });
    renameSync(dir, join(dirname(dir), "gone"));
    expect(existsSync(dir)).toBe(false);
    const e = io();
    expect(await evalCommand(["specs/iris.nnspec", "--model", dir], e.io)).toBe(0);
    expect(e.err.join("")).toMatch(/note: restored .* which an interrupted run had moved aside/);
    expect(readFileSync(join(dir, "weights.bin")).equals(weights)).toBe(true);
    expect(readdirSync(dirname(dir)).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });
});
