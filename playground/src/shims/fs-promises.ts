// node:fs/promises in the playground, over the same in-memory volume.
import { fs } from "memfs";

export const readFile = fs.promises.readFile;
