/**
 * The TensorFlow.js module of one checked spec, as TypeScript source (formatted afterwards by
 * prettier, see `index.ts`). Pure: no files, no process.
 *
 * What it writes, per spec:
 *
 * - per data block, its `DataConfig` and a `load…()` that calls the nnspec runtime's `loadDataset`
 *   (the interpreter's loading, preprocessing and seeded split, imported rather than copied);
 * - per model, `create…(seed)`: `tf.sequential` for a plain stack, the functional API for a graph,
 *   each layer exactly as its kind's `tfjs()` mapping says (the mapping the checker's own
 *   `buildTfjs` and the shape tests use), named after its nnspec layer, with a comment pointing at
 *   its spec line and an explicit seeded initializer (`initializerSeed`) for every random one;
 * - per train block, `compile…`, `train…` and `evaluate…`: the loss (from_logits as an explicit
 *   tf.losses formula), every optimizer hyperparameter, the metrics with the interpreter's
 *   definitions, `fitDataset` over the interpreter's batch order, validation, early stopping and the
 *   learning-rate schedule as callbacks;
 * - `MODELS`, `TRAININGS` and a `main()` that runs every train block, started only when the file is
 *   run directly.
 *
 * Every name or value from the spec reaches the source through `names.ts`.
 */
import * as tf from "@tensorflow/tfjs";
import { CUSTOM_LAYERS } from "./layers.ts";
import type { Shape } from "../../core/dims.ts";
import type { CheckedModel, CheckedProgram, CheckedTrain, NamedOpts, TrainConfig } from "../../check/ir.ts";
import { defaultSeed } from "../../check/train.ts";
import { numberOption } from "../../core/options.ts";
import { initSpec, randomInitArgs } from "../../core/init.ts";
import { isTfjsName } from "../../check/lints.ts";
import { dataConfig } from "../../data/runtime.ts";
import type { LayerSpec, TrainSpec } from "../../lang/program.ts";
import { CLASS_METRICS, HIGHER_IS_BETTER, REGRESSION_METRICS } from "../../kinds/metrics/index.ts";
import { taskOf, type Task } from "../../kinds/metrics/kernel.ts";
import type { Json } from "../../lang/values.ts";
import type { TfjsLayer } from "../../kinds/layers/types.ts";
import { unsupportedIn } from "../../kinds/layers/common.ts";
import { LOSSES } from "../../kinds/losses/index.ts";
import { OPTIMIZERS, SCHEDULES } from "../../kinds/optimizers/index.ts";
import type { TfjsCodeContext } from "../../kinds/tfjs.ts";
import { camel, commentText, literal, Namer, pascal, propertyKey, stringLiteral } from "../names.ts";

export interface EmitInput {
  /** The spec as the user named it (`specs/iris.nnspec`): header and messages. */
  specPath: string;
  /** The spec's text, and the text of any file it imports models from (by `ModelSpec.file`). */
  source(file: string): string | undefined;
  checked: CheckedProgram;
  /** Import specifier of `src/data/runtime.ts` from the generated module (`../../src/data/runtime.ts`). */
  runtimeImport: string;
  /** Import specifier of `src/codegen/tfjs/runtime.ts`, the TensorFlow.js helpers, from the generated module. */
  helpersImport: string;
  /** The spec's folder relative to the generated module's folder (`../../specs`): data paths are relative to it. */
  specDir: string;
  /** How to run the module, for the header (`npx tsx generated/iris/iris.ts`). */
  runCommand: string;
}

/** A problem that stops generation (a layer TensorFlow.js cannot express, a train the generated code cannot run). */
export class CodegenError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(message);
  }
}


/** Module-level names every generated module defines or imports. */
const FIXED = ["tf", "dirname", "resolve", "fileURLToPath", "epochOrder", "initializerSeed", "loadDataset", "DataConfig", "LoadedData", "SplitData", "SPEC_DIR", "MODELS", "TRAININGS", "main"];

/** Helpers of src/codegen/tfjs/runtime.ts a module imports, when some train block needs them. */
type Helper = "MultiHeadAttention" | "PositionalEmbedding" | "runSpec" | "runIfMain" | "modelEntryType" | "trainingType" | "trainOptionsType" | "scheduledLr" | "centeredRmsprop" | "dropout" | "pooled" | "penalty" | "tensors" | "batches" | "setLearningRate" | "earlyStopping" | "reduceOnPlateau" | "AdamW" | "argMaxDecisions" | "thresholdDecisions" | "matchRate";
const HELPER_NAMES: Record<Helper, string> = {
  MultiHeadAttention: "MultiHeadAttention",
  PositionalEmbedding: "PositionalEmbedding",
  runSpec: "runSpec",
  runIfMain: "runIfMain",
  modelEntryType: "ModelEntry",
  trainingType: "Training",
  trainOptionsType: "TrainOptions",
  scheduledLr: "scheduledLr",
  centeredRmsprop: "CenteredRMSProp",
  dropout: "SeededDropout",
  pooled: "PooledScores",
  penalty: "penalty",
  tensors: "splitTensors",
  batches: "batchesInOrder",
  setLearningRate: "setLearningRate",
  earlyStopping: "earlyStopping",
  reduceOnPlateau: "reduceOnPlateau",
  AdamW: "AdamW",
  argMaxDecisions: "argMaxDecisions",
  thresholdDecisions: "thresholdDecisions",
  matchRate: "matchRate",
};

