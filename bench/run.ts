/**
 * `npm run bench`: runs every benchmark in BENCHES in turn, or only those named on the command line
 * (`npm run bench -- parse`). A benchmark is a module exporting `name` and `run(): Promise<void>`
 * that prints its own figures and `record`s them (bench/timing.ts); each run's rows are written to
 * bench/results/<name>.json with the machine, for other tools. Add one with a line in BENCHES.
 * Modules load only when they run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fusedMultiplyAdd } from "../src/core/simd/index.ts";
import { enableRelaxedSimd } from "../src/node/wasm.ts";
import { results } from "./timing.ts";

export interface Bench {
  name: string;
  run(): Promise<void>;
}

const BENCHES: { name: string; load: () => Promise<Bench> }[] = [
  { name: "parse", load: () => import("./parse.ts") },
  { name: "gemm", load: () => import("./gemm.ts") },
  { name: "check", load: () => import("./check.ts") },
  { name: "lsp", load: () => import("./lsp.ts") },
  { name: "data", load: () => import("./data.ts") },
  { name: "train", load: () => import("./train.ts") },
  { name: "codegen", load: () => import("./codegen.ts") },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHES.some((b) => b.name === w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${BENCHES.map((b) => b.name).join(", ")}`);
  process.exit(2);
}
// as `nnspec` runs: relaxed SIMD on (Node 20 has it behind a flag)
enableRelaxedSimd();
console.log(`node ${process.version}, ${process.platform}/${process.arch}, fused multiply-add ${fusedMultiplyAdd() ? "on" : "off (no relaxed SIMD)"}\n`);
for (const entry of BENCHES) {
  if (wanted.length && !wanted.includes(entry.name)) continue;
  const bench = await entry.load();
  const t0 = performance.now();
  results.length = 0;
  await bench.run();
  const seconds = (performance.now() - t0) / 1000;
  console.log(`(${bench.name}: ${seconds.toFixed(1)} s in all)\n`);
  const dir = fileURLToPath(new URL("./results", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const machine = { node: process.version, platform: `${process.platform}/${process.arch}`, cpu: cpus()[0]?.model ?? "?", cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), fusedMultiplyAdd: fusedMultiplyAdd() };
  writeFileSync(join(dir, `${bench.name}.json`), JSON.stringify({ bench: bench.name, date: new Date().toISOString(), machine, seconds, rows: results }, null, 1) + "\n");
}
