/**
 * The commands around a saved model, end to end on the shipped data: `nnspec train` writes the model,
 * history, curves and report; `nnspec eval` and `nnspec predict` read them back; errors name the file
 * and the fix and leave nothing half-written; `--from` fine-tunes with frozen layers kept.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evalCommand } from "../../src/cli/commands/eval.ts";
import { main } from "../../src/cli/main.ts";
import { predictCommand } from "../../src/cli/commands/predict.ts";
import { trainCommand } from "../../src/cli/commands/train.ts";
import { historyCsv, learningCurves, niceTicks } from "../../src/runtime/curves.ts";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, text: () => out.join(""), errors: () => err.join(""), io: { stdout: { write: (s: string) => out.push(s), isTTY: false }, stderr: { write: (s: string) => err.push(s) } } };
}

/** A strict XML well-formedness check (tags nest, attributes are quoted and unique, entities are valid); returns the elements. */
function parseXml(text: string): { name: string; attrs: Record<string, string> }[] {
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, "");
  const elements: { name: string; attrs: Record<string, string> }[] = [];
  const stack: string[] = [];
  let roots = 0;
  const entities = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  for (const m of body.matchAll(/<!--[\s\S]*?-->|<[^>]*>|[^<]+/g)) {
    const tok = m[0];
    if (tok.startsWith("<!--")) continue;
    if (!tok.startsWith("<")) {
      if (entities.test(tok)) throw new Error(`bad entity in text ${JSON.stringify(tok)}`);
      if (!stack.length && tok.trim()) throw new Error(`text outside the root: ${JSON.stringify(tok)}`);
      continue;
    }
    const close = /^<\/([A-Za-z_][\w:.-]*)\s*>$/.exec(tok);
    if (close) {
      if (stack.pop() !== close[1]) throw new Error(`mismatched </${close[1]}>`);
      continue;
    }
    const open = /^<([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*"[^"<]*")*)\s*(\/?)>$/.exec(tok);
    if (!open) throw new Error(`malformed tag ${JSON.stringify(tok)}`);
    const attrs: Record<string, string> = {};
    for (const a of open[2].matchAll(/([A-Za-z_][\w:.-]*)\s*=\s*"([^"]*)"/g)) {
      if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      if (entities.test(a[2])) throw new Error(`bad entity in ${a[1]}`);
      attrs[a[1]] = a[2];
    }
    if (!stack.length && ++roots > 1) throw new Error("more than one root element");
    elements.push({ name: open[1], attrs });
    if (!open[3]) stack.push(open[1]);
  }
  if (stack.length) throw new Error(`unclosed <${stack.join("> <")}>`);
  return elements;
}

const dir = mkdtempSync(join(tmpdir(), "nnspec-cli-"));
const iris = join(dir, "iris");
const digits = join(dir, "digits");
/** specs/iris.nnspec with its data path made absolute, so that copies can live in the temporary folder. */
const IRIS_TEXT = readFileSync("specs/iris.nnspec", "utf8").replace('"data/iris.csv"', JSON.stringify(resolve("specs/data/iris.csv")));
const trainOut: string[] = [];