interface ModelNames {
  create: string;
  /** The seed `create…()` defaults to: its first train block's, else 0. */
  seed: number;
}

interface TrainNames {
  compile: string;
  train: string;
  evaluate: string;
  metrics: string;
}

/** Scores computed over whole splits: generated code pools them (PooledScores) instead of tfjs's batch average. */
const POOLED = new Set(["precision", "recall", "f1", "rmse", "r2"]);
/** A train block's checked configuration; codegen runs only on specs that check clean. */
function configOf(t: TrainSpec): TrainConfig {
  const c = (t as CheckedTrain).config;
  if (!c) throw new CodegenError("the train block needs a loss and an optimizer", t.file, t.node.span.line);
  return c;
}

/** The TypeScript source (unformatted) of the spec's module. Throws a CodegenError for what TensorFlow.js cannot do. */
export function emitModule(input: EmitInput): string {
  return new Emitter(input).run();
}

class Emitter {
  private readonly names = new Namer(FIXED);
  private readonly helpers = new Set<Helper>();
  private readonly models = new Map<string, ModelNames>();
  private readonly data = new Map<string, { config: string; load: string }>();
  private readonly trains = new Map<TrainSpec, TrainNames>();
  /** What the module imports from the nnspec runtime. */
  private readonly runtime = new Set<string>(["LoadedData"]);

  constructor(private readonly input: EmitInput) {}

  private get program(): CheckedProgram {
    return this.input.checked;
  }

  run(): string {
    this.allocateNames();
    const body: string[] = [];
    for (const d of this.program.data.values()) body.push(this.dataBlock(d.name));
    for (const m of this.program.models.values()) body.push(this.model(m));
    for (const t of this.program.trains) body.push(this.train(t));
    const tail = this.registry();
    const src = [this.header(), "/*__IMPORTS__*/", ...(this.program.data.size ? [this.specDir()] : []), ...body, tail].join("\n\n") + "\n";
    // Imports last, once the body shows what it uses.
    return src.replace("/*__IMPORTS__*/", () => this.importLines());
  }

  // ── names ──

  private allocateNames(): void {
    for (const h of Object.values(HELPER_NAMES)) this.names.reserve(h);
    for (const d of this.program.data.values()) this.data.set(d.name, { config: this.names.fresh(`${camel(d.name, "data")}Data`), load: this.names.fresh(`load${pascal(d.name)}`) });
    const firstSeed = new Map<string, number>();
    for (const t of this.program.trains) if (t.model && !firstSeed.has(t.model.name)) firstSeed.set(t.model.name, this.seedOf(t));
    for (const m of this.program.models.values()) this.models.set(m.spec.name, { create: this.names.fresh(`create${pascal(m.spec.name)}`), seed: firstSeed.get(m.spec.name) ?? defaultSeed() });
    const perModel = new Map<string, number>();
    for (const t of this.program.trains) perModel.set(t.model?.name ?? "", (perModel.get(t.model?.name ?? "") ?? 0) + 1);
    const seen = new Map<string, number>();
    for (const t of this.program.trains) {
      const m = t.model?.name ?? "";
      const k = (seen.get(m) ?? 0) + 1;
      seen.set(m, k);
      const base = pascal(m, "Model") + ((perModel.get(m) ?? 0) > 1 ? String(k) : "");
      this.trains.set(t, {
        compile: this.names.fresh(`compile${base}`),
        train: this.names.fresh(`train${base}`),
        evaluate: this.names.fresh(`evaluate${base}`),
        metrics: this.names.fresh(`${base.charAt(0).toLowerCase()}${base.slice(1)}Metrics`),
      });
    }
  }

  private seedOf(t: TrainSpec): number {
    return configOf(t).seed;
  }

  private use(h: Helper): string {
    this.helpers.add(h);
    return HELPER_NAMES[h];
  }

  /** `path:line` of a node of the spec (or of the file a model was imported from). */
  private where(file: string, line: number): string {
    return commentText(`${file === this.program.program.file ? this.input.specPath : file}:${line}`);
  }

  /** The source text of a span, on one line, for a comment. */
  private sourceText(file: string, span: { start: number; end: number }): string {
    const text = this.input.source(file);
    return text === undefined ? "" : commentText(text.slice(span.start, span.end).replace(/\s+/g, " "));
  }

  // ── header and imports ──

