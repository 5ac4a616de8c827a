/**
 * Every shipped data set, loaded through the course specs exactly as training will load it: row
 * counts, feature counts and class balance against the figures the files' own descriptions give
 * (specs/data/descr/*.rst), plus the split sizes and the preprocessing each spec asks for.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadData, type LoadedData, type SplitData } from "../../src/data/index.ts";
import { FileHost } from "../../src/node/host.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SPECS = join(ROOT, "specs");
const DESCR = join(SPECS, "data", "descr");
const host = new FileHost();

async function load(specName: string, dataName: string): Promise<LoadedData> {
  const file = join(SPECS, specName);
  const checked = host.analyse(file, `specs/${specName}`);
  const spec = checked.program.data.get(dataName);
  if (!spec) throw new Error(`${specName} has no data ${dataName}`);
  const r = await loadData(spec, file);
  expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  expect(r.data).toBeDefined();
  return r.data!;
}

/** A figure from a description file, e.g. `:Number of Instances: 569`. */
function documented(descr: string, field: string): string {
  const m = new RegExp(`:${field}:\\s*(.*)`).exec(readFileSync(join(DESCR, descr), "utf8"));
  if (!m) throw new Error(`${descr} documents no ${field}`);
  return m[1].trim();
}
const leadingInt = (s: string) => Number(/^\d+/.exec(s)![0]);

const total = (d: LoadedData) => d.train.n + d.val.n + d.test.n;

/** Examples per class over all parts (class indices, or 0/1 of a single binary column). */
function balance(d: LoadedData): number[] {
  const counts: number[] = [];
  for (const s of [d.train, d.val, d.test]) for (let i = 0; i < s.n; i++) counts[s.y[i]] = (counts[s.y[i]] ?? 0) + 1;
  return counts;
}

function shapeOk(s: SplitData, features: number) {
  expect(s.featureShape.reduce((a, b) => a * b, 1)).toBe(features);
  expect(s.x.length).toBe(s.n * features);
  expect(s.y.length).toBe(s.n * s.labelShape.reduce((a, b) => a * b, 1));
  expect(s.rows.length).toBe(s.n);
}

function meanStd(s: SplitData, j: number, width: number): [number, number] {
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < s.n; i++) sum += s.x[i * width + j];
  const mean = sum / s.n;
  for (let i = 0; i < s.n; i++) sq += (s.x[i * width + j] - mean) ** 2;
  return [mean, Math.sqrt(sq / s.n)];
}

/** Every example appears once across the parts (no row lost, none duplicated). */
function partitions(d: LoadedData, rows: number) {
  const all = [...d.train.rows, ...d.val.rows, ...d.test.rows].sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: rows }, (_, i) => i));
}

