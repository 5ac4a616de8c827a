/** Training results as text, the same in the terminal, the saved report.txt and the playground. */
import type { MetricReport } from "../kinds/metrics/kernel.ts";
import type { CrossValidation } from "./crossval.ts";

/** A metric's value: four decimals, or exponent notation when very large or small. */
export const fmt = (v: number): string => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4));

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
