/**
 * The diagnostics corpus: every `test/cases/**\/*.nnspec` is analysed as `nnspec check` would, and
 *  1. its diagnostics must be exactly the ones its comments announce (see test/cases/README.md), and
 *  2. the rendered output must equal the golden file beside it (`X.nnspec.txt`; a few cases also keep
 *     `X.nnspec.json` for `--format json` and `X.nnspec.ansi.txt` for `--color`).
 * `UPDATE_GOLDEN=1 npx vitest run test/cases.test.ts` rewrites the golden files instead of comparing.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CATALOG } from "../src/diagnostics/catalog.ts";
import type { Diagnostic } from "../src/diagnostics/diagnostic.ts";
import { diagnosticToJson, renderDiagnostic, renderSummary } from "../src/diagnostics/render.ts";
import { FileHost, type CheckedFile } from "../src/node/host.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CASES = join(ROOT, "test", "cases");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

/** Cases that also keep a golden of the JSON form and of the coloured form. */
const JSON_GOLDEN = ["syntax/did-you-mean-declaration.nnspec"];
const ANSI_GOLDEN = ["names/unknown-layer.nnspec"];

/**
 * Front-end codes (NN00xx lexical, NN01xx syntax, NN02xx names and statements) that no input can
 * produce yet, each with the reason. Codes from NN0300 on belong to the shape checker and are not
 * required here.
 */
const NOT_REACHABLE: Record<string, string> = {};
const isFrontEnd = (code: string): boolean => /^NN0[012]\d\d$/.test(code);

// ── expectations ──

export interface Expectation {
  severity: string;
  code: string;
  line: number;
}

