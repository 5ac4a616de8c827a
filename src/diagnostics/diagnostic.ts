import type { Span } from "./span.ts";
import { CATALOG, type CatalogEntry, type MessageKey } from "./catalog.ts";

export type Severity = "error" | "warning" | "info" | "hint";

export interface Label {
  span: Span;
  message: string;
  /** The file the span belongs to, when it is not the diagnostic's own file. */
  file?: string;
}

export interface TextEdit {
  span: Span;
  newText: string;
}

/** A machine-applicable fix: applying every edit to the file's text repairs the problem. */
export interface Fix {
  title: string;
  edits: TextEdit[];
}

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  file: string;
  span: Span;
  /** The label under the primary span. */
  label?: string;
  labels: Label[];
  notes: string[];
  help?: string;
  fixes: Fix[];
}

export type Params = Record<string, string | number>;

export function fill(template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

export interface Extra {
  labels?: Label[];
  notes?: string[];
  help?: string;
  /** Overrides the catalog's label for the primary span. */
  label?: string;
  fixes?: Fix[];
  severity?: Severity;
}

/** Builds a diagnostic from its catalog entry: the one place message text comes from. */
export function makeDiagnostic(key: MessageKey, file: string, span: Span, params: Params = {}, extra: Extra = {}): Diagnostic {
  const entry: CatalogEntry = CATALOG[key];
  return {
    code: entry.code,
    severity: extra.severity ?? entry.severity,
    message: fill(entry.message, params),
    file,
    span,
    label: extra.label ?? (entry.label ? fill(entry.label, params) : undefined),
    labels: extra.labels ?? [],
    notes: extra.notes ?? [],
    help: extra.help ?? (entry.help ? fill(entry.help, params) : undefined),
    fixes: extra.fixes ?? [],
  };
}

/** Collects diagnostics for one file. Analyses report here instead of throwing. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  constructor(readonly file: string) {}
  report(key: MessageKey, span: Span, params: Params = {}, extra: Extra = {}): Diagnostic {
    const d = makeDiagnostic(key, this.file, span, params, extra);
    this.items.push(d);
    return d;
  }
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === "error");
}