  private header(): string {
    const p = this.program;
    const models = [...p.models.values()].map((m) => `${m.spec.name} (${this.where(m.spec.file, m.spec.node.span.line)})`);
    const lines = [
      `TensorFlow.js code for ${commentText(this.input.specPath)}, generated by \`nnspec build --target tfjs\`.`,
      "Do not edit it: change the spec and build again (`npm run generate` in the nnspec repository).",
      "",
      `Models: ${models.join(", ") || "none"}.`,
      `Train blocks: ${p.trains.length}. Run them all: ${commentText(this.input.runCommand)}`,
      "",
      "Data is loaded, preprocessed and split by nnspec's own runtime (src/data/runtime.ts), so this",
      "code sees exactly the rows, statistics and split the interpreter sees. Initial weights:",
      "TensorFlow.js ignores global seeds for initializers, so every random initializer gets the seed",
      "initializerSeed(seed, layer, slot) = deriveSeed(seed, 2 * layer + slot), where seed is the train",
      "block's seed, layer the layer's 0-based position in its model and slot 0 for the kernel, 1 for",
      "the bias. Batches follow the interpreter's order: a fresh seeded permutation each epoch (epochOrder).",
    ];
    return `/**\n${lines.map((l) => (l ? ` * ${l}` : " *")).join("\n")}\n */`;
  }

  private importLines(): string {
    const values = ["loadDataset", "initializerSeed"].filter((n) => this.runtime.has(n));
    const types = ["DataConfig", "LoadedData"].filter((n) => this.runtime.has(n)).map((t) => `type ${t}`);
    const lines = [
      'import * as tf from "@tensorflow/tfjs";',
      ...(this.program.data.size ? ['import { dirname, resolve } from "node:path";', 'import { fileURLToPath } from "node:url";'] : []),
      `import { ${[...values, ...types].join(", ")} } from ${stringLiteral(this.input.runtimeImport)};`,
    ];
    const helpers = [...this.helpers].map((h) => (h.endsWith("Type") ? `type ${HELPER_NAMES[h]}` : HELPER_NAMES[h]));
    if (helpers.length) lines.push(`import { ${helpers.sort().join(", ")} } from ${stringLiteral(this.input.helpersImport)};`);
    return lines.join("\n");
  }

  private specDir(): string {
    return [
      "/** The folder of the spec: the data blocks' relative paths are read from it. */",
      `const SPEC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), ${stringLiteral(this.input.specDir)});`,
    ].join("\n");
  }

  // ── data ──

  private dataBlock(name: string): string {
    const d = this.program.data.get(name)!;
    const n = this.data.get(name)!;
    const cfg = dataConfig(d, this.input.specPath);
    this.runtime.add("loadDataset").add("DataConfig");
    const from = cfg.statements.from?.path;
    const reads = typeof from === "string" ? ` from ${commentText(from)}` : "";
    return [
      `// ── data ${commentText(d.name)} (${this.where(d.file, d.node.span.line)}) ──`,
      "",
      `/** The options of each statement of \`data ${commentText(d.name)}\`, as the spec gives them. */`,
      `export const ${n.config}: DataConfig = ${literal(cfg)};`,
      "",
      `/** Loads \`data ${commentText(d.name)}\`${reads}: columns, labels, the seeded split and the preprocessing fitted on the training split, exactly as the interpreter does. */`,
      `export function ${n.load}(): Promise<LoadedData> {`,
      `  return loadDataset(${n.config}, SPEC_DIR);`,
      "}",
    ].join("\n");
  }

  // ── models ──

  private model(m: CheckedModel): string {
    const names = this.models.get(m.spec.name)!;
    const spec = m.spec;
    const params = m.layers.every((l) => l.params) ? m.layers.reduce((a, l) => a + l.params!.trainable + l.params!.nonTrainable, 0) : undefined;
    const sig = (ts: { name: string; shape: Shape }[]) => ts.map((t) => `${t.name} ${shapeText(t.shape)}`).join(", ");
    const outputs = m.outputs.map((t, i) => ({ name: spec.outputs[i]?.sig.name ?? t.name, shape: t.shape }));
    const doc = [
      `/**`,
      ` * \`model ${commentText(spec.name)}\` (${this.where(spec.file, spec.node.span.line)}): ${commentText(sig(m.inputs))} → ${commentText(sig(outputs))}${params !== undefined ? `, ${params} parameters` : ""}.`,
      ` * \`seed\` seeds every random initializer (see the header); it defaults to the seed of the model's first train block.`,
      ` */`,
    ].join("\n");
    const body = this.isStack(m) ? this.sequential(m) : this.functional(m);
    return `// ── model ${commentText(spec.name)} ──\n\n${doc}\nexport function ${names.create}(seed: number = ${literal(names.seed)}): tf.LayersModel {\n${body}\n}`;
  }

  /** A single input feeding a chain of one-input layers whose last output is the model's only output. */
  private isStack(m: CheckedModel): boolean {
    const s = m.spec;
    if (s.inputs.length !== 1 || s.layers.length === 0) return false;
    let prev = s.inputs[0].name;
    for (const l of s.layers) {
      if (l.kind.inputs !== "one" || l.inputs.length !== 1 || l.inputs[0] !== prev || l.more) return false;
      prev = l.name;
    }
    const outs = s.outputs.length ? s.outputs.map((o) => o.name) : [prev];
    return outs.length === 1 && outs[0] === prev;
  }