describe("shipped data sets", () => {
  it("iris: 150 rows, 4 features, 50 of each class (descr/iris.rst)", async () => {
    const d = await load("iris.nnspec", "iris");
    expect(documented("iris.rst", "Number of Instances")).toBe("150 (50 in each of three classes)");
    expect(total(d)).toBe(150);
    expect(d.provenance.source.rowsRead).toBe(150);
    expect(d.train.featureShape).toEqual([leadingInt(documented("iris.rst", "Number of Attributes"))]);
    expect(balance(d)).toEqual([50, 50, 50]);
    expect(d.classNames).toEqual(["setosa", "versicolor", "virginica"]);
    expect(d.featureNames).toEqual(["sepal_length", "sepal_width", "petal_length", "petal_width"]);
    expect(d.train.labelShape).toEqual([]);
    expect(d.train.y).toBeInstanceOf(Int32Array);
    // split train: 0.7, test: 0.3, stratified: 35 + 15 of each class.
    expect([d.train.n, d.val.n, d.test.n]).toEqual([105, 0, 45]);
    const testBalance = [0, 0, 0];
    for (const c of d.test.y) testBalance[c]++;
    expect(testBalance).toEqual([15, 15, 15]);
    shapeOk(d.train, 4);
    shapeOk(d.test, 4);
    partitions(d, 150);
    // standardize: the training split has mean 0 and standard deviation 1.
    for (let j = 0; j < 4; j++) {
      const [m, s] = meanStd(d.train, j, 4);
      expect(Math.abs(m)).toBeLessThan(1e-6);
      expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    }
  });

  it("wine: 178 rows, 13 features, 59 / 71 / 48 (descr/wine_data.rst)", async () => {
    expect(documented("wine_data.rst", "Class Distribution")).toBe("class_0 (59), class_1 (71), class_2 (48)");
    for (const [spec, name] of [["wine.nnspec", "wine"], ["lr_schedule.nnspec", "wine"], ["residual.nnspec", "wine"], ["shared_models.nnspec", "wine"]]) {
      const d = await load(spec, name);
      expect(total(d)).toBe(leadingInt(documented("wine_data.rst", "Number of Instances")));
      expect(d.train.featureShape).toEqual([leadingInt(documented("wine_data.rst", "Number of Attributes"))]);
      expect(balance(d)).toEqual([59, 71, 48]);
      partitions(d, 178);
    }
    const d = await load("wine.nnspec", "wine");
    expect(d.classNames).toEqual(["class_0", "class_1", "class_2"]);
    expect(d.featureNames[0]).toBe("alcohol");
    expect(d.featureNames[12]).toBe("proline");
    // 0.7 / 0.15 / 0.15 of 178, each class split on its own.
    expect([d.train.n, d.val.n, d.test.n]).toEqual([124, 27, 27]);
  });

  it("breast cancer: 569 rows, 30 features, 212 malignant / 357 benign (descr/breast_cancer.rst)", async () => {
    expect(documented("breast_cancer.rst", "Class Distribution")).toBe("212 - Malignant, 357 - Benign");
    for (const spec of ["breast_cancer.nnspec", "l2_comparison.nnspec"]) {
      const d = await load(spec, "breast_cancer");
      expect(total(d)).toBe(leadingInt(documented("breast_cancer.rst", "Number of Instances")));
      expect(d.train.featureShape).toEqual([leadingInt(documented("breast_cancer.rst", "Number of Attributes"))]);
      expect(d.train.labelShape).toEqual([1]);
      expect(balance(d)).toEqual([212, 357]);
      partitions(d, 569);
      // Stratified: every part holds the classes within a row of 212 : 357.
      for (const s of [d.train, d.val, d.test]) {
        let benign = 0;
        for (const v of s.y) benign += v;
        expect(Math.abs(benign - (s.n * 357) / 569)).toBeLessThanOrEqual(1.5);
      }
    }
  });

  it("digits: 1797 rows of 8×8 pixels 0..16, ten classes (descr/digits.rst)", async () => {
    const d = await load("digits.nnspec", "digits");
    expect(total(d)).toBe(leadingInt(documented("digits.rst", "Number of Instances")));
    expect(d.train.featureShape).toEqual([leadingInt(documented("digits.rst", "Number of Attributes"))]);
    expect(documented("digits.rst", "Attribute Information")).toContain("integer pixels in the range 0..16");
    // The description gives no per-class counts; these are the file's (scikit-learn's load_digits).
    expect(balance(d)).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    // scale 1/16 maps the pixels onto [0, 1].
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of d.train.x) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect([lo, hi]).toEqual([0, 1]);
    partitions(d, 1797);
    const reg = await load("dropout_batchnorm.nnspec", "digits");
    expect([reg.train.n, reg.val.n, reg.test.n].reduce((a, b) => a + b)).toBe(1797);
    expect(balance(reg)).toEqual(balance(d));
  });

  it("digits01: keep 64: [0, 1] leaves the 178 zeros and 182 ones", async () => {
    const d = await load("digits.nnspec", "digits01");
    expect(d.provenance.source).toMatchObject({ rowsRead: 1797, rowsKept: 360, droppedByKeep: 1437 });
    expect(balance(d)).toEqual([178, 182]);
    expect(d.train.labelShape).toEqual([1]);
  });

  it("Boston: 506 rows, 13 features, MEDV in 5..50", async () => {
    for (const [spec, name] of [["boston_linear.nnspec", "boston"], ["shared_models.nnspec", "boston"]]) {
      const d = await load(spec, name);
      expect(total(d)).toBe(506);
      expect(d.train.featureShape).toEqual([13]);
      expect(d.featureNames).toEqual(["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT"]);
      expect(d.label).toEqual({ kind: "regression", columns: ["MEDV"] });
      const ys = [...d.train.y, ...d.test.y];
      expect(Math.min(...ys)).toBe(5);
      expect(Math.max(...ys)).toBe(50);
      expect([d.train.n, d.test.n]).toEqual([405, 101]);
    }
  });

  it("diabetes: 442 rows, 10 features, targets from their own file (descr/diabetes.rst)", async () => {
    const d = await load("diabetes.nnspec", "diabetes");
    expect(total(d)).toBe(leadingInt(documented("diabetes.rst", "Number of Instances")));
    expect(documented("diabetes.rst", "Number of Attributes")).toContain("First 10 columns");
    expect(d.train.featureShape).toEqual([10]);
    expect(d.featureNames).toEqual(["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]);
    expect(d.provenance.source.labels).toBe("data/diabetes_target.csv.gz");
    const ys = [...d.train.y, ...d.test.y];
    expect(Math.min(...ys)).toBe(25);
    expect(Math.max(...ys)).toBe(346);
    // The first row of each file: age 59, target 151.
    const first = d.train.rows.indexOf(0) >= 0 ? d.train : d.test;
    expect(first.y[first.rows.indexOf(0)]).toBe(151);
  });

  it("loads the same split twice, byte for byte", async () => {
    const a = await load("wine.nnspec", "wine");
    const b = await load("wine.nnspec", "wine");
    expect(Buffer.from(a.train.x.buffer).equals(Buffer.from(b.train.x.buffer))).toBe(true);
    expect([...a.test.rows]).toEqual([...b.test.rows]);
    expect(JSON.parse(JSON.stringify(a.stats))).toEqual(a.stats);
  });
});

const FASHION = "/usr/share/datasets/fashion-mnist";
describe.skipIf(!existsSync(join(FASHION, "train-images-idx3-ubyte.gz")))("Fashion-MNIST (installed)", () => {
  it("60,000 + 10,000 images of 28×28×1, 6,000 and 1,000 of each class", async () => {
    const d = await load("mnist_cnn.nnspec", "fashion_mnist");
    expect([d.train.n, d.val.n, d.test.n]).toEqual([54000, 6000, 10000]);
    expect(d.train.featureShape).toEqual([28, 28, 1]);
    expect(d.classNames?.[9]).toBe("ankle_boot");
    expect(balance(d)).toEqual(Array(10).fill(7000));
    const testBalance = Array(10).fill(0);
    for (const c of d.test.y) testBalance[c]++;
    expect(testBalance).toEqual(Array(10).fill(1000));
    let hi = 0;
    for (const v of d.test.x) hi = Math.max(hi, v);
    expect(hi).toBe(1);
  }, 120_000);
});

const SUNSPOTS = "/usr/lib/python3/dist-packages/statsmodels/datasets/sunspots/sunspots.csv";
// CI installs python3-statsmodels (.ci/run); elsewhere: apt-get install python3-statsmodels
describe.skipIf(!existsSync(SUNSPOTS) && !process.env.CI)("sunspots (python3-statsmodels)", () => {
  it("cuts 309 years in time order into windows of 24 years, each labelled with the next year", async () => {
    const d = await load("sunspots.nnspec", "sunspots");
    const years = readFileSync(SUNSPOTS, "utf8").trim().split("\n").slice(1).map((l) => l.split(",").map(Number));
    // 216 training years (1700-1915), 47 validation (1916-1962), 46 test (1963-2008), 24 fewer windows each
    expect([d.train.n, d.val.n, d.test.n]).toEqual([192, 23, 22]);
    expect(d.train.featureShape).toEqual([24, 1]);
    const mean = d.stats.features[0].mean!;
    const std = d.stats.features[0].std!;
    const train = years.slice(0, 216).map((y) => y[1]);
    expect(mean).toBeCloseTo(train.reduce((a, b) => a + b, 0) / 216, 9);
    // the test windows predict 1987-2008 from the 24 years before each, standardized with the training years
    expect(Array.from(d.test.y)).toEqual(years.slice(-22).map((y) => Math.fround(y[1])));
    const last = Array.from(d.test.x.subarray(21 * 24, 22 * 24));
    last.forEach((v, i) => expect(v).toBeCloseTo((years[309 - 25 + i][1] - mean) / std, 4));
  });
});
