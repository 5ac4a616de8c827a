/**
 * Assembles src/core/simd/gemm.wat into src/core/simd/bytes.ts (the module as base64, so the
 * interpreter loads it without a file system, in a browser too). Run `npm run wasm` after editing
 * the .wat; test/runtime/simd.test.ts fails while bytes.ts is stale. Development only: runs in Node.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import wabt from "wabt";

export const SIMD_DIR = dirname(fileURLToPath(import.meta.url));

/** The text of bytes.ts for the current gemm.wat. */
export async function assemble(): Promise<string> {
  const tools = await wabt();
  const source = readFileSync(join(SIMD_DIR, "gemm.wat"), "utf8");
  const module = tools.parseWat("gemm.wat", source, { simd: true });
  module.validate();
  const { buffer } = module.toBinary({});
  module.destroy();
  const base64 = btoa(String.fromCharCode(...buffer));
  const lines = base64.match(/.{1,100}/g) ?? [];
  return [
    "// Generated from gemm.wat by `npm run wasm` (src/core/simd/build.ts): do not edit.",
    `// ${buffer.length} bytes of WebAssembly, base64.`,
    "export const GEMM_WASM_BASE64 =",
    ...lines.map((l, i) => `  "${l}"${i === lines.length - 1 ? ";" : " +"}`),
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(join(SIMD_DIR, "bytes.ts"), await assemble());
  console.log("wrote src/core/simd/bytes.ts");
}