const ITEM = String.raw`(?:error|warning)\s+NN\d{4}`;
/** `# error NN0101`, `// warning NN0212`, `# ^ error NN0002`, `# error NN0205, error NN0205` at the end of a line. */
const ANNOTATION = new RegExp(String.raw`(?:#|//)\s*(\^)?\s*(${ITEM}(?:\s*,\s*${ITEM})*)\s*$`);
/** Something that looks like an annotation but is not one (a typo would otherwise silently expect nothing). */
const SUSPICIOUS = /(?:#|\/\/)\s*\^?\s*(?:e\w{0,6}|w\w{0,7}|expect\w*)\s*:?\s*NN\d{4}/i;

/** Reads the expected diagnostics from a case's comments. Throws on a malformed annotation. */
export function expectations(text: string): Expectation[] {
  const out: Expectation[] = [];
  const lines = text.split("\n");
  let target = 0; // the last line that is not a caret annotation
  lines.forEach((raw, i) => {
    const line = i + 1;
    const m = ANNOTATION.exec(raw);
    if (!m) {
      if (SUSPICIOUS.test(raw)) throw new Error(`line ${line}: malformed expectation: ${raw.trim()}`);
      target = line;
      return;
    }
    const caret = m[1] !== undefined;
    if (caret && raw.slice(0, m.index).trim() !== "") throw new Error(`line ${line}: a \`# ^\` expectation must stand alone on its line`);
    if (caret && target === 0) throw new Error(`line ${line}: a \`# ^\` expectation has no line above it`);
    for (const item of m[2].split(",")) {
      const [severity, code] = item.trim().split(/\s+/);
      out.push({ severity, code, line: caret ? target : line });
    }
    if (!caret) target = line;
  });
  return out;
}

const key = (e: Expectation): string => `${String(e.line).padStart(4)} ${e.severity} ${e.code}`;

// ── rendering, as `nnspec check FILE` prints ──

/** The text `nnspec check` writes to stderr for this one file. */
export function renderText(f: CheckedFile, color: boolean): string {
  const sources = new Map([[f.path, f.lines]]);
  let out = "";
  for (const d of f.diagnostics) out += renderDiagnostic(d, { color, sources }) + "\n\n";
  const summary = renderSummary(f.diagnostics, color);
  return out + (summary ? `${summary}\n` : "ok: 1 file checked, no problems\n");
}

/** What `nnspec check --format json FILE` writes to stdout. */
export function renderJson(f: CheckedFile): string {
  return JSON.stringify({ files: [f.path], diagnostics: f.diagnostics.map(diagnosticToJson) }, null, 2) + "\n";
}

function golden(path: string, actual: string): void {
  if (UPDATE) {
    if (!existsSync(path) || readFileSync(path, "utf8") !== actual) writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`missing golden ${relative(ROOT, path)}; run UPDATE_GOLDEN=1 npx vitest run test/cases.test.ts`);
  expect(actual, `golden ${relative(ROOT, path)} differs; rerun with UPDATE_GOLDEN=1 if the change is intended`).toBe(readFileSync(path, "utf8"));
}

// ── the corpus ──

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

const files = walk(CASES);
const cases = files.filter((f) => f.endsWith(".nnspec")).map((f) => relative(CASES, f));

/** Analyses a case as `nnspec check test/cases/NAME` run from the repository root. */
function analyse(name: string): CheckedFile {
  const abs = join(CASES, name);
  return new FileHost().analyse(abs, relative(ROOT, abs));
}

function explainMismatch(f: CheckedFile): string {
  const lines = f.diagnostics.map((d: Diagnostic) => `  line ${d.span.line}: # ${d.severity} ${d.code}   (${d.message})`);
  return `${f.path} produced:\n${lines.join("\n") || "  nothing"}\n`;
}

describe("diagnostics corpus", () => {
  it("has cases in every group", () => {
    for (const group of ["lexical", "syntax", "names", "options", "imports", "recovery", "valid"]) {
      expect(cases.filter((c) => c.startsWith(`${group}/`)).length, group).toBeGreaterThan(0);
    }
  });

  for (const name of cases) {
    it(name, () => {
      const text = readFileSync(join(CASES, name), "utf8");
      const expected = expectations(text).map(key).sort();
      const f = analyse(name);
      const actual = f.diagnostics.map((d) => key({ severity: d.severity, code: d.code, line: d.span.line })).sort();
      expect(actual, explainMismatch(f)).toEqual(expected);
      // Every diagnostic of a case belongs to the case's own file (imports report at the import).
      expect(f.diagnostics.filter((d) => d.file !== f.path)).toEqual([]);
      golden(join(CASES, `${name}.txt`), renderText(f, false));
      if (JSON_GOLDEN.includes(name)) golden(join(CASES, `${name}.json`), renderJson(f));
      if (ANSI_GOLDEN.includes(name)) golden(join(CASES, `${name}.ansi.txt`), renderText(f, true));
    });
  }

  it("keeps no golden file without its case", () => {
    const orphans = files
      .filter((f) => !f.endsWith(".nnspec") && !f.endsWith("README.md"))
      .map((f) => relative(CASES, f))
      .filter((g) => {
        if (g.split("/").includes("data")) return false; // data files the cases read
        const base = g.replace(/\.(ansi\.txt|txt|json)$/, "");
        if (!cases.includes(base)) return true;
        if (g.endsWith(".ansi.txt")) return !ANSI_GOLDEN.includes(base);
        if (g.endsWith(".json")) return !JSON_GOLDEN.includes(base);
        return false;
      });
    expect(orphans).toEqual([]);
  });

  it("covers every front-end diagnostic code", () => {
    const seen = new Set(cases.flatMap((c) => expectations(readFileSync(join(CASES, c), "utf8")).map((e) => e.code)));
    const codes = Object.values(CATALOG)
      .map((e) => e.code)
      .filter(isFrontEnd);
    const missing = codes.filter((c) => !seen.has(c) && !(c in NOT_REACHABLE));
    expect(missing, "codes without a case (add one, or list the code in NOT_REACHABLE with the reason)").toEqual([]);
    const nowReachable = Object.keys(NOT_REACHABLE).filter((c) => seen.has(c));
    expect(nowReachable, "codes listed as not reachable that a case produces: remove them from NOT_REACHABLE").toEqual([]);
    for (const c of Object.keys(NOT_REACHABLE)) expect(codes, `NOT_REACHABLE lists ${c}, which is not in CATALOG`).toContain(c);
  });

  it("covers both recovery promises: one typo gives one diagnostic and later errors still come out", () => {
    // Each recovery case starts with a single mistake and has at least one more, separate, mistake
    // further down; the exact-match check above then proves both halves.
    const recovery = cases.filter((c) => c.startsWith("recovery/") && !c.includes("known-cascades"));
    expect(recovery.length).toBeGreaterThanOrEqual(4);
    for (const c of recovery) {
      const ex = expectations(readFileSync(join(CASES, c), "utf8"));
      const lines = [...new Set(ex.map((e) => e.line))].sort((a, b) => a - b);
      expect(lines.length, `${c} needs an early typo and a later error`).toBeGreaterThanOrEqual(2);
      expect(ex.filter((e) => e.line === lines[0]).length, `${c}: the first typo must give exactly one diagnostic`).toBe(1);
    }
  });
});

describe("expectation comments", () => {
  it("reads same-line, caret and multiple expectations", () => {
    const text = [
      "data d {  # error NN0205, error NN0205",
      '  from "a.csv',
      "  # ^ error NN0002",
      "  # ^ warning NN0212",
      "  scale 1e  // error NN0005",
      "}",
    ].join("\n");
    expect(expectations(text)).toEqual([
      { severity: "error", code: "NN0205", line: 1 },
      { severity: "error", code: "NN0205", line: 1 },
      { severity: "error", code: "NN0002", line: 2 },
      { severity: "warning", code: "NN0212", line: 2 },
      { severity: "error", code: "NN0005", line: 5 },
    ]);
  });

  it("ignores ordinary comments and rejects malformed annotations", () => {
    expect(expectations('data d { # the error NN0101 is tested elsewhere\n  from "a#b"\n}\n')).toEqual([]);
    expect(() => expectations("dense 3 # eror NN0101\n")).toThrow(/malformed/);
    expect(() => expectations("dense 3 # error: NN0101\n")).toThrow(/malformed/);
    expect(() => expectations("dense 3 # ^ error NN0101\n")).toThrow(/stand alone/);
    expect(() => expectations("# ^ error NN0101\n")).toThrow(/no line above/);
  });
});
