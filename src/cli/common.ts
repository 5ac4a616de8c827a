/** What every command shares: its I/O, usage errors, argument parsing, colour and reading specs. */
import { parseArgs } from "node:util";
import { resolve as resolvePath } from "node:path";
import { FileHost, type CheckedFile } from "../node/host.ts";

/** Where a command writes: process.stdout/stderr, or a test's buffers. */
export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** Wrong usage: main prints the message and the command's usage, exit 2. */
export class UsageError extends Error {}

/** A command: its name, one line for `nnspec help`, its usage, and what it does. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], io: Io): number | Promise<number>;
}

export function args(argv: string[], options: NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>) {
  return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
}

export function useColor(io: Io, values: Record<string, unknown>): boolean {
  if (values.color === true) return true;
  if (values["no-color"] === true || process.env.NO_COLOR) return false;
  return Boolean(io.stderr.isTTY ?? io.stdout.isTTY);
}

/** Reads and analyses each spec; one that cannot be read is an error line, counted. */
export function analyse(paths: string[], io: Io): { files: CheckedFile[]; unreadable: number } {
  const host = new FileHost();
  const files: CheckedFile[] = [];
  let unreadable = 0;
  for (const p of paths) {
    try {
      files.push(host.analyse(resolvePath(p), p));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      io.stderr.write(`error: cannot read ${p}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message}\n`);
      unreadable++;
    }
  }
  return { files, unreadable };
}
