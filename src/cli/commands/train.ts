/**
 * `nnspec train FILE`: trains a spec's `train` blocks with the in-house interpreter, shows progress,
 * and reports the test split. The file I/O and the terminal live here; the runtime is pure.
 *
 *   nnspec train FILE [--train N|MODEL] [--seed N] [--epochs N] [--batch N] [--threads N] [--out DIR] [--from DIR] [--quiet] [--json]
 *
 * The large matrix products run on `--threads` threads (default: every core; src/node/threads.ts),
 * with the same results for any number.
 * Each run writes its folder (default `out/<spec>/<model>/`, `<model>-<N>` when several train blocks
 * train the same model): the saved model (model.json, weights.bin, nnspec.json), history.json,
 * history.csv, curves.svg, graph.svg, report.txt and report.json. `--from DIR` fine-tunes a saved model: its
 * weights and preprocessing are loaded, and the spec's `trainable: false` layers stay frozen.
 */
import { args, usageFor, type Command } from "../common.ts";
import { basename, join, resolve as resolvePath } from "node:path";
import { Presets, SingleBar } from "cli-progress";
import { loadData, type LoadedData } from "../../data/index.ts";
import type { CheckedModel, CheckedTrain } from "../../check/ir.ts";
import { graphSvg, modelGraph } from "../../graph/index.ts";
import type { Diagnostic } from "../../diagnostics/diagnostic.ts";
import { readTableCached, type CheckedFile } from "../../node/host.ts";
import { historyCsv, learningCurves } from "../../runtime/curves.ts";
import { cvSummary, fmt, reportText } from "../../runtime/report.ts";
import { crossValidate, type CrossValidation } from "../../runtime/crossval.ts";
import { applyWeights, type SavedModel } from "../../saved/load.ts";
import { taskOf, type MetricReport } from "../../kinds/metrics/kernel.ts";
import { RuntimeModel } from "../../runtime/model.ts";
import { isImported, runName, saveModel, tfjsCannotLoad } from "../../saved/save.ts";
import { sha256 } from "../../node/hash.ts";
import { defaultThreads, stopThreads, useThreads } from "../../node/threads.ts";
import { checkTrainable, evaluate, train, trainConfig, type EpochRecord, type TrainConfig, type TrainResult } from "../../runtime/train.ts";
import { joinNegativeValues, openSpec, readSavedModel, recoverFolder, reportDiagnostics, withSavedStats, writeFolderAtomic, type Io } from "../saved.ts";

export const TRAIN_USAGE = "nnspec train FILE [--train N|MODEL] [--seed N] [--epochs N] [--batch N] [--threads N] [--out|-o DIR] [--from DIR] [--quiet] [--json]";

const line = (r: EpochRecord, epochs: number): string =>
  `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}  ${Object.entries(r.values)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join("  ")}  ${Math.round(r.samplesPerSecond).toLocaleString("en-US")} samples/s`;

/**
 * The per-epoch progress bar on a terminal (cli-progress): batches done, the last batch's loss, the
 * epoch's metrics so far, throughput and time left. Cleared when the epoch ends, where the epoch's line replaces it.
 */
