/**
 * Helper threads for the interpreter's matrix products (src/core/simd) in Node: `useThreads(n)`
 * starts n − 1 worker threads that share the product module's memory, so this thread and they each
 * take chunks of rows of every large product (and of images of convolutions' windows and max
 * pooling, or parts of a long sum fixed by its length). Results do not depend on n (each value is
 * summed by one thread in one order). Where
 * memory cannot be shared, everything runs on this thread.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { HELPER_LOOP, spawnHelpers, stopHelpers } from "../core/simd/index.ts";

let workers: Worker[] = [];

/** This machine's cores: the default thread count. */
export const defaultThreads = (): number => availableParallelism();

const SOURCE = `${HELPER_LOOP}\nconst { workerData: d } = require("node:worker_threads");\nhelperLoop(d.memory, d.bytes, d.index, d.session);\n`;

/**
 * Runs the products on `n` threads from now on (this one included; 1: this one alone), stopping any
 * started before. Returns how many threads will run them.
 */
export function useThreads(n: number): number {
  stopThreads();
  return spawnHelpers(n, (start) => {
    const w = new Worker(SOURCE, { eval: true, workerData: start });
    // a helper waits for work forever: it must not keep the process alive
    w.unref();
    workers.push(w);
  });
}

/** Stops the helper threads; the products run on this thread again. */
export function stopThreads(): void {
  stopHelpers();
  for (const w of workers) void w.terminate();
  workers = [];
}
