/** The SHA-256 of a spec's text, as saved models record it (nnspec.json `spec.sha256`). */
import { createHash } from "node:crypto";

export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