function epochBar(io: Io, epochs: number): SingleBar {
  return new SingleBar(
    {
      stream: io.stdout as unknown as NodeJS.WritableStream,
      format: `epoch {epoch}/${epochs} [{bar}] {value}/{total} batches  loss {loss}{metrics}  {rate} samples/s  eta {eta_formatted}`,
      barCompleteChar: "=",
      barIncompleteChar: " ",
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    Presets.legacy,
  );
}

const scores = (values: Record<string, number>): string =>
  Object.entries(values)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join("  ");

interface TrainArgs {
  path: string;
  train?: string;
  out?: string;
  from?: string;
  quiet: boolean;
  json: boolean;
  /** Threads for the matrix products (this one included). */
  threads: number;
  overrides: { seed?: number; epochs?: number; batch?: number };
}

/** One `nnspec train` invocation: what every run of a train block shares. */
interface Session {
  io: Io;
  args: TrainArgs;
  file: CheckedFile;
  from?: SavedModel;
  specName: string;
  /** How many of the file's train blocks train each model (a model trained twice gets `-N` folders). */
  /** The train blocks this invocation runs. */
  selected: number;
  /** Prints progress unless --quiet or --json. */
  say(s: string): void;
}

export async function trainCommand(argv: string[], io: Io): Promise<number> {
  const args = parseTrainArgs(argv, io);
  if (typeof args === "number") return args;
  const file = openSpec(args.path, io);
  if (!file) return 1;
  // Fine-tuning: the saved model's weights and preprocessing.
  let from: SavedModel | undefined;
  if (args.from !== undefined) {
    recoverFolder(args.from, io);
    const r = readSavedModel(args.from);
    if (!r.ok) {
      io.stderr.write(`error: ${r.error}\n`);
      return 1;
    }
    from = r.value;
  }
  const trains = selectTrains(file, args, from, io);
  if (!trains) return 1;
  const session: Session = {
    io,
    args,
    file,
    from,
    specName: basename(args.path).replace(/\.nnspec$/, ""),
    selected: trains.length,
    say: (s) => void (!args.quiet && !args.json && io.stdout.write(s)),
  };
  const results: object[] = [];
  let status = 0;
  // every core by default: the results are the same for any number of threads
  useThreads(args.threads);
  try {
    for (const { t, i } of trains) {
      const r = await runTrainBlock(session, t, i);
      if (r.failed) status = 1;
      if (r.json) results.push(r.json);
    }
  } finally {
    stopThreads();
  }
  if (args.json) io.stdout.write(JSON.stringify({ file: args.path, runs: results }, null, 2) + "\n");
  return status;
}

/** The command line, or the exit status of a usage error (2). */
function parseTrainArgs(argv: string[], io: Io): TrainArgs | number {
  const usage = usageFor(io, TRAIN_USAGE);
  let parsed;
  try {
    parsed = args(joinNegativeValues(argv, ["--seed", "--epochs", "--batch", "--threads"]), {
      train: { type: "string" },
      threads: { type: "string" },
      seed: { type: "string" },
      epochs: { type: "string" },
      batch: { type: "string" },
      out: { type: "string", short: "o" },
      from: { type: "string" },
      quiet: { type: "boolean" },
      json: { type: "boolean" },
    });
  } catch (e) {
    return usage((e as Error).message);
  }
  const { values, positionals } = parsed;
  const overrides: TrainArgs["overrides"] = {};
  for (const [name, min] of [["seed", -(2 ** 31)], ["epochs", 1], ["batch", 1]] as const) {
    const v = values[name];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) return usage(`--${name} needs ${name === "seed" ? "an integer" : "a positive integer"}`);
    overrides[name] = n;
  }
  let threads = defaultThreads();
  if (values.threads !== undefined) {
    threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1) return usage(`--threads needs a positive integer (1: one thread; default: the ${defaultThreads()} cores here), got \`${values.threads}\``);
  }
  if (positionals.length !== 1) return usage(positionals.length ? "one spec file at a time" : "no file given");
  return { path: positionals[0], train: values.train, out: values.out, from: values.from, quiet: values.quiet === true, json: values.json === true, threads, overrides };
}

/** The train blocks `--train` (or `--from`'s model) selects, with their 0-based index; undefined after saying why there are none. */
function selectTrains(file: CheckedFile, args: TrainArgs, from: SavedModel | undefined, io: Io): { t: CheckedTrain; i: number }[] | undefined {
  const all = file.checked.trains;
  const trains = all.map((t, i) => ({ t, i })).filter(({ t, i }) => (args.train === undefined ? !from || t.model?.name === from.meta.model : String(i + 1) === args.train || t.model?.name === args.train));
  if (trains.length) return trains;
  io.stderr.write(
    args.train !== undefined
      ? `error: ${args.path} has no train block ${args.train} (give its number, 1 to ${all.length}, or its model's name)\n`
      : from
        ? `error: ${args.path} has no train block for \`${from.meta.model}\`, the model saved in ${args.from}\n`
        : `error: ${args.path} has no train block\n`,
  );
  return undefined;
}

