// node:fs in the playground: the in-memory volume the page fills with the specs and their data.
import { fs } from "memfs";

export default fs;
export const { closeSync, existsSync, fchmodSync, fchownSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, writeSync } = fs;
export type Stats = ReturnType<typeof fs.statSync>;
