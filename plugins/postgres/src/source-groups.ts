/**
 * Requested views that read the same source the same way, answered by one point-in-time match.
 *
 * The row a view wants for an entity row is its source's latest row at or before T (ties settled
 * by created, then load order), and which row that is does not depend on the view's TTL: the TTL
 * only decides whether that row is recent enough to count (if the latest row is older than
 * T − ttl, every earlier one is older still). So views with the same relation, key columns,
 * entity key names, timestamp and created columns share one match — one sort or one join of the
 * source instead of one per view — made within the group's widest TTL; each view then keeps the
 * matched row's features only when its timestamp is within its own TTL.
 */
import type { ViewQuery } from './point-in-time-sql.ts';
import { ident, interval } from './sql.ts';

export interface SourceGroup {
  /** The group's first view: its relation, keys, timestamp and created columns are everyone's. */
  readonly first: ViewQuery;
  readonly views: readonly ViewQuery[];
  /** The widest TTL of the group's views in seconds; 0 (unbounded) when one of them has none. */
  readonly ttlSeconds: number;
  /** The raw feature columns any of its views asked for, each once, as the match carries them. */
  readonly featureColumns: readonly string[];
  /** Whether a view must check the matched row's timestamp, so the match has to carry it. */
  readonly needsTimestamp: boolean;
}

/** The TTL check a view needs beyond its group's: a TTL, and one narrower than the group's. */
function narrowerTtl(q: ViewQuery, group: { readonly ttlSeconds: number }): boolean {
  return q.view.ttlSeconds > 0 && q.view.ttlSeconds !== group.ttlSeconds;
}

/** The groups of `views`, in the order of their first views. */
export function groupBySource(views: readonly ViewQuery[]): SourceGroup[] {
  const byKey = new Map<string, ViewQuery[]>();
  for (const q of views) {
    // The relation's SQL text, not the data source's name: two sources over one table share a scan.
    const key = JSON.stringify([q.table.from, q.keyColumns, q.entityKeyNames, q.timestampColumn, q.createdColumn]);
    byKey.set(key, [...(byKey.get(key) ?? []), q]);
  }
  return [...byKey.values()].map((group) => {
    const ttlSeconds = group.some((q) => q.view.ttlSeconds <= 0) ? 0 : Math.max(...group.map((q) => q.view.ttlSeconds));
    return {
      first: group[0]!,
      views: group,
      ttlSeconds,
      featureColumns: [...new Set(group.flatMap((q) => q.featureColumns))],
      needsTimestamp: group.some((q) => narrowerTtl(q, { ttlSeconds })),
    };
  });
}

/**
 * The select list of every view's features, in request order under their output names, over the
 * group relations `b<i>` (feature `raw` as `b<i>.c<k>`, k its place in featureColumns; the matched
 * timestamp as `b<i>.__mts`) and the entity row `e`.
 */
export function viewOutputs(views: readonly ViewQuery[], groups: readonly SourceGroup[]): string[] {
  return views.flatMap((q) => {
    const i = groups.findIndex((g) => g.views.includes(q));
    const group = groups[i]!;
    const fresh = narrowerTtl(q, group) ? `b${i}.__mts >= e.__ts - ${interval(q.view.ttlSeconds)}` : null;
    return q.featureColumns.map((raw, f) => {
      const value = `b${i}.c${group.featureColumns.indexOf(raw)}`;
      return `${fresh ? `CASE WHEN ${fresh} THEN ${value} END` : value} AS ${ident(q.outputNames[f]!)}`;
    });
  });
}
