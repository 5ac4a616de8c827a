/**
 * Learning curves as a standalone SVG a person can open in a browser: train and validation loss per
 * epoch, and beside it the first metric, each panel with ticked and labelled axes and a legend.
 * Pure: history in, SVG text out.
 */
import { escapeXml } from "../util/xml.ts";
import type { EpochRecord } from "./train.ts";

export interface CurveOptions {
  /** A title above the panels, e.g. `iris_mlp on iris`. */
  title?: string;
  /** The metric of the second panel; default the first non-loss value in the history. */
  metric?: string;
}

const W = 460;
const H = 370;
const M = { left: 64, right: 20, top: 84, bottom: 48 };
const COLORS = { train: "#1f77b4", val: "#ff7f0e" };


/** Round tick positions covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= hi + step * 1e-9 || ticks.length < 2; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < hi) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

function tickLabel(v: number, step: number): string {
  if (v === 0) return "0";
  if (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-4) return v.toExponential(1);
  const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

function fmt(n: number): string {
  return Number(n.toFixed(2)).toString();
}

interface Series {
  label: string;
  kind: "train" | "val";
  points: [number, number][];
}

/** One panel at horizontal offset `x0`: axes, ticks, grid, the series, a legend. */
function panel(x0: number, name: string, series: Series[], epochs: number): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const yt = niceTicks(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1);
  const xt = niceTicks(1, Math.max(2, epochs), 6).filter((t) => Number.isInteger(t));
  const [ylo, yhi] = [yt[0], yt[yt.length - 1]];
  const [xlo, xhi] = [Math.min(1, xt[0]), Math.max(epochs, xt[xt.length - 1], 2)];
  const sx = (e: number) => x0 + M.left + ((e - xlo) / (xhi - xlo)) * pw;
  const sy = (v: number) => M.top + ph - ((v - ylo) / (yhi - ylo || 1)) * ph;
  const out: string[] = [`<g class="panel" data-series="${escapeXml(name)}">`];
  out.push(`<text x="${fmt(x0 + M.left + pw / 2)}" y="${M.top - 36}" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(name)}</text>`);
  // Grid and ticks.
  const ystep = yt.length > 1 ? yt[1] - yt[0] : 1;
  for (const t of yt) {
    const y = fmt(sy(t));
    out.push(`<line x1="${fmt(x0 + M.left)}" y1="${y}" x2="${fmt(x0 + M.left + pw)}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<line x1="${fmt(x0 + M.left - 5)}" y1="${y}" x2="${fmt(x0 + M.left)}" y2="${y}" stroke="#333"/>`);
    out.push(`<text class="ytick" x="${fmt(x0 + M.left - 8)}" y="${y}" dy="0.32em" text-anchor="end" font-size="11">${tickLabel(t, ystep)}</text>`);
  }
  for (const t of xt) {
    const x = fmt(sx(t));
    out.push(`<line x1="${x}" y1="${fmt(M.top + ph)}" x2="${x}" y2="${fmt(M.top + ph + 5)}" stroke="#333"/>`);
    out.push(`<text class="xtick" x="${x}" y="${fmt(M.top + ph + 18)}" text-anchor="middle" font-size="11">${t}</text>`);
  }
  // Axes and their labels.
  out.push(`<line x1="${fmt(x0 + M.left)}" y1="${M.top}" x2="${fmt(x0 + M.left)}" y2="${fmt(M.top + ph)}" stroke="#333"/>`);
  out.push(`<line x1="${fmt(x0 + M.left)}" y1="${fmt(M.top + ph)}" x2="${fmt(x0 + M.left + pw)}" y2="${fmt(M.top + ph)}" stroke="#333"/>`);
  out.push(`<text class="xlabel" x="${fmt(x0 + M.left + pw / 2)}" y="${H - 10}" text-anchor="middle" font-size="12">epoch</text>`);
  out.push(`<text class="ylabel" transform="translate(${fmt(x0 + 16)} ${fmt(M.top + ph / 2)}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(name)}</text>`);
  // The curves: a polyline per run of finite values, and a dot where a run has one point.
  for (const s of series) {
    const dash = s.kind === "val" ? ` stroke-dasharray="6 3"` : "";
    const runs: [number, number][][] = [[]];
    for (const p of s.points) {
      if (Number.isFinite(p[1])) runs[runs.length - 1].push(p);
      else if (runs[runs.length - 1].length) runs.push([]);
    }
    for (const run of runs) {
      if (run.length === 0) continue;
      const pts = run.map(([e, v]) => `${fmt(sx(e))},${fmt(sy(v))}`).join(" ");
      if (run.length === 1) out.push(`<circle class="curve ${s.kind}" data-label="${escapeXml(s.label)}" cx="${fmt(sx(run[0][0]))}" cy="${fmt(sy(run[0][1]))}" r="3" fill="${COLORS[s.kind]}"/>`);
      else out.push(`<polyline class="curve ${s.kind}" data-label="${escapeXml(s.label)}" points="${pts}" fill="none" stroke="${COLORS[s.kind]}" stroke-width="2"${dash}/>`);
    }
  }
  // Legend: one row between the panel's title and its plot, clear of the curves.
  let lx = x0 + M.left;
  const ly = M.top - 16;
  for (const s of series) {
    const dash = s.kind === "val" ? ` stroke-dasharray="6 3"` : "";
    out.push(`<g class="legend"><line x1="${fmt(lx)}" y1="${fmt(ly)}" x2="${fmt(lx + 24)}" y2="${fmt(ly)}" stroke="${COLORS[s.kind]}" stroke-width="2"${dash}/><text x="${fmt(lx + 30)}" y="${fmt(ly)}" dy="0.32em" font-size="11">${escapeXml(s.label)}</text></g>`);
    lx += 30 + s.label.length * 6.5 + 18;
  }
  out.push("</g>");
  return out.join("\n");
}

