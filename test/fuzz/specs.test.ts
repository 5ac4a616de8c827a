/**
 * The spec fuzzer: mutations of every course spec, checked as `nnspec check` checks them (real
 * imports, real data files beside the spec) plus hostile edits that once crashed or hung it:
 * imports and data paths naming special files (/dev/zero, a named pipe, a folder), huge ranges,
 * numbers that overflow, products of symbolic dimensions, deep brackets, CR line ends.
 * Fails on any throw, any case slower than 2 s, and any diagnostic whose span leaves the text.
 *
 * A fixed seed and a bounded number of cases run in `npm test` (so in CI);
 * `FUZZ_RUNS=5000 FUZZ_SEED=7 npx vitest run test/fuzz/specs.test.ts` runs more; `npm run fuzz` runs 5000.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LineMap } from "../../src/diagnostics/span.ts";
import { format } from "../../src/format/printer.ts";
import { FileHost } from "../../src/node/host.ts";
import { checkDiagnostic } from "../invariants.ts";
import { ROOT, SPECS } from "../lsp-client.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? (process.env.FUZZ_LONG ? 5000 : 250));
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);
const BOUND_MS = 2000;

const specs = readdirSync(SPECS)
  .filter((f) => f.endsWith(".nnspec"))
  .map((name) => ({ name, text: readFileSync(join(SPECS, name), "utf8") }));

let tmp = "";
const special: string[] = ["/dev/zero", "/dev/urandom", "/dev/null", "/proc/self/status", "/no/such/file.csv"];
beforeAll(() => {
  // Each spec checked once untimed, as an editor opens it: the first read of a large data set (the
  // million lines of language_id's word lists) is not what the bound is about; edits after it are.
  for (const s of specs) new FileHost().analyse(join(SPECS, s.name), relative(ROOT, join(SPECS, s.name)), s.text);
  tmp = mkdtempSync(join(tmpdir(), "nnspec-fuzz-"));
  const fifo = join(tmp, "pipe.csv");
  if (spawnSync("mkfifo", [fifo]).status === 0) special.push(fifo);
  mkdirSync(join(tmp, "folder.csv"));
  special.push(join(tmp, "folder.csv"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Mutation = (text: string, pick: number) => string;

const at = (text: string, pick: number): number => pick % (text.length + 1);
const nth = <T>(xs: readonly T[], pick: number): T => xs[pick % xs.length];

/** Edits that once broke the checker, each applied where the spec has something to break. */
const HOSTILE: Mutation[] = [
  (t, k) => `import m from "${nth(special, k)}"\n${t}`,
  (t, k) => t.replace(/from "[^"]*"/, `from "${nth(special, k)}"`),
  (t, k) => t.replace(/features [^\n]*/, `features ${nth(["0..3000000000", "0..10000000", "a0..a99999999", "0..-5", "3..1"], k)}`),
  (t, k) => t.replace(/\b\d+(\.\d+)?\b/, nth(["1e309", "-1e309", "1e-400", "9007199254740993", "0x10", "1_000"], k)),
  (t, k) => `${t}\nmodel wide(x: [a, b, c, d]) -> y: [${Array.from({ length: 20 + (k % 20) }, () => "(a + b + c + d)").join(" * ")}] {\n  dense 4\n}\n`,
  (t, k) => {
    const p = at(t, k);
    return t.slice(0, p) + "(".repeat(60 + (k % 20)) + t.slice(p);
  },
  (t) => t.replace(/\n/g, "\r"),
  (t) => t.replace(/\n/g, "\r\n"),
  (t, k) => t.replace(/label (\w+)/, `label $1 ${"f(".repeat(1 + (k % 60))}1${")".repeat(1 + (k % 60))}`),
  (t, k) => t.replace(/dense \d+/, `dense ${nth(["1000000000000", "4294967296", "0", "-1", "1.5"], k)}`),
  (t, k) => t.replace(/batch \d+/, `batch ${nth(["100000000000", "0", "1e309"], k)}`),
];

const PIECES = ["{", "}", "(", ")", "[", "]", ",", "\n", ";", "..", "->", "=", ":", '"', "#", "/*", "*/", "\\", "model ", "data ", "train ", "import ", "dense 3", "x", "-", "1e9", "\u0000", "\u001b[2J", "\uFEFF"];

/** A character-level edit: insert a piece, or delete a few characters. */
const textual: Mutation = (t, k) => {
  const p = at(t, k >>> 8);
  return k % 3 === 0 ? t.slice(0, p) + t.slice(p + (k % 17)) : t.slice(0, p) + nth(PIECES, k) + t.slice(p);
};

function checkOnce(name: string, text: string): number {
  const path = join(SPECS, name);
  const t0 = performance.now();
  const file = new FileHost().analyse(path, relative(ROOT, path), text);
  const ms = performance.now() - t0;
  const lines = new LineMap(text);
  for (const d of file.diagnostics) if (d.file === relative(ROOT, path)) checkDiagnostic(d, text, lines);
  if (!file.syntaxErrors) format(file.ast);
  return ms;
}

describe("the spec fuzzer", () => {
  it(`checks ${RUNS} mutated course specs without a throw, a hang over ${BOUND_MS} ms or a span outside the text`, { timeout: 600_000 }, () => {
    const mutation = fc.oneof(
      fc.tuple(fc.constant("hostile"), fc.nat({ max: HOSTILE.length - 1 }), fc.nat()),
      fc.tuple(fc.constant("text"), fc.constant(0), fc.nat()),
    );
    let slowest = { ms: 0, what: "" };
    fc.assert(
      fc.property(fc.nat({ max: specs.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
        let text = specs[i].text;
        for (const [kind, which, k] of ms) text = kind === "hostile" ? HOSTILE[which](text, k) : textual(text, k);
        const took = checkOnce(specs[i].name, text);
        if (took > slowest.ms) slowest = { ms: took, what: `${specs[i].name} ${JSON.stringify(ms)}` };
        expect(took, `${specs[i].name} after ${JSON.stringify(ms)} took ${took.toFixed(0)} ms`).toBeLessThan(BOUND_MS);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(slowest.ms).toBeLessThan(BOUND_MS);
  });

  it("each hostile edit, on each course spec, once", { timeout: 600_000 }, () => {
    for (const s of specs)
      for (const [i, m] of HOSTILE.entries())
        for (let k = 0; k < 7; k++) {
          const text = m(s.text, k);
          const took = checkOnce(s.name, text);
          expect(took, `${s.name}, hostile edit ${i} (${k})`).toBeLessThan(BOUND_MS);
        }
  });
});
