/**
 * The point-in-time rule (larder's DESIGN.md, Feast's intended rule): for an entity row with key K
 * and time T, the source row with key K and the greatest event time ts ≤ T, ties broken by the
 * greater created time (nulls lowest), then by the later source row — provided T − ttl ≤ ts
 * (ttl 0: no lower bound). Null keys and null times never match.
 */

/** One version of a row: its event time and created time, in nanoseconds (null when absent). */
export interface Version {
  readonly ts: bigint;
  readonly created: bigint | null;
}

/** Orders versions by (event time, created time with null lowest); 0 for a full tie. */
export function compareVersions(a: Version, b: Version): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.created === b.created) return 0;
  if (a.created === null) return -1;
  if (b.created === null) return 1;
  return a.created < b.created ? -1 : 1;
}

/** The columns of a source the rule reads: key, event time and created time of every row. */
export interface SourceRows {
  readonly keys: readonly (string | null)[];
  readonly ts: readonly (bigint | null)[];
  readonly created: readonly (bigint | null)[] | null;
}

/** For each entity row (its key and time), the index of the chosen source row, or -1. */
export function pointInTimeRows(
  source: SourceRows,
  entityKeys: readonly (string | null)[],
  entityTs: readonly (bigint | null)[],
  ttlSeconds: number,
): Int32Array {
  // Rows of each key, ordered by version, a full tie by source order (so the later row sorts last).
  const versionOf = (row: number): Version => ({ ts: source.ts[row]!, created: source.created?.[row] ?? null });
  const byKey = new Map<string, number[]>();
  source.keys.forEach((key, row) => {
    if (key === null || source.ts[row] === null) return;
    const rows = byKey.get(key);
    if (rows) rows.push(row);
    else byKey.set(key, [row]);
  });
  for (const rows of byKey.values()) rows.sort((a, b) => compareVersions(versionOf(a), versionOf(b)) || a - b);

  const ttlNs = BigInt(Math.round(ttlSeconds * 1e9));
  const chosen = new Int32Array(entityKeys.length).fill(-1);
  entityKeys.forEach((key, i) => {
    const t = entityTs[i];
    const rows = key === null ? undefined : byKey.get(key);
    if (!rows || t === null || t === undefined) return;
    // Binary search: the number of rows with ts ≤ T; the last of them is the candidate.
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (source.ts[rows[mid]!]! <= t) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return;
    const best = rows[lo - 1]!;
    if (ttlNs > 0n && source.ts[best]! < t - ttlNs) return;
    chosen[i] = best;
  });
  return chosen;
}