  private inputShape(m: CheckedModel, name: string): (number | null)[] {
    checkTfjsName(name, `input \`${name}\` of model \`${m.spec.name}\``, m.spec.file, m.spec.node.span.line);
    const info = m.tensors.get(name);
    if (!info) throw new CodegenError(`input \`${name}\` of model \`${m.spec.name}\` has no shape`, m.spec.file, m.spec.node.span.line);
    return info.shape.map((d) => d.value ?? null);
  }

  private sequential(m: CheckedModel): string {
    const s = m.spec;
    const input = s.inputs[0];
    const items = [`tf.layers.inputLayer(${literal({ name: input.name, inputShape: this.inputShape(m, input.name), ...(input.dtype === "int" ? { dtype: "int32" } : {}) })}),`];
    s.layers.forEach((l, i) => {
      items.push(this.layerComment(m, l));
      for (const [spec, name] of this.chain(m, l)) items.push(`${this.layerCall(spec, name, l, i, m.spec.file)},`);
    });
    return `  return tf.sequential({\n    name: ${stringLiteral(s.name)},\n    layers: [\n${items.map((x) => `      ${x}`).join("\n")}\n    ],\n  });`;
  }

  private functional(m: CheckedModel): string {
    const s = m.spec;
    const local = new Namer(["seed"], this.names);
    const vars = new Map<string, string>();
    const lines: string[] = [];
    for (const i of s.inputs) {
      const v = local.fresh(camel(i.name, "input"));
      vars.set(i.name, v);
      lines.push(`const ${v} = tf.input(${literal({ name: i.name, shape: this.inputShape(m, i.name), ...(i.dtype === "int" ? { dtype: "int32" } : {}) })});`);
    }
    let last: string | undefined;
    s.layers.forEach((l, i) => {
      const ins = l.inputs.map((n) => vars.get(n));
      if (ins.some((v) => v === undefined)) throw new CodegenError(`layer \`${l.name}\` of model \`${s.name}\` reads a tensor that was not built`, s.file, l.node.span.line);
      let arg = l.kind.inputs === "many" || ins.length > 1 ? `[${ins.join(", ")}]` : ins[0]!;
      lines.push(this.layerComment(m, l));
      const v = local.fresh(camel(l.name, "layer"));
      const calls = this.chain(m, l).map(([spec, name]) => this.layerCall(spec, name, l, i, m.spec.file));
      // `return_state`: the layer returns [output, h(, c)]
      const states = (l.more ?? []).map((name) => {
        const sv = local.fresh(camel(name, "state"));
        vars.set(name, sv);
        return sv;
      });
      let expr = "";
      calls.forEach((call, k) => {
        expr = `${call}.apply(${arg}) as tf.SymbolicTensor${states.length && k === calls.length - 1 ? "[]" : ""}`;
        arg = `(${expr})`;
      });
      lines.push(`const ${states.length ? `[${[v, ...states].join(", ")}]` : v} = ${expr};`);
      vars.set(l.name, v);
      last = v;
    });
    const outs = s.outputs.length ? s.outputs.map((o) => vars.get(o.name)) : [last];
    if (outs.some((v) => v === undefined)) throw new CodegenError(`an output of model \`${s.name}\` is not built by any layer`, s.file, s.node.span.line);
    const inputs = s.inputs.map((i) => vars.get(i.name)!);
    const one = (xs: (string | undefined)[]) => (xs.length === 1 ? xs[0]! : `[${xs.join(", ")}]`);
    lines.push(`return tf.model({ name: ${stringLiteral(s.name)}, inputs: ${one(inputs)}, outputs: ${one(outs)} });`);
    return lines.map((l) => `  ${l}`).join("\n");
  }

  private layerComment(m: CheckedModel, l: LayerSpec): string {
    const text = this.sourceText(m.spec.file, l.node.span) || `${l.name} = ${l.kind.name}`;
    return `// ${text} (${this.where(m.spec.file, l.node.span.line)})`;
  }

  /** The layer's tfjs mapping, its `then` layers included, with their names (`name`, `name_then`, …). */
  private chain(m: CheckedModel, l: LayerSpec): [TfjsLayer, string][] {
    const checked = m.layers.find((c) => c.spec === l);
    if (!checked) throw new CodegenError(`layer \`${l.name}\` of model \`${m.spec.name}\` has no checked shape`, m.spec.file, l.node.span.line);
    let spec: TfjsLayer | undefined;
    try {
      spec = l.kind.tfjs(l.options.full, checked.inputShapes);
    } catch (e) {
      throw new CodegenError(`layer \`${l.name}\` (${l.kind.name}) cannot be generated for TensorFlow.js: ${(e as Error).message}`, m.spec.file, l.node.span.line);
    }
    const why = unsupportedIn(spec);
    if (why) throw new CodegenError(`layer \`${l.name}\` (${l.kind.name}) cannot be generated for TensorFlow.js: ${why}`, m.spec.file, l.node.span.line);
    const out: [TfjsLayer, string][] = [];
    checkTfjsName(l.name, `layer \`${l.name}\` of model \`${m.spec.name}\``, m.spec.file, l.node.span.line);
    for (let name = l.name; spec; spec = spec.then, name = `${name}_then`) {
      if (spec.custom ? !(spec.factory in CUSTOM_LAYERS) : typeof (tf.layers as unknown as Record<string, unknown>)[spec.factory] !== "function")
        throw new CodegenError(`layer \`${l.name}\`: TensorFlow.js has no layer \`tf.layers.${spec.factory}\``, m.spec.file, l.node.span.line);
      out.push([spec, name]);
    }
    return out;
  }

