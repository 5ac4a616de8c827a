/**
 * `nnspec build --target tfjs` on disk: analyses the specs, generates every module in memory, and
 * writes them only when all of them succeeded, each through a temporary file and a rename, so an
 * output file is never half-written and a spec with errors writes nothing.
 *
 * Layout: `<out>/<stem>/<stem>.ts` for `<stem>.nnspec` (out defaults to `generated`). The module
 * imports the data runtime and finds the spec's data by paths relative to itself, so the folder can
 * be regenerated anywhere inside this repository (or next to an installed nnspec).
 */
import { writeFile } from "../../node/write.ts";
import { basename, dirname, join, relative, resolve as resolvePath, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { hasErrors, type Diagnostic } from "../../diagnostics/diagnostic.ts";
import { FileHost, type CheckedFile } from "../../node/host.ts";
import { CodegenError, generateTfjs } from "./index.ts";

/** The data runtime generated modules import. */
export const RUNTIME_MODULE = fileURLToPath(new URL("../../data/runtime.ts", import.meta.url));
export const HELPERS_MODULE = fileURLToPath(new URL("./runtime.ts", import.meta.url));

export interface BuiltFile {
  spec: string;
  /** Absolute path of the generated module. */
  path: string;
  text: string;
}

export interface BuildResult {
  files: BuiltFile[];
  /** Problems of the specs themselves (checked files with errors stop the build). */
  diagnostics: Diagnostic[];
  /** The checked files, for rendering diagnostics with code frames. */
  checked: CheckedFile[];
  /** Other problems, one line each: unreadable files, what TensorFlow.js cannot express, clashing outputs. */
  errors: string[];
}

/** `iris` from `specs/iris.nnspec`; anything but letters, digits, `_`, `-` and `.` becomes `_`. */
export function specStem(path: string): string {
  const stem = basename(path).replace(/\.nnspec$/i, "").replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_");
  return stem || "spec";
}

const posix = (p: string): string => p.split(sep).join("/");
const relImport = (from: string, to: string): string => {
  const r = posix(relative(from, to));
  return r.startsWith(".") ? r : `./${r}`;
};

/**
 * Generates the module of every spec in memory. Nothing is written: see `writeBuilt`. `cwd` is
 * where paths are shown from (the header's run command); `outRoot` defaults to `<cwd>/generated`.
 */
export async function buildSpecs(paths: string[], opts: { outRoot?: string; cwd?: string; host?: FileHost } = {}): Promise<BuildResult> {
  const cwd = opts.cwd ?? process.cwd();
  const outRoot = resolvePath(cwd, opts.outRoot ?? "generated");
  const host = opts.host ?? new FileHost();
  const result: BuildResult = { files: [], diagnostics: [], checked: [], errors: [] };
  const byStem = new Map<string, string>();
  for (const p of paths) {
    let file: CheckedFile;
    try {
      file = host.analyse(resolvePath(cwd, p), p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      result.errors.push(`cannot read ${p}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message}`);
      continue;
    }
    result.checked.push(file);
    result.diagnostics.push(...file.diagnostics);
    if (hasErrors(file.diagnostics)) continue;
    const stem = specStem(p);
    const clash = byStem.get(stem);
    if (clash !== undefined) {
      result.errors.push(`${p} and ${clash} would both be generated as ${stem}/${stem}.ts: build them with different --out folders`);
      continue;
    }
    byStem.set(stem, p);
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
      result.files.push({ spec: p, path: outFile, text });
    } catch (e) {
      if (e instanceof CodegenError) result.errors.push(`${e.file || p}${e.line ? `:${e.line}` : ""}: ${e.message}`);
      else throw e;
    }
  }
  return result;
}

/** Writes each file atomically (src/node/write.ts); throws an Error naming the file that could not be written. */
export function writeBuilt(files: readonly BuiltFile[]): void {
  for (const f of files) {
    const w = writeFile(f.path, f.text);
    if (!w.ok) throw new Error(w.error);
  }
}
