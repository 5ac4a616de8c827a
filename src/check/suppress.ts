import { CATALOG, type CatalogEntry } from "../diagnostics/catalog.ts";
import { makeDiagnostic, type Diagnostic, type Fix } from "../diagnostics/diagnostic.ts";
import type { LineMap, Span } from "../diagnostics/span.ts";
import type { SourceFile } from "../syntax/ast.ts";
import { closest } from "../util/suggest.ts";

/**
 * Silencing warnings from the file itself:
 *
 *     dense 16            # nnspec: allow NN0501 -- a bottleneck on purpose
 *     # nnspec: allow linear-collapse, saturating-stack
 *     dense 16
 *     # nnspec: allow-file learning-rate
 *
 * `allow` on a line with code silences the listed warnings on that line; alone on its line it
 * silences them on the next line. `allow-file` silences them anywhere in the file. Each entry is a
 * code (`NN0501`) or a name (`linear-collapse`); text after the list is the reason, kept for readers.
 * Errors cannot be silenced, and an `allow` that silences nothing is reported so it gets removed.
 */

interface Item {
  text: string;
  span: Span;
  entry?: CatalogEntry;
  used: boolean;
  /** Offsets of the item and its separating comma, for the removal fix. */
  removeStart: number;
  removeEnd: number;
}

interface Directive {
  kind: "allow" | "allow-file";
  /** The line it applies to (for `allow`). */
  line: number;
  items: Item[];
  /** The whole comment, and what to delete to remove it (the line when it stands alone). */
  removal: { start: number; end: number };
}

const ENTRIES: readonly CatalogEntry[] = Object.values(CATALOG);
const byCode = new Map(ENTRIES.map((e) => [e.code, e]));
const byName = new Map(ENTRIES.filter((e) => e.name).map((e) => [e.name!, e]));