  /** `tf.layers.dense({ name, ...config })` with initializers and regularizers as tfjs objects. */
  private layerCall(spec: TfjsLayer, name: string, l: LayerSpec, index: number, file: string): string {
    const parts = [`name: ${stringLiteral(name)}`];
    if (spec.factory === "dropout") {
      // The interpreter's masks, from nnspec's generator (see SeededDropout).
      parts.push(`rate: ${literal(spec.config.rate)}`, "seed", ...(typeof spec.config.seed === "number" ? [`layerSeed: ${literal(spec.config.seed)}`] : []));
      return `new ${this.use("dropout")}({ ${parts.join(", ")} })`;
    }
    if (spec.wraps) parts.push(`layer: ${this.layerCall(spec.wraps, String(spec.wraps.config.name), l, index, file)}`);
    // the helpers' attention draws its dropout masks from the model's seed, as SeededDropout does
    if (spec.custom && typeof spec.config.dropout === "number" && spec.config.dropout > 0) parts.push("seed");
    for (const [key, value] of Object.entries(spec.config)) {
      if (value === undefined || key === "name") continue;
      let v: string;
      if (key.endsWith("Initializer") && typeof value === "string") v = this.initializer(key, value, l, index, file);
      else if (key.endsWith("Regularizer") && isL1L2(value)) v = `tf.regularizers.l1l2(${literal({ l1: value.config.l1 ?? 0, l2: value.config.l2 ?? 0 })})`;
      else v = literal(value);
      parts.push(`${propertyKey(key)}: ${v}`);
    }
    return spec.custom ? `new ${this.use(spec.factory as Helper)}({ ${parts.join(", ")} })` : `tf.layers.${spec.factory}({ ${parts.join(", ")} })`;
  }

  /**
   * A tfjs initializer object: seeded when random. The mapping gives the initializer's name; the
   * arguments of a call such as `random_normal(0.1)` come from the spec option, read as the
   * interpreter reads them (`random_uniform(a)` is [-a, a]; `minval`/`maxval`, `stddev`/`mean`).
   */
  private initializer(key: string, name: string, l: LayerSpec, index: number, file: string): string {
    if (typeof (tf.initializers as unknown as Record<string, unknown>)[name] !== "function") throw new CodegenError(`layer \`${l.name}\`: TensorFlow.js has no initializer \`tf.initializers.${name}\``, file, l.node.span.line);
    if (name === "zeros" || name === "ones") return `tf.initializers.${name}()`;
    const option = key === "biasInitializer" ? "bias_init" : key === "embeddingsInitializer" ? "init" : key === "recurrentInitializer" ? "recurrent_init" : "kernel_init";
    const slot = key === "biasInitializer" ? 1 : key === "recurrentInitializer" ? 2 : 0;
    // The interpreter's parameters (defaults included), spelled out rather than left to tfjs's defaults.
    const args: Record<string, number> = randomInitArgs(initSpec(l.options.full[option])) ?? {};
    this.runtime.add("initializerSeed");
    const entries = [...Object.entries(args).map(([k, x]) => `${k}: ${literal(x)}`), `seed: initializerSeed(seed, ${index}, ${slot})`];
    return `tf.initializers.${name}({ ${entries.join(", ")} })`;
  }

  // ── train blocks ──

