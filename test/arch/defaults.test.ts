/**
 * The contract that keeps each default in one place: for every kind, leaving an option out must
 * behave exactly as writing its schema default. The interpreter (trained weights, outputs, learning
 * rates), the generated TensorFlow.js code and the docs (hover's option table) are compared between
 * the two spellings. A backend that kept a fallback of its own, different from the schema, fails here.
 */
import { describe, expect, it } from "vitest";
import type { Json } from "../../src/core/json.ts";
import type { OptionsSchema } from "../../src/core/options.ts";
import { emitModule } from "../../src/codegen/tfjs/emit.ts";
import type { CheckedProgram } from "../../src/check/ir.ts";
import { LAYERS as LAYER_KINDS } from "../../src/kinds/layers/registry.ts";
import { LOSSES } from "../../src/kinds/losses/index.ts";
import { OPTIMIZERS, SCHEDULES } from "../../src/kinds/optimizers/index.ts";
import { DATA_STATEMENTS, TRAIN_STATEMENTS } from "../../src/lang/statements.ts";
import { loadData } from "../../src/data/index.ts";
import { resolve } from "node:path";
import { jsonText, optionsTable } from "../../src/lsp/describe.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { TrainStep } from "../../src/runtime/step.ts";
import { scheduledLr, trainConfig } from "../../src/runtime/train.ts";
import { analyse } from "../runtime/helpers.ts";

/** A default as nnspec source: every schema default is a number, a boolean or a bare name. */
function sourceOf(v: Json): string {
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "string" && /^[a-z_][a-z_0-9]*$/.test(v)) return v;
  throw new Error(`no source form for the default ${JSON.stringify(v)}`);
}

/** `name: default` for every option of the schema that has a default and is not in `skip`. */
function writtenDefaults(schema: OptionsSchema, skip: readonly string[] = []): string {
  return Object.entries(schema.properties)
    .filter(([k, p]) => p.default !== undefined && !skip.includes(k))
    .map(([k, p]) => `${k}: ${sourceOf(p.default!)}`)
    .join(", ");
}

