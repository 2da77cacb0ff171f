/**
 * The point-in-time choice of DESIGN.md, as a pure function over plain arrays.
 *
 * Candidates are source rows already matched to a key group (all join keys equal). For an entity
 * row with timestamp T the chosen candidate is, among those of its group with ts ≤ T, the greatest
 * by (ts, created, source order) — created nulls lowest ("nulls last" in descending order) and a
 * full tie going to the later source row — provided its ts ≥ T − ttl (ttl 0: no lower bound).
 * Because the greatest candidate with ts ≤ T also has the greatest ts, checking the TTL on it alone
 * is enough: if it is too old, every other candidate is older still.
 *
 * Sorting the candidates once by (group, ts, created, order) makes each entity row one binary
 * search: O((m + n) log m) for m candidates and n entity rows.
 */

/** Source rows that matched some entity key group, in source order. */
export interface Candidates {
  readonly length: number;
  /** Key group of each candidate (an index into the entity side's groups). */
  readonly group: Int32Array;
  /** Event time: whole microseconds since the epoch, and the nanoseconds within. */
  readonly tsUs: Float64Array;
  readonly tsNs: Uint16Array;
  /** Created time; NaN for null (or when the source has no created column). */
  readonly createdUs: Float64Array;
  readonly createdNs: Uint16Array;
}

/** Entity rows: their key group (-1: null key, never matches) and timestamp (NaN: null). */
export interface EntityRows {
  readonly length: number;
  readonly group: Int32Array;
  readonly tsUs: Float64Array;
  readonly tsNs: Uint16Array;
}

/** For each entity row, the index of the chosen candidate, or -1. */
export function pointInTimeChoice(entities: EntityRows, candidates: Candidates, ttlSeconds: number): Int32Array {
  const order = sortCandidates(candidates);
  const { groupStart, groupEnd } = groupRanges(order, candidates.group);
  const chosen = new Int32Array(entities.length).fill(-1);
  const ttlUs = ttlSeconds > 0 ? Math.round(ttlSeconds * 1e6) : 0;
  for (let i = 0; i < entities.length; i++) {
    const g = entities.group[i]!;
    const tUs = entities.tsUs[i]!;
    if (g < 0 || Number.isNaN(tUs)) continue;
    const start = groupStart.get(g);
    if (start === undefined) continue;
    const tNs = entities.tsNs[i]!;
    // Last candidate of the group with ts ≤ T.
    let lo = start;
    let hi = groupEnd.get(g)!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = order[mid]!;
      const ts = candidates.tsUs[c]!;
      if (ts < tUs || (ts === tUs && candidates.tsNs[c]! <= tNs)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === start) continue;
    const best = order[lo - 1]!;
    if (ttlUs > 0) {
      const lowUs = tUs - ttlUs;
      const ts = candidates.tsUs[best]!;
      if (ts < lowUs || (ts === lowUs && candidates.tsNs[best]! < tNs)) continue;
    }
    chosen[i] = best;
  }
  return chosen;
}

/** Candidate indices sorted by (group, ts, created with null lowest, source order). */
function sortCandidates(c: Candidates): Uint32Array {
  const order = new Uint32Array(c.length);
  for (let i = 0; i < c.length; i++) order[i] = i;
  order.sort((a, b) => {
    const byGroup = c.group[a]! - c.group[b]!;
    if (byGroup !== 0) return byGroup;
    const byTs = c.tsUs[a]! - c.tsUs[b]! || c.tsNs[a]! - c.tsNs[b]!;
    if (byTs !== 0) return byTs;
    const ca = c.createdUs[a]!;
    const cb = c.createdUs[b]!;
    const aNull = Number.isNaN(ca);
    const bNull = Number.isNaN(cb);
    if (aNull !== bNull) return aNull ? -1 : 1;
    if (!aNull) {
      const byCreated = ca - cb || c.createdNs[a]! - c.createdNs[b]!;
      if (byCreated !== 0) return byCreated;
    }
    return a - b;
  });
  return order;
}

function groupRanges(order: Uint32Array, group: Int32Array) {
  const groupStart = new Map<number, number>();
  const groupEnd = new Map<number, number>();
  for (let k = 0; k < order.length; k++) {
    const g = group[order[k]!]!;
    if (!groupStart.has(g)) groupStart.set(g, k);
    groupEnd.set(g, k + 1);
  }
  return { groupStart, groupEnd };
}
