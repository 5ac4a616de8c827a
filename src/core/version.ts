/** nnspec's version, read from package.json: the one place it is written. */
import pkg from "../../package.json" with { type: "json" };

export const NNSPEC_VERSION: string = pkg.version;