function clean(text: string) {
  const f = analyse(text);
  const errors = f.diagnostics.filter((d) => d.severity === "error");
  expect(errors.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return f;
}

/** The generated module without its comments (they quote the spec's lines, which differ). */
function generated(checked: CheckedProgram, text: string): string {
  const code = emitModule({ specPath: "specs/inline.nnspec", source: () => text, checked, runtimeImport: "r", helpersImport: "h", specDir: ".", runCommand: "run" });
  return code
    .split("\n")
    .map((l) => l.replace(/\/\/.*$/, "").replace(/\/\*.*?\*\//g, ""))
    .filter((l) => !/^\s*(\*|\/\*\*)/.test(l) && l.trim() !== "")
    .join("\n");
}

const DATA = `data d {
  from "data/iris.csv" skip: 1
  columns a, b, c, e, species
  label species: class(3)
  split train: 0.8, val: 0.2, seed: 1
}
model m(x: [4]) -> y: [3] {
  dense 5 relu
  dense 3
}
`;

/** Trains three steps on fixed data and returns the weights and losses: the interpreter's behaviour. */
function interpreterRun(text: string, train = 0): number[] {
  const f = clean(text);
  const t = f.checked.trains[train];
  const cfg = trainConfig(t);
  const { model } = RuntimeModel.lower(f.checked.models.get(t.model!.name)!, { seed: 3 });
  const step = new TrainStep(model!, 6, cfg.loss, cfg.optimizer);
  const x = step.plan.input(0);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 1.7);
  for (let i = 0; i < step.labels.length; i++) step.labels[i] = i % 3;
  const out: number[] = [];
  for (let s = 0; s < 3; s++) out.push(step.run(6, scheduledLr(cfg.schedule, step.optimizer.baseLr, s)));
  for (const p of model!.params) out.push(...p.value);
  return out;
}

describe("one default per option: leaving it out equals writing the schema's default", () => {
  for (const [name, kind] of OPTIMIZERS) {
    it(`optimizer ${name}`, () => {
      const a = `${DATA}train m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer ${name}\n}\n`;
      const b = `${DATA}train m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer ${name} ${writtenDefaults(kind.schema)}\n}\n`;
      expect(interpreterRun(a)).toEqual(interpreterRun(b));
      expect(generated(clean(a).checked, a)).toBe(generated(clean(b).checked, b));
      const t = clean(a).checked.trains[0];
      const table = optionsTable(kind.schema, t.optimizer!.values);
      for (const [k, v] of Object.entries(t.config!.optimizer.opts)) expect(table).toContain(`| \`${k}\` | \`${jsonText(v)}\` | default |`);
    });
  }

  for (const [name, kind] of LOSSES) {
    if (!Object.values(kind.schema.properties).some((p) => p.default !== undefined)) continue;
    it(`loss ${name}`, () => {
      const head = name === "binary_cross_entropy" ? "dense 3 sigmoid" : name === "cross_entropy" || name === "sparse_cross_entropy" ? "dense 3 softmax" : "dense 3";
      const data = DATA.replace("  dense 3\n", `  ${head}\n`).replace("class(3)", name === "sparse_cross_entropy" ? "class(3)" : name === "cross_entropy" ? "onehot(3)" : name === "binary_cross_entropy" ? "onehot(3)" : "onehot(3)");
      const a = `${data}train m on d {\n  loss ${name}\n  optimizer sgd\n}\n`;
      const b = `${data}train m on d {\n  loss ${name}(${writtenDefaults(kind.schema)})\n  optimizer sgd\n}\n`;
      expect(interpreterRun(a)).toEqual(interpreterRun(b));
      expect(generated(clean(a).checked, a)).toBe(generated(clean(b).checked, b));
    });
  }

  for (const [name, kind] of SCHEDULES) {
    it(`schedule ${name}`, () => {
      const a = `${DATA}train m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer sgd\n  schedule ${name}\n}\n`;
      const b = `${DATA}train m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer sgd\n  schedule ${name} ${writtenDefaults(kind.schema)}\n}\n`;
      const rates = (text: string) => {
        const cfg = trainConfig(clean(text).checked.trains[0]);
        return Array.from({ length: 120 }, (_, e) => scheduledLr(cfg.schedule, 0.1, e));
      };
      expect(rates(a)).toEqual(rates(b));
      expect(generated(clean(a).checked, a)).toBe(generated(clean(b).checked, b));
    });
  }

  it("train statements: epochs, batch, seed and early stopping", () => {
    const head = `${DATA}train m on d {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer sgd\n`;
    const a = `${head}  early_stopping\n}\n`;
    const explicit = ["epochs", "batch", "seed"].map((s) => `  ${s} ${sourceOf(TRAIN_STATEMENTS.get(s)!.schema.properties[TRAIN_STATEMENTS.get(s)!.args.positional[0]].default!)}`);
    const b = `${head}${explicit.join("\n")}\n  early_stopping ${writtenDefaults(TRAIN_STATEMENTS.get("early_stopping")!.schema)}\n}\n`;
    expect(clean(a).checked.trains[0].config).toEqual(clean(b).checked.trains[0].config);
    expect(generated(clean(a).checked, a)).toBe(generated(clean(b).checked, b));
  });
});

describe("one default per data statement option", () => {
  const block = (extra: string) => `data d {
  from "data/iris.csv" skip: 1
  columns a, b, c, e, species
  label species: class(3)
${extra}
}
`;
  // Each case: written without its defaulted options, and with every one of them written.
  const cases: [string, string, string][] = [
    ["split", "  split train: 0.7, val: 0.1", `  split train: 0.7, val: 0.1, ${writtenDefaults(DATA_STATEMENTS.get("split")!.schema)}`],
    ["missing", "", `  missing ${sourceOf(DATA_STATEMENTS.get("missing")!.schema.properties.policy.default!)}`],
    ["minmax", "  minmax", `  minmax range: [${(DATA_STATEMENTS.get("minmax")!.schema.properties.range.default as number[]).join(", ")}]`],
    ["from", "", ""],
  ];
  for (const [name, a, b] of cases) {
    it(name, async () => {
      const load = async (extra: string, fromOpts = "") => {
        const text = block(extra).replace("skip: 1", `skip: 1${fromOpts}`);
        const f = clean(text);
        const r = await loadData(f.checked.data.get("d")!, resolve("specs/inline.nnspec"));
        expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
        return r.data!;
      };
      const written = name === "from" ? `, ${writtenDefaults(DATA_STATEMENTS.get("from")!.schema, ["skip"])}` : "";
      const x = await load(a);
      const y = await load(b, written);
      for (const part of ["train", "val", "test"] as const) {
        expect([...x[part].x]).toEqual([...y[part].x]);
        expect([...x[part].y]).toEqual([...y[part].y]);
      }
      expect(x.stats).toEqual(y.stats);
    });
  }
});

/** Each layer kind with only what it requires, and its input. */
const LAYERS: Record<string, { input: string; layer: string }> = {
  dense: { input: "[5]", layer: "dense 4" },
  conv1d: { input: "[6, 2]", layer: "conv1d 3 kernel: 2" },
  conv2d: { input: "[6, 6, 2]", layer: "conv2d 3 kernel: 2" },
  maxpool1d: { input: "[6, 2]", layer: "maxpool1d" },
  avgpool1d: { input: "[6, 2]", layer: "avgpool1d" },
  maxpool2d: { input: "[6, 6, 2]", layer: "maxpool2d" },
  avgpool2d: { input: "[6, 6, 2]", layer: "avgpool2d" },
  global_maxpool1d: { input: "[6, 2]", layer: "global_maxpool1d" },
  global_avgpool1d: { input: "[6, 2]", layer: "global_avgpool1d" },
  global_maxpool2d: { input: "[6, 6, 2]", layer: "global_maxpool2d" },
  global_avgpool2d: { input: "[6, 6, 2]", layer: "global_avgpool2d" },
  flatten: { input: "[3, 2]", layer: "flatten" },
  reshape: { input: "[3, 2]", layer: "reshape [6]" },
  dropout: { input: "[5]", layer: "dropout 0.5" },
  batchnorm: { input: "[5]", layer: "batchnorm" },
  layernorm: { input: "[5]", layer: "layernorm" },
  embedding: { input: "int[4]", layer: "embedding 10 3" },
  add: { input: "[5]", layer: "add x, x" },
  concat: { input: "[5]", layer: "concat x, x" },
  relu: { input: "[5]", layer: "relu" },
  leaky_relu: { input: "[5]", layer: "leaky_relu" },
  elu: { input: "[5]", layer: "elu" },
  gelu: { input: "[5]", layer: "gelu" },
  sigmoid: { input: "[5]", layer: "sigmoid" },
  tanh: { input: "[5]", layer: "tanh" },
  softmax: { input: "[5]", layer: "softmax" },
  linear: { input: "[5]", layer: "linear" },
  simple_rnn: { input: "[4, 3]", layer: "simple_rnn 3" },
  lstm: { input: "[4, 3]", layer: "lstm 3" },
  gru: { input: "[4, 3]", layer: "gru 3" },
  multi_head_attention: { input: "[4, 3]", layer: "multi_head_attention heads: 2, key_dim: 3" },
  positional_embedding: { input: "[4, 3]", layer: "positional_embedding" },
};

describe("one default per layer option", () => {
  it("every layer kind has a case here", () => {
    expect(Object.keys(LAYERS).sort()).toEqual([...LAYER_KINDS.keys()].sort());
  });

  for (const [name, c] of Object.entries(LAYERS)) {
    const kind = LAYER_KINDS.get(name)!;
    it(`${name}`, () => {
      const written = writtenDefaults(kind?.schema ?? { type: "object", properties: {}, additionalProperties: false });
      const sep = c.layer.includes(",") ? ", " : " ";
      const a = `model m(x: ${c.input}) -> y {\n  ${c.layer}\n}\n`;
      const b = `model m(x: ${c.input}) -> y {\n  ${c.layer}${written ? sep + written : ""}\n}\n`;
      const run = (text: string) => {
        const f = clean(text);
        const { model, errors } = RuntimeModel.lower([...f.checked.models.values()][0], { seed: 5 });
        expect(errors).toEqual([]);
        const step = new TrainStep(model!, 2, { name: "mse", opts: {} }, { name: "sgd", opts: { lr: 0.1, momentum: 0, nesterov: false } });
        const x = step.plan.input(0);
        for (let i = 0; i < x.length; i++) x[i] = c.input.startsWith("int") ? i % 10 : Math.cos(i);
        step.plan.forward(2, false);
        return [...step.plan.output(0), ...model!.params.flatMap((p) => [...p.value])];
      };
      expect(run(a)).toEqual(run(b));
      const fa = clean(a);
      expect(generated(fa.checked, a)).toBe(generated(clean(b).checked, b));
      const layer = [...fa.checked.models.values()][0].layers[0].spec;
      const table = optionsTable(kind.schema, layer.options.values);
      for (const [k, v] of Object.entries(layer.options.full)) if (!(k in layer.options.values)) expect(table).toContain(`| \`${k}\` | \`${jsonText(v)}\` | default |`);
    });
  }
});
