import type { Diagnostic } from "./diagnostic.ts";

/**
 * One mistake, one diagnostic: once the lexer or parser has reported an error on a line, later
 * analyses' errors on that line are consequences of it (a half-read value, a skipped name), so they
 * are dropped. Warnings and errors on other lines stay.
 */
export function dropCascades(syntax: readonly Diagnostic[], later: readonly Diagnostic[]): Diagnostic[] {
  const broken = new Set<number>();
  for (const d of syntax) if (d.severity === "error") for (let l = d.span.line; l <= d.span.endLine; l++) broken.add(l);
  if (broken.size === 0) return [...later];
  return later.filter((d) => d.severity !== "error" || !broken.has(d.span.line));
}
