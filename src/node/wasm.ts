/**
 * Turns on WebAssembly's relaxed SIMD in Node 20, whose V8 (11.3) has it only behind a flag (it is
 * on by default from V8 11.4: Node 22, Chrome 114), so the interpreter's products use the fused
 * multiply-add (src/core/simd). Call it before the first product: the module is chosen when it
 * first loads. V8's flags are the process's, so helper threads see it too.
 */
import { setFlagsFromString } from "node:v8";
import { relaxedSimd } from "../core/simd/index.ts";

export function enableRelaxedSimd(): boolean {
  if (!relaxedSimd()) setFlagsFromString("--experimental-wasm-relaxed-simd");
  return relaxedSimd();
}