  private train(t: TrainSpec): string {
    const names = this.trains.get(t)!;
    const m = t.model ? this.program.models.get(t.model.name) : undefined;
    const line = t.node.span.line;
    const title = `train ${t.model?.name ?? "?"} on ${t.data?.name ?? "?"}`;
    if (!m || !t.data || !this.data.has(t.data.name)) throw new CodegenError(`\`${title}\` needs a model and a data block of this file`, t.file, line);
    if (m.spec.inputs.length !== 1 || m.outputs.length !== 1)
      throw new CodegenError(`\`${title}\`: generated training supports models with one input and one output; \`${m.spec.name}\` has ${m.spec.inputs.length} and ${m.outputs.length}`, t.file, line);
    const cfg = configOf(t);
    const { epochs, batch, seed } = cfg;
    const loss = cfg.loss;
    const outShape = m.outputs[0].shape;
    const classes = outShape[outShape.length - 1]?.value;
    const task = taskOf(loss.name, outShape.map((d) => d.value ?? 1));
    const logits = loss.opts.from_logits === true;
    const oneHot = task === "multiclass" && t.data.label?.kind === "class";
    const intInput = m.spec.inputs[0].dtype === "int";
    const where = this.where(t.file, line);
    const title2 = commentText(title);

    // What early stopping and reduce_on_plateau watch.
    const es = cfg.earlyStopping;
    const plateau = cfg.schedule?.name === "reduce_on_plateau";
    const monitor = es?.monitor ?? "val_loss";
    const watchedMetric = monitor.replace(/^val_/, "");
    const metrics: string[] = [];
    const wanted = cfg.metrics;
    const monitored = es || plateau ? [watchedMetric] : [];
    for (const name of [...wanted, ...monitored]) if (name !== "loss" && !metrics.includes(name) && metricApplies(task, name)) metrics.push(name);
    // Scores over whole splits, which tfjs would average over batches: pooled (see PooledScores).
    const pooled = metrics.filter((x) => POOLED.has(x));
    const visible = metrics.filter((x) => !POOLED.has(x));

    // Each statement as the spec writes it, for the comments.
    const said = (name: string, fallback: string): string => {
      const stmt = t.statements.get(name);
      return (stmt && this.sourceText(t.file, stmt.node.span)) || commentText(fallback);
    };
    const lossDoc = said("loss", `loss ${loss.name}${optionsText(loss.opts)}`);
    const optimizer = cfg.optimizer;
    const optDoc = said("optimizer", `optimizer ${optimizer.name}${optionsText(optimizer.opts)}`);

    // compile
    const compile = [
      `// ── ${title2} (${where}) ──`,
      "",
      this.metricsObject(names.metrics, title2, task, logits, metrics, wanted, pooled, classes ?? 1),
      "",
      `/** Compiles \`model\` for \`${title2}\` (${where}): ${lossDoc}; ${optDoc}. */`,
      `export function ${names.compile}(model: tf.LayersModel): void {`,
      "  model.compile({",
      ...this.lossLines(loss, lossDoc, classes, t.file, line).map((x) => `    ${x}`),
      ...this.optimizerLines(optimizer, optDoc, t.file, line).map((x) => `    ${x}`),
      `    metrics: [${[...visible.map((x) => `${names.metrics}.${x}`), ...(pooled.length ? [`...${names.metrics}Pooled.metrics`] : [])].join(", ")}],`,
      "  });",
      "}",
    ];

    // train
    const tensors = this.use("tensors");
    const batches = this.use("batches");
    const tensorArgs = `${oneHot ? literal(classes ?? t.data.label?.classes ?? 1) : "undefined"}${intInput ? ", true" : ""}`;
    const callbacks: string[] = [];
    const pre: string[] = [];
    if (pooled.length)
      callbacks.push(
        `// ${pooled.join(", ")} over the epoch's examples, from the pooled rates (first, so the callbacks below see them).`,
        `{ onEpochEnd: async (_epoch: number, logs?: tf.Logs) => void ${names.metrics}Pooled.finish(logs) },`,
      );
    const higher = HIGHER_IS_BETTER.has(watchedMetric);
    const watchExpr = monitor.startsWith("val_") ? `val ? ${stringLiteral(monitor)} : ${stringLiteral(watchedMetric)}` : stringLiteral(monitor);
    // tfjs leaves the L1/L2 penalty out of val_loss and evaluate()'s loss; the interpreter includes it.
    const regularized = m.layers.some((l) => ["l1", "l2"].some((k) => Number(l.spec.options.full[k]) > 0));
    if (regularized)
      callbacks.push(
        "// The L1/L2 penalty, which tfjs adds to the training loss only, added to val_loss as the interpreter reports it (first, so the callbacks below see it).",
        `{ onEpochEnd: async (_epoch: number, logs?: tf.Logs) => { if (logs?.val_loss !== undefined) logs.val_loss += ${this.use("penalty")}(model); } },`,
      );
    if (es || plateau) pre.push(`// Watched by ${es ? "early stopping" : ""}${es && plateau ? " and " : ""}${plateau ? "reduce_on_plateau" : ""}; without a validation split the interpreter watches the training value.`, `const monitor = ${watchExpr};`);
    const schedule = cfg.schedule;
    if (schedule && schedule.name !== "constant") {
      const o = (k: string) => numberOption(schedule.opts, k);
      const lr = this.optimizerLr(optimizer);
      const doc = `// ${said("schedule", `schedule ${schedule.name}${optionsText(schedule.opts)}`)}`;
      if (schedule.name === "reduce_on_plateau") {
        callbacks.push(doc, `${this.use("reduceOnPlateau")}(model, monitor, { learningRate: ${literal(lr)}, factor: ${literal(o("factor"))}, patience: ${literal(o("patience"))}, minLearningRate: ${literal(o("min_lr"))}, higherIsBetter: ${higher} }),`);
      } else {
        if (!SCHEDULES.get(schedule.name)?.lr) throw new CodegenError(`\`${title}\`: no TensorFlow.js form for the schedule \`${schedule.name}\``, t.file, line);
        // The interpreter's own formula (the schedule's entry in nnspec's registry), called each epoch.
        const rate = `${this.use("scheduledLr")}(${stringLiteral(schedule.name)}, ${literal(schedule.opts)}, ${literal(lr)}, epoch)`;
        callbacks.push(doc, `{ onEpochBegin: async (epoch: number) => ${this.use("setLearningRate")}(model.optimizer, ${rate}) },`);
      }
    }
    if (es) {
      const written = t.statements.get("early_stopping")?.options.values ?? {};
      callbacks.push(`// ${said("early_stopping", `early_stopping${optionsText(written)}`)}`, `${this.use("earlyStopping")}(model, monitor, { patience: ${es.patience}, minDelta: ${literal(es.minDelta)}, restoreBest: ${es.restoreBest}, higherIsBetter: ${higher} }),`);
    }
    callbacks.push("...(options.onEpochEnd ? [{ onEpochEnd: options.onEpochEnd }] : []),");
    const train = [
      `/**`,
      ` * Trains \`model\` (compiled by ${names.compile}) as \`${title2}\` says: ${epochs} epochs of batches of ${batch} in the`,
      ` * interpreter's order for seed ${seed}${t.data ? `, validating on the val split when it has rows` : ""}. Returns tfjs's history.`,
      ` */`,
      `export async function ${names.train}(model: tf.LayersModel, data: LoadedData, options: ${this.use("trainOptionsType")} = {}): Promise<tf.History> {`,
      `  const train = ${tensors}(data.train, ${tensorArgs});`,
      `  const val = data.val.n > 0 ? ${tensors}(data.val, ${tensorArgs}) : undefined;`,
      ...pre.map((x) => `  ${x}`),
      "  try {",
      `    return await model.fitDataset(${batches}(train, data.train.n, Math.min(${batch}, data.train.n), options.seed ?? ${literal(seed)}), {`,
      `      epochs: options.epochs ?? ${epochs},`,
      "      // The whole val split in one batch: metrics such as precision are computed over it, as the interpreter does.",
      "      ...(val ? { validationData: [val.x, val.y], validationBatchSize: data.val.n } : {}),",
      "      verbose: options.verbose ?? 0,",
      "      callbacks: [",
      ...callbacks.map((x) => `        ${x}`),
      "      ],",
      "    });",
      "  } finally {",
      "    tf.dispose([train.x, train.y, ...(val ? [val.x, val.y] : [])]);",
      "  }",
      "}",
    ];

    const evaluate = [
      `/** Loss and metrics of \`model\` on the test split, over the whole split at once (as the interpreter computes them); {} when the split is empty. */`,
      `export function ${names.evaluate}(model: tf.LayersModel, data: LoadedData): Record<string, number> {`,
      "  if (data.test.n === 0) return {};",
      `  const test = ${tensors}(data.test, ${tensorArgs});`,
      "  const out = model.evaluate(test.x, test.y, { batchSize: data.test.n });",
      "  const values = (Array.isArray(out) ? out : [out]).map((t) => t.dataSync()[0]);",
      "  tf.dispose([test.x, test.y, out]);",
      ...(regularized ? [`  values[0] += ${this.use("penalty")}(model); // the L1/L2 penalty, which tfjs leaves out of evaluate()'s loss`] : []),
      pooled.length
        ? `  return ${names.metrics}Pooled.finish(Object.fromEntries(model.metricsNames.map((name, i) => [name, values[i]]))) ?? {};`
        : "  return Object.fromEntries(model.metricsNames.map((name, i) => [name, values[i]]));",
      "}",
    ];
    return [...compile, "", ...train, "", ...evaluate].join("\n");
  }

