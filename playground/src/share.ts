/**
 * A spec in the page's address: the fragment holds the example it started from and its text,
 * deflated (fflate) and base64url-encoded, so a link reproduces the page and no server sees the spec.
 */
import { deflateSync, inflateSync, strFromU8, strToU8 } from "fflate";

export interface Shared {
  example: string;
  text?: string;
}

const toBase64Url = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromBase64Url = (s: string): Uint8Array => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

export function encodeShared(s: Shared): string {
  const params = new URLSearchParams({ example: s.example });
  if (s.text !== undefined) params.set("spec", toBase64Url(deflateSync(strToU8(s.text), { level: 9 })));
  return `#${params.toString()}`;
}

/** The fragment's example and spec; a damaged spec is left out (the page opens the example). */
export function decodeShared(hash: string): Partial<Shared> {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const out: Partial<Shared> = {};
  const example = params.get("example");
  if (example) out.example = example;
  const spec = params.get("spec");
  if (spec) {
    try {
      out.text = strFromU8(inflateSync(fromBase64Url(spec)));
    } catch {
      // not a spec this page wrote
    }
  }
  return out;
}
