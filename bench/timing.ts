export interface Timing {
  median: number;
  min: number;
}

/** Runs `fn` `iterations` times and returns the median and the fastest run, in milliseconds. */
export function time(fn: () => void, iterations: number): Timing {
  const ms: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], min: ms[0] };
}

/** Figures of the benchmark running now, written to bench/results/<name>.json when it ends (`bench/run.ts`). */
export const results: Record<string, unknown>[] = [];

/** Adds one row of figures (plain JSON values) to the running benchmark's results. */
export function record(row: Record<string, unknown>): void {
  results.push(row);
}