/** Where run `i` is written: `--out`, else out/<spec>/<model>[-N]. */
function outDir(s: Session, i: number): string {
  const run = runName(s.file.checked.trains, i);
  if (s.args.out === undefined) return join("out", s.specName, run);
  return s.selected > 1 ? join(s.args.out, run) : s.args.out;
}

/** Loads, trains, tests and saves one train block; `failed` when it reported an error. */
async function runTrainBlock(s: Session, t: CheckedTrain, i: number): Promise<{ failed: boolean; json?: object }> {
  const { io, args, file } = s;
  const cfg = trainConfig(t, args.overrides);
  const checked = t.model ? file.checked.models.get(t.model.name) : undefined;
  if (!checked || !t.data) return { failed: false };
  const several = s.selected > 1 || file.checked.trains.length > 1;
  s.say(`${several ? `\n[train ${i + 1}] ` : ""}${checked.spec.name} on ${t.data.name}: ${cfg.loss.name}, ${cfg.optimizer.name}, ${cfg.epochs} epochs, batch ${cfg.batch}, seed ${cfg.seed}\n`);
  const fail = (msg: string) => (io.stderr.write(`error: ${args.path}: train ${i + 1} (${checked.spec.name}): ${msg}\n`), { failed: true });
  const ready = await prepare(s, t, checked, cfg);
  if ("diagnostics" in ready) {
    reportDiagnostics(ready.diagnostics, file, io);
    return { failed: true };
  }
  if ("errors" in ready) {
    for (const e of ready.errors) fail(e);
    return { failed: true };
  }
  const { model, data } = ready;
  // --quiet prints only the reports: name each when the file trains several models.
  const quietTitle = args.quiet && several ? `${checked.spec.name} on ${t.data.name}\n` : "";
  const tty = !!io.stdout.isTTY && !args.quiet && !args.json;
  const cv = data.folds && !s.from ? crossValidateRun(s, checked, cfg, data.folds, tty, quietTitle) : undefined;
  if (cv) s.say(`final model: trained on all ${data.train.n} non-test rows\n`);
  const result = trainWithProgress(s, model, data, cfg, tty);
  for (const n of result.notes) s.say(`note: ${n}\n`);
  s.say(`${result.stop.message}\n`);
  let failed = false;
  if (result.stop.reason === "non_finite") failed = fail(result.stop.message).failed;
  const test = data.test.n ? evaluate(model, data.test, cfg.loss) : undefined;
  // The cross-validation summary, when there is one, already carries the title.
  if (test && !args.json) io.stdout.write(`${cv ? "" : quietTitle}${reportText(test.loss, test.report, data.classNames)}\n`);
  const dir = outDir(s, i);
  const report = test ? { split: "test", ...test } : data.val.n ? { split: "validation", ...evaluate(model, data.val, cfg.loss) } : undefined;
  // A run that failed leaves whatever an earlier run saved in its folder untouched.
  const written = failed ? false : saveRun(s, { t, i, checked, cfg, model, data, result, test, report, cv, dir });
  if (failed) io.stderr.write(`nothing written to ${dir}: the run failed, and a model saved there before is left as it was\n`);
  if (!written) failed = true;
  const json = {
    train: i + 1,
    model: checked.spec.name,
    data: t.data.name,
    config: cfg,
    history: result.history,
    stop: result.stop,
    bestEpoch: result.bestEpoch,
    notes: result.notes,
    test: test ? { loss: test.loss, ...test.report } : undefined,
    ...(cv ? { crossValidation: cv } : {}),
    out: written ? dir : null,
  };
  return { failed, json };
}

