/**
 * Damerau–Levenshtein distance (adjacent transpositions count as one edit), giving up with
 * `max + 1` as soon as every way forward costs more than `max`: a file with thousands of unknown
 * names compares each with thousands of candidates, so one comparison must be a few row passes.
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  const m = a.length;
  const n = b.length;
  if (Math.abs(m - n) > max) return max + 1;
  // three rows: two back (for transpositions), one back, and the current one
  let back2 = new Int32Array(n + 1);
  let back1 = new Int32Array(n + 1);
  let row = new Int32Array(n + 1);
  for (let j = 0; j <= n; j++) back1[j] = j;
  for (let i = 1; i <= m; i++) {
    row[0] = i;
    let least = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(back1[j] + 1, row[j - 1] + 1, back1[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, back2[j - 2] + 1);
      row[j] = d;
      if (d < least) least = d;
    }
    if (least > max) return max + 1;
    [back2, back1, row] = [back1, row, back2];
  }
  return Math.min(back1[n], max + 1);
}

const MAX_WORD = 64;

/** The candidate nearest to `word`, if it is near enough to be a plausible typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  // Typos are short: a very long word is pasted text, and comparing it costs length².
  if (word.length > MAX_WORD) return undefined;
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (c === word || Math.abs(c.length - word.length) > limit) continue;
    const d = editDistance(w, c.toLowerCase(), Math.min(limit, bestD));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= limit && bestD < word.length ? best : undefined;
}