  private optimizerLr(o: NamedOpts): number {
    return numberOption(o.opts, "lr");
  }

  private metricsObject(name: string, title: string, task: Task, logits: boolean, metrics: string[], wanted: string[], pooled: string[], columns: number): string {
    const skipped = wanted.filter((w) => !metricApplies(task, w));
    const threshold = logits ? 0 : 0.5;
    const lines = metrics.filter((m) => !pooled.includes(m)).map((m) => `  ${m}: (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor => ${this.metricExpr(task, m, threshold)},`);
    const doc = [
      `/**`,
      ` * The metrics of \`${title}\` with the interpreter's definitions for a ${task} output${task === "binary" || task === "multilabel" ? ` (an output counts as positive at or above ${threshold}${logits ? ", as it is a logit" : ""})` : ""}.`,
      ` * tfjs logs each under its key (\`val_\` prefixed on the val split).`,
      ...(skipped.length ? [` * Not reported for a ${task} output (neither does the interpreter): ${skipped.join(", ")}.`] : []),
      ` */`,
    ];
    const object = `${doc.join("\n")}\nconst ${name} = {\n${lines.join("\n")}\n};`;
    if (!pooled.length) return object;
    // Every metric pooled: no per-batch metric functions to list.
    const head = lines.length ? [object, ""] : [];
    const decide = task === "regression" ? "" : `, (yTrue, yPred) => ${task === "multiclass" ? `${this.use("argMaxDecisions")}(yTrue, yPred)` : `${this.use("thresholdDecisions")}(yTrue, yPred, ${literal(threshold)})`}`;
    return [
      ...head,
      `/** ${pooled.join(", ")} over whole splits as the interpreter computes them, not averaged over batches as tfjs would (${columns} ${task === "regression" ? "output" : "column"}${columns === 1 ? "" : "s"}). */`,
      `const ${name}Pooled = new ${this.use("pooled")}(${literal(pooled)}, ${columns}${decide});`,
    ].join("\n");
  }

