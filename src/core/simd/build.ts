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

/** The line of gemm.wat that declares its memory, and the one the threaded form imports instead. */
const OWN_MEMORY = '(memory (export "memory") 1)';
const SHARED_MEMORY = '(import "env" "memory" (memory 1 16384 shared))';

/**
 * The kernels' multiply-adds (`$block`, `$block6`: C tile += A splat × B row), and the fused form relaxed SIMD
 * gives them: one rounding instead of two, and on x86 with FMA one instruction, so the tile's sums are
 * bound by the multiply-add's latency rather than by instruction count (bench/README.md).
 */
const MULTIPLY_ADD = /\(f32x4\.add \(local\.get (\$c\d\d)\) \(f32x4\.mul \(local\.get \$x\) \(local\.get (\$b\d)\)\)\)/g;
const FUSED = "(f32x4.relaxed_madd (local.get $x) (local.get $2) (local.get $1))";
const KERNEL_MULTIPLY_ADDS = 8 + 12;

/**
 * The text of bytes.ts for the current gemm.wat: the module with its own memory and the one that
 * imports a shared memory (threads), each plain and with fused multiply-adds (relaxed SIMD).
 */
export async function assemble(): Promise<string> {
  const tools = await wabt();
  const source = readFileSync(join(SIMD_DIR, "gemm.wat"), "utf8");
  if (!source.includes(OWN_MEMORY)) throw new Error(`gemm.wat must declare its memory as ${OWN_MEMORY}`);
  const bytes = (text: string): Uint8Array => {
    const features = { simd: true, threads: true, relaxed_simd: true, bulk_memory: true };
    const module = tools.parseWat("gemm.wat", text, features);
    // (wabt's types omit validate's features, which it needs for the shared memory)
    (module.validate as (f: object) => void)(features);
    const { buffer } = module.toBinary({});
    module.destroy();
    return buffer;
  };
  const constant = (name: string, buffer: Uint8Array): string[] => {
    const lines = btoa(String.fromCharCode(...buffer)).match(/.{1,100}/g) ?? [];
    return [`// ${buffer.length} bytes of WebAssembly, base64.`, `export const ${name} =`, ...lines.map((l, i) => `  "${l}"${i === lines.length - 1 ? ";" : " +"}`)];
  };
  const fused = source.replace(MULTIPLY_ADD, FUSED);
  const count = source.match(MULTIPLY_ADD)?.length ?? 0;
  if (count !== KERNEL_MULTIPLY_ADDS) throw new Error(`gemm.wat's kernel must spell its ${KERNEL_MULTIPLY_ADDS} multiply-adds as (f32x4.add (local.get $cRC) (f32x4.mul (local.get $x) (local.get $bC))); found ${count}`);
  const shared = (text: string) => text.replace(OWN_MEMORY, SHARED_MEMORY);
  return [
    "// Generated from gemm.wat by `npm run wasm` (src/core/simd/build.ts): do not edit.",
    ...constant("GEMM_WASM_BASE64", bytes(source)),
    "// The same module importing a shared memory (env.memory, at most 1 GiB), which helper threads share.",
    ...constant("GEMM_WASM_SHARED_BASE64", bytes(shared(source))),
    "// Both again with the kernel's multiply-adds fused (relaxed SIMD), where the platform has it.",
    ...constant("GEMM_FUSED_WASM_BASE64", bytes(fused)),
    ...constant("GEMM_FUSED_WASM_SHARED_BASE64", bytes(shared(fused))),
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(join(SIMD_DIR, "bytes.ts"), await assemble());
  console.log("wrote src/core/simd/bytes.ts");
}
