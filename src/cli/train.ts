/**
 * `nnspec train FILE`: trains a spec's `train` blocks with the in-house interpreter, shows progress,
 * and reports the test split. The file I/O and the terminal live here; the runtime is pure.
 *
 *   nnspec train FILE [--train N|MODEL] [--seed N] [--epochs N] [--batch N] [--out DIR] [--from DIR] [--quiet] [--json]
 *
 * Each run writes its folder (default `out/<spec>/<model>/`, `<model>-<N>` when several train blocks
 * train the same model): the saved model (model.json, weights.bin, nnspec.json), history.json,
 * history.csv, curves.svg, report.txt and report.json. `--from DIR` fine-tunes a saved model: its
 * weights and preprocessing are loaded, and the spec's `trainable: false` layers stay frozen.
 */
import { basename, join, resolve as resolvePath } from "node:path";
import { parseArgs } from "node:util";
import { Presets, SingleBar } from "cli-progress";
import { loadData } from "../data/index.ts";
import { historyCsv, learningCurves } from "../runtime/curves.ts";
import { crossValidate, type CrossValidation } from "../runtime/crossval.ts";
import { applyWeights, type SavedModel } from "../runtime/load.ts";
import { taskOf, type MetricReport } from "../kinds/metrics/kernel.ts";
import { RuntimeModel } from "../runtime/model.ts";
import { saveModel, tfjsCannotLoad } from "../runtime/save.ts";
import { checkTrainable, evaluate, train, trainConfig, type EpochRecord, type TrainConfig, type TrainResult } from "../runtime/train.ts";
import { joinNegativeValues, openSpec, readSavedModel, reportDiagnostics, sha256, withSavedStats, writeFolderAtomic, type Io } from "./saved.ts";

export const TRAIN_USAGE = "nnspec train FILE [--train N|MODEL] [--seed N] [--epochs N] [--batch N] [--out DIR] [--from DIR] [--quiet] [--json]";

const fmt = (v: number): string => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4));
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

/** Cross-validation in a few lines: each score's mean ± sample standard deviation over the folds. */
export function cvSummary(cv: CrossValidation): string {
  const parts = Object.keys(cv.mean).map((k) => `${k} ${fmt(cv.mean[k])} ± ${fmt(cv.sd[k])}`);
  return `cross-validation (${cv.folds.length} folds, held-out rows, mean ± sd): ${parts.join("  ")}`;
}

/** The test-split report: loss, metrics, per-class figures and the confusion matrix. */
export function reportText(loss: number, r: MetricReport, classNames?: string[], split = "test"): string {
  const out = [`${split} (${r.n} examples): loss ${fmt(loss)}  ${Object.entries(r.values).map(([k, v]) => `${k} ${fmt(v)}`).join("  ")}`];
  if (r.perClass) {
    const names = r.perClass.map((_, i) => classNames?.[i] ?? (r.task === "multilabel" ? `label ${i}` : String(i)));
    const w = Math.max(9, ...names.map((n) => n.length));
    out.push(`  ${"".padEnd(w)}  precision  recall      f1  support`);
    r.perClass.forEach((c, i) => out.push(`  ${names[i].padEnd(w)}  ${c.precision.toFixed(3).padStart(9)}  ${c.recall.toFixed(3).padStart(6)}  ${c.f1.toFixed(3).padStart(6)}  ${String(c.support).padStart(7)}`));
  }
  if (r.confusion) {
    const names = r.confusion.map((_, i) => classNames?.[i] ?? String(i));
    const w = Math.max(4, ...names.map((n) => n.length), ...r.confusion.flat().map((v) => String(v).length));
    out.push("  confusion matrix (rows: true, columns: predicted)");
    out.push(`  ${"".padEnd(w)}  ${names.map((n) => n.padStart(w)).join(" ")}`);
    r.confusion.forEach((row, i) => out.push(`  ${names[i].padEnd(w)}  ${row.map((v) => String(v).padStart(w)).join(" ")}`));
  }
  return out.join("\n");
}

