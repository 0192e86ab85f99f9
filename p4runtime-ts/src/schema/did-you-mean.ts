/**
 * "Did you mean" suggestions for names that are not in a P4Info: Damerau-Levenshtein (optimal
 * string alignment) distance, compared case-insensitively, so typos, swaps and case slips all rank.
 */

/** Edit distance between two strings (insert, delete, substitute, swap of neighbours each cost 1). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows: the swap rule looks two rows back.
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The candidates closest to `wanted`, best first: those within a distance of about a third of the
 * longer name (at least 1, at most 3), plus any candidate that contains `wanted` or vice versa.
 * @example suggest('acll', ['acl', 'route']) // ['acl']
 */
export function suggest(wanted: string, candidates: Iterable<string>, max = 3): string[] {
  const w = wanted.toLowerCase();
  const scored: { name: string; score: number }[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c)) continue;
    seen.add(c);
    const lc = c.toLowerCase();
    const limit = Math.min(3, Math.max(1, Math.floor(Math.max(w.length, lc.length) / 3)));
    const d = editDistance(w, lc);
    if (d <= limit) scored.push({ name: c, score: d });
    else if (w.length >= 3 && (lc.includes(w) || w.includes(lc))) scored.push({ name: c, score: limit + 1 });
  }
  scored.sort((x, y) => x.score - y.score || x.name.localeCompare(y.name));
  return scored.slice(0, max).map((s) => s.name);
}
