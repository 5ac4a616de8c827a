import { Dim, elements, shapeText, type Shape } from "../core/dims.ts";
import type { CheckedModel, TensorInfo } from "./ir.ts";

/**
 * `nnspec summary`: per layer of a checked model, its output shape, parameters, FLOPs and activation
 * memory per example, and the totals. Pure: the CLI prints what `summaryText` / `summaryJson` return.
 * A count that depends on a symbolic dimension is an expression (`64*steps`); a parameter count that
 * does is unknown (null, shown as `?`).
 */

/** Bytes per stored value: float32. */
export const BYTES_PER_VALUE = 4;

export interface SummaryRow {
  name: string;
  kind: string;
  line: number;
  inputs: string[];
  output: Shape;
  /** undefined when it depends on a symbolic dimension */
  trainable?: number;
  frozen?: number;
  flops: Dim;
  /** output elements × 4 bytes */
  memory: Dim;
}

export interface ModelSummary {
  model: string;
  file: string;
  line: number;
  inputs: TensorInfo[];
  /** The outputs by their declared names (`logits`), with the tensor each one is. */
  outputs: (TensorInfo & { tensor: string })[];
  rows: SummaryRow[];
  totals: {
    /** undefined when some layer's count is unknown */
    trainable?: number;
    frozen?: number;
    params?: number;
    /** parameters × 4 bytes */
    paramMemory?: number;
    flops: Dim;
    memory: Dim;
  };
  /** Whether every layer checked (a summary of a model with errors lists only the layers before them). */
  complete: boolean;
}

export function summarize(m: CheckedModel): ModelSummary {
  const rows: SummaryRow[] = m.layers.map((l) => ({
    name: l.spec.name,
    kind: l.spec.kind.name,
    line: l.spec.node.span.line,
    inputs: l.spec.inputs,
    output: l.output,
    trainable: l.params?.trainable,
    frozen: l.params?.nonTrainable,
    flops: l.flops,
    memory: elements(l.output).scale(BYTES_PER_VALUE),
  }));
  const sum = (f: (r: SummaryRow) => number | undefined): number | undefined => rows.reduce<number | undefined>((a, r) => (a === undefined || f(r) === undefined ? undefined : a + f(r)!), 0);
  const trainable = sum((r) => r.trainable);
  const frozen = sum((r) => r.frozen);
  const params = trainable === undefined || frozen === undefined ? undefined : trainable + frozen;
  return {
    model: m.spec.name,
    file: m.spec.file,
    line: m.spec.node.span.line,
    inputs: m.inputs,
    outputs: m.outputs.map((t, i) => ({ ...t, name: m.spec.outputs[i]?.sig.name ?? t.name, tensor: t.name })),
    rows,
    totals: {
      trainable,
      frozen,
      params,
      paramMemory: params === undefined ? undefined : params * BYTES_PER_VALUE,
      flops: rows.reduce((a, r) => a.add(r.flops), Dim.of(0)),
      memory: rows.reduce((a, r) => a.add(r.memory), Dim.of(0)),
    },
    complete: m.complete,
  };
}

// ── text ──

/** 38186 → "38,186". */
export function count(n: number | undefined): string {
  return n === undefined ? "?" : String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A known count with separators, or the expression. */
function dimCount(d: Dim): string {
  const v = d.value;
  return v === undefined ? String(d) : count(v);
}

/** Bytes in binary units: 512 B, 78.1 KiB, 2.4 MiB. An expression stays in bytes. */
export function bytes(d: Dim | number | undefined): string {
  if (d === undefined) return "?";
  const v = typeof d === "number" ? d : d.value;
  if (v === undefined) return `${d} B`;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let x = v;
  let u = 0;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${x.toFixed(1)} ${units[u]}`;
}

const tensorList = (ts: (TensorInfo & { tensor?: string })[]): string =>
  ts.map((t) => `${t.name}${t.tensor && t.tensor !== t.name ? ` (${t.tensor})` : ""} ${t.dtype === "int" ? "int" : ""}${shapeText(t.shape)}`).join(", ");

/** The summary as a table: a header naming the model and its source line, a row per layer, the totals. */
export function summaryText(s: ModelSummary): string {
  const head = ["layer", "kind", "output", "trainable", "frozen", "FLOPs", "memory"];
  const right = [false, false, false, true, true, true, true];
  const body = s.rows.map((r) => [r.name, r.kind, shapeText(r.output), count(r.trainable), count(r.frozen), dimCount(r.flops), bytes(r.memory)]);
  const total = ["total", "", "", count(s.totals.trainable), count(s.totals.frozen), dimCount(s.totals.flops), bytes(s.totals.memory)];
  const widths = head.map((h, i) => Math.max(h.length, ...[...body, total].map((row) => row[i].length)));
  const line = (cells: string[]) => "  " + cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  const rule = "  " + "-".repeat(widths.reduce((a, w) => a + w, 0) + 2 * (widths.length - 1));
  const out = [
    `model ${s.model} (${s.file}:${s.line})`,
    `  inputs: ${tensorList(s.inputs)}`,
    `  outputs: ${tensorList(s.outputs)}`,
    "",
    line(head),
    rule,
    ...body.map(line),
    rule,
    line(total),
    "",
    `  parameters: ${count(s.totals.params)} (${count(s.totals.trainable)} trainable, ${count(s.totals.frozen)} frozen), ${bytes(s.totals.paramMemory)} as float32`,
    `  per example: ${dimCount(s.totals.flops)} FLOPs forward, ${bytes(s.totals.memory)} of activations`,
  ];
  if (!s.complete) out.push("  (incomplete: the model has shape errors; only the layers before them are listed)");
  return out.join("\n") + "\n";
}

// ── JSON ──

/** A dimension or count for JSON: a number when known, else its expression as a string. */
const jsonDim = (d: Dim): number | string => d.value ?? String(d);
const jsonTensor = (t: TensorInfo & { tensor?: string }) => ({ name: t.name, ...(t.tensor ? { tensor: t.tensor } : {}), dtype: t.dtype, shape: t.shape.map(jsonDim) });

/** Stable machine-readable form: keys in a fixed order; unknown counts are null, symbolic ones strings. */
export function summaryJson(s: ModelSummary) {
  return {
    model: s.model,
    file: s.file,
    line: s.line,
    complete: s.complete,
    inputs: s.inputs.map(jsonTensor),
    outputs: s.outputs.map(jsonTensor),
    layers: s.rows.map((r) => ({
      name: r.name,
      kind: r.kind,
      line: r.line,
      inputs: r.inputs,
      output: r.output.map(jsonDim),
      params: { trainable: r.trainable ?? null, frozen: r.frozen ?? null },
      flops: jsonDim(r.flops),
      memory_bytes: jsonDim(r.memory),
    })),
    totals: {
      params: s.totals.params ?? null,
      trainable: s.totals.trainable ?? null,
      frozen: s.totals.frozen ?? null,
      param_bytes: s.totals.paramMemory ?? null,
      flops: jsonDim(s.totals.flops),
      memory_bytes: jsonDim(s.totals.memory),
    },
  };
}