/** The learning-curve SVG of a training history. */
export function learningCurves(history: readonly EpochRecord[], opts: CurveOptions = {}): string {
  const keys = new Set(history.flatMap((h) => Object.keys(h.values)));
  const metric = opts.metric ?? [...keys].find((k) => k !== "loss" && !k.startsWith("val_"));
  const epochs = history.length ? history[history.length - 1].epoch : 1;
  const seriesOf = (name: string): Series[] => {
    const out: Series[] = [];
    for (const [kind, key] of [["train", name], ["val", `val_${name}`]] as const) {
      if (!keys.has(key)) continue;
      out.push({ label: kind === "train" ? `train ${name}` : `validation ${name}`, kind, points: history.filter((h) => key in h.values).map((h) => [h.epoch, h.values[key]]) });
    }
    return out;
  };
  const panels = [panel(0, "loss", seriesOf("loss"), epochs)];
  if (metric && keys.has(metric)) panels.push(panel(W, metric, seriesOf(metric), epochs));
  const width = W * panels.length;
  const title = opts.title ? `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15">${escapeXml(opts.title)}</text>\n` : "";
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="Helvetica, Arial, sans-serif">\n` +
    `<title>${escapeXml(opts.title ? `Learning curves: ${opts.title}` : "Learning curves")}</title>\n` +
    `<rect width="100%" height="100%" fill="white"/>\n` +
    title +
    panels.join("\n") +
    "\n</svg>\n"
  );
}

/** The history as CSV: one row per epoch, the learning rate, every loss and metric, and the time. */
export function historyCsv(history: readonly EpochRecord[]): string {
  const keys: string[] = [];
  for (const h of history) for (const k of Object.keys(h.values)) if (!keys.includes(k)) keys.push(k);
  // Training values first, then validation ones, each in first-seen order.
  const cols = [...keys.filter((k) => !k.startsWith("val_")), ...keys.filter((k) => k.startsWith("val_"))];
  const rows = [["epoch", "lr", ...cols, "seconds"].join(",")];
  for (const h of history) rows.push([h.epoch, h.lr, ...cols.map((k) => (k in h.values ? h.values[k] : "")), Number(h.seconds.toFixed(4))].join(","));
  return rows.join("\n") + "\n";
}
