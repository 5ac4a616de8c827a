/** Each score's mean and sample standard deviation (n − 1; 0 for one row) over rows of scores. */
export function meanAndSd(rows: readonly Record<string, number>[]): { mean: Record<string, number>; sd: Record<string, number> } {
  const mean: Record<string, number> = {};
  const sd: Record<string, number> = {};
  for (const k of Object.keys(rows[0] ?? {})) {
    const xs = rows.map((r) => r[k]);
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    mean[k] = m;
    sd[k] = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - m) * (x - m), 0) / (xs.length - 1)) : 0;
  }
  return { mean, sd };
}
