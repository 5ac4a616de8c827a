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
  /** 0 for the model's own layers; a block's layers one more than the row of their use. */
  depth: number;
  /** A row for a use of a block, summing its layers (`kind` is the block's name). */
  block?: boolean;
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

/**
 * The summary of a model. A use of a block is a row summing its layers, followed by them one level
 * deeper (as torchinfo nests modules); `depth` keeps the rows above that level (1: the model's own
 * layers and block uses only).
 */
export function summarize(m: CheckedModel, depth = Infinity): ModelSummary {
  const leaves: SummaryRow[] = m.layers.map((l) => ({
    name: l.spec.name,
    kind: l.spec.kind.name,
    depth: l.spec.via?.length ?? 0,
    line: l.spec.node.span.line,
    inputs: l.spec.inputs,
    output: l.output,
    trainable: l.params?.trainable,
    frozen: l.params?.nonTrainable,
    flops: l.flops,
    memory: elements(l.output).scale(BYTES_PER_VALUE),
  }));
  const add = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a + b);
  // rows in order, a use's row before its layers; a use's totals accumulate as its layers pass
  const all: SummaryRow[] = [];
  const open: { use: NonNullable<(typeof m.layers)[number]["spec"]["via"]>[number]; row: SummaryRow }[] = [];
  m.layers.forEach((l, i) => {
    const via = l.spec.via ?? [];
    let k = 0;
    while (k < open.length && k < via.length && open[k].use === via[k]) k++;
    open.length = k;
    for (; k < via.length; k++) {
      const u = via[k];
      const row: SummaryRow = { name: u.name, kind: u.block, depth: k, block: true, line: u.use.span.line, inputs: leaves[i].inputs, output: l.output, trainable: 0, frozen: 0, flops: Dim.of(0), memory: Dim.of(0) };
      all.push(row);
      open.push({ use: u, row });
    }
    for (const { row } of open) {
      row.output = leaves[i].output;
      row.trainable = add(row.trainable, leaves[i].trainable);
      row.frozen = add(row.frozen, leaves[i].frozen);
      row.flops = row.flops.add(leaves[i].flops);
      row.memory = row.memory.add(leaves[i].memory);
    }
    all.push(leaves[i]);
  });
  const rows = all.filter((r) => r.depth < depth);
  const sum = (f: (r: SummaryRow) => number | undefined): number | undefined => leaves.reduce<number | undefined>((a, r) => (a === undefined || f(r) === undefined ? undefined : a + f(r)!), 0);
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
      flops: leaves.reduce((a, r) => a.add(r.flops), Dim.of(0)),
      memory: leaves.reduce((a, r) => a.add(r.memory), Dim.of(0)),
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
  // a block's layers under its use, indented, by their names within the use
  const body = s.rows.map((r) => ["  ".repeat(r.depth) + (r.depth ? r.name.slice(r.name.lastIndexOf(".") + 1) : r.name), r.block ? `block ${r.kind}` : r.kind, shapeText(r.output), count(r.trainable), count(r.frozen), dimCount(r.flops), bytes(r.memory)]);
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
      depth: r.depth,
      ...(r.block ? { block: true } : {}),
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
