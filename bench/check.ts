/**
 * Check time: parse, resolve and shape check (`check`, which also runs the checks across
 * declarations and the lints), each timed on its own, for a generated spec of 2,000 layers and for
 * the largest spec in specs/, after warm-up.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { check } from "../src/check/index.ts";
import { SERVER_NODE_FLAGS } from "../src/cli/commands/lsp.ts";
import { DiagnosticSink } from "../src/diagnostics/diagnostic.ts";
import { resolve, type ImportHost } from "../src/lang/resolve.ts";
import { FileHost } from "../src/node/host.ts";
import { parse } from "../src/syntax/parse.ts";
import { record, time, type Timing } from "./timing.ts";

export const name = "check";

const ROOT = resolvePath(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * A clean spec of `layers` layers in four models of equal depth: an MLP with batchnorm and dropout,
 * a CNN (same padding, residual adds, channel concats, pooling), a residual graph, and a 1-D model
 * over a symbolic sequence length, so the symbolic dimension arithmetic is timed too.
 */
export function generateLayers(layers: number): string {
  const per = Math.ceil(layers / 4);
  const out: string[] = ["# Generated benchmark spec for the shape checker.", ""];
  let n = 0;
  const add = (line: string) => {
    out.push(`  ${line}`);
    n++;
  };

  out.push("model mlp(x: [64]) -> logits: [10] {");
  for (let i = 0; n < per - 1; i++) {
    const w = [32, 64, 128][i % 3];
    if (i % 4 === 0) add(`dense ${w} use_bias: false`);
    else if (i % 4 === 1) add("batchnorm");
    else if (i % 4 === 2) add("relu");
    else add("dropout 0.1");
  }
  add("dense 10");
  out.push("}", "");

  out.push("model cnn(image: [32, 32, 3]) -> logits: [10] {", "  c0 = image -> conv2d 16 kernel: 3 padding: same relu");
  n++;
  let last = "c0";
  let k = 0;
  while (n < 2 * per - 3) {
    k++;
    const a = `c${k}a`;
    add(`${a} = ${last} -> conv2d 16 kernel: 3 padding: same relu`);
    add(`c${k}b = add ${last}, ${a}`);
    if (k % 5 === 0) {
      add(`c${k}j = concat c${k}b, ${a} axis: -1`);
      add(`c${k} = c${k}j -> conv2d 16 kernel: 1`);
    } else add(`c${k} = c${k}b -> batchnorm`);
    last = `c${k}`;
  }
  add(`g = ${last} -> global_avgpool2d`);
  add("dense 10");
  out.push("}", "");

  out.push("model graph(x: [13]) -> logits: [3] {", "  h0 = dense 32 relu");
  n++;
  k = 0;
  while (n < 3 * per - 2) {
    k++;
    add(`h${k}a = h${k - 1} -> dense 32 relu l2: 1e-4`);
    add(`h${k} = add h${k - 1}, h${k}a`);
  }
  add(`c = concat h${k}, x`);
  add("dense 3");
  out.push("}", "");

  out.push("model seq(x: [steps, 8]) -> logits: [4] {", "  s0 = x -> conv1d 16 kernel: 3 padding: same relu");
  n++;
  k = 0;
  while (n < layers - 2) {
    k++;
    if (k % 10 === 0) add(`s${k} = s${k - 1} -> maxpool1d 2 padding: same`);
    else if (k % 3 === 0) add(`s${k} = s${k - 1} -> layernorm`);
    else add(`s${k} = s${k - 1} -> conv1d 16 kernel: 3 padding: same relu`);
  }
  add(`p = s${k} -> global_maxpool1d`);
  add("dense 4");
  out.push("}", "");
  return out.join("\n");
}


const ms = (t: Timing) => `${t.median.toFixed(2).padStart(9)} ms  (min ${t.min.toFixed(2).padStart(8)})`;

