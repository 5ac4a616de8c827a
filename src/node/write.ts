/**
 * The one way nnspec writes a file. It writes a temporary file beside the target, checks that
 * every byte landed, fsyncs and renames it over the target, so a reader never sees half a file and
 * a full disk leaves the old file as it was. It writes through a symlink to its target and keeps
 * the file's mode and owner. A file with several hard links is rewritten in place instead (a
 * rename would split it from its other names); if that write fails, its old bytes are put back.
 *
 * Not write-file-atomic: its 6.0.0 issues one write() and ignores a short count, so on a nearly
 * full disk it renamed a truncated file over the original and reported success.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, fchownSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";

type Written = { ok: true } | { ok: false; error: string };

/** Writes `data` to `path` atomically, making its folder if needed; an error names the file and says nothing was written. */
export function writeFile(path: string, data: string | Uint8Array): Written {
  const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const target = realTarget(path);
  const old = statOf(target);
  try {
    if (old?.isFile() && old.nlink > 1) return writeInPlace(target, bytes, path);
    mkdirSync(dirname(target), { recursive: true });
    replace(target, bytes, old);
    return { ok: true };
  } catch (e) {
    return { ok: false, error: `cannot write ${path}: ${(e as Error).message}; nothing was written` };
  }
}

/** The file a symlink chain ends at (the path itself when it does not exist yet). */
function realTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Every byte, however many write() calls it takes (a full disk answers with a short count first). */
function writeAll(fd: number, bytes: Buffer): void {
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at, at);
  ftruncateSync(fd, bytes.length);
  fsyncSync(fd);
}

function replace(target: string, bytes: Buffer, old: Stats | undefined): void {
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  let fd: number | undefined = openSync(tmp, "wx", 0o666);
  try {
    writeAll(fd, bytes);
    if (old) {
      try {
        fchownSync(fd, old.uid, old.gid);
      } catch {
        // only root may give a file away; the mode below still holds
      }
      fchmodSync(fd, old.mode & 0o7777);
    }
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  syncFolder(dirname(target));
}

/** Makes the rename itself durable; some file systems refuse to fsync a folder, which is fine. */
function syncFolder(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

function writeInPlace(target: string, bytes: Buffer, shown: string): Written {
  const old = readFileSync(target);
  const fd = openSync(target, "r+");
  try {
    writeAll(fd, bytes);
    return { ok: true };
  } catch (e) {
    const why = (e as Error).message;
    try {
      // The old bytes fit where they were.
      writeAll(fd, old);
    } catch (again) {
      return { ok: false, error: `cannot write ${shown}: ${why}; putting its old text back failed too (${(again as Error).message})` };
    }
    return { ok: false, error: `cannot write ${shown}: ${why}; nothing was written` };
  } finally {
    closeSync(fd);
  }
}
