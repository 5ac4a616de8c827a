/**
 * The one way nnspec writes a file: write-file-atomic (npm's own, used by npm to write
 * package.json) writes a temporary file beside it, fsyncs and renames it over the target, so a
 * reader never sees half a file. It writes through a symlink to its target and keeps the
 * file's mode and owner.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import writeFileAtomic from "write-file-atomic";

/** Writes `data` to `path` atomically, making its folder if needed; an error names the file and says nothing was written. */
export function writeFile(path: string, data: string | Uint8Array): { ok: true } | { ok: false; error: string } {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic.sync(path, typeof data === "string" ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return { ok: true };
  } catch (e) {
    return { ok: false, error: `cannot write ${path}: ${(e as Error).message}; nothing was written` };
  }
}
