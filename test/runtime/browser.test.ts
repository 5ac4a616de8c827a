/**
 * The front end and the interpreter run in a browser: bundled by esbuild for the browser platform
 * (which fails on any Node built-in in the import graph) and run in a fresh JavaScript context that
 * has the language's standard globals plus the two web ones the runtime uses (WebAssembly, atob) but
 * no process, Buffer, require or fs, a spec
 * is parsed, checked and trained there, and gives the same losses, weights and outputs, bit for bit,
 * as the same code run in Node.
 */
import { build } from "esbuild";
import { createContext, runInContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { run } from "../fixtures/browser/entry.ts";

const SPEC = `data rows {
  from "rows.csv"
  label y: class(3)
}
model mlp(x: [6]) -> logits: [3] {
  dense 64 relu
  dropout 0.2
  dense 3
}
train mlp on rows {
  loss sparse_cross_entropy(from_logits: true)
  optimizer adam lr: 0.01
  epochs 4
  batch 32
  seed 3
}
`;

describe("in a browser context", () => {
  it("parses, checks and trains as in Node, bit for bit", async () => {
    const out = await build({ entryPoints: ["test/fixtures/browser/entry.ts"], bundle: true, platform: "browser", format: "iife", globalName: "nnspec", write: false, logLevel: "silent" });
    const context = createContext({ WebAssembly, atob });
    expect(runInContext("typeof process + typeof Buffer + typeof require", context)).toBe("undefinedundefinedundefined");
    runInContext(`${out.outputFiles[0].text}\nglobalThis.nnspec = nnspec;`, context);
    const n = 96;
    const x = Float32Array.from({ length: n * 6 }, (_, i) => Math.sin(i * 0.7));
    const y = Float32Array.from({ length: n }, (_, i) => (x[i * 6] + x[i * 6 + 1] > 0 ? 1 : i % 2 ? 2 : 0));
    const there = (context as { nnspec: { run: typeof run } }).nnspec.run(SPEC, x, y, n, 6);
    const here = run(SPEC, x, y, n, 6);
    expect(there.errors).toEqual([]);
    expect(there.simd).toBe(true);
    expect(there.losses[3]).toBeLessThan(there.losses[0]);
    expect(there.losses).toEqual(here.losses);
    expect(there.weights).toEqual(here.weights);
    expect(there.outputs).toEqual(here.outputs);
  });
});