export async function trainCommand(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv, ["--seed", "--epochs", "--batch"]),
      allowPositionals: true,
      options: {
        train: { type: "string" },
        seed: { type: "string" },
        epochs: { type: "string" },
        batch: { type: "string" },
        out: { type: "string" },
        from: { type: "string" },
        quiet: { type: "boolean" },
        json: { type: "boolean" },
      },
    });
  } catch (e) {
    io.stderr.write(`error: ${(e as Error).message}\nusage: ${TRAIN_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const int = (name: "seed" | "epochs" | "batch", min: number): number | undefined | null => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n >= min ? n : null;
  };
  const overrides = { seed: int("seed", -(2 ** 31)), epochs: int("epochs", 1), batch: int("batch", 1) };
  for (const [k, v] of Object.entries(overrides))
    if (v === null) {
      io.stderr.write(`error: --${k} needs ${k === "seed" ? "an integer" : "a positive integer"}\nusage: ${TRAIN_USAGE}\n`);
      return 2;
    }
  if (positionals.length !== 1) {
    io.stderr.write(`error: ${positionals.length ? "one spec file at a time" : "no file given"}\nusage: ${TRAIN_USAGE}\n`);
    return 2;
  }
  const path = positionals[0];
  const file = openSpec(path, io);
  if (!file) return 1;
  // Fine-tuning: the saved model's weights and preprocessing.
  let from: SavedModel | undefined;
  if (values.from !== undefined) {
    const r = readSavedModel(values.from);
    if (!r.ok) {
      io.stderr.write(`error: ${r.error}\n`);
      return 1;
    }
    from = r.value;
  }
  const trains = file.checked.trains
    .map((t, i) => ({ t, i }))
    .filter(({ t, i }) => (values.train === undefined ? !from || t.model?.name === from.meta.model : String(i + 1) === values.train || t.model?.name === values.train));
  if (!trains.length) {
    io.stderr.write(
      values.train !== undefined
        ? `error: ${path} has no train block ${values.train} (give its number, 1 to ${file.checked.trains.length}, or its model's name)\n`
        : from
          ? `error: ${path} has no train block for \`${from.meta.model}\`, the model saved in ${values.from}\n`
          : `error: ${path} has no train block\n`,
    );
    return 1;
  }
  const specName = basename(path).replace(/\.nnspec$/, "");
  const perModel = new Map<string, number>();
  for (const t of file.checked.trains) if (t.model) perModel.set(t.model.name, (perModel.get(t.model.name) ?? 0) + 1);
  const outDir = (model: string, i: number): string => {
    const run = (perModel.get(model) ?? 0) > 1 ? `${model}-${i + 1}` : model;
    if (values.out === undefined) return join("out", specName, run);
    return trains.length > 1 ? join(values.out, run) : values.out;
  };
  const quiet = values.quiet === true;
  const json = values.json === true;
  const say = (s: string): void => void (!quiet && !json && io.stdout.write(s));
  const results: object[] = [];
  let status = 0;
  for (const { t, i } of trains) {
    const cfg = trainConfig(t, { seed: overrides.seed ?? undefined, epochs: overrides.epochs ?? undefined, batch: overrides.batch ?? undefined });
    const checked = t.model ? file.checked.models.get(t.model.name) : undefined;
    if (!checked || !t.data) continue;
    say(`${trains.length > 1 || file.checked.trains.length > 1 ? `\n[train ${i + 1}] ` : ""}${checked.spec.name} on ${t.data.name}: ${cfg.loss.name}, ${cfg.optimizer.name}, ${cfg.epochs} epochs, batch ${cfg.batch}, seed ${cfg.seed}\n`);
    const loaded = await loadData(t.data, resolvePath(path));
    if (!loaded.data) {
      reportDiagnostics(loaded.diagnostics, file, io);
      status = 1;
      continue;
    }
    const data = loaded.data;
    const lowered = RuntimeModel.lower(checked, { seed: cfg.seed });
    if (lowered.model && from) {
      const applied = applyWeights(lowered.model, from, values.from!, path);
      const splits = applied.ok ? await Promise.all((["train", "val", "test"] as const).map((s) => withSavedStats(t.data!, resolvePath(path), data, s, from.meta.preprocess))) : [];
      const bad = !applied.ok ? applied : splits.find((s) => !s.ok);
      if (bad && !bad.ok) {
        io.stderr.write(`error: ${path}: train ${i + 1} (${checked.spec.name}): ${bad.error}\n`);
        status = 1;
        continue;
      }
      [data.train, data.val, data.test] = splits.map((s) => (s.ok ? s.value : data.train));
      const frozen = checked.layers.filter((l) => l.spec.options.values.trainable === false).map((l) => `\`${l.spec.name}\``);
      say(`fine-tuning the model saved in ${values.from}: its weights and preprocessing${frozen.length ? `; frozen: ${frozen.join(", ")}` : ""}\n`);
    }
    const problems = lowered.model ? checkTrainable(lowered.model, cfg, data) : lowered.errors;
    if (!lowered.model || problems.length) {
      for (const p of problems) io.stderr.write(`error: ${path}: train ${i + 1} (${checked.spec.name}): ${p}\n`);
      status = 1;
      continue;
    }
    const model = lowered.model;
    const tty = !!io.stdout.isTTY && !quiet && !json;
    // --quiet prints only the reports: name each when the file trains several models.
    const quietTitle = quiet && (trains.length > 1 || file.checked.trains.length > 1) ? `${checked.spec.name} on ${t.data.name}\n` : "";
    let cv: CrossValidation | undefined;
    if (data.folds && !from) {
      const k = data.folds.length;
      say(`cross-validation, ${k} folds (each trains a fresh model on ${k - 1} parts and scores the held-out one):\n`);
      cv = crossValidate(() => RuntimeModel.lower(checked, { seed: cfg.seed }).model!, data.folds, cfg, {
        onFoldStart: (f) => void (tty && io.stdout.write(`fold ${f}/${k} ...`)),
        onEpoch: (f, r) => void (tty && io.stdout.write(`\r\u001b[2Kfold ${f}/${k}  ${line(r, cfg.epochs)}`)),
        onFold: (r) => {
          if (tty) io.stdout.write("\r\u001b[2K");
          say(`fold ${r.fold}/${k}  ${r.epochs} epoch(s)  held out ${r.n}: ${scores(r.values)}\n`);
        },
      });
      const summary = cvSummary(cv);
      if (!json) io.stdout.write(`${quietTitle}${summary}\n`);
      say(`final model: trained on all ${data.train.n} non-test rows\n`);
    }
    const bar = tty ? epochBar(io, cfg.epochs) : undefined;
    let epochStart = 0;
    const result = train(model, { train: data.train, val: data.val }, cfg, {
      onEpochStart: bar
        ? (e, n) => {
            epochStart = performance.now();
            bar.start(n, 0, { epoch: e, loss: "-", metrics: "", rate: "-" });
          }
        : undefined,
      onBatch: bar
        ? (_e, s, n, loss, running) => {
            // A redraw per batch would cost more than a small model's step.
            if (s % Math.max(1, Math.floor(n / 50)) !== 0 && s !== n) return;
            const seconds = (performance.now() - epochStart) / 1000;
            const rate = seconds > 0 ? Math.round(Math.min(s * cfg.batch, data.train.n) / seconds).toLocaleString("en-US") : "-";
            const metrics = Object.entries(running())
              .map(([k, v]) => `  ${k} ${fmt(v)}`)
              .join("");
            bar.update(s, { loss: fmt(loss), metrics, rate });
          }
        : undefined,
      onEpoch: (r) => {
        bar?.stop();
        say(`${line(r, cfg.epochs)}\n`);
      },
    });
    for (const n of result.notes) say(`note: ${n}\n`);
    say(`${result.stop.message}\n`);
    if (result.stop.reason === "non_finite") {
      io.stderr.write(`error: ${path}: train ${i + 1} (${checked.spec.name}): ${result.stop.message}\n`);
      status = 1;
    }
    const test = data.test.n ? evaluate(model, data.test, cfg.loss) : undefined;
    // The cross-validation summary, when there is one, already carries the title.
    const title = cv ? "" : quietTitle;
    if (test && !json) io.stdout.write(`${title}${reportText(test.loss, test.report, data.classNames)}\n`);
    const dir = outDir(checked.spec.name, i);
    const stats = from?.meta.preprocess ?? data.stats;
    const files: Record<string, string | Uint8Array> = {};
    try {
      Object.assign(
        files,
        saveModel(model, {
          spec: { file: path, name: specName, sha256: sha256(file.text) },
          data: t.data.name,
          train: i + 1,
          config: cfg,
          epochs: result.history.length,
          bestEpoch: result.bestEpoch,
          task: taskOf(cfg.loss.name, model.tensors[model.outputs[0]].shape),
          label: stats.label ?? data.label,
          classNames: data.classNames,
          preprocess: stats,
          test: test ? { loss: test.loss, values: test.report.values } : undefined,
        }),
      );
      const why = tfjsCannotLoad(model);
      if (why) io.stderr.write(`warning: ${path}: train ${i + 1} (${checked.spec.name}): tf.loadLayersModel cannot open the saved model.json (${why}); nnspec eval, predict and train --from read it\n`);
    } catch (e) {
      io.stderr.write(`warning: ${path}: train ${i + 1} (${checked.spec.name}): the model cannot be saved in the TensorFlow.js format: ${(e as Error).message}; ${dir} gets the history, curves and report only\n`);
    }
    Object.assign(files, runFiles(path, checked.spec.name, t.data.name, cfg, result, data.test.n ? { split: "test", ...test! } : data.val.n ? { split: "validation", ...evaluate(model, data.val, cfg.loss) } : undefined, data.classNames, cv));
    const written = writeFolderAtomic(dir, files);
    if (!written.ok) {
      io.stderr.write(`error: ${written.error}\n`);
      status = 1;
    } else say(`wrote ${dir}${dir.endsWith("/") ? "" : "/"}: ${Object.keys(files).join(", ")}\n`);
    results.push({
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
      out: written.ok ? dir : null,
    });
  }
  if (json) io.stdout.write(JSON.stringify({ file: path, runs: results }, null, 2) + "\n");
  return status;
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
