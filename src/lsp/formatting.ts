import type { TextEdit } from "vscode-languageserver/node";
import { format } from "../format/printer.ts";
import type { Analysis } from "./workspace.ts";

/**
 * Formats with the printer `nnspec fmt` uses. Like `nnspec fmt`, refuses a file with syntax errors
 * (formatting could drop what the parser skipped): `undefined` then. The edit replaces only the
 * lines that change, so the editor keeps the cursor and folds elsewhere.
 */
export function formatting(a: Analysis): TextEdit[] | undefined {
  if (a.syntaxErrors) return undefined;
  const out = format(a.ast);
  if (out === a.text) return [];
  const oldLines = a.text.split("\n");
  const newLines = out.split("\n");
  let prefix = 0;
  while (prefix < oldLines.length - 1 && prefix < newLines.length - 1 && oldLines[prefix] === newLines[prefix]) prefix++;
  let suffix = 0;
  while (suffix < oldLines.length - 1 - prefix && suffix < newLines.length - 1 - prefix && oldLines[oldLines.length - 1 - suffix] === newLines[newLines.length - 1 - suffix]) suffix++;
  const oldEnd = oldLines.length - suffix; // old lines [prefix, oldEnd) are replaced
  const replaced = newLines.slice(prefix, newLines.length - suffix);
  // Replace whole lines, the line break after the last one included, unless it is the text's last line.
  const toEnd = oldEnd >= oldLines.length;
  const newText = replaced.join("\n") + (toEnd ? "" : "\n");
  const end = toEnd ? { line: oldLines.length - 1, character: oldLines[oldLines.length - 1].length } : { line: oldEnd, character: 0 };
  return [{ range: { start: { line: prefix, character: 0 }, end }, newText: replaced.length === 0 && !toEnd ? "" : newText }];
}
