/**
 * Choosing each source group's point-in-time formulation (`point_in_time_strategy: auto`); a
 * group (source-groups.ts) is passed as its first view, since its views share relation and keys.
 *
 * The join costs about (source rows × entity rows per key); the window, one sort of the source.
 * bench/historical-stores.ts over 10M source rows of 10k keys (ttl 1 day): the window took 15 s
 * for 10k entity rows, 19 s for 100k, 23 s for 1M; the join 10k in a fraction of that but grows
 * with entity rows per key (100 per key at 1M: a billion pairs). So `auto` joins only when the
 * table's statistics say the entity rows are few per key (≤ JOIN_ROWS_PER_KEY), and takes the
 * window otherwise — also whenever it cannot tell (a query source, a table never analyzed, SQL
 * or date-mode entity rows whose number is unknown up front).
 */
import type { PointInTimeStrategy, ViewQuery } from './point-in-time-sql.ts';
import type { Session } from './session.ts';

export type StrategySetting = 'auto' | PointInTimeStrategy;

const JOIN_ROWS_PER_KEY = 4;

/** Distinct values of the view's most selective key column, from pg_stats; null when unknown. */
async function distinctKeys(session: Session, q: ViewQuery): Promise<number | null> {
  if (!q.table.isTable) return null;
  if (q.keyColumns.length === 0) return 1;
  const result = await session.run(
    `SELECT max(CASE WHEN s.n_distinct < 0 THEN -s.n_distinct * c.reltuples ELSE s.n_distinct END) AS keys
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = ANY($2)
     WHERE c.oid = to_regclass($1) AND c.reltuples > 0`,
    `reading the statistics of ${q.table.label}`,
    [q.table.from, q.keyColumns],
  );
  const keys = Number(result.rows[0]?.keys);
  return Number.isFinite(keys) && keys > 0 ? keys : null;
}

/** One strategy per view given; `entityRows` is null when the number of entity rows is not known. */
export async function chooseStrategies(
  session: Session,
  views: readonly ViewQuery[],
  entityRows: number | null,
  setting: StrategySetting,
): Promise<PointInTimeStrategy[]> {
  if (setting !== 'auto') return views.map(() => setting);
  if (entityRows === null) return views.map(() => 'window');
  const chosen: PointInTimeStrategy[] = [];
  for (const q of views) {
    const keys = await distinctKeys(session, q);
    chosen.push(keys !== null && entityRows <= JOIN_ROWS_PER_KEY * keys ? 'join' : 'window');
  }
  return chosen;
}
