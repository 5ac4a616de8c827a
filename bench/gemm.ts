/**
 * The matrix product: GFLOP/s of src/core/gemm.ts for each layout the kernels use (A·B, Aᵀ·B, A·Bᵀ)
 * on square float32 products, n ∈ {64, …, 1024} (`BENCH_GEMM_SIZES` to choose), on one thread and
 * on two (src/node/threads.ts, as `nnspec train --threads 2`), beside TensorFlow.js's `matMul` on
 * its wasm backend in the same process. A multiply-add counts 2.
 */
import * as tf from "@tensorflow/tfjs";
import { gemm } from "../src/core/gemm.ts";
import { Rng } from "../src/core/rng.ts";
import { fusedMultiplyAdd, useFusedMultiplyAdd } from "../src/core/simd/index.ts";
import { stopThreads, useThreads } from "../src/node/threads.ts";
import { record } from "./timing.ts";

export const name = "gemm";

const LAYOUTS = ["AB", "ATB", "ABT"] as const;
type Layout = (typeof LAYOUTS)[number];

/** Seconds per product: repeated until `budget` seconds have passed, the fastest of 3 such rounds. */
function seconds(fn: () => void, budget = 0.25): number {
  fn();
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    let reps = 0;
    const t0 = performance.now();
    do {
      fn();
      reps++;
    } while (performance.now() - t0 < budget * 1000);
    best = Math.min(best, (performance.now() - t0) / 1000 / reps);
  }
  return best;
}

/** C = op(A) · op(B) through gemm's strides. */
function product(layout: Layout, n: number, A: Float32Array, B: Float32Array, C: Float32Array): () => void {
  // A(i, p) at i·ars + p·acs, B(p, j) at p·brs + j·bcs
  const [ars, acs] = layout === "ATB" ? [1, n] : [n, 1];
  const [brs, bcs] = layout === "ABT" ? [1, n] : [n, 1];
  return () => gemm(n, n, n, A, 0, ars, acs, B, 0, brs, bcs, C, 0, n, false);
}

export async function run(): Promise<void> {
  const sizes = (process.env.BENCH_GEMM_SIZES ?? "64,128,256,512,1024").split(",").map(Number);
  let wasm = false;
  try {
    await import("@tensorflow/tfjs-backend-wasm" as string);
    wasm = await tf.setBackend("wasm");
  } catch {
    wasm = false;
  }
  const fused = fusedMultiplyAdd();
  console.log(`gemm: GFLOP/s of square float32 products (higher is better), nnspec on 1 and 2 threads${fused ? " with fused multiply-adds (relaxed SIMD), and on 1 without" : " (no relaxed SIMD here: multiply and add apart)"}${wasm ? ", tfjs-wasm matMul beside it" : " (tfjs-wasm not installed)"}`);
  const rng = new Rng(1);
  const header = ["layout", ...sizes.map(String)];
  const lines: string[][] = [header];
  for (const layout of LAYOUTS) {
    const mine: string[] = [`${layout} nnspec`];
    const two: string[] = [`${layout} nnspec, 2 threads`];
    const plain: string[] = [`${layout} nnspec, unfused`];
    const theirs: string[] = [`${layout} tfjs-wasm`];
    for (const n of sizes) {
      const A = Float32Array.from({ length: n * n }, () => rng.uniform() - 0.5);
      const B = Float32Array.from({ length: n * n }, () => rng.uniform() - 0.5);
      const C = new Float32Array(n * n);
      const flops = 2 * n * n * n;
      for (const threads of [1, 2]) {
        useThreads(threads);
        const g = flops / seconds(product(layout, n, A, B, C)) / 1e9;
        (threads === 1 ? mine : two).push(g.toFixed(1));
        record({ layout, n, threads, impl: "nnspec", gflops: Number(g.toFixed(2)) });
      }
      stopThreads();
      if (fused) {
        // the same product without relaxed SIMD (a platform without it: Safari, Node 20 without the flag)
        useFusedMultiplyAdd(false);
        const g = flops / seconds(product(layout, n, A, B, C)) / 1e9;
        useFusedMultiplyAdd(true);
        plain.push(g.toFixed(1));
        record({ layout, n, threads: 1, impl: "nnspec unfused", gflops: Number(g.toFixed(2)) });
      }
      if (wasm) {
        const a = tf.tensor2d(A, [n, n]);
        const b = tf.tensor2d(B, [n, n]);
        const t = flops / seconds(() => tf.tidy(() => tf.matMul(a, b, layout === "ATB", layout === "ABT")).dataSync()) / 1e9;
        a.dispose();
        b.dispose();
        theirs.push(t.toFixed(1));
        record({ layout, n, threads: 1, impl: "tfjs-wasm", gflops: Number(t.toFixed(2)) });
      }
    }
    lines.push(mine, two);
    if (fused) lines.push(plain);
    if (wasm) lines.push(theirs);
  }
  const widths = header.map((_, c) => Math.max(...lines.map((r) => (r[c] ?? "").length)));
  for (const r of lines) console.log(r.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join("  "));
}
