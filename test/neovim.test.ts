/**
 * The README's Neovim 0.7-0.9 recipe, run as written in Debian's Neovim (headless): a broken spec
 * gets its diagnostics, hover answers, and the offered fix applies. .ci/run installs `neovim`;
 * elsewhere this skips unless `nvim` is installed (`apt-get install neovim`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(".");
const hasNvim = spawnSync("nvim", ["--version"], { encoding: "utf8" }).status === 0;
if (!hasNvim) {
  if (process.env.CI) throw new Error("nvim is missing in CI: .ci/run installs Debian's neovim");
  console.log("skipping the Neovim test: install Neovim (apt-get install neovim) to run it");
}

/** The lua block under the README's "Neovim 0.7 to 0.9" heading, verbatim. */
function recipe(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf("#### Neovim 0.7 to 0.9");
  expect(at).toBeGreaterThan(0);
  return /```lua\n([\s\S]*?)```/.exec(readme.slice(at))![1];
}

describe.skipIf(!hasNvim)("the README's Neovim 0.7-0.9 recipe", () => {
  it("shows a broken spec's diagnostics, answers hover and applies a fix", () => {
    const dir = mkdtempSync(join(tmpdir(), "nnspec-nvim-"));
    try {
      // `nnspec` on the PATH, as the recipe expects.
      mkdirSync(join(dir, "bin"));
      writeFileSync(join(dir, "bin", "nnspec"), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, "bin", "nnspec.mjs")}" "$@"\n`);
      chmodSync(join(dir, "bin", "nnspec"), 0o755);
      writeFileSync(join(dir, "init.lua"), recipe());
      writeFileSync(join(dir, "broken.nnspec"), "model m(x: [4]) -> [3] {\n  dens 8 relu\n  dense 3\n}\n");
      const out = join(dir, "out.json");
      execFileSync("nvim", ["--headless", "-u", "init.lua", "-c", `luafile ${join(ROOT, "test", "fixtures", "neovim", "probe.lua")}`, "broken.nnspec"], {
        cwd: dir,
        env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH}`, PROBE_OUT: out },
        timeout: 60_000,
        stdio: "ignore",
      });
      const seen = JSON.parse(readFileSync(out, "utf8")) as { filetype: string; diagnostics: { lnum: number; code: string; message: string }[]; hover?: string; action?: string; text: string };
      expect(seen.filetype).toBe("nnspec");
      expect(seen.diagnostics.map((d) => `${d.code}@${d.lnum + 1}`)).toEqual(["NN0201@2"]);
      expect(seen.diagnostics[0].message).toContain("unknown layer kind `dens`");
      expect(seen.hover).toContain("**dense**");
      expect(seen.action).toBe("replace with `dense`");
      expect(seen.text).toBe("model m(x: [4]) -> [3] {\n  dense 8 relu\n  dense 3\n}");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