beforeAll(async () => {
  const a = io();
  expect(await trainCommand(["specs/iris.nnspec", "--train", "iris_mlp", "--epochs", "30", "--out", iris], a.io)).toBe(0);
  trainOut.push(a.text());
  const b = io();
  expect(await trainCommand(["specs/dropout_batchnorm.nnspec", "--epochs", "3", "--seed", "2", "--out", digits, "--quiet"], b.io)).toBe(0);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("nnspec train outputs", () => {
  it("writes the saved model, the history, the curves and the report", () => {
    expect(readdirSync(iris).sort()).toEqual(["curves.svg", "graph.svg", "history.csv", "history.json", "model.json", "nnspec.json", "report.json", "report.txt", "weights.bin"]);
    expect(trainOut[0]).toContain(`wrote ${iris}/`);
    const model = JSON.parse(readFileSync(join(iris, "model.json"), "utf8"));
    expect(model.format).toBe("layers-model");
    expect(model.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name)).toEqual(["InputLayer", "Dense", "Dense"]);
    expect(statSync(join(iris, "weights.bin")).size).toBe(4 * (4 * 16 + 16 + 16 * 3 + 3));
    const side = JSON.parse(readFileSync(join(iris, "nnspec.json"), "utf8"));
    expect(side).toMatchObject({ format: "nnspec-model", model: "iris_mlp", data: "iris", train: 2, spec: { file: "specs/iris.nnspec", name: "iris" }, epochs: 30, classNames: ["setosa", "versicolor", "virginica"] });
    expect(side.spec.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(side.preprocess.features.map((f: { name: string; mean?: number }) => [f.name, typeof f.mean])).toEqual([
      ["sepal_length", "number"],
      ["sepal_width", "number"],
      ["petal_length", "number"],
      ["petal_width", "number"],
    ]);
    const csv = readFileSync(join(iris, "history.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("epoch,lr,loss,accuracy,seconds");
    expect(csv).toHaveLength(31);
    expect(JSON.parse(readFileSync(join(iris, "history.json"), "utf8")).history).toHaveLength(30);
    const report = readFileSync(join(iris, "report.txt"), "utf8");
    expect(report).toMatch(/test \(45 examples\): loss \S+ {2}accuracy/);
    expect(report).toMatch(/confusion matrix/);
    const rj = JSON.parse(readFileSync(join(iris, "report.json"), "utf8"));
    expect(rj.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(45);
    expect(rj.split).toBe("test");
  });

  it("plots train and validation loss and the first metric as an SVG that parses", () => {
    const svg = readFileSync(join(digits, "curves.svg"), "utf8");
    const els = parseXml(svg);
    expect(els[0].name).toBe("svg");
    expect(els[0].attrs.xmlns).toBe("http://www.w3.org/2000/svg");
    const curves = els.filter((e) => e.name === "polyline").map((e) => e.attrs["data-label"]);
    expect(curves).toEqual(["train loss", "validation loss", "train accuracy", "validation accuracy"]);
    for (const e of els.filter((x) => x.name === "polyline")) expect(e.attrs.points.split(" ")).toHaveLength(3);
    const texts = svg.match(/<text[^>]*>([^<]*)<\/text>/g)!.map((t) => t.replace(/<[^>]+>/g, ""));
    expect(texts).toEqual(expect.arrayContaining(["loss", "accuracy", "epoch", "train loss", "validation loss", "1", "2", "3"]));
    expect(els.filter((e) => e.attrs.class === "ytick").length).toBeGreaterThanOrEqual(4);
    expect(readFileSync(join(digits, "history.csv"), "utf8").split("\n")[0]).toBe("epoch,lr,loss,accuracy,val_loss,val_accuracy,seconds");
  });

  it("draws one epoch as dots, breaks lines at NaN, and escapes names", () => {
    const rec = (epoch: number, loss: number) => ({ epoch, lr: 0.1, values: { loss, "a<b": 0.5 }, seconds: 0, samplesPerSecond: 0 });
    const one = parseXml(learningCurves([rec(1, 1)], { title: `"x" & <y>` }));
    expect(one.filter((e) => e.name === "circle")).toHaveLength(2);
    const gap = parseXml(learningCurves([rec(1, 1), rec(2, 0.5), rec(3, NaN), rec(4, 0.2), rec(5, 0.1)]));
    expect(gap.filter((e) => e.name === "polyline" && e.attrs["data-label"] === "train loss")).toHaveLength(2);
    expect(niceTicks(0.13, 0.97)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 3).length).toBeGreaterThanOrEqual(2);
    expect(historyCsv([rec(1, 1)])).toBe("epoch,lr,loss,a<b,seconds\n1,0.1,1,0.5,0\n");
  });

  it("--json prints the history with the output folder; --out and --epochs override the spec", async () => {
    const t = io();
    const out = join(dir, "json");
    expect(await trainCommand(["specs/iris.nnspec", "--train", "1", "--epochs", "2", "--out", out, "--json"], t.io)).toBe(0);
    const j = JSON.parse(t.text());
    expect(j.runs[0].out).toBe(out);
    expect(j.runs[0].history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2]);
    expect(j.runs[0].history[0].values).toHaveProperty("loss");
    expect(existsSync(join(out, "model.json"))).toBe(true);
  });

  it("never replaces a folder that holds other files, and replaces its own output whole", async () => {
    const foreign = join(dir, "foreign");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "notes.txt"), "mine");
    const t = io();
    expect(await trainCommand(["specs/iris.nnspec", "--train", "1", "--epochs", "1", "--out", foreign, "--quiet"], t.io)).toBe(1);
    expect(t.errors()).toMatch(/already holds files nnspec did not write \(notes\.txt\).*nothing was written/);
    expect(readdirSync(foreign)).toEqual(["notes.txt"]);
    const again = join(dir, "again");
    for (const epochs of ["1", "2"]) expect(await trainCommand(["specs/iris.nnspec", "--train", "1", "--epochs", epochs, "--out", again, "--quiet"], io().io)).toBe(0);
    expect(JSON.parse(readFileSync(join(again, "nnspec.json"), "utf8")).epochs).toBe(2);
    expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  it("saves a model TensorFlow.js cannot build (elu alpha 0.5) for nnspec, and says tf.loadLayersModel cannot open it", async () => {
    const spec = join(dir, "iris-elu.nnspec");
    writeFileSync(spec, IRIS_TEXT.replace("dense 16 relu", "dense 16\n  elu 0.5"));
    const out = join(dir, "elu");
    const t = io();
    expect(await trainCommand([spec, "--train", "iris_mlp", "--epochs", "20", "--out", out, "--quiet"], t.io)).toBe(0);
    expect(t.errors()).toMatch(/warning: .*tf\.loadLayersModel cannot open the saved model\.json \(layer `elu_1`: elu with alpha 0\.5 cannot be built in TensorFlow\.js.*\); nnspec eval, predict and train --from read it/);
    expect(readdirSync(out).sort()).toEqual(["curves.svg", "graph.svg", "history.csv", "history.json", "model.json", "nnspec.json", "report.json", "report.txt", "weights.bin"]);
    // The topology is Keras JSON with the alpha, as Keras itself writes an ELU layer.
    const layers = JSON.parse(readFileSync(join(out, "model.json"), "utf8")).modelTopology.config.layers as { class_name: string; config: { alpha?: number } }[];
    expect(layers.find((l) => l.class_name === "ELU")?.config.alpha).toBe(0.5);
    // nnspec reads it back: eval reports what train reported.
    const e = io();
    expect(await evalCommand([spec, "--model", out], e.io)).toBe(0);
    const line = (x: string) => x.split("\n").find((l) => l.startsWith("test (45 examples)"));
    expect(line(e.text())).toBe(line(t.text()));
  });
});

describe("nnspec eval and predict", () => {
  it("eval reports the saved model on the test split, as train did", async () => {
    const t = io();
    expect(await main(["eval", "specs/iris.nnspec", "--model", iris], t.io)).toBe(0);
    const line = (s: string) => s.split("\n").find((l) => l.startsWith("test (45 examples)"));
    expect(line(t.text())).toBeDefined();
    expect(line(t.text())).toBe(line(trainOut[0]));
    expect(t.text()).toMatch(/virginica/);
    const j = io();
    expect(await evalCommand(["specs/iris.nnspec", "--model", iris, "--json"], j.io)).toBe(0);
    expect(JSON.parse(j.text())).toMatchObject({ model: "iris_mlp", split: "test", n: 45, classNames: ["setosa", "versicolor", "virginica"] });
  });

  it("eval --out writes the report beside the printed one, predict --out is --output", async () => {
    const out = join(dir, "eval-out");
    const t = io();
    expect(await evalCommand(["specs/iris.nnspec", "--model", iris, "--out", out], t.io)).toBe(0);
    const report = readFileSync(join(out, "eval-test.txt"), "utf8");
    expect(report).toMatch(/test \(45 examples\)/);
    expect(t.text().startsWith(report)).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "eval-test.json"), "utf8"))).toMatchObject({ model: "iris_mlp", split: "test", n: 45 });
    const input = join(dir, "two.csv");
    writeFileSync(input, "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n");
    const p = io();
    expect(await predictCommand(["specs/iris.nnspec", "--model", iris, "--input", input, "--out", join(dir, "two-out.csv")], p.io)).toBe(0);
    expect(readFileSync(join(dir, "two-out.csv"), "utf8").split("\n")[0]).toBe("species,p_setosa,p_versicolor,p_virginica");
    const both = io();
    expect(await predictCommand(["specs/iris.nnspec", "--model", iris, "--input", input, "--out", "a.csv", "--output", "b.csv"], both.io)).toBe(2);
    expect(both.errors()).toMatch(/--out is short for --output: give one of them/);
  });

  it("eval applies the saved preprocessing, whatever the spec now fits", async () => {
    const spec = join(dir, "iris-unscaled.nnspec");
    writeFileSync(spec, IRIS_TEXT.replace("  standardize\n", ""));
    const [a, b] = [io(), io()];
    expect(await evalCommand(["specs/iris.nnspec", "--model", iris, "--json"], a.io)).toBe(0);
    expect(await evalCommand([spec, "--model", iris, "--json"], b.io)).toBe(0);
    expect(JSON.parse(b.text()).loss).toBe(JSON.parse(a.text()).loss);
    expect(b.errors()).toMatch(/note: .*iris-unscaled\.nnspec has changed since the model .* was trained/);
  });

  it("predict writes the class names and probabilities", async () => {
    const input = join(dir, "flowers.csv");
    writeFileSync(input, "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n5.9,3.0,4.2,1.5\n");
    const output = join(dir, "predicted.csv");
    const t = io();
    expect(await main(["predict", "specs/iris.nnspec", "--model", iris, "--input", input, "--output", output], t.io)).toBe(0);
    const rows = readFileSync(output, "utf8").trim().split("\n").map((r) => r.split(","));
    expect(rows[0]).toEqual(["species", "p_setosa", "p_versicolor", "p_virginica"]);
    expect(rows.slice(1).map((r) => r[0])).toEqual(["setosa", "virginica", "versicolor"]);
    for (const r of rows.slice(1)) expect(r.slice(1).reduce((a, p) => a + Number(p), 0)).toBeCloseTo(1, 4);
    // The data file's own rows (all five columns, label included) give the same predictions, on stdout.
    const whole = join(dir, "whole.csv");
    writeFileSync(whole, "5.1,3.5,1.4,0.2,setosa\n6.7,3.0,5.2,2.3,virginica\n5.9,3.0,4.2,1.5,versicolor\n");
    const s = io();
    expect(await predictCommand(["specs/iris.nnspec", "--model", iris, "--input", whole], s.io)).toBe(0);
    expect(s.text()).toBe(readFileSync(output, "utf8"));
  });

  it("predict skips the data block's `skip:` lines in its own file, and --skip N lines in any input", async () => {
    // specs/data/iris.csv begins with a metadata line the data block skips (`skip: 1`).
    const own = io();
    expect(await predictCommand(["specs/iris.nnspec", "--model", iris, "--input", "specs/data/iris.csv"], own.io)).toBe(0);
    expect(own.text().trim().split("\n")).toHaveLength(1 + 150);
    const withMeta = join(dir, "with-meta.csv");
    writeFileSync(withMeta, "2,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n");
    const plain = io();
    expect(await predictCommand(["specs/iris.nnspec", "--model", iris, "--input", withMeta], plain.io)).toBe(1);
    expect(plain.errors()).toMatch(/with-meta\.csv, line 2: 4 fields, but the file's rows have 5; .*skip them with --skip N/);
    const skipped = io();
    expect(await predictCommand(["specs/iris.nnspec", "--model", iris, "--input", withMeta, "--skip", "1"], skipped.io)).toBe(0);
    expect(skipped.text().trim().split("\n").slice(1).map((r) => r.split(",")[0])).toEqual(["setosa", "virginica"]);
    const bad = io();
    expect(await predictCommand(["specs/iris.nnspec", "--model", iris, "--input", withMeta, "--skip", "one"], bad.io)).toBe(2);
    expect(bad.errors()).toMatch(/--skip takes a whole number of lines, not `one`/);
  });

  it("predict reads a first row that names the columns as a header, and suggests --skip 1 for other text", async () => {
    // The iris data block names its columns with `columns`; the file itself has no header row.
    const named = join(dir, "named.csv");
    writeFileSync(named, "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n");
    const h = io();
    expect(await predictCommand(["specs/iris.nnspec", "--model", iris, "--input", named], h.io)).toBe(0);
    expect(h.errors()).toContain("note: the first row of");
    expect(h.text().trim().split("\n").slice(1).map((r) => r.split(",")[0])).toEqual(["setosa", "virginica"]);
    const titled = join(dir, "titled.csv");
    writeFileSync(titled, "a,b,c,d\n5.1,3.5,1.4,0.2\n");
    const t = io();
    expect(await predictCommand(["specs/iris.nnspec", "--model", iris, "--input", titled], t.io)).toBe(1);
    expect(t.errors()).toContain("skip it with `--skip 1`");
  });

  it("predict finds the features by name when the data has a header, and writes regression values", async () => {
    const out = join(dir, "boston");
    expect(await trainCommand(["specs/boston_linear.nnspec", "--epochs", "3", "--out", out, "--quiet"], io().io)).toBe(0);
    const lines = readFileSync("specs/data/boston_house_prices.csv", "utf8").split("\n");
    const header = lines[1].split(",");
    // Columns reordered, the label dropped: matched by name.
    const order = [...header.slice(0, 13)].reverse();
    const input = join(dir, "houses.csv");
    writeFileSync(input, [order.join(","), ...lines.slice(2, 5).map((l) => order.map((c) => l.split(",")[header.indexOf(c)]).join(","))].join("\n") + "\n");
    const t = io();
    expect(await predictCommand(["specs/boston_linear.nnspec", "--model", out, "--input", input], t.io)).toBe(0);
    const rows = t.text().trim().split("\n");
    expect(rows[0]).toBe("MEDV");
    expect(rows.slice(1).every((r) => Number.isFinite(Number(r)))).toBe(true);
    const bad = join(dir, "houses-bad.csv");
    writeFileSync(bad, "CRIM,ZN\n1,2\n");
    const e = io();
    expect(await predictCommand(["specs/boston_linear.nnspec", "--model", out, "--input", bad], e.io)).toBe(1);
    expect(e.errors()).toMatch(/houses-bad\.csv has no columns `INDUS`, `CHAS`.*add the missing columns/);
  });
});

