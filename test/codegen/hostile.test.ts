/**
 * Names from a spec can never break out of the generated code's strings, identifiers or comments.
 *
 * A spec in a folder and a file whose names hold quotes, `${`, backticks, a backslash, `*`, a newline
 * and non-ASCII letters reads a CSV with such a name; it names the columns with quotes, backticks,
 * `${`, a newline, `*\/` and U+2028, and the classes (read from the file) with quotes, a backtick
 * and `${`. Its models and tensors are named `class`, `new`, `constructor` and `toString`, and two
 * models (`iris_mlp`, `irisMlp`) camel-case to the same name. (TensorFlow.js refuses a layer named
 * `__proto__`, or anything starting with `_`: the build says so and writes nothing.)
 * The generated module must type-check under `tsc --strict`, import, and mean what the spec means:
 * the same names, the same data (byte for byte what the interpreter loads), a model that trains.
 */
import * as tf from "@tensorflow/tfjs";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSpecs, writeBuilt, type BuildResult } from "../../src/codegen/tfjs/build.ts";
import { camel, commentText, literal, Namer, pascal } from "../../src/codegen/names.ts";
import { loadData } from "../../src/data/index.ts";
import type { DataConfig, LoadedData } from "../../src/data/runtime.ts";
import { FileHost } from "../../src/node/host.ts";
import { buildPytorch } from "../../src/codegen/pytorch/build.ts";
import { writeBuilt as writeFiles } from "../../src/codegen/build.ts";
import { hasLinters, hasTorch, PYTHON } from "./python.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// Inside the repository (tmp/ is ignored) so the module resolves @tensorflow/tfjs.
const work = join(root, "tmp", `codegen-hostile-${process.pid}`);
const specDir = join(work, 'dir "q" ${x} `b` \\ é');
const DATA_FILE = 'we"ird ${x} `q` *\\ é.csv';
const COLUMNS = ['a"b', "back`tick ${x}", "new\nline */ end", "é\u2028 λ"];
const LABEL = 'sp"ecies';
const CLASSES = ['se"tosa', "ver`sicolor", "vir${x}ginica"];
const SPEC_NAME = 'spec "q" ${x} `b` * é\nnl.nnspec';

/** A DSL string literal. */
const dsl = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\u2028/g, "\\u{2028}")}"`;
/** A CSV cell. */
const csv = (s: string): string => `"${s.replace(/"/g, '""')}"`;

const SPEC = `data default {
  from ${dsl(`data/${DATA_FILE}`)}
  columns ${[...COLUMNS, LABEL].map(dsl).join(", ")}
  features ${COLUMNS.map(dsl).join(", ")}
  label ${dsl(LABEL)}: class(3, names: [${CLASSES.map(dsl).join(", ")}])
  standardize
  split train: 0.7, test: 0.3, stratified, seed: 7
}

# a comment with */ and \${x}
model class(new: [4]) -> out: [3] {
  constructor = dense 8 relu
  toString = constructor -> dense 3
}

model iris_mlp(x: [4]) -> out: [3] {
  dense 8 relu
  dense 3
}

model irisMlp(x: [4]) -> out: [3] {
  dense 3
}

train class on default {
  loss sparse_cross_entropy(from_logits: true)
  optimizer adam lr: 0.05
  epochs 3
  batch 8
  seed 3
  metrics accuracy
}

train iris_mlp on default {
  loss sparse_cross_entropy(from_logits: true)
  optimizer adamw lr: 0.05
  epochs 3
  batch 8
  seed 3
  metrics accuracy, f1
}
`;

interface HostileModule {
  MODELS: readonly { name: string; create: (seed?: number) => tf.LayersModel }[];
  TRAININGS: readonly {
    name: string;
    loadData(): Promise<LoadedData>;
    createModel(): tf.LayersModel;
    compile(model: tf.LayersModel): void;
    train(model: tf.LayersModel, data: LoadedData, options?: { epochs?: number }): Promise<tf.History>;
    evaluate(model: tf.LayersModel, data: LoadedData): Record<string, number>;
  }[];
  defaultData: DataConfig;
}

