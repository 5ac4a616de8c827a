/**
 * The committed generated/ folder against the code generator and the checker:
 *
 * - every spec in specs/ regenerates, in memory, to exactly the module in generated/ (and generated/
 *   holds nothing else), so the folder never drifts from the generator or the specs;
 * - every generated model, built by importing its module and calling its `create…()`, has the
 *   checker's output shape for every layer and the checker's parameter counts (`nnspec summary`);
 * - generated/pytorch/ holds each spec's PyTorch package as `--code-only` writes it (model.py,
 *   train.py) and the helper, and no other code (prepared data/ and init/ folders are git-ignored);
 * - the generated source uses no `any`. That it type-checks under `tsc --strict` is checked by the
 *   root `npx tsc --noEmit -p tsconfig.json`, whose `include` lists generated/ (CI runs it).
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { summarize } from "../../src/check/summary.ts";
import { buildSpecs, specStem, type BuildResult } from "../../src/codegen/tfjs/build.ts";
import { FileHost } from "../../src/node/host.ts";
import { buildPytorch } from "../../src/codegen/pytorch/build.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const specs = readdirSync(join(root, "specs"))
  .filter((f) => f.endsWith(".nnspec"))
  .sort()
  .map((f) => `specs/${f}`);

interface GeneratedModule {
  MODELS: readonly { name: string; create: (seed?: number) => tf.LayersModel }[];
}

let built: BuildResult<string>;
beforeAll(async () => {
  await tf.setBackend("cpu");
  built = await buildSpecs(specs, { cwd: root });
}, 60_000);

describe("generated/", () => {
  it("builds every spec without errors", () => {
    expect(built.errors).toEqual([]);
    expect(built.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.file}:${d.span.line} ${d.message}`)).toEqual([]);
    expect(built.files.map((f) => relative(root, f.path))).toEqual(specs.map((s) => `generated/${specStem(s)}/${specStem(s)}.ts`));
  });

  it("holds exactly what the generator writes today (else run `npm run generate`)", () => {
    const stale: string[] = [];
    for (const f of built.files) {
      const rel = relative(root, f.path);
      if (!existsSync(f.path)) stale.push(`${rel} is missing`);
      else if (readFileSync(f.path, "utf8") !== f.text) stale.push(`${rel} differs from what the generator writes`);
    }
    const expected = new Set(built.files.map((f) => relative(join(root, "generated"), dirname(f.path))));
    // generated/pytorch/ holds the PyTorch target's packages (their own test below), generated/graph/ the pictures (test/graph.test.ts)
    for (const d of readdirSync(join(root, "generated"), { withFileTypes: true })) if (d.isDirectory() && d.name !== "pytorch" && d.name !== "graph" && !expected.has(d.name)) stale.push(`generated/${d.name} has no spec in specs/`);
    expect(stale, `generated/ is out of date: run \`npm run generate\`\n${stale.join("\n")}`).toEqual([]);
  });

  it("holds each spec's PyTorch package as `nnspec build --target pytorch --code-only` writes it", async () => {
    const py = await buildPytorch(specs, { cwd: root, codeOnly: true });
    expect(py.errors).toEqual([]);
    const stale: string[] = [];
    for (const f of py.files) {
      const rel = relative(root, f.path);
      if (!existsSync(f.path)) stale.push(`${rel} is missing`);
      else if (readFileSync(f.path, "utf8") !== f.text) stale.push(`${rel} differs from what the generator writes`);
    }
    const wanted = new Set(py.files.map((f) => f.path));
    const dir = join(root, "generated", "pytorch");
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, d.name);
      if (!d.isDirectory()) {
        if (!wanted.has(path)) stale.push(`${relative(root, path)} is not generated`);
      } else if (!specs.some((s) => specStem(s) === d.name)) stale.push(`${relative(root, path)} has no spec in specs/`);
      else for (const f of readdirSync(path)) if (f.endsWith(".py") && !wanted.has(join(path, f))) stale.push(`${relative(root, join(path, f))} is not generated`);
    }
    expect(stale, `generated/pytorch/ is out of date: run \`npm run generate\`\n${stale.join("\n")}`).toEqual([]);
  });

  it("uses no `any`", () => {
    for (const f of built.files) {
      const code = f.text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "");
      expect(code, relative(root, f.path)).not.toMatch(/[:<,(|&]\s*any\b|\bas any\b|\bany\[\]/);
    }
  });
});

describe.each(specs)("%s: the generated models against the checker", (spec) => {
  it("has every layer's output shape and parameter counts", async () => {
    const host = new FileHost();
    const file = host.analyse(join(root, spec), spec);
    const mod = (await import(pathToFileURL(join(root, "generated", specStem(spec), `${specStem(spec)}.ts`)).href)) as GeneratedModule;
    expect(mod.MODELS.map((m) => m.name)).toEqual([...file.checked.models.keys()]);
    for (const entry of mod.MODELS) {
      const summary = summarize(file.checked.models.get(entry.name)!);
      const model = entry.create();
      try {
        for (const row of summary.rows) {
          // a block use's row sums its layers, which have rows of their own
          if (row.block) continue;
          // A `then` layer (leaky_relu after a dense) carries the nnspec layer's output and no weights of its own.
          let layer = model.getLayer(row.name);
          let params = layer.countParams();
          let trainable = layer.trainableWeights.reduce((a, w) => a + w.shape.reduce((p: number, d) => p * (d ?? 1), 1), 0);
          for (let name = `${row.name}_then`; model.layers.some((l) => l.name === name); name += "_then") {
            layer = model.getLayer(name);
            params += layer.countParams();
            trainable += layer.trainableWeights.reduce((a, w) => a + w.shape.reduce((p: number, d) => p * (d ?? 1), 1), 0);
          }
          const where = `${entry.name}/${row.name}`;
          expect((layer.outputShape as (number | null)[]).slice(1), where).toEqual(row.output.map((d) => d.value ?? null));
          expect(trainable, `${where} trainable`).toBe(row.trainable);
          expect(params - trainable, `${where} frozen`).toBe(row.frozen);
        }
        expect(model.countParams(), `${entry.name} parameters`).toBe(summary.totals.params);
        expect(model.inputs.map((t) => t.shape.slice(1)), `${entry.name} inputs`).toEqual(summary.inputs.map((t) => t.shape.map((d) => d.value ?? null)));
        expect(model.outputs.map((t) => t.shape.slice(1)), `${entry.name} outputs`).toEqual(summary.outputs.map((t) => t.shape.map((d) => d.value ?? null)));
      } finally {
        model.dispose();
      }
    }
  });
});
