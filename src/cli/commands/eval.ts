/**
 * `nnspec eval FILE --model DIR`: evaluates a saved model on its data's test split (or another with
 * `--split`), with the preprocessing statistics saved beside the weights, and prints the report.
 *
 *   nnspec eval FILE --model DIR [--split test|val|train] [--json] [--out DIR]
 *
 * `--out DIR` also writes the report as eval-<split>.txt and eval-<split>.json there (each file
 * written whole or not at all; DIR may be the model's own folder).
 */
import { args, usageFor, type Command } from "../common.ts";
import { readTableCached } from "../../node/host.ts";
import { join, resolve as resolvePath } from "node:path";
import { loadData } from "../../data/index.ts";
import { evaluate } from "../../runtime/train.ts";
import { openTarget, reportDiagnostics, withSavedStats, writeFileAtomic, type Io } from "../saved.ts";
import { reportText } from "../../runtime/report.ts";

export const EVAL_USAGE = "nnspec eval FILE --model DIR [--split test|val|train] [--json] [--out|-o DIR]";

const SPLITS = { test: "test", val: "validation", train: "training" } as const;

export async function evalCommand(argv: string[], io: Io): Promise<number> {
  const usage = usageFor(io, EVAL_USAGE);
  let parsed;
  try {
    parsed = args(argv, { model: { type: "string" }, split: { type: "string" }, json: { type: "boolean" }, out: { type: "string", short: "o" } });
  } catch (e) {
    return usage((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usage(positionals.length ? "one spec file at a time" : "no file given");
  if (values.model === undefined) return usage("--model DIR is required: the folder `nnspec train` wrote");
  const split = (values.split ?? "test") as keyof typeof SPLITS;
  if (!(split in SPLITS)) return usage(`--split must be test, val or train, got \`${values.split}\``);
  const path = positionals[0];
  const dir = values.model;

  const target = await openTarget(path, dir, io);
  if (!target) return 1;
  if ("raw" in target) return (io.stderr.write(`error: the model in ${dir} was imported, and ${path} has no train block for \`${target.model.name}\`: add a data block and a train block (its loss) to evaluate it\n`), 1);
  const { model, data: dataSpec, meta, file } = target;

  const loaded = await loadData(dataSpec, resolvePath(path), { read: readTableCached });
  if (!loaded.data) {
    reportDiagnostics(loaded.diagnostics, file, io);
    return 1;
  }
  const data = loaded.data;
  if (data[split].n === 0) {
    const others = (Object.keys(SPLITS) as (keyof typeof SPLITS)[]).filter((s) => s !== split && data[s].n > 0).map((s) => `--split ${s} (${data[s].n} examples)`);
    io.stderr.write(`error: data \`${dataSpec.name}\` has no ${SPLITS[split]} split${others.length ? `; try ${others.join(" or ")}` : ""}\n`);
    return 1;
  }
  const rows = await withSavedStats(dataSpec, path, data, split, meta.preprocess);
  if (!rows.ok) return (io.stderr.write(`error: ${rows.error}\n`), 1);
  const classNames = meta.classNames ?? data.classNames;
  if (meta.classNames && data.classNames && meta.classNames.join("\u0000") !== data.classNames.join("\u0000"))
    io.stderr.write(`note: the classes of data \`${dataSpec.name}\` are now ${data.classNames.join(", ")}, but the model in ${dir} was trained with ${meta.classNames.join(", ")}\n`);
  const r = evaluate(model, rows.value, meta.config.loss);
  const json = JSON.stringify({ file: path, model: meta.model, dir, data: dataSpec.name, split, loss: r.loss, ...r.report, classNames }, null, 2) + "\n";
  const text = `${meta.model} (saved in ${dir}, ${meta.epochs} epoch(s)) on ${dataSpec.name}\n${reportText(r.loss, r.report, classNames, SPLITS[split])}\n`;
  io.stdout.write(values.json ? json : text);
  if (values.out !== undefined) {
    for (const [name, body] of [[`eval-${split}.txt`, text], [`eval-${split}.json`, json]]) {
      const w = writeFileAtomic(join(values.out, name), body);
      if (!w.ok) return (io.stderr.write(`error: ${w.error}\n`), 1);
    }
    if (!values.json) io.stdout.write(`wrote ${join(values.out, `eval-${split}.txt`)} and eval-${split}.json\n`);
  }
  return 0;
}

export const command: Command = { name: "eval", summary: "evaluate a saved model on its data's test split", usage: EVAL_USAGE, run: evalCommand };
