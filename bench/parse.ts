/**
 * Front-end throughput: lexing + parsing (to the AST), name resolution and formatting, each timed on
 * its own over a large generated spec, plus the whole pipeline on a 1 MB file.
 */
import { DiagnosticSink } from "../src/diagnostics/diagnostic.ts";
import { format } from "../src/format/printer.ts";
import { resolve } from "../src/lang/resolve.ts";
import { AstBuilder } from "../src/syntax/build-ast.ts";
import { lex, tokenSpan } from "../src/syntax/lexer.ts";
import { parse } from "../src/syntax/parse.ts";
import { parseTokens } from "../src/syntax/parser.ts";
import { record, time, type Timing } from "./timing.ts";

export const name = "parse";

/** A small deterministic PRNG (mulberry32), so every run measures the same text. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A valid spec of at least `minLines` lines: groups of one data block, one sequential model, one
 * graph model (named tensors, `add`, `concat`) and two train blocks, with line, trailing and block
 * comments and blank lines. It parses and resolves without a single diagnostic.
 */
export function generateSpec(minLines: number, seed = 1): string {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const acts = ["relu", "tanh", "gelu", "elu", "sigmoid"] as const;
  const out: string[] = ["# Generated benchmark spec: many data, model and train declarations.", ""];
  for (let g = 0; out.length < minLines; g++) {
    const nFeat = 4 + Math.floor(r() * 12);
    const nClass = 2 + Math.floor(r() * 8);
    const cols = Array.from({ length: nFeat }, (_, i) => `f${i}`);
    out.push(
      `// ── group ${g} ──`,
      `data set_${g} {`,
      `  from "data/set_${g}.csv" skip: 1, header: false  # the first line is metadata`,
      `  columns ${cols.join(", ")}, target`,
      `  features f0..f${nFeat - 1}`,
      `  label target: class(${nClass})`,
      `  standardize  /* fitted on the training split only */`,
      `  split train: 0.7, val: 0.15, test: 0.15, stratified, seed: ${g}`,
      `}`,
      "",
    );
    out.push(`/* A sequential model:\n   ${nFeat} features, ${nClass} classes. */`, `model mlp_${g}(x: [${nFeat}]) -> logits: [${nClass}] {`);
    const depth = 6 + Math.floor(r() * 20);
    for (let i = 0; i < depth; i++) {
      const units = pick([16, 32, 64, 128, 256]);
      switch (Math.floor(r() * 5)) {
        case 0:
          out.push(`  dense ${units} ${pick(acts)}  # hidden ${i}`);
          break;
        case 1:
          out.push(`  dense ${units} activation: ${pick(acts)}, l2: 1e-4`);
          break;
        case 2:
          out.push(`  dropout ${pick(["0.1", "0.2", "0.5"])}`);
          break;
        case 3:
          out.push(`  batchnorm momentum: 0.99`);
          break;
        default:
          out.push("", `  # block ${i}`, `  dense ${units} ${pick(acts)}`);
      }
    }
    out.push(`  dense ${nClass}`, `}`, "");
    out.push(`model graph_${g}(x: [${nFeat}]) -> logits: [${nClass}] {`, `  h0 = dense 32 relu`);
    const blocks = 2 + Math.floor(r() * 6);
    for (let i = 1; i <= blocks; i++) out.push(`  h${i}a = h${i - 1} -> dense 32 relu`, `  h${i} = add h${i - 1}, h${i}a  // residual ${i}`);
    out.push(`  c = concat h${blocks}, x`, `  dense ${nClass}`, `}`, "");
    for (const m of [`mlp_${g}`, `graph_${g}`]) {
      out.push(
        `train ${m} on set_${g} {`,
        `  loss sparse_cross_entropy(from_logits: true)`,
        `  optimizer adam lr: ${pick(["1e-3", "0.01", "3e-4"])}`,
        `  epochs ${10 + Math.floor(r() * 90)}; batch ${pick([16, 32, 64])}`,
        `  metrics accuracy`,
        `}`,
        "",
      );
    }
  }
  return out.join("\n");
}

/** Repeats the generated spec's groups until the text reaches `bytes` (renaming keeps names unique). */
export function generateSpecOfSize(bytes: number, seed = 1): string {
  let lines = Math.max(100, Math.ceil(bytes / 30));
  for (;;) {
    const s = generateSpec(lines, seed);
    if (s.length >= bytes) return s;
    lines = Math.ceil((lines * bytes) / s.length) + 10;
  }
}