/** Times one spec's phases; `imports` serves its `import`s (from disk, outside the timing). */
function bench(label: string, text: string, path: string, imports: ImportHost | undefined, warmup: number, iterations: number): void {
  const parsed = parse(text, path);
  const sink = new DiagnosticSink(path);
  const program = resolve(parsed.ast, sink, imports);
  const checked = check(program, sink, undefined, parsed.diagnostics);
  const errors = [...parsed.diagnostics, ...sink.items].filter((d) => d.severity === "error");
  if (errors.length) throw new Error(`${label} is not clean: ${errors[0].code} ${errors[0].message} at line ${errors[0].span.line}`);
  const layers = [...checked.models.values()].reduce((a, m) => a + m.layers.length, 0);

  const all = allThree(text, path, imports);
  for (let i = 0; i < warmup; i++) all();
  const tParse = time(() => parse(text, path), iterations);
  const tResolve = time(() => resolve(parsed.ast, new DiagnosticSink(path), imports), iterations);
  const tCheck = time(() => check(program, new DiagnosticSink(path), undefined, parsed.diagnostics), iterations);
  const tAll = time(all, iterations);
  console.log(`  ${label}: ${text.split("\n").length.toLocaleString("en-US")} lines, ${checked.models.size} models, ${layers.toLocaleString("en-US")} layers; ${warmup} warm-up + ${iterations} timed iterations (median)`);
  console.log(`    parse        ${ms(tParse)}`);
  console.log(`    resolve      ${ms(tResolve)}`);
  console.log(`    shape check  ${ms(tCheck)}  ${((tCheck.median * 1000) / Math.max(1, layers)).toFixed(1)} µs/layer`);
  console.log(`    all three    ${ms(tAll)}`);
  for (const [stage, t] of [["parse", tParse], ["resolve", tResolve], ["shape check", tCheck], ["all three", tAll]] as const) record({ spec: label, layers, stage, medianMs: t.median, minMs: t.min });
}

/** Parse, resolve and check of `text`, as the checker runs them on each edit. */
const allThree = (text: string, path: string, imports: ImportHost | undefined) => (): void => {
  const p = parse(text, path);
  const s = new DiagnosticSink(path);
  check(resolve(p.ast, s, imports), s, undefined, p.diagnostics);
};

/**
 * The generated spec's three phases in a child Node started with the flags `nnspec lsp` gives its
 * server (SERVER_NODE_FLAGS: a larger young generation), where they run on every edit.
 */
function asServer(warmup: number, iterations: number): void {
  const r = spawnSync(process.execPath, [...SERVER_NODE_FLAGS, "--import", "tsx", fileURLToPath(import.meta.url)], { env: { ...process.env, BENCH_CHECK_SERVER: "1" }, encoding: "utf8" });
  const line = r.stdout?.trim().split("\n").pop();
  if (r.status !== 0 || !line) {
    console.log(`    (as the server runs them: the child failed: ${r.stderr?.trim().split("\n").pop() ?? r.error?.message})`);
    return;
  }
  const t = JSON.parse(line) as Timing;
  console.log(`    all three, as \`nnspec lsp\` runs them (node ${SERVER_NODE_FLAGS.join(" ")}): ${ms(t).trim()}`);
  record({ spec: "generated spec", layers: 2000, stage: "all three, as the server runs them", medianMs: t.median, minMs: t.min });
}

function specFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? specFiles(join(dir, e.name)) : e.name.endsWith(".nnspec") ? [join(dir, e.name)] : []));
}

export async function run(): Promise<void> {
  const warmup = Number(process.env.BENCH_WARMUP ?? 10);
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 60);
  console.log("check: parse, resolve and shape check, timed separately");
  bench("generated spec", generateLayers(2000), "bench.nnspec", undefined, warmup, iterations);
  asServer(warmup, iterations);

  const largest = specFiles(join(ROOT, "specs")).sort((a, b) => statSync(b).size - statSync(a).size)[0];
  const host = new FileHost();
  const imports: ImportHost = { importModels: (p) => host.importModels(p, largest) };
  bench(relative(ROOT, largest), readFileSync(largest, "utf8"), relative(ROOT, largest), imports, warmup * 4, iterations * 5);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.env.BENCH_CHECK_SERVER) {
    const all = allThree(generateLayers(2000), "bench.nnspec", undefined);
    for (let i = 0; i < Number(process.env.BENCH_WARMUP ?? 10); i++) all();
    console.log(JSON.stringify(time(all, Number(process.env.BENCH_ITERATIONS ?? 60))));
  } else await run();
}