  /** The per-batch metrics (accuracy, mse, mae): rates tfjs's batch average pools exactly. The others are POOLED. */
  private metricExpr(task: Task, m: string, threshold: number): string {
    if (m === "mse") return "tf.metrics.meanSquaredError(yTrue, yPred)";
    if (m === "mae") return "tf.metrics.meanAbsoluteError(yTrue, yPred)";
    if (task === "multiclass") return "tf.metrics.categoricalAccuracy(yTrue, yPred)";
    return `${this.use("matchRate")}(${this.use("thresholdDecisions")}(yTrue, yPred, ${literal(threshold)}))`;
  }

  /** What a loss's or optimizer's tfjs mapping (in its registry entry) needs of this module. */
  private codeContext(classes?: number): TfjsCodeContext {
    return { literal, helper: (name) => this.use(name === "CenteredRMSProp" ? "centeredRmsprop" : "AdamW"), classes };
  }

  private lossLines(loss: NamedOpts, lossDoc: string, classes: number | undefined, file: string, line: number): string[] {
    const kind = LOSSES.get(loss.name);
    if (!kind) throw new CodegenError(`no TensorFlow.js form for the loss \`${loss.name}\``, file, line);
    return [`// ${lossDoc}`, ...kind.tfjs(loss.opts, this.codeContext(classes))];
  }

  /** `optimizer: tf.train.adam(lr, beta1, beta2, epsilon),` with every hyperparameter spelled out. */
  private optimizerLines(opt: NamedOpts, optDoc: string, file: string, line: number): string[] {
    const kind = OPTIMIZERS.get(opt.name);
    if (!kind) throw new CodegenError(`no TensorFlow.js form for the optimizer \`${opt.name}\``, file, line);
    return [`// ${optDoc}`, ...kind.tfjs(opt.opts, this.codeContext())];
  }

  // ── registry and main ──

  private registry(): string {
    const p = this.program;
    const models = [...p.models.values()].map((m) => `  { name: ${stringLiteral(m.spec.name)}, create: ${this.models.get(m.spec.name)!.create} },`);
    const trainings = p.trains.map((t) => {
      const n = this.trains.get(t)!;
      const title = `train ${t.model?.name} on ${t.data?.name}`;
      return [
        "  {",
        `    name: ${stringLiteral(title)},`,
        `    line: ${t.node.span.line},`,
        `    loadData: ${this.data.get(t.data!.name)!.load},`,
        `    createModel: () => ${this.models.get(t.model!.name)!.create}(${literal(this.seedOf(t))}),`,
        `    compile: ${n.compile},`,
        `    train: ${n.train},`,
        `    evaluate: ${n.evaluate},`,
        "  },",
      ].join("\n");
    });
    return [
      "// ── registry and main ──",
      "",
      "/** Every model of the spec (imported ones included), by its name in the spec. */",
      `export const MODELS: readonly ${this.use("modelEntryType")}[] = [`,
      ...models,
      "];",
      "",
      "/** Every train block of the spec, in order. */",
      `export const TRAININGS: readonly ${this.use("trainingType")}[] = [`,
      ...trainings,
      "];",
      "",
      p.trains.length
        ? "/** Runs every train block in order (cross-validating first where the data asks for folds) and prints the last epoch and the test metrics. */"
        : "/** The spec has no train block: prints each model's layers. */",
      "export async function main(): Promise<void> {",
      `  await ${this.use("runSpec")}(MODELS, TRAININGS);`,
      "}",
      "",
      "// Run main() only when this file is run directly (`npx tsx …`), not when it is imported.",
      `${this.use("runIfMain")}(import.meta.url, main);`,
    ].join("\n");
  }
}

/** Names TensorFlow.js rejects (lint NN0507 warns of them at check time). */
function checkTfjsName(name: string, what: string, file: string, line: number): void {
  if (!isTfjsName(name)) throw new CodegenError(`${what} cannot be named so in TensorFlow.js, whose layer and input names must start with a letter or a digit: rename it`, file, line);
}

function isL1L2(v: unknown): v is { className: string; config: { l1?: number; l2?: number } } {
  return typeof v === "object" && v !== null && (v as { className?: unknown }).className === "L1L2" && typeof (v as { config?: unknown }).config === "object";
}

/** Whether the interpreter reports `metric` for a task (classification metrics vs regression ones). */
function metricApplies(task: Task, metric: string): boolean {
  return (task === "regression" ? REGRESSION_METRICS : CLASS_METRICS).includes(metric);
}

/** ` lr: 0.01, momentum: 0.9` for a comment. */
function optionsText(values: Record<string, Json>): string {
  const parts = Object.entries(values).map(([k, v]) => (v === true && k !== "from_logits" ? k : `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`));
  return parts.length ? ` ${parts.join(", ")}` : "";
}

function shapeText(s: Shape): string {
  return `[${s.map((d) => String(d)).join(", ")}]`;
}