/** Finds the `nnspec:` directives in the comments; reports malformed ones into `out`. */
function directives(ast: SourceFile, lines: LineMap, file: string, out: Diagnostic[]): Directive[] {
  const text = ast.text;
  const found: Directive[] = [];
  for (const c of ast.comments) {
    let body = c.text;
    let offset = 0;
    const lead = /^(#|\/\/|\/\*)/.exec(body);
    if (!lead) continue;
    offset = lead[0].length;
    body = body.slice(offset);
    if (lead[0] === "/*") body = body.replace(/\*\/$/, "");
    const m = /^(\s*)nnspec\s*:/.exec(body);
    if (!m) continue;
    offset += m[0].length;
    const rest = body.slice(m[0].length);
    const d = /^(\s*)(allow-file|allow)(?![\w-])(\s*)([A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*)?/.exec(rest);
    const base = c.span.start + offset;
    if (!d || !d[4]) {
      const word = /^(\s*)([A-Za-z_-]+)/.exec(rest);
      const guess = !d && word ? closest(word[2], ["allow", "allow-file"]) : undefined;
      // From `nnspec:` to the end of the word after it.
      const from = c.span.start + offset - m[0].length + m[1].length;
      const at = d ? lines.span(from, base + d[0].length) : lines.span(from, word ? base + word[0].length : base);
      const wordSpan = word ? lines.span(base + word[1].length, base + word[0].length) : at;
      out.push(
        makeDiagnostic("malformedDirective", file, at, {}, {
          help: d
            ? `name what to allow: \`# nnspec: ${d[2]} NN0501\` or \`# nnspec: ${d[2]} linear-collapse\``
            : guess
              ? `did you mean \`${guess}\`?`
              : "write `# nnspec: allow CODE` or `# nnspec: allow-file CODE`, with codes or lint names separated by commas",
          fixes: guess ? [{ title: `replace with \`${guess}\``, edits: [{ span: wordSpan, newText: guess }] }] : [],
        }),
      );
      continue;
    }
    const kind = d[2] as Directive["kind"];
    const listStart = base + d[1].length + d[2].length + d[3].length;
    const items: Item[] = [];
    const re = /[A-Za-z0-9_-]+/g;
    const list = d[4];
    let r: RegExpExecArray | null;
    const positions: { text: string; start: number; end: number }[] = [];
    while ((r = re.exec(list))) positions.push({ text: r[0], start: listStart + r.index, end: listStart + r.index + r[0].length });
    positions.forEach((p, i) => {
      // Removing one entry takes the comma after it, or before it when it is the last.
      const removeStart = i > 0 && i === positions.length - 1 ? positions[i - 1].end : p.start;
      const removeEnd = i < positions.length - 1 ? positions[i + 1].start : p.end;
      items.push({ text: p.text, span: lines.span(p.start, p.end), entry: byCode.get(p.text.toUpperCase()) ?? byName.get(p.text), used: false, removeStart, removeEnd });
    });
    const lineStart = text.lastIndexOf("\n", c.span.start - 1) + 1;
    const lineEnd = text.indexOf("\n", c.span.end);
    const alone = text.slice(lineStart, c.span.start).trim() === "" && text.slice(c.span.end, lineEnd < 0 ? text.length : lineEnd).trim() === "";
    let removal: Directive["removal"];
    if (alone) {
      const nl = text.indexOf("\n", c.span.end);
      removal = { start: lineStart, end: nl < 0 ? text.length : nl + 1 };
    } else {
      let s = c.span.start;
      while (s > lineStart && (text[s - 1] === " " || text[s - 1] === "\t")) s--;
      removal = { start: s, end: c.span.end };
    }
    found.push({ kind, line: alone ? c.span.endLine + 1 : c.span.line, items, removal });
  }
  return found;
}

/**
 * Applies the file's `nnspec: allow` comments to its diagnostics: drops the silenced warnings and
 * adds diagnostics about the directives themselves (unknown names, errors, unused entries).
 */
export function applySuppressions(ast: SourceFile, lines: LineMap, file: string, diagnostics: readonly Diagnostic[]): { diagnostics: Diagnostic[]; silenced: Diagnostic[] } {
  const extra: Diagnostic[] = [];
  const ds = directives(ast, lines, file, extra);
  if (ds.length === 0) return { diagnostics: [...diagnostics, ...extra], silenced: [] };
  const kept: Diagnostic[] = [];
  const silenced: Diagnostic[] = [];
  const fileWide = ds.filter((dir) => dir.kind === "allow-file");
  const byLine = new Map<number, Directive[]>();
  for (const dir of ds) if (dir.kind === "allow") byLine.set(dir.line, [...(byLine.get(dir.line) ?? []), dir]);
  for (const d of diagnostics) {
    let hit: Item | undefined;
    if (d.severity !== "error" && d.file === file) {
      for (const dir of [...(byLine.get(d.span.line) ?? []), ...fileWide]) {
        const item = dir.items.find((it) => it.entry?.code === d.code);
        if (item) {
          item.used = true;
          hit ??= item;
        }
      }
    }
    if (hit) silenced.push(d);
    else kept.push(d);
  }
  const known = [...byCode.keys(), ...byName.keys()];
  for (const dir of ds) {
    for (const it of dir.items) {
      if (!it.entry) {
        const guess = closest(it.text, known);
        extra.push(
          makeDiagnostic("unknownSuppression", file, it.span, { name: it.text }, guess ? { help: `did you mean \`${guess}\`?`, fixes: [{ title: `replace with \`${guess}\``, edits: [{ span: it.span, newText: guess }] }] } : {}),
        );
      } else if (it.entry.severity === "error") {
        extra.push(makeDiagnostic("suppressError", file, it.span, { code: it.entry.code }, { fixes: [removeItem(dir, it, lines)] }));
      } else if (!it.used) {
        const what = dir.kind === "allow" ? `on line ${dir.line}` : "in this file";
        extra.push(makeDiagnostic("unusedSuppression", file, it.span, { name: it.text, where: what }, { fixes: [removeItem(dir, it, lines)] }));
      }
    }
  }
  return { diagnostics: [...kept, ...extra], silenced };
}

function removeItem(dir: Directive, it: Item, lines: LineMap): Fix {
  const only = dir.items.length === 1;
  const span = only ? lines.span(dir.removal.start, dir.removal.end) : lines.span(it.removeStart, it.removeEnd);
  return { title: only ? "remove the comment" : `remove \`${it.text}\``, edits: [{ span, newText: "" }] };
}
