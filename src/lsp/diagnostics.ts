import { readFileSync } from "node:fs";
import { isAbsolute, resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic as LspDiagnostic, type DiagnosticRelatedInformation } from "vscode-languageserver/node";
import { CATALOG } from "../diagnostics/catalog.ts";
import type { Diagnostic, Severity } from "../diagnostics/diagnostic.ts";
import { pathToUri, toRange } from "./convert.ts";
import type { Analysis } from "./workspace.ts";

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** Diagnostics whose subject is dead code, shown faded by editors. */
const UNNECESSARY = new Set<string>([CATALOG.unusedTensor.code]);

/** The message catalog's source file, when this runs from one (not in a browser bundle). */
const CATALOG_URL = new URL("../diagnostics/catalog.ts", import.meta.url);
const CATALOG_FILE = CATALOG_URL.protocol === "file:" ? fileURLToPath(CATALOG_URL) : undefined;
let catalogLines: Map<string, number> | undefined;

/** The line of each code's entry in the message catalog (src/diagnostics/catalog.ts). */
function catalogLine(code: string): number | undefined {
  if (!catalogLines) {
    catalogLines = new Map();
    try {
      if (CATALOG_FILE === undefined) throw new Error("no catalog file");
      readFileSync(CATALOG_FILE, "utf8")
        .split("\n")
        .forEach((l, i) => {
          const m = /code: "(NN\d{4})"/.exec(l);
          if (m) catalogLines!.set(m[1], i);
        });
    } catch {
      /* an installation without sources: no links */
    }
  }
  return catalogLines.get(code);
}

/**
 * Where a code's explanation lives. By default the code's entry in the message catalog that this
 * server runs from (message, help and the paragraph `nnspec explain` prints); a client may give its
 * own address with `{code}` in it (initialization option `diagnosticsUrl`).
 */
export function codeHref(code: string, template?: string): string | undefined {
  if (template) return template.replace(/\{code\}/g, code).replace(/\{code_lower\}/g, code.toLowerCase());
  const line = catalogLine(code);
  if (line === undefined) return undefined;
  return CATALOG_FILE === undefined ? undefined : `${pathToFileURL(CATALOG_FILE).href}#L${line}`;
}

/** The file a label's span belongs to: its own file, or another one named relative to the working directory. */
function labelUri(a: Analysis, file: string | undefined): string {
  if (!file || file === a.shown) return a.uri;
  return pathToUri(isAbsolute(file) ? file : resolvePath(file));
}

export function toLspDiagnostic(a: Analysis, d: Diagnostic, template?: string): LspDiagnostic {
  const related: DiagnosticRelatedInformation[] = d.labels.map((l) => ({ location: { uri: labelUri(a, l.file), range: toRange(l.span) }, message: l.message }));
  const extra = [...(d.label ? [d.label] : []), ...d.notes.map((n) => `note: ${n}`), ...(d.help ? [`help: ${d.help}`] : [])];
  const href = codeHref(d.code, template);
  const out: LspDiagnostic = {
    range: toRange(d.span),
    severity: SEVERITY[d.severity],
    code: d.code,
    source: "nnspec",
    message: extra.length ? `${d.message}\n${extra.join("\n")}` : d.message,
  };
  if (href) out.codeDescription = { href };
  if (related.length) out.relatedInformation = related;
  if (UNNECESSARY.has(d.code)) out.tags = [DiagnosticTag.Unnecessary];
  return out;
}

export function lspDiagnostics(a: Analysis, template?: string): LspDiagnostic[] {
  return a.diagnostics.map((d) => toLspDiagnostic(a, d, template));
}