describe("errors name the file and the fix, and leave nothing half-written", () => {
  const copy = (name: string): string => {
    const d = join(dir, name);
    mkdirSync(d);
    for (const f of readdirSync(iris)) copyFileSync(join(iris, f), join(d, f));
    return d;
  };

  it("a missing model folder or file", async () => {
    const t = io();
    expect(await evalCommand(["specs/iris.nnspec", "--model", join(dir, "nope")], t.io)).toBe(1);
    expect(t.errors()).toMatch(/no saved model at .*nope: the folder does not exist.*nnspec train SPEC --out/);
    const d = copy("no-sidecar");
    rmSync(join(d, "nnspec.json"));
    const u = io();
    expect(await evalCommand(["specs/iris.nnspec", "--model", d], u.io)).toBe(1);
    // a folder TensorFlow.js wrote has no nnspec.json: the error says to import it
    expect(u.errors()).toMatch(/no-sidecar\/nnspec\.json is missing: .*no-sidecar holds a model nnspec did not save; import it first with `nnspec import .*no-sidecar\/model\.json`/);
    const v = io();
    expect(await evalCommand(["specs/iris.nnspec"], v.io)).toBe(2);
    expect(v.errors()).toMatch(/--model DIR is required/);
  });

  it("a corrupt model.json and a weights.bin of the wrong size", async () => {
    const d = copy("corrupt");
    writeFileSync(join(d, "model.json"), readFileSync(join(d, "model.json"), "utf8").slice(0, 200));
    const t = io();
    expect(await evalCommand(["specs/iris.nnspec", "--model", d], t.io)).toBe(1);
    expect(t.errors()).toMatch(/corrupt\/model\.json is not valid JSON .*save the model again with `nnspec train SPEC --out/);
    const w = copy("short");
    writeFileSync(join(w, "weights.bin"), readFileSync(join(w, "weights.bin")).subarray(0, 100));
    const u = io();
    expect(await predictCommand(["specs/iris.nnspec", "--model", w, "--input", "specs/data/iris.csv"], u.io)).toBe(1);
    expect(u.errors()).toMatch(/short\/weights\.bin holds 100 bytes, but .*short\/model\.json lists 4 weights of 131 float32 values \(524 bytes\)/);
  });

  it("a model folder saved from another model", async () => {
    const t = io();
    expect(await evalCommand(["specs/wine.nnspec", "--model", iris], t.io)).toBe(1);
    expect(t.errors()).toMatch(/specs\/wine\.nnspec has no model `iris_mlp`, the model saved in .*; give the spec it was trained from \(it was trained from specs\/iris\.nnspec\)/);
    const spec = join(dir, "iris-wider.nnspec");
    writeFileSync(spec, IRIS_TEXT.replace("dense 16 relu", "dense 32 relu"));
    const u = io();
    expect(await evalCommand([spec, "--model", iris], u.io)).toBe(1);
    expect(u.errors()).toMatch(/layer `dense_1`: config\.units is 32 in the spec but 16 in the saved model/);
  });

  it("a CSV with the wrong columns or unreadable cells, and no output file then", async () => {
    const output = join(dir, "never.csv");
    const cases: [string, RegExp][] = [
      ["1,2,3\n", /wrong\.csv has 3 columns, but model `iris_mlp` takes the 4 feature columns of data `iris` \(sepal_length, sepal_width, petal_length, petal_width\), in that order or the data file's 5 columns/],
      ["sl,sw,pl,pw\n1,2,3,4\n", /wrong\.csv, line 1, column 0 \(`sepal_length`\): `sl` is not a number\n.*skip it with `--skip 1` \(the data block reads its file without a header row\)/s],
      ["1,2,,4\n", /line 1, column 2 \(`petal_length`\): the value of feature `petal_length` is missing\nfix them; or train with `missing mean`/],
      ["", /wrong\.csv has no rows to predict/],
    ];
    for (const [text, message] of cases) {
      writeFileSync(join(dir, "wrong.csv"), text);
      const t = io();
      expect(await predictCommand(["specs/iris.nnspec", "--model", iris, "--input", join(dir, "wrong.csv"), "--output", output], t.io)).toBe(1);
      expect(t.errors()).toMatch(message);
      expect(existsSync(output)).toBe(false);
    }
    const t = io();
    expect(await predictCommand(["specs/iris.nnspec", "--model", iris, "--input", join(dir, "missing.csv")], t.io)).toBe(1);
    expect(t.errors()).toMatch(/cannot read .*missing\.csv: .*no such file/);
  });
});

describe("fine-tuning with --from", () => {
  it("loads the saved weights and preprocessing, and leaves the spec's frozen layers as saved", async () => {
    const spec = join(dir, "iris-frozen.nnspec");
    writeFileSync(spec, IRIS_TEXT.replace("dense 16 relu", "dense 16 relu trainable: false"));
    const out = join(dir, "tuned");
    const t = io();
    expect(await trainCommand([spec, "--from", iris, "--epochs", "3", "--out", out], t.io)).toBe(0);
    expect(t.text()).toMatch(/fine-tuning the model saved in .*: its weights and preprocessing; frozen: `dense_1`/);
    // Fine-tuning starts from the saved model: its first epoch is already accurate.
    expect(t.text()).toMatch(/epoch 1\/3 {2}loss 0\.[0-2]/);
    const weights = (d: string) => new Float32Array(new Uint8Array(readFileSync(join(d, "weights.bin"))).buffer);
    const names = (d: string) => JSON.parse(readFileSync(join(d, "model.json"), "utf8")).weightsManifest[0].weights.map((w: { name: string }) => w.name);
    // The frozen layer's weights move to the end (tfjs's order); compare by name.
    const byName = (d: string) => {
      const w = weights(d);
      const specs = JSON.parse(readFileSync(join(d, "model.json"), "utf8")).weightsManifest[0].weights as { name: string; shape: number[] }[];
      const out = new Map<string, number[]>();
      let off = 0;
      for (const s of specs) {
        const n = s.shape.reduce((a, b) => a * b, 1);
        out.set(s.name, Array.from(w.subarray(off, off + n)));
        off += n;
      }
      return out;
    };
    expect(names(out)).toEqual(["dense_2/kernel", "dense_2/bias", "dense_1/kernel", "dense_1/bias"]);
    const [before, after] = [byName(iris), byName(out)];
    expect(after.get("dense_1/kernel")).toEqual(before.get("dense_1/kernel"));
    expect(after.get("dense_1/bias")).toEqual(before.get("dense_1/bias"));
    expect(after.get("dense_2/kernel")).not.toEqual(before.get("dense_2/kernel"));
    expect(JSON.parse(readFileSync(join(out, "nnspec.json"), "utf8")).preprocess).toEqual(JSON.parse(readFileSync(join(iris, "nnspec.json"), "utf8")).preprocess);
    const e = io();
    expect(await trainCommand(["specs/wine.nnspec", "--from", iris, "--epochs", "1", "--out", join(dir, "x")], e.io)).toBe(1);
    expect(e.errors()).toMatch(/has no train block for `iris_mlp`, the model saved in/);
  });
});