let built: BuildResult;
let mod: HostileModule;
let specPath: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  mkdirSync(join(specDir, "data"), { recursive: true });
  // No header row: the \`columns\` statement names the columns (the checker's header reader splits quoted newlines).
  let rows = "";
  let s = 1;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  for (let i = 0; i < 60; i++) rows += [0, 1, 2, 3].map(() => (i % 3) + 0.4 * rand()).join(",") + "," + csv(CLASSES[i % 3]) + "\n";
  writeFileSync(join(specDir, "data", DATA_FILE), rows);
  specPath = join(specDir, SPEC_NAME);
  writeFileSync(specPath, SPEC);
  built = await buildSpecs([specPath], { cwd: root, outRoot: join(work, "out") });
  writeBuilt(built.files);
  if (built.files[0]) mod = (await import(pathToFileURL(built.files[0].path).href)) as HostileModule;
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("hostile names", () => {
  it("check clean and generate", () => {
    expect(built.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
    expect(built.errors).toEqual([]);
    expect(built.files).toHaveLength(1);
    // The module's folder and file name keep only [A-Za-z0-9_.-].
    expect(built.files[0].path.slice(join(work, "out").length)).toMatch(/^\/([A-Za-z0-9_.-]+)\/\1\.ts$/);
  });

  it("type-check under tsc --strict", () => {
    const file = built.files[0].path;
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      allowImportingTsExtensions: true,
      types: ["node"],
    };
    const program = ts.createProgram([file], options);
    const problems = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file || !d.file);
    expect(problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
  });

  it("keep every name and string as the spec gives it", () => {
    expect(mod.MODELS.map((m) => m.name)).toEqual(["class", "iris_mlp", "irisMlp"]);
    expect(mod.TRAININGS.map((t) => t.name)).toEqual(["train class on default", "train iris_mlp on default"]);
    expect(mod.defaultData.statements.features.columns).toEqual(COLUMNS);
    expect(mod.defaultData.statements.from.path).toBe(`data/${DATA_FILE}`);
    expect(mod.defaultData.label).toEqual({ columns: [LABEL], kind: "class", classes: 3, names: CLASSES });
    expect(mod.defaultData.spec).toBe(specPath);
    const m = mod.MODELS[0].create();
    expect(m.name).toBe("class");
    expect(m.layers.map((l) => l.name)).toEqual(["new", "constructor", "toString"]);
    expect(m.getLayer("toString").countParams()).toBe(8 * 3 + 3);
    m.dispose();
    // The colliding camel-case names got distinct functions that build their own models.
    const [a, b] = [mod.MODELS[1].create(), mod.MODELS[2].create()];
    expect([a.name, a.countParams(), b.name, b.countParams()]).toEqual(["iris_mlp", 4 * 8 + 8 + 8 * 3 + 3, "irisMlp", 4 * 3 + 3]);
    a.dispose();
    b.dispose();
  });

  it("load the data the interpreter loads, and train", async () => {
    const t = mod.TRAININGS[0];
    const data = await t.loadData();
    const file = new FileHost().analyse(specPath, specPath);
    const direct = (await loadData(file.checked.data.get("default")!, specPath)).data!;
    expect(Array.from(data.train.x)).toEqual(Array.from(direct.train.x));
    expect(Array.from(data.test.y)).toEqual(Array.from(direct.test.y));
    expect(data.featureNames).toEqual(COLUMNS);
    expect(data.classNames).toEqual(CLASSES);
    for (const tr of mod.TRAININGS) {
      const model = tr.createModel();
      tr.compile(model);
      const h = await tr.train(model, data);
      expect(h.epoch).toHaveLength(3);
      expect(Number.isFinite(tr.evaluate(model, data).loss)).toBe(true);
      model.optimizer.dispose();
      model.dispose();
    }
  });
});

