/**
 * Diagnostics inside a block name the line in the block and, through labels, the uses that placed
 * it (the provenance chain through the call). A block's layers are placed once per use, so the
 * same finding at the same place is kept once.
 */
import type { Diagnostic, DiagnosticSink, Label } from "../diagnostics/diagnostic.ts";
import type { BlockUse } from "./program.ts";

/** Labels at each use, outermost first. */
export function useLabels(via: readonly BlockUse[]): Label[] {
  return via.map((u) => ({ span: u.use.span, message: `in \`${u.name}\`, a use of block \`${u.block}\`` }));
}

/**
 * Gives the diagnostics reported since `start` the labels of the uses they were found through, and
 * drops a repeat of one found through an earlier use (same code, place and message).
 */
export function attachUses(sink: DiagnosticSink, start: number, via: readonly BlockUse[] | undefined, seen: Set<string>): void {
  if (!via?.length) return;
  const kept: Diagnostic[] = [];
  // a block of another file: its spans are that file's, so the finding moves to the use here
  const foreign = via.find((u) => u.file !== undefined);
  for (const d of sink.items.slice(start)) {
    const key = `${d.code}@${d.span.start}:${d.span.end}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (foreign && inside(d.span, foreign.decl.span)) {
      const where = `${foreign.file}:${d.span.line}`;
      kept.push({ ...d, span: via[0].use.span, labels: [], fixes: [], notes: [`found in block \`${foreign.block}\` at ${where}`, ...d.notes], help: d.help });
      continue;
    }
    kept.push({ ...d, labels: [...d.labels, ...useLabels(via)] });
  }
  sink.items.splice(start, sink.items.length - start, ...kept);
}

const inside = (a: { start: number; end: number }, b: { start: number; end: number }): boolean => a.start >= b.start && a.end <= b.end;
