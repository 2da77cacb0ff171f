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
 * Ordering the candidates once by (group, ts, created, order) makes each entity row one binary
 * search: O((m + n) log m) for m candidates and n entity rows, O(m + n log m) when the source is
 * in time order already.
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
  const { order, groupStart } = sortCandidates(candidates);
  const groupCount = groupStart.length - 1;
  const chosen = new Int32Array(entities.length).fill(-1);
  const ttlUs = ttlSeconds > 0 ? Math.round(ttlSeconds * 1e6) : 0;
  for (let i = 0; i < entities.length; i++) {
    const g = entities.group[i]!;
    const tUs = entities.tsUs[i]!;
    if (g < 0 || g >= groupCount || Number.isNaN(tUs)) continue;
    const start = groupStart[g]!;
    const tNs = entities.tsNs[i]!;
    // Last candidate of the group with ts ≤ T.
    let lo = start;
    let hi = groupStart[g + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = order[mid]!;
      const ts = candidates.tsUs[c]!;
      if (ts < tUs || (ts === tUs && candidates.tsNs[c]! <= tNs)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === start) continue;
    const best = order[lo - 1]!;
    if (ttlUs > 0 && tooOld(candidates, best, tUs, tNs, ttlUs)) continue;
    chosen[i] = best;
  }
  return chosen;
}

/** `choice` with the choices older than T − ttl dropped: a view with a shorter TTL than its group's. */
export function applyTtl(choice: Int32Array, entities: EntityRows, candidates: Candidates, ttlSeconds: number): Int32Array {
  const ttlUs = Math.round(ttlSeconds * 1e6);
  const out = new Int32Array(choice.length);
  for (let i = 0; i < choice.length; i++) {
    const c = choice[i]!;
    out[i] = c >= 0 && tooOld(candidates, c, entities.tsUs[i]!, entities.tsNs[i]!, ttlUs) ? -1 : c;
  }
  return out;
}

function tooOld(candidates: Candidates, c: number, tUs: number, tNs: number, ttlUs: number): boolean {
  const lowUs = tUs - ttlUs;
  const ts = candidates.tsUs[c]!;
  return ts < lowUs || (ts === lowUs && candidates.tsNs[c]! < tNs);
}

/** Compares candidates by (ts, created with null lowest, source order). */
function compareCandidates(c: Candidates, a: number, b: number): number {
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
}

/**
 * Candidate indices ordered by (group, ts, created with null lowest, source order), and where
 * each group starts (`groupStart[g]` to `groupStart[g + 1]`). Groups are placed by counting, in
 * source order; a group's slice is sorted only when it is out of order, which for a source
 * written in time order it is not.
 */
function sortCandidates(c: Candidates): { order: Uint32Array; groupStart: Int32Array } {
  let groupCount = 0;
  for (let i = 0; i < c.length; i++) groupCount = Math.max(groupCount, c.group[i]! + 1);
  const groupStart = new Int32Array(groupCount + 1);
  for (let i = 0; i < c.length; i++) groupStart[c.group[i]! + 1]!++;
  for (let g = 0; g < groupCount; g++) groupStart[g + 1]! += groupStart[g]!;
  const next = groupStart.slice(0, groupCount);
  const order = new Uint32Array(c.length);
  for (let i = 0; i < c.length; i++) order[next[c.group[i]!]!++] = i;
  const compare = (a: number, b: number) => compareCandidates(c, a, b);
  for (let g = 0; g < groupCount; g++) {
    const start = groupStart[g]!;
    const end = groupStart[g + 1]!;
    for (let k = start + 1; k < end; k++) {
      if (compare(order[k - 1]!, order[k]!) > 0) {
        order.subarray(start, end).sort(compare);
        break;
      }
    }
  }
  return { order, groupStart };
}
