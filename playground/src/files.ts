/** The specs and data the workers read, in their in-memory file system (memfs). */
import { vol } from "memfs";

/** Files by absolute path: text, or base64 for binary files. */
export interface Files {
  files: Record<string, string | { base64: string }>;
}

const bytes = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** Writes files into the in-memory file system, making their folders. */
export function writeFiles(files: Files["files"]): void {
  for (const [path, content] of Object.entries(files)) {
    vol.mkdirSync(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true });
    vol.writeFileSync(path, typeof content === "string" ? content : bytes(content.base64));
  }
}
