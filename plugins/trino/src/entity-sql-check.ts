/**
 * Client SQL (`entity_df_sql`) checked by Trino itself, never by regex, by the same rules as a
 * client's source query (query-check.ts, where they live): one read-only query Trino accepts, and
 * under an auth provider only tables the caller may read. Its columns come from the query wrapped
 * as a derived table with `LIMIT 0`, which reads no row.
 */
import { InvalidArgumentError, type CallContext } from '@larder/core';
import type { TrinoClient } from './client.ts';
import { assertReadable, checkClientQuery } from './query-check.ts';

const WHAT = 'entity_df_sql';

/** The columns of the client's SQL, once Trino has accepted it as one query reading only what the caller may read. */
export async function checkEntitySql(client: TrinoClient, sql: string, ctx: CallContext): Promise<{ name: string; type: string }[]> {
  if (sql.trim() === '') throw new InvalidArgumentError('entity_df_sql is empty');
  // The columns are asked for while the checks run (a round trip less): the derived table admits
  // only a query and LIMIT 0 reads no row, and nothing of the answer is used unless the checks
  // pass; their errors come first.
  const columns = client.columnsOf(`SELECT * FROM (\n${sql}\n) AS q LIMIT 0`, WHAT, ctx.signal);
  columns.catch(() => undefined);
  const reads = await checkClientQuery(client, sql, WHAT, ctx.signal);
  if (ctx.sourceAccess) await assertReadable(client, reads, ctx.sourceAccess, WHAT, ctx.signal);
  return (await columns).map((c) => ({ name: c.name, type: c.type }));
}
