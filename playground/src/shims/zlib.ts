// node:zlib in the playground: gzip by fflate, for the course data sets stored as .gz. With
// `finishFlush` (reading a file's first bytes for its header) a cut stream gives what it holds.
import { Gunzip, gunzipSync as inflate } from "fflate";

export const constants = { Z_SYNC_FLUSH: 2 };

export function gunzipSync(data: Uint8Array, options?: { finishFlush?: number }): Uint8Array {
  if (options?.finishFlush === undefined) return inflate(data);
  const parts: Uint8Array[] = [];
  new Gunzip((chunk) => parts.push(chunk)).push(data, false);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function gunzip(data: Uint8Array, done: (e: Error | null, out?: Uint8Array) => void): void {
  try {
    done(null, inflate(data));
  } catch (e) {
    done(e as Error);
  }
}