/** The data loaded and the model lowered (with `--from`'s weights and preprocessing), or what stopped it. */
async function prepare(s: Session, t: CheckedTrain, checked: CheckedModel, cfg: TrainConfig): Promise<{ model: RuntimeModel; data: LoadedData } | { diagnostics: readonly Diagnostic[] } | { errors: string[] }> {
  const specPath = resolvePath(s.args.path);
  const loaded = await loadData(t.data!, specPath, { read: readTableCached });
  if (!loaded.data) return { diagnostics: loaded.diagnostics };
  const data = loaded.data;
  const lowered = RuntimeModel.lower(checked, { seed: cfg.seed });
  if (!lowered.model) return { errors: lowered.errors };
  const from = s.from;
  if (from) {
    const applied = applyWeights(lowered.model, from, s.args.from!, s.args.path);
    if (!applied.ok) return { errors: [applied.error] };
    // an imported model has no preprocessing of its own: the data block's, fitted now, is used
    const stats = isImported(from.meta) ? undefined : from.meta.preprocess;
    if (stats) {
      const splits = await Promise.all((["train", "val", "test"] as const).map((split) => withSavedStats(t.data!, specPath, data, split, stats)));
      for (const r of splits) if (!r.ok) return { errors: [r.error] };
      [data.train, data.val, data.test] = splits.map((r) => (r.ok ? r.value : data.train));
    }
    const frozen = checked.layers.filter((l) => l.spec.options.full.trainable === false).map((l) => `\`${l.spec.name}\``);
    s.say(`fine-tuning the model saved in ${s.args.from}: its weights and preprocessing${frozen.length ? `; frozen: ${frozen.join(", ")}` : ""}\n`);
  }
  const problems = checkTrainable(lowered.model, cfg, data);
  return problems.length ? { errors: problems } : { model: lowered.model, data };
}

/** `split kfold: K`: K fresh models, each fold's line as it ends, then mean ± sd. */
function crossValidateRun(s: Session, checked: CheckedModel, cfg: TrainConfig, folds: NonNullable<LoadedData["folds"]>, tty: boolean, title: string): CrossValidation {
  const { io } = s;
  const k = folds.length;
  s.say(`cross-validation, ${k} folds (each trains a fresh model on ${k - 1} parts and scores the held-out one):\n`);
  const cv = crossValidate(() => RuntimeModel.lower(checked, { seed: cfg.seed }).model!, folds, cfg, {
    onFoldStart: (f) => void (tty && io.stdout.write(`fold ${f}/${k} ...`)),
    onEpoch: (f, r) => void (tty && io.stdout.write(`\r\u001b[2Kfold ${f}/${k}  ${line(r, cfg.epochs)}`)),
    onFold: (r) => {
      if (tty) io.stdout.write("\r\u001b[2K");
      s.say(`fold ${r.fold}/${k}  ${r.epochs} epoch(s)  held out ${r.n}: ${scores(r.values)}\n`);
    },
  });
  if (!s.args.json) io.stdout.write(`${title}${cvSummary(cv)}\n`);
  return cv;
}

/** Trains with a progress bar on a terminal and a line per epoch. */
function trainWithProgress(s: Session, model: RuntimeModel, data: LoadedData, cfg: TrainConfig, tty: boolean): TrainResult {
  const bar = tty ? epochBar(s.io, cfg.epochs) : undefined;
  let epochStart = 0;
  return train(model, { train: data.train, val: data.val }, cfg, {
    onEpochStart: bar
      ? (e, n) => {
          epochStart = performance.now();
          bar.start(n, 0, { epoch: e, loss: "-", metrics: "", rate: "-" });
        }
      : undefined,
    onBatch: bar
      ? (_e, step, n, loss, running) => {
          // A redraw per batch would cost more than a small model's step.
          if (step % Math.max(1, Math.floor(n / 50)) !== 0 && step !== n) return;
          const seconds = (performance.now() - epochStart) / 1000;
          const rate = seconds > 0 ? Math.round(Math.min(step * cfg.batch, data.train.n) / seconds).toLocaleString("en-US") : "-";
          const metrics = Object.entries(running())
            .map(([k, v]) => `  ${k} ${fmt(v)}`)
            .join("");
          bar.update(step, { loss: fmt(loss), metrics, rate });
        }
      : undefined,
    onEpoch: (r) => {
      bar?.stop();
      s.say(`${line(r, cfg.epochs)}\n`);
    },
  });
}

interface Run {
  t: CheckedTrain;
  i: number;
  checked: CheckedModel;
  cfg: TrainConfig;
  model: RuntimeModel;
  data: LoadedData;
  result: TrainResult;
  test?: { loss: number; report: MetricReport };
  report?: { split: string; loss: number; report: MetricReport };
  cv?: CrossValidation;
  dir: string;
}

