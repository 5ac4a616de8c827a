/** The interpreter runs in a browser too: its core never touches Node-only APIs. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** Every source file under a folder; build scripts (`build.ts`) run in Node at development time only. */
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith(".ts") && d.name !== "build.ts" ? [join(dir, d.name)] : []));

const CORE = [
  ...sources("src/runtime"),
  ...readdirSync("src/kinds/layers", { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join("src/kinds/layers", d.name, "kernel.ts")),
  "src/kinds/losses/kernels.ts",
  "src/kinds/optimizers/update.ts",
  "src/data/random.ts",
];

describe("runtime purity", () => {
  it.each(CORE)("%s uses no Node-only API", (file) => {
    const text = readFileSync(file, "utf8");
    expect(text).not.toMatch(/from "node:|\bBuffer\b|\bprocess\.|\brequire\(|from "fs"|from "path"/);
  });
});
