import type { Span } from "../diagnostics/span.ts";

/** A value lowered from the syntax to plain JSON, so JSON Schemas (ajv) can validate it. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A call such as `class(3, names: [a, b])` or `leaky_relu(0.2)`. */
export interface CallValue {
  call: string;
  args: Json[];
  options: { [k: string]: Json };
}

/** Where each lowered value came from, keyed by JSON pointer (`/units`, `/kernel/1`). */
export type SpanMap = Map<string, Span>;

export function isCall(v: Json): v is Json & CallValue {
  return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as { call?: unknown }).call === "string";
}
