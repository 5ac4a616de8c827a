/** What every command shares: its I/O, usage errors, argument parsing, colour and reading specs. */
import { parseArgs } from "node:util";
import { resolve as resolvePath } from "node:path";
import { FileHost, type CheckedFile } from "../node/host.ts";
import { closest } from "../util/suggest.ts";

/** Where a command writes: process.stdout/stderr, or a test's buffers. */
export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** Wrong usage: main prints the message and the command's usage, exit 2. */
export class UsageError extends Error {}

/** Reports wrong usage of a command with its usage line; returns the exit status, 2. */
export function usageFor(io: Io, usage: string): (message: string) => number {
  return (message) => (io.stderr.write(`error: ${message}\nusage: ${usage}\n`), 2);
}

/** A command: its name, one line for `nnspec help`, its usage, and what it does. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], io: Io): number | Promise<number>;
}

type Options = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

/**
 * Parses a command's flags. Unknown flags and missing values are reported in nnspec's words, with
 * the nearest known flag, as a UsageError (exit 2): never Node's argument-parser text.
 */
export function args<T extends Options>(argv: string[], options: T) {
  const shorts = new Map(Object.entries(options).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") break;
    if (!a.startsWith("-") || a === "-") continue;
    const long = a.startsWith("--");
    const [flag] = (long ? a.slice(2) : a.slice(1)).split("=");
    const name = long ? flag : shorts.get(flag);
    const o = name === undefined ? undefined : options[name];
    if (!o || name === undefined) {
      const guess = closest(flag, [...Object.keys(options), ...shorts.keys()]);
      const shown = guess === undefined ? undefined : guess.length === 1 ? `-${guess}` : `--${guess}`;
      throw new UsageError(`unknown option \`${a.split("=")[0]}\`${shown ? `; did you mean \`${shown}\`?` : ""}`);
    }
    const inline = a.includes("=");
    if (o.type === "boolean" && inline) throw new UsageError(`\`--${name}\` takes no value`);
    if (o.type === "string" && !inline) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) throw new UsageError(`\`--${name}\` needs a value`);
      i++;
    }
  }
  return parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>({ args: argv, options, allowPositionals: true, strict: true });
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
