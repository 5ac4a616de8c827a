/**
 * Data loading: a generated 70,000-row × 785-column CSV (label + 784 pixel columns, the size of
 * MNIST as CSV; written to the OS temp folder and removed afterwards, never committed), plain and
 * gzip-compressed, and Fashion-MNIST's IDX files when `/usr/share/datasets/fashion-mnist/` exists.
 * Each load goes through the whole pipeline: read, parse, validate, split, fit and transform.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { loadData } from "../src/data/index.ts";
import { DiagnosticSink } from "../src/diagnostics/diagnostic.ts";
import { resolve } from "../src/lang/resolve.ts";
import { parse } from "../src/syntax/parse.ts";
import { mulberry32 } from "../src/data/random.ts";
import { record } from "./timing.ts";

export const name = "data";

const FASHION = "/usr/share/datasets/fashion-mnist";

/** A CSV like MNIST's: a header, a label 0..9, then 784 pixels (about 80% zeros, the rest 1..255). */
export function generateCsv(rows: number, pixels = 784, seed = 1, quoted = false): string {
  const next = mulberry32(seed);
  const q = quoted ? (s: string | number) => `"${s}"` : (s: string | number) => s;
  const lines: string[] = [["label", ...Array.from({ length: pixels }, (_, i) => `p${i}`)].map(q).join(",")];
  const cells = new Array<string | number>(pixels + 1);
  for (let r = 0; r < rows; r++) {
    cells[0] = q(r % 10);
    for (let c = 1; c <= pixels; c++) {
      const u = next();
      cells[c] = q(u % 5 === 0 ? 1 + ((u >>> 24) % 255) : 0);
    }
    lines.push(cells.join(","));
  }
  return lines.join("\n") + "\n";
}

function dataSpec(text: string, file: string) {
  const p = parse(text, file);
  const sink = new DiagnosticSink(file);
  const program = resolve(p.ast, sink);
  const problems = [...p.diagnostics, ...sink.items];
  if (problems.length) throw new Error(`bench spec is not clean: ${problems[0].code} ${problems[0].message}`);
  return [...program.data.values()][0];
}

async function timeLoad(label: string, specText: string, specFile: string, iterations: number, bytes?: number): Promise<void> {
  const spec = dataSpec(specText, specFile);
  const times: number[] = [];
  let summary = "";
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    const r = await loadData(spec, specFile);
    times.push(performance.now() - t0);
    if (!r.data) throw new Error(`${label}: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`);
    summary = `train ${r.data.train.n}, val ${r.data.val.n}, test ${r.data.test.n}, ${r.data.train.featureShape.join("×")} features`;
  }
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)];
  const rate = bytes ? `, ${(bytes / 1e6 / (med / 1000)).toFixed(0)} MB/s` : "";
  const runs = iterations > 1 ? `min ${times[0].toFixed(0)}, ${iterations} runs` : "1 run";
  record({ case: label, medianMs: med, minMs: times[0], runs: iterations, ...(bytes ? { mbPerS: bytes / 1e6 / (med / 1000) } : {}) });
  console.log(`  ${label.padEnd(36)} median ${med.toFixed(0).padStart(6)} ms (${runs}${rate}); ${summary}`);
}

export async function run(opts: { rows?: number; iterations?: number } = {}): Promise<void> {
  const rows = opts.rows ?? Number(process.env.BENCH_DATA_ROWS ?? 70_000);
  const iterations = opts.iterations ?? Number(process.env.BENCH_ITERATIONS ?? 3);
  const dir = mkdtempSync(join(tmpdir(), "nnspec-bench-data-"));
  try {
    const text = generateCsv(rows);
    const csvBytes = Buffer.byteLength(text);
    writeFileSync(join(dir, "big.csv"), text);
    writeFileSync(join(dir, "big.csv.gz"), gzipSync(text));
    console.log(`data: ${rows.toLocaleString("en-US")} rows × 785 columns CSV, ${(csvBytes / 1e6).toFixed(1)} MB; load = read + parse + validate + split + fit + transform`);
    const spec = (file: string, extra = "") => `data big {\n  from "${file}" header: true\n  label label: class(10)\n  scale 1 / 255\n${extra}  split train: 0.8, val: 0.1, test: 0.1, seed: 1\n}\n`;
    const specFile = join(dir, "bench.nnspec");
    await timeLoad("CSV", spec("big.csv"), specFile, iterations, csvBytes);
    await timeLoad("CSV, gzip", spec("big.csv.gz"), specFile, iterations, csvBytes);
    await timeLoad("CSV, standardize + stratified", spec("big.csv", "  standardize\n").replace("seed: 1", "stratified, seed: 1"), specFile, iterations, csvBytes);
    // The same file with every field quoted goes through csv-parse instead of the unquoted fast path.
    const quoted = generateCsv(rows, 784, 1, true);
    writeFileSync(join(dir, "quoted.csv"), quoted);
    await timeLoad("CSV, every field quoted (csv-parse)", spec("quoted.csv"), specFile, 1, Buffer.byteLength(quoted));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (existsSync(join(FASHION, "train-images-idx3-ubyte.gz"))) {
    const specText = `data fashion {
  from "${FASHION}/train-images-idx3-ubyte.gz" format: idx, labels: "${FASHION}/train-labels-idx1-ubyte.gz"
  test_from "${FASHION}/t10k-images-idx3-ubyte.gz" format: idx, labels: "${FASHION}/t10k-labels-idx1-ubyte.gz"
  label class(10)
  scale 1 / 255
  reshape [28, 28, 1]
  split train: 0.9, val: 0.1, seed: 42
}
`;
    console.log("data: Fashion-MNIST IDX (60,000 + 10,000 images, gzip)");
    await timeLoad("Fashion-MNIST IDX", specText, join(tmpdir(), "fashion.nnspec"), iterations);
  } else console.log(`data: Fashion-MNIST not installed (${FASHION}); skipped (apt-get install dataset-fashion-mnist)`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
