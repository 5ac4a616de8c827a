/**
 * `nnspec train FILE`: trains a spec's `train` blocks with the in-house interpreter, shows progress,
 * and reports the test split. The file I/O and the terminal live here; the runtime is pure.
 *
 *   nnspec train FILE [--train N|MODEL] [--seed N] [--epochs N] [--batch N] [--quiet] [--json]
 */
import { resolve as resolvePath } from "node:path";
import { parseArgs } from "node:util";
import { loadData } from "../data/index.ts";
import { hasErrors, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { renderDiagnostic, renderSummary } from "../diagnostics/render.ts";
import type { LineMap } from "../diagnostics/span.ts";
import { FileHost } from "../node/host.ts";
import type { MetricReport } from "../runtime/metrics.ts";
import { RuntimeModel } from "../runtime/model.ts";
import { checkTrainable, evaluate, train, trainConfig, type EpochRecord } from "../runtime/train.ts";

interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

export const TRAIN_USAGE = "nnspec train FILE [--train N|MODEL] [--seed N] [--epochs N] [--batch N] [--quiet] [--json]";

const fmt = (v: number): string => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4));
const line = (r: EpochRecord, epochs: number): string =>
  `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}  ${Object.entries(r.values)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join("  ")}  ${Math.round(r.samplesPerSecond).toLocaleString("en-US")} samples/s`;

/** The test-split report: loss, metrics, per-class figures and the confusion matrix. */
export function reportText(loss: number, r: MetricReport, classNames?: string[]): string {
  const out = [`test (${r.n} examples): loss ${fmt(loss)}  ${Object.entries(r.values).map(([k, v]) => `${k} ${fmt(v)}`).join("  ")}`];
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
      args: argv,
      allowPositionals: true,
      options: { train: { type: "string" }, seed: { type: "string" }, epochs: { type: "string" }, batch: { type: "string" }, quiet: { type: "boolean" }, json: { type: "boolean" } },
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
  const color = !!io.stderr.isTTY;
  const report = (ds: readonly Diagnostic[], sources: Map<string, LineMap>): void => {
    for (const d of ds) io.stderr.write(renderDiagnostic(d, { color, sources }) + "\n\n");
    const s = renderSummary(ds, color);
    if (s) io.stderr.write(`${s}\n`);
  };
  let file;
  try {
    file = new FileHost().analyse(resolvePath(path), path);
  } catch (e) {
    io.stderr.write(`error: cannot read ${path}: ${(e as Error).message}\n`);
    return 1;
  }
  const sources = new Map<string, LineMap>([[file.path, file.lines]]);
  if (hasErrors(file.diagnostics)) {
    report(file.diagnostics, sources);
    return 1;
  }
  const trains = file.checked.trains.map((t, i) => ({ t, i })).filter(({ t, i }) => values.train === undefined || String(i + 1) === values.train || t.model?.name === values.train);
  if (!trains.length) {
    io.stderr.write(values.train === undefined ? `${path} has no train block\n` : `${path} has no train block ${values.train} (give its number, 1 to ${file.checked.trains.length}, or its model's name)\n`);
    return 1;
  }
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
      report(loaded.diagnostics, sources);
      status = 1;
      continue;
    }
    const data = loaded.data;
    const lowered = RuntimeModel.lower(checked, { seed: cfg.seed });
    const problems = lowered.model ? checkTrainable(lowered.model, cfg, data) : lowered.errors;
    if (!lowered.model || problems.length) {
      for (const p of problems) io.stderr.write(`error: ${path}: train ${i + 1} (${checked.spec.name}): ${p}\n`);
      status = 1;
      continue;
    }
    const model = lowered.model;
    const tty = !!io.stdout.isTTY && !quiet && !json;
    const result = train(model, { train: data.train, val: data.val }, cfg, {
      onBatch: tty
        ? (e, s, n, loss) => {
            if (s % Math.max(1, Math.floor(n / 20)) !== 0 && s !== n) return;
            const w = 20;
            const done = Math.round((s / n) * w);
            io.stdout.write(`\repoch ${e}/${cfg.epochs} [${"=".repeat(done)}${" ".repeat(w - done)}] ${s}/${n} loss ${fmt(loss)}`);
          }
        : undefined,
      onEpoch: (r) => {
        if (tty) io.stdout.write("\r\u001b[2K");
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
    if (test && !json) io.stdout.write(`${reportText(test.loss, test.report, data.classNames)}\n`);
    results.push({ train: i + 1, model: checked.spec.name, data: t.data.name, config: cfg, history: result.history, stop: result.stop, bestEpoch: result.bestEpoch, notes: result.notes, test: test ? { loss: test.loss, ...test.report } : undefined });
  }
  if (json) io.stdout.write(JSON.stringify({ file: path, runs: results }, null, 2) + "\n");
  return status;
}
