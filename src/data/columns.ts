/**
 * Column selectors of a `data` block: names, 0-based indices and inclusive ranges (`0..3`,
 * `sepal_length..petal_width`) resolved against a file's column names. Pure.
 */
import type { Json } from "../lang/values.ts";
import { closest } from "../util/suggest.ts";

export type SelectProblem =
  | { kind: "unknown"; name: string; guess?: string }
  | { kind: "outOfRange"; index: number }
  | { kind: "backwards"; from: number; to: number; text: string }
  | { kind: "invalid"; text: string }
  /** More columns than any data set nnspec reads (MAX_COLUMNS): reported without expanding the range. */
  | { kind: "tooWide"; text: string; count: number };

/** The most columns a selection may pick: far beyond any real table, and still cheap to list. */
export const MAX_COLUMNS = 1 << 20;

/** The message for a range wider than MAX_COLUMNS (checker, loader and predict alike). */
export const tooWideText = (range: string, count: number): string => `the range \`${range}\` selects ${count} columns, more than nnspec reads (${MAX_COLUMNS})`;

export interface Selection {
  /** Column indices in the order given, each once. */
  indices: number[];
  /** Problems, by the position of the selector item that caused them. */
  problems: { item: number; problem: SelectProblem }[];
}

/** The index of one column named by `ref`, or why there is none. */
export function columnIndex(ref: Json, names: readonly string[] | undefined, width: number): number | SelectProblem {
  if (typeof ref === "number") {
    if (!Number.isInteger(ref) || ref < 0) return { kind: "invalid", text: String(ref) };
    return ref < width ? ref : { kind: "outOfRange", index: ref };
  }
  if (typeof ref === "string") {
    const at = names ? names.indexOf(ref) : -1;
    if (at >= 0) return at;
    if (/^\d+$/.test(ref)) return columnIndex(Number(ref), names, width);
    return { kind: "unknown", name: ref, guess: names ? closest(ref, names) : undefined };
  }
  return { kind: "invalid", text: JSON.stringify(ref) };
}

const isRange = (v: Json): v is { range: [Json, Json] } => typeof v === "object" && v !== null && !Array.isArray(v) && Array.isArray((v as { range?: unknown }).range);

/** Resolves selector items (as the resolver lowers them) against a file's columns. */
export function selectColumns(items: readonly Json[], names: readonly string[] | undefined, width: number): Selection {
  const out: number[] = [];
  const seen = new Set<number>();
  const problems: Selection["problems"] = [];
  const push = (i: number) => {
    if (!seen.has(i)) {
      seen.add(i);
      out.push(i);
    }
  };
  items.forEach((item, k) => {
    if (isRange(item)) {
      const [a, b] = item.range;
      const from = columnIndex(a, names, width);
      const to = columnIndex(b, names, width);
      if (typeof from !== "number") return void problems.push({ item: k, problem: from });
      if (typeof to !== "number") return void problems.push({ item: k, problem: to });
      if (from > to) return void problems.push({ item: k, problem: { kind: "backwards", from, to, text: `${String(a)}..${String(b)}` } });
      if (out.length + (to - from + 1) > MAX_COLUMNS) return void problems.push({ item: k, problem: { kind: "tooWide", text: `${String(a)}..${String(b)}`, count: to - from + 1 } });
      for (let i = from; i <= to; i++) push(i);
      return;
    }
    const i = columnIndex(item, names, width);
    if (typeof i === "number") push(i);
    else problems.push({ item: k, problem: i });
  });
  return { indices: out, problems };
}

/**
 * Whether a transform's columns mean every feature: none given, or the one word `features`
 * (`standardize features`) when no column has that name.
 */
export function everyFeature(items: readonly Json[] | undefined, names: readonly string[] | undefined): boolean {
  return !items || items.length === 0 || (items.length === 1 && items[0] === "features" && !names?.includes("features"));
}
