/**
 * Python's `difflib.get_close_matches`, which click uses for its "Did you mean" suggestions: a port
 * small enough to keep larder's suggestions the same as Feast's for the same typo. Only the parts
 * click reaches are here (no junk heuristics: they apply to sequences of 200 items or more).
 */

/** Sum of the sizes of difflib's matching blocks between `a` and `b` (SequenceMatcher(None, a, b)). */
function matchingCharacters(a: string, b: string): number {
  const b2j = new Map<string, number[]>();
  for (let j = 0; j < b.length; j++) {
    const list = b2j.get(b[j]!);
    if (list) list.push(j);
    else b2j.set(b[j]!, [j]);
  }
  // find_longest_match: the longest common block, the earliest in `a`, then in `b`, on ties.
  const longest = (alo: number, ahi: number, blo: number, bhi: number): [number, number, number] => {
    let [besti, bestj, bestsize] = [alo, blo, 0];
    let j2len = new Map<number, number>();
    for (let i = alo; i < ahi; i++) {
      const next = new Map<number, number>();
      for (const j of b2j.get(a[i]!) ?? []) {
        if (j < blo) continue;
        if (j >= bhi) break;
        const k = (j2len.get(j - 1) ?? 0) + 1;
        next.set(j, k);
        if (k > bestsize) [besti, bestj, bestsize] = [i - k + 1, j - k + 1, k];
      }
      j2len = next;
    }
    return [besti, bestj, bestsize];
  };
  // get_matching_blocks: the longest block, then recursively the parts on either side of it.
  let total = 0;
  const queue: [number, number, number, number][] = [[0, a.length, 0, b.length]];
  while (queue.length > 0) {
    const [alo, ahi, blo, bhi] = queue.pop()!;
    const [i, j, k] = longest(alo, ahi, blo, bhi);
    if (k === 0) continue;
    total += k;
    if (alo < i && blo < j) queue.push([alo, i, blo, j]);
    if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
  }
  return total;
}

/**
 * The (at most `n`) candidates whose similarity ratio to `word` is at least `cutoff`, best first
 * (ties: the greater string first), exactly as `difflib.get_close_matches(word, candidates)`.
 */
export function closeMatches(word: string, candidates: readonly string[], n = 3, cutoff = 0.6): string[] {
  const scored: [number, string][] = [];
  for (const candidate of candidates) {
    const length = candidate.length + word.length;
    const ratio = length === 0 ? 1 : (2.0 * matchingCharacters(candidate, word)) / length;
    if (ratio >= cutoff) scored.push([ratio, candidate]);
  }
  scored.sort(([ra, a], [rb, b]) => rb - ra || (a < b ? 1 : a > b ? -1 : 0));
  return scored.slice(0, n).map(([, candidate]) => candidate);
}
