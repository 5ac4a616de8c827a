/**
 * `nnspec build --target tfjs` on disk: analyses the specs, generates every module in memory, and
 * writes them only when all of them succeeded, each through a temporary file and a rename, so an
 * output file is never half-written and a spec with errors writes nothing.
 *
 * Layout: `<out>/<stem>/<stem>.ts` for `<stem>.nnspec` (out defaults to `generated`). The module
 * imports the data runtime and finds the spec's data by paths relative to itself, so the folder can
 * be regenerated anywhere inside this repository (or next to an installed nnspec).
 */
import { dirname, join, relative, resolve as resolvePath, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FileHost } from "../../node/host.ts";
import { buildWith, TargetError, type BuildResult } from "../build.ts";
import { CodegenError, generateTfjs } from "./index.ts";

/** The data runtime generated modules import. */
export const RUNTIME_MODULE = fileURLToPath(new URL("../../data/runtime.ts", import.meta.url));
export const HELPERS_MODULE = fileURLToPath(new URL("./runtime.ts", import.meta.url));

export { specStem, writeBuilt, type BuildResult, type BuiltFile } from "../build.ts";

const posix = (p: string): string => p.split(sep).join("/");
const relImport = (from: string, to: string): string => {
  const r = posix(relative(from, to));
  return r.startsWith(".") ? r : `./${r}`;
};

/**
 * Generates the module of every spec in memory. Nothing is written: see `writeBuilt`. `cwd` is
 * where paths are shown from (the header's run command); `outRoot` defaults to `<cwd>/generated`.
 */
export async function buildSpecs(paths: string[], opts: { outRoot?: string; cwd?: string; host?: FileHost } = {}): Promise<BuildResult<string>> {
  const cwd = opts.cwd ?? process.cwd();
  return buildWith(paths, { outRoot: opts.outRoot ?? "generated", cwd, host: opts.host }, async ({ path: p, stem, file, host, outRoot }) => {
    const outDir = join(outRoot, stem);
    const outFile = join(outDir, `${stem}.ts`);
    const specAbs = resolvePath(cwd, p);
    const sources = new Map<string, string>([[file.path, file.text]]);
    const source = (f: string): string | undefined => {
      if (!sources.has(f)) {
        try {
          sources.set(f, host.analyse(resolvePath(cwd, f), f).text);
        } catch {
          return undefined;
        }
      }
      return sources.get(f);
    };
    try {
      const text = await generateTfjs({
        specPath: posix(p),
        checked: file.checked,
        source,
        runtimeImport: relImport(outDir, RUNTIME_MODULE),
        helpersImport: relImport(outDir, HELPERS_MODULE),
        specDir: posix(relative(outDir, dirname(specAbs))) || ".",
        runCommand: `npx tsx ${posix(relative(cwd, outFile))}`,
      });
      return [{ spec: p, path: outFile, text }];
    } catch (e) {
      if (e instanceof CodegenError) throw new TargetError(e.message, `${e.file || p}${e.line ? `:${e.line}` : ""}`);
      throw e;
    }
  });
}
