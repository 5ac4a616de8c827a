/**
 * `nnspec build` on disk, for every target: analyses the specs, lets the target generate every file
 * in memory, and writes them only when all of them succeeded, each through a temporary file and a
 * rename, so an output file is never half-written and a spec with errors writes nothing.
 */
import { writeFile } from "../node/write.ts";
import { basename, resolve as resolvePath } from "node:path";
import { hasErrors, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { FileHost, type CheckedFile } from "../node/host.ts";

export interface BuiltFile<T extends string | Uint8Array = string | Uint8Array> {
  spec: string;
  /** Absolute path of the generated file. */
  path: string;
  text: T;
}

export interface BuildResult<T extends string | Uint8Array = string | Uint8Array> {
  files: BuiltFile<T>[];
  /** Problems of the specs themselves (checked files with errors stop the build). */
  diagnostics: Diagnostic[];
  /** The checked files, for rendering diagnostics with code frames. */
  checked: CheckedFile[];
  /** Other problems, one line each: unreadable files, what the target cannot express, clashing outputs. */
  errors: string[];
}

/** What a target makes of one spec that checked clean; an Error's message is reported as the spec's. */
export type Generate<T extends string | Uint8Array> = (input: { path: string; stem: string; file: CheckedFile; host: FileHost; outRoot: string; cwd: string }) => Promise<BuiltFile<T>[]>;

/** `iris` from `specs/iris.nnspec`; anything but letters, digits, `_`, `-` and `.` becomes `_`. */
export function specStem(path: string): string {
  const stem = basename(path).replace(/\.nnspec$/i, "").replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_");
  return stem || "spec";
}

/** Generates every spec's files in memory. Nothing is written: see `writeBuilt`. */
export async function buildWith<T extends string | Uint8Array>(paths: string[], opts: { outRoot: string; cwd: string; host?: FileHost }, generate: Generate<T>): Promise<BuildResult<T>> {
  const { cwd } = opts;
  const outRoot = resolvePath(cwd, opts.outRoot);
  const host = opts.host ?? new FileHost();
  const result: BuildResult<T> = { files: [], diagnostics: [], checked: [], errors: [] };
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
      result.errors.push(`${p} and ${clash} would both be generated in ${stem}/: build them with different --out folders`);
      continue;
    }
    byStem.set(stem, p);
    try {
      result.files.push(...(await generate({ path: p, stem, file, host, outRoot, cwd })));
    } catch (e) {
      if (e instanceof TargetError) result.errors.push(`${e.where ?? p}: ${e.message}`);
      else throw e;
    }
  }
  return result;
}

/** A spec the target cannot express: reported at `where` (the spec's path unless given), nothing written. */
export class TargetError extends Error {
  constructor(
    message: string,
    readonly where?: string,
  ) {
    super(message);
  }
}

/** Writes each file atomically (src/node/write.ts); throws an Error naming the file that could not be written. */
export function writeBuilt(files: readonly BuiltFile[]): void {
  for (const f of files) {
    const w = writeFile(f.path, f.text);
    if (!w.ok) throw new Error(w.error);
  }
}
