/**
 * Requested views that read the same source the same way, answered by one point-in-time match
 * (core's groupBySource: one sort or one join of the source instead of one per view), made within
 * the group's widest TTL; each view then keeps the matched row's features only when its timestamp
 * is within its own TTL. */
import { groupBySource as groupViews, needsOwnTtl } from '@larder/core';
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

/** The groups of `views` (core's groupBySource over the relation's SQL text), in the order of their first views. */
export function groupBySource(views: readonly ViewQuery[]): SourceGroup[] {
  // The relation's SQL text, not the data source's name: two sources over one table share a scan.
  return groupViews(views, (q) => q.table.from).map(({ views: group, ttlSeconds }) => ({
    first: group[0]!,
    views: group,
    ttlSeconds,
    featureColumns: [...new Set(group.flatMap((q) => q.featureColumns))],
    needsTimestamp: group.some((q) => needsOwnTtl(q.view, ttlSeconds)),
  }));
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
    const fresh = needsOwnTtl(q.view, group.ttlSeconds) ? `b${i}.__mts >= e.__ts - ${interval(q.view.ttlSeconds)}` : null;
    return q.featureColumns.map((raw, f) => {
      const value = `b${i}.c${group.featureColumns.indexOf(raw)}`;
      return `${fresh ? `CASE WHEN ${fresh} THEN ${value} END` : value} AS ${ident(q.outputNames[f]!)}`;
    });
  });
}
