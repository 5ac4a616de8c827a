/**
 * The pipeline runs one way: a folder may import only from its own level or a level below it
 * (ARCHITECTURE.md, "Layers"). Peers at one level do not import each other.
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/** Lowest first. Each entry is a level; the names are paths under src/. */
export const LEVELS: string[][] = [
  ["util", "diagnostics"],
  ["core"],
  ["syntax"],
  ["kinds"],
  ["lang"],
  ["format", "data"],
  ["check"],
  ["analyse.ts", "saved"],
  ["node"],
  ["runtime", "codegen", "graph", "interop"],
  ["lsp"],
  ["cli"],
];

const SRC = resolve("src");

function unitOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.split("/")[0];
}

function levelOf(unit: string): number {
  const i = LEVELS.findIndex((l) => l.includes(unit));
  if (i < 0) throw new Error(`src/${unit} has no level in test/arch/layering.test.ts`);
  return i;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

export function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) out.push(resolve(dirname(file), m[1]));
  return out;
}

/** Why importing `target` from `file` breaks the direction, or undefined when it does not. */
function verdict(file: string, target: string): string | undefined {
  if (target === resolve("package.json")) return undefined; // the version (src/core/version.ts)
  if (!target.startsWith(SRC + "/")) return `${relative(".", file)} imports ${relative(".", target)}, outside src/`;
  const from = unitOf(file);
  const to = unitOf(target);
  if (to === from || levelOf(to) < levelOf(from)) return undefined;
  return `${relative(".", file)} (${from}, level ${levelOf(from)}) imports ${relative(".", target)} (${to}, level ${levelOf(to)})`;
}

describe("layering", () => {
  it("every folder of src/ has a level", () => {
    for (const e of readdirSync(SRC)) expect(levelOf(e)).toBeGreaterThanOrEqual(0);
  });

  it("no file imports from a higher level or from a peer at its level", () => {
    const wrong: string[] = [];
    for (const file of sources(SRC)) {
      for (const target of importsOf(file)) {
        const why = verdict(file, target);
        if (why) wrong.push(why);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("keeps Node's APIs out of the stages that also run in a browser", () => {
    const pure = ["core", "kinds", "lang", "check", "runtime", "syntax", "diagnostics", "util"];
    const wrong: string[] = [];
    for (const file of sources(SRC)) {
      if (!pure.includes(unitOf(file)) || file === resolve(SRC, "core/simd/build.ts")) continue;
      const text = readFileSync(file, "utf8");
      if (/from\s+["']node:|\bprocess\.(env|argv|cwd|exit|stdout|stderr|stdin)\b/.test(text)) wrong.push(relative(".", file));
    }
    expect(wrong).toEqual([]);
  });

  it("flags an upward import, a peer import and an escape from src/, and allows a downward one", () => {
    const at = (p: string) => resolve(SRC, p);
    expect(verdict(at("kinds/layers/dense/kernel.ts"), at("runtime/plan.ts"))).toMatch(/level 3\) imports .*level 9\)/);
    expect(verdict(at("codegen/tfjs/emit.ts"), at("runtime/train.ts"))).toBeDefined();
    expect(verdict(at("core/dims.ts"), resolve("test/arch/layering.test.ts"))).toMatch(/outside src/);
    expect(verdict(at("runtime/plan.ts"), at("kinds/layers/dense/kernel.ts"))).toBeUndefined();
    expect(verdict(at("check/model.ts"), at("check/ir.ts"))).toBeUndefined();
  });
});

describe("runtime dependencies", () => {
  it("every package src/ imports is in package.json's dependencies (devDependencies are not installed for users)", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> };
    // Development scripts that run only in a clone.
    const devOnly = new Set([resolve(SRC, "core/simd/build.ts")]);
    const missing: string[] = [];
    for (const file of sources(SRC)) {
      if (devOnly.has(file)) continue;
      const text = readFileSync(file, "utf8");
      const statics = text.matchAll(/^\s*(?:import|export)\s[^"';]*?from\s+["']([^."'][^"']*)["']/gm);
      const dynamics = text.matchAll(/\bimport\(\s*["']([^."'][^"']*)["']\s*\)/g);
      for (const m of [...statics, ...dynamics]) {
        const spec = m[1];
        if (spec.startsWith("node:")) continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        if (!(name in pkg.dependencies)) missing.push(`${relative(".", file)} imports ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
