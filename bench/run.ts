/**
 * `npm run bench`: runs every benchmark in BENCHES in turn, or only those named on the command line
 * (`npm run bench -- parse`). A benchmark is a module exporting `name` and `run(): Promise<void>`
 * that prints its own figures; add one with a line in BENCHES. Modules load only when they run.
 */

export interface Bench {
  name: string;
  run(): Promise<void>;
}

const BENCHES: { name: string; load: () => Promise<Bench> }[] = [
  { name: "parse", load: () => import("./parse.ts") },
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
console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);
for (const entry of BENCHES) {
  if (wanted.length && !wanted.includes(entry.name)) continue;
  const bench = await entry.load();
  const t0 = performance.now();
  await bench.run();
  console.log(`(${bench.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s in all)\n`);
}
