/**
 * `nnspec summary`: golden tables for two course specs (regenerate with UPDATE_GOLDEN=1), totals
 * against TensorFlow.js's countParams for every spec, symbolic dimensions, JSON and exit codes.
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { summarize, summaryJson, summaryText } from "../src/check/summary.ts";
import { buildTfjs } from "../src/codegen/tfjs/twin.ts";
import { main } from "../src/cli/main.ts";
import { FileHost } from "../src/node/host.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const GOLDEN = join(ROOT, "test", "golden");

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Analyses a spec with its path shown relative to the repository root. */
function analyse(rel: string) {
  return new FileHost().analyse(join(ROOT, rel), rel);
}

function textOf(rel: string): string {
  return [...analyse(rel).checked.models.values()].map((m) => summaryText(summarize(m))).join("\n");
}

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

describe("golden summaries", () => {
  for (const name of ["mnist_cnn", "iris"]) {
    it(`specs/${name}.nnspec`, () => {
      const got = textOf(`specs/${name}.nnspec`);
      const file = join(GOLDEN, `summary-${name}.txt`);
      if (process.env.UPDATE_GOLDEN) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, got);
      }
      expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
      expect(got, "run with UPDATE_GOLDEN=1 to accept the new output").toBe(readFileSync(file, "utf8"));
    });
  }
});

function specFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? specFiles(join(dir, e.name)) : e.name.endsWith(".nnspec") ? [join(dir, e.name)] : []));
}

describe("summary totals equal TensorFlow.js countParams", () => {
  for (const file of specFiles(join(ROOT, "specs"))) {
    const rel = relative(ROOT, file);
    it(rel, () => {
      for (const m of analyse(rel).checked.models.values()) {
        const s = summarize(m);
        const tm = buildTfjs(m);
        try {
          expect(s.totals.params, m.spec.name).toBe(tm.countParams());
          expect(s.totals.trainable, m.spec.name).toBe(tm.trainableWeights.reduce((a, w) => a + w.shape.reduce((x: number, y) => x * (y ?? 0), 1), 0));
          expect(summaryJson(s).totals.params).toBe(tm.countParams());
        } finally {
          tm.dispose();
        }
      }
    });
  }
});

describe("nnspec summary", () => {
  it("prints the tables of every model of the files, the same as summaryText", async () => {
    const rel = relative(process.cwd(), join(ROOT, "specs/mnist_cnn.nnspec"));
    const r = await cli("summary", rel);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const models = [...new FileHost().analyse(resolve(rel), rel).checked.models.values()];
    expect(r.stdout).toBe(models.map((m) => summaryText(summarize(m))).join("\n"));
    expect(r.stdout).toMatch(/^model fashion_cnn \(.*mnist_cnn\.nnspec:\d+\)$/m);
    expect(r.stdout).toMatch(/^  total +38,186 +0 /m);
  });

  it("gives stable JSON: numbers where known, expressions where symbolic, null where unknown", async () => {
    const spec = "model s(x: [steps, 3]) -> y {\n  c = x -> conv1d 4 kernel: 3 relu\n  f = c -> flatten\n  y = f -> dense 2\n}\n";
    const host = new FileHost(() => spec);
    const m = host.analyse(join(ROOT, "virtual.nnspec"), "virtual.nnspec").checked.models.get("s")!;
    const j = summaryJson(summarize(m));
    expect(Object.keys(j)).toEqual(["model", "file", "line", "complete", "inputs", "outputs", "layers", "totals"]);
    expect(j.inputs).toEqual([{ name: "x", dtype: "float", shape: ["steps", 3] }]);
    expect(j.layers.map((l) => [l.name, l.output, l.params, l.flops, l.memory_bytes])).toEqual([
      ["c", ["steps - 2", 4], { trainable: 40, frozen: 0 }, "72*steps - 144", "16*steps - 32"],
      ["f", ["4*steps - 8"], { trainable: 0, frozen: 0 }, 0, "16*steps - 32"],
      ["y", [2], { trainable: null, frozen: null }, "16*steps - 32", 8],
    ]);
    expect(j.totals).toEqual({ params: null, trainable: null, frozen: null, param_bytes: null, flops: "88*steps - 176", memory_bytes: "32*steps - 56" });
    const text = summaryText(summarize(m));
    expect(text).toContain("[*, steps - 2, 4]");
    expect(text).toMatch(/^  y +dense +\[\*, 2\] +\? +\? +16\*steps - 32 +8 B$/m);
  });

  it("--format json is valid JSON listing each file's models", async () => {
    const rel = relative(process.cwd(), join(ROOT, "specs/residual.nnspec"));
    const r = await cli("summary", rel, "--format", "json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.files[0].models.map((m: { model: string }) => m.model)).toEqual(["wine_residual", "wine_two_heads"]);
    expect(j.files[0].models[1].outputs.map((o: { name: string }) => o.name)).toEqual(["cultivar", "alcohol"]);
  });

  it("prints the diagnostics and exits 1 when a file has errors; 2 on wrong usage", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnspec-summary-"));
    const bad = join(dir, "bad.nnspec");
    writeFileSync(bad, "model m(x: [4]) -> [3] {\n  conv2d 8 kernel: 3\n}\n");
    const r = await cli("summary", bad, "--no-color");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("error[NN0301]");
    const j = await cli("summary", bad, "--format", "json");
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).diagnostics[0].code).toBe("NN0301");
    expect((await cli("summary")).code).toBe(2);
    expect((await cli("summary", bad, "--format", "yaml")).code).toBe(2);
    expect((await cli("summary", "no/such/file.nnspec")).code).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  });
});
