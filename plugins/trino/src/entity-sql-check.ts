/**
 * Client SQL (`entity_df_sql`) checked by Trino itself, never by regex. A minimal check until the
 * shared query-check module lands:
 *
 * - One read-only statement: the SQL is only ever run as a subquery (`SELECT * FROM (<sql>) q`),
 *   where Trino's parser admits a query and nothing else (a DELETE, a second statement, a CREATE
 *   are syntax errors there), and the statement protocol runs one statement per request. Its
 *   columns come from the same wrapper with `LIMIT 0`, which reads no row.
 * - Under an auth provider: Trino lists the tables the query reads (`EXPLAIN (TYPE IO)`); each
 *   must be a table a data source the caller may READ_OFFLINE reads (its table, or a table its
 *   query reads) and no table a denied source reads. Anything else is a FeastPermissionError
 *   naming the table.
 */
import { FeastPermissionError, InvalidArgumentError, type CallContext, type DataSource } from '@larder/core';
import type { TrinoClient } from './client.ts';
import { sourceRelation } from './sources.ts';

const WHAT = 'entity_df_sql';

interface IoPlan {
  readonly inputTableColumnInfos?: readonly { readonly table: { catalog: string; schemaTable: { schema: string; table: string } } }[];
}

/** The columns of the client's SQL, once Trino has accepted it as one query reading only what the caller may read. */
export async function checkEntitySql(client: TrinoClient, sql: string, ctx: CallContext): Promise<{ name: string; type: string }[]> {
  if (sql === '') throw new InvalidArgumentError('entity_df_sql is empty');
  const wrapped = `SELECT * FROM (\n${sql}\n) AS q`;
  if (ctx.sourceAccess) {
    const wanted = await tablesRead(client, wrapped, WHAT, ctx.signal);
    const readable = new Set<string>();
    for (const source of ctx.sourceAccess.readable.filter((s) => s.trinoOptions)) {
      for (const t of await tablesOf(client, source, ctx.signal)) readable.add(t);
    }
    for (const source of ctx.sourceAccess.denied.filter((s) => s.trinoOptions)) {
      for (const t of await tablesOf(client, source, ctx.signal)) readable.delete(t);
    }
    const refused = wanted.find((t) => !readable.has(t));
    if (refused) {
      throw new FeastPermissionError(`entity_df_sql reads table ${refused}, which is not a table of a data source you may read`);
    }
  }
  const columns = await client.columnsOf(`${wrapped} LIMIT 0`, WHAT, ctx.signal);
  return columns.map((c) => ({ name: c.name, type: c.type }));
}

/** The tables a source reads, as Trino resolves them (catalog.schema.table). */
async function tablesOf(client: TrinoClient, source: DataSource, signal: AbortSignal): Promise<string[]> {
  const relation = sourceRelation(source);
  return tablesRead(client, `SELECT * FROM ${relation.from} AS s`, `Data source ${source.name} (${relation.label})`, signal);
}

/** Every table `query` reads, by Trino's own plan. */
async function tablesRead(client: TrinoClient, query: string, what: string, signal: AbortSignal): Promise<string[]> {
  const statement = await client.start(`EXPLAIN (TYPE IO, FORMAT JSON) ${query}`, what, signal);
  let text = '';
  for await (const page of statement.pages()) for (const row of page) text += String((row as unknown[])[0] ?? '');
  const plan = JSON.parse(text) as IoPlan;
  return (plan.inputTableColumnInfos ?? []).map((i) => `${i.table.catalog}.${i.table.schemaTable.schema}.${i.table.schemaTable.table}`);
}