function row(phase: string, t: Timing, lines: number, bytes: number): string {
  const perSec = (x: number) => x / (t.median / 1000);
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
  return `  ${phase.padEnd(18)} ${t.median.toFixed(1).padStart(9)} ms  (min ${t.min.toFixed(1).padStart(7)})  ${fmt(perSec(lines)).padStart(11)} lines/s  ${(perSec(bytes) / 1e6).toFixed(2).padStart(6)} MB/s`;
}

export interface ParseBenchOptions {
  lines?: number;
  warmup?: number;
  iterations?: number;
}

export async function run(opts: ParseBenchOptions = {}): Promise<void> {
  const lines = opts.lines ?? Number(process.env.BENCH_LINES ?? 60_000);
  const warmup = opts.warmup ?? 2;
  const iterations = opts.iterations ?? Number(process.env.BENCH_ITERATIONS ?? 5);
  const text = generateSpec(lines);
  const nLines = text.split("\n").length;
  const bytes = Buffer.byteLength(text);

  // The text must be a clean spec, or the benchmark would time error recovery instead.
  const check = parse(text, "bench.nnspec");
  const sink = new DiagnosticSink("bench.nnspec");
  resolve(check.ast, sink);
  const problems = [...check.diagnostics, ...sink.items];
  if (problems.length) throw new Error(`generated spec is not clean: ${problems[0].code} ${problems[0].message} at line ${problems[0].span.line}`);

  console.log(`parse: ${nLines.toLocaleString("en-US")} lines, ${(bytes / 1e6).toFixed(2)} MB, ${check.ast.decls.length} declarations; ${warmup} warm-up + ${iterations} timed iterations (median)`);
  for (let i = 0; i < warmup; i++) {
    const p = parse(text, "bench.nnspec");
    resolve(p.ast, new DiagnosticSink("bench.nnspec"));
    format(p.ast);
  }
  const ast = check.ast;
  const tParse = time(() => parse(text, "bench.nnspec"), iterations);
  // The three stages inside parse(), each on the previous one's output.
  const lexed = lex(text, new DiagnosticSink("bench.nnspec"));
  const tLex = time(() => lex(text, new DiagnosticSink("bench.nnspec")), iterations);
  let records = parseTokens(lexed.tokens).file;
  const tParser = time(() => {
    records = parseTokens(lexed.tokens).file;
  }, iterations);
  const comments = lexed.comments.map((c) => ({ text: c.image, span: tokenSpan(lexed.lines, c) }));
  const tAst = time(() => new AstBuilder(lexed.lines).file(records, "bench.nnspec", comments), iterations);
  const tResolve = time(() => resolve(ast, new DiagnosticSink("bench.nnspec")), iterations);
  const tFormat = time(() => format(ast), iterations);
  const tAll = time(() => {
    const p = parse(text, "bench.nnspec");
    resolve(p.ast, new DiagnosticSink("bench.nnspec"));
    format(p.ast);
  }, iterations);
  for (const [stage, t] of [["lex+parse+AST", tParse], ["lex", tLex], ["parser", tParser], ["AST", tAst], ["resolve", tResolve], ["format", tFormat], ["all three", tAll]] as const)
    record({ file: "generated", lines: nLines, bytes, stage, medianMs: t.median, minMs: t.min });
  console.log(row("lex+parse+AST", tParse, nLines, bytes));
  console.log(row("  of which lex", tLex, nLines, bytes));
  console.log(row("  of which parser", tParser, nLines, bytes));
  console.log(row("  of which AST", tAst, nLines, bytes));
  console.log(row("resolve", tResolve, nLines, bytes));
  console.log(row("format", tFormat, nLines, bytes));
  console.log(row("all three", tAll, nLines, bytes));

  const mb = generateSpecOfSize(1_000_000, 2);
  const mbLines = mb.split("\n").length;
  const mbBytes = Buffer.byteLength(mb);
  const tMb = time(() => {
    const p = parse(mb, "1mb.nnspec");
    resolve(p.ast, new DiagnosticSink("1mb.nnspec"));
    format(p.ast);
  }, Math.max(3, Math.ceil(iterations / 2)));
  console.log(`  1 MB file (${mbLines.toLocaleString("en-US")} lines, ${(mbBytes / 1e6).toFixed(2)} MB), parse+resolve+format:`);
  console.log(row("all three", tMb, mbLines, mbBytes));
  record({ file: "1 MB", lines: mbLines, bytes: mbBytes, stage: "all three", medianMs: tMb.median, minMs: tMb.min });
}