/** Writes the run's folder in one swap: the model (when it can be saved), history, curves and report. False after an error. */
function saveRun(s: Session, r: Run): boolean {
  const { io, args, file } = s;
  const where = `${args.path}: train ${r.i + 1} (${r.checked.spec.name})`;
  const stats = (s.from && !isImported(s.from.meta) ? s.from.meta.preprocess : undefined) ?? r.data.stats;
  const files: Record<string, string | Uint8Array> = {};
  try {
    Object.assign(
      files,
      saveModel(r.model, {
        spec: { file: args.path, name: s.specName, sha256: sha256(file.text) },
        data: r.t.data!.name,
        train: r.i + 1,
        config: r.cfg,
        epochs: r.result.history.length,
        bestEpoch: r.result.bestEpoch,
        task: taskOf(r.cfg.loss.name, r.model.tensors[r.model.outputs[0]].shape),
        label: stats.label ?? r.data.label,
        classNames: r.data.classNames,
        preprocess: stats,
        test: r.test ? { loss: r.test.loss, values: r.test.report.values } : undefined,
      }),
    );
    const why = tfjsCannotLoad(r.model);
    if (why) io.stderr.write(`warning: ${where}: tf.loadLayersModel cannot open the saved model.json (${why}); nnspec eval, predict and train --from read it\n`);
  } catch (e) {
    io.stderr.write(`warning: ${where}: the model cannot be saved in the TensorFlow.js format: ${(e as Error).message}; ${r.dir} gets the history, curves and report only\n`);
  }
  Object.assign(files, runFiles(args.path, r.checked.spec.name, r.t.data!.name, r.cfg, r.result, r.report, r.data.classNames, r.cv), { "graph.svg": graphSvg([modelGraph(r.checked.spec, r.checked, [])]) });
  recoverFolder(r.dir, io);
  const written = writeFolderAtomic(r.dir, files);
  if (!written.ok) {
    io.stderr.write(`error: ${written.error}\n`);
    return false;
  }
  s.say(`wrote ${r.dir}${r.dir.endsWith("/") ? "" : "/"}: ${Object.keys(files).join(", ")}\n`);
  return true;
}

/** history.json, history.csv, curves.svg and the report of one run. */
function runFiles(
  spec: string,
  model: string,
  data: string,
  cfg: TrainConfig,
  result: TrainResult,
  report: { split: string; loss: number; report: MetricReport } | undefined,
  classNames: string[] | undefined,
  cv?: CrossValidation,
): Record<string, string> {
  const title = `${model} on ${data}`;
  const files: Record<string, string> = {
    "history.json": JSON.stringify({ spec, model, data, config: cfg, history: result.history, stop: result.stop, bestEpoch: result.bestEpoch, notes: result.notes }, null, 1) + "\n",
    "history.csv": historyCsv(result.history),
    "curves.svg": learningCurves(result.history, { title }),
  };
  const head = `${title} (${spec}): ${result.history.length} epoch(s), ${cfg.loss.name}, ${cfg.optimizer.name}, batch ${cfg.batch}, seed ${cfg.seed}\n${result.stop.message}\n${cv ? `\n${cvSummary(cv)}\n` : ""}`;
  const cvJson = cv ? { crossValidation: cv } : {};
  if (report) {
    files["report.txt"] = `${head}\n${reportText(report.loss, report.report, classNames, report.split)}\n`;
    files["report.json"] = JSON.stringify({ spec, model, data, split: report.split, loss: report.loss, ...report.report, classNames, ...cvJson }, null, 1) + "\n";
  } else {
    files["report.txt"] = `${head}\nno test or validation split to report on\n`;
    files["report.json"] = JSON.stringify({ spec, model, data, split: null, ...cvJson }, null, 1) + "\n";
  }
  return files;
}

export const command: Command = { name: "train", summary: "train a spec's model with the in-house interpreter and report the test split", usage: TRAIN_USAGE, run: trainCommand };
