/**
 * Helper threads for the interpreter's matrix products (src/core/simd): `useThreads(n)` starts n − 1
 * worker threads that share the product module's memory, so this thread and they each take a band
 * of rows of every large product. Results do not depend on n (each row is summed by one thread in
 * one order). Where memory cannot be shared, everything runs on this thread.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { HELPER_LOOP, sharedKernel, startHelpers, stopHelpers } from "../core/simd/index.ts";

let workers: Worker[] = [];

/** This machine's cores: the default thread count. */
export const defaultThreads = (): number => availableParallelism();

/**
 * Runs the products on `n` threads from now on (this one included; 1: this one alone), stopping any
 * started before. Returns how many threads will run them.
 */
export function useThreads(n: number): number {
  stopThreads();
  const shared = sharedKernel();
  if (!shared || n <= 1) return 1;
  const count = Math.min(n - 1, shared.maxHelpers);
  const session = startHelpers(count);
  workers = Array.from({ length: count }, (_, index) => {
    const w = new Worker(`${HELPER_LOOP}\nconst { workerData: d } = require("node:worker_threads");\nhelperLoop(d.memory, d.bytes, d.index, d.session);\n`, {
      eval: true,
      workerData: { memory: shared.memory, bytes: shared.bytes, index, session },
    });
    // a helper waits for work forever: it must not keep the process alive
    w.unref();
    return w;
  });
  return count + 1;
}

/** Stops the helper threads; the products run on this thread again. */
export function stopThreads(): void {
  if (!workers.length) return;
  stopHelpers();
  for (const w of workers) void w.terminate();
  workers = [];
}