describe.skipIf(!hasTorch)("hostile names in the PyTorch target", () => {
  it("stay inside Python's strings, identifiers and comments: the package imports, keeps the names, trains", { timeout: 120_000 }, async () => {
    const out = join(work, "py");
    const r = await buildPytorch([specPath], { cwd: root, outRoot: out });
    expect(r.errors).toEqual([]);
    writeFiles(r.files);
    const pkg = dirname(r.files.find((f) => f.path.endsWith("model.py"))!.path);
    expect(pkg.slice(out.length)).toMatch(/^\/[A-Za-z0-9_.-]+$/);
    const code = [join(pkg, "model.py"), join(pkg, "train.py")];
    if (hasLinters) {
      expect(spawnSync("pyflakes3", code, { encoding: "utf8" }).stdout).toBe("");
      expect(spawnSync("black", ["--check", "--quiet", ...code]).status).toBe(0);
    }
    // the names as Python sees them: models, weight names (layers named after Python words)
    const script = `
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from model import MODELS
print(json.dumps({name: sorted(cls.WEIGHTS) for name, cls in MODELS.items()}))
for cls in MODELS.values():
    cls()
`;
    const names = spawnSync(PYTHON, ["-c", script, pkg, out], { encoding: "utf8" });
    expect(names.status, names.stderr).toBe(0);
    expect(JSON.parse(names.stdout)).toEqual({
      class: ["constructor/bias", "constructor/kernel", "toString/bias", "toString/kernel"],
      iris_mlp: ["dense_1/bias", "dense_1/kernel", "dense_2/bias", "dense_2/kernel"],
      irisMlp: ["dense_1/bias", "dense_1/kernel"],
    });
    const run = spawnSync(PYTHON, [join(pkg, "train.py"), "--epochs", "1", "--device", "cpu", "--out", join(work, "py-run")], { cwd: work, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^test \(\d+ examples\): loss \S+ {2}accuracy \S+ {2}precision \S+ {2}recall \S+ {2}f1 \S+$/m);
    // the saved model keeps the spec's names for nnspec to read
    const evald = spawnSync(process.execPath, [join(root, "bin/nnspec.mjs"), "eval", specPath, "--model", join(work, "py-run", "class")], { encoding: "utf8" });
    expect(evald.status, evald.stderr).toBe(0);
  });
});

describe("names TensorFlow.js refuses", () => {
  it("stop the build with a message, and nothing is written", async () => {
    mkdirSync(work, { recursive: true });
    const p = join(work, "underscore.nnspec");
    writeFileSync(p, "model m(x: [4]) -> y: [3] {\n  __proto__ = dense 3\n}\n");
    const r = await buildSpecs([p], { cwd: root, outRoot: join(work, "out2") });
    expect(r.files).toEqual([]);
    expect(r.errors).toEqual([`${p}:2: layer \`__proto__\` of model \`m\` cannot be named so in TensorFlow.js, whose layer and input names must start with a letter or a digit: rename it`]);
  });
});

describe("names.ts", () => {
  it("makes identifiers from any name", () => {
    expect(pascal("iris_mlp")).toBe("IrisMlp");
    expect(camel("iris_mlp")).toBe("irisMlp");
    expect(camel("2d_conv")).toBe("_2dConv");
    expect(camel('"${}*/')).toBe("x");
    const n = new Namer(["tf"]);
    expect([n.fresh("createIrisMlp"), n.fresh("createIrisMlp"), n.fresh("tf"), n.fresh("class"), n.fresh("new")]).toEqual(["createIrisMlp", "createIrisMlp2", "tf2", "class2", "new2"]);
    const local = new Namer([], n);
    expect(local.fresh("createIrisMlp")).toBe("createIrisMlp3");
  });

  it("writes literals that evaluate to the same value", () => {
    const values = ['a"b', "`${x}`", "new\nline\r\u2028\u2029", "*/ /* \\", "é λ 😀", { __proto__x: 1, ["__proto__"]: [1, -0, 1e-7] }, { "a b": null, ok: true }];
    for (const v of values) {
      const back = new Function(`return (${literal(v)});`)() as unknown;
      expect(back).toEqual(v);
    }
    const proto = JSON.parse('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    const back = new Function(`return (${literal(proto)});`)() as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(["__proto__"]);
    expect(new Function(`return ${literal(Infinity)} + ${literal(-Infinity)};`)()).toBeNaN();
  });

  it("keeps comments closed and on one line", () => {
    const c = commentText("a */ b\nc\r\nd\u2028e\u2029f\u0000");
    expect(c).not.toMatch(/\*\/|[\n\r\u2028\u2029\u0000]/);
    expect(new Function(`/* ${c} */ // ${c}\nreturn 1;`)()).toBe(1);
  });
});
