/**
 * SQL a client wrote (a data source's `query` sent with `feast apply`, an `entity_df_sql`) is run
 * only when Trino itself says it is one read-only query, and, under an auth provider, only when
 * every table it reads is read by a data source the caller may READ_OFFLINE. Nothing here looks
 * at the SQL's text: Trino parses and analyses it.
 *
 * - `EXPLAIN (TYPE VALIDATE) <sql>`: Trino parses and analyses it as one statement (it refuses a
 *   second one after `;`), so a broken query fails with Trino's own reason.
 * - `EXPLAIN (TYPE IO, FORMAT JSON) SELECT * FROM (<sql>) q`: Trino's grammar accepts only a query
 *   inside a derived table, so an INSERT, DELETE, UPDATE, MERGE, CALL, DDL or SET that passed the
 *   first check fails here — the statement-type check; and the IO plan lists the tables the query
 *   reads, views resolved to the tables under them (and names any it would write).
 */
import { FeastPermissionError, InvalidArgumentError, type DataSource, type SourceAccess } from '@larder/core';
import type { TrinoClient } from './client.ts';
import { trinoErrorName } from './errors.ts';
import { sourceRelation } from './sources.ts';

/** A table as Trino's IO plan names it. */
export interface TableRef {
  readonly catalog: string;
  readonly schema: string;
  readonly table: string;
}

/** `catalog.schema.table`, for messages and comparison. */
export const tableName = (t: TableRef): string => `${t.catalog}.${t.schema}.${t.table}`;

interface IoPlan {
  inputTableColumnInfos?: { table?: { catalog?: string; schemaTable?: { schema?: string; table?: string } } }[];
  outputTable?: unknown;
}

/**
 * Checks that `sql` is one read-only query Trino accepts, and returns the tables it reads.
 * Throws InvalidArgumentError naming `what` otherwise.
 */
export async function checkClientQuery(client: TrinoClient, sql: string, what: string, signal?: AbortSignal): Promise<TableRef[]> {
  const query = sql.trim().replace(/;\s*$/, '');
  await runToEnd(client, `EXPLAIN (TYPE VALIDATE) ${query}`, what, signal);
  let plan: IoPlan;
  try {
    plan = await ioPlan(client, `SELECT * FROM (\n${query}\n) AS q`, what, signal);
  } catch (error) {
    // It passed as a statement but not as a derived table: it is not a query.
    if (trinoErrorName(error) === 'SYNTAX_ERROR') {
      throw new InvalidArgumentError(
        `${what}: only one read-only query (SELECT, WITH, VALUES, TABLE) is accepted, and Trino parses this SQL as another kind of statement`,
      );
    }
    throw error;
  }
  if (plan.outputTable) throw new InvalidArgumentError(`${what}: only a read-only query is accepted, and this one writes a table`);
  return inputsOf(plan);
}

/**
 * The tables a FROM clause (`sourceRelation(s).from`) reads, views resolved, per Trino's IO plan;
 * `table` is the configured table a missing-table error names.
 */
export async function tablesReadBy(
  client: TrinoClient,
  from: string,
  what: string,
  signal?: AbortSignal,
  table?: string,
): Promise<TableRef[]> {
  return inputsOf(await ioPlan(client, `SELECT * FROM ${from}`, what, signal, table));
}

/**
 * The permission rule, for every piece of client SQL (a sent source's query or table, an
 * `entity_df_sql`): under an auth provider, refuses (FeastPermissionError) when `reads` include a
 * table the caller may not read. A table is readable when a data source the caller may
 * READ_OFFLINE reads it and no denied source reads it too: a readable source may show only part
 * of a table (a query with `WHERE tenant = 'a'`, a view) whose other rows belong to a source the
 * caller may not read. Every source's tables are asked of Trino's IO plan, so a view, a qualified
 * or an unqualified name all compare as the tables under them.
 */
export async function assertReadable(
  client: TrinoClient,
  reads: readonly TableRef[],
  access: SourceAccess,
  what: string,
  signal?: AbortSignal,
): Promise<void> {
  const wanted = [...new Set(reads.map(tableName))];
  if (wanted.length === 0) return;
  const granted = new Set<string>();
  for (const source of access.readable) for (const t of await tablesOfSource(client, source, signal)) granted.add(t);
  const ungranted = wanted.filter((t) => !granted.has(t)).sort();
  if (ungranted.length > 0) {
    throw new FeastPermissionError(`${what} reads ${ungranted.join(', ')}, which no data source you may read (READ_OFFLINE) reads`);
  }
  const heldByDenied = new Set<string>();
  for (const source of access.denied) for (const t of await tablesOfSource(client, source, signal)) heldByDenied.add(t);
  const shared = wanted.filter((t) => heldByDenied.has(t)).sort();
  if (shared.length > 0) {
    throw new FeastPermissionError(
      `${what} reads ${shared.join(', ')}, which a data source you may not read (READ_OFFLINE) also reads: a readable source over it may show only part of its rows`,
    );
  }
}

/**
 * The tables a project's data source reads (`catalog.schema.table`); none for a source that is
 * not a TrinoSource or that Trino cannot plan (gone, broken): it grants, and holds, nothing Trino
 * can name.
 */
async function tablesOfSource(client: TrinoClient, source: DataSource, signal?: AbortSignal): Promise<string[]> {
  if (!source.trinoOptions) return [];
  let from: string;
  try {
    from = sourceRelation(source).from;
  } catch {
    return [];
  }
  const tables = await tablesReadBy(client, from, `Data source ${source.name}`, signal).catch((error: unknown) => {
    if (signal?.aborted) throw error;
    return [];
  });
  return tables.map(tableName);
}

/** For a data source a client sent: its query checked, and under auth, its reads checked against the readable sources. */
export async function checkClientSource(
  client: TrinoClient,
  source: DataSource,
  access: SourceAccess | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const relation = sourceRelation(source);
  const what = `Data source ${source.name} (${relation.label})`;
  if (relation.table === undefined) {
    const reads = await checkClientQuery(client, source.trinoOptions!.query, what, signal);
    if (access) await assertReadable(client, reads, access, what, signal);
  } else if (access) {
    const reads = await tablesReadBy(client, relation.from, what, signal, relation.table);
    await assertReadable(client, reads, access, what, signal);
  }
}

async function ioPlan(client: TrinoClient, sql: string, what: string, signal?: AbortSignal, table?: string): Promise<IoPlan> {
  const rows = await runToEnd(client, `EXPLAIN (TYPE IO, FORMAT JSON) ${sql}`, what, signal, table);
  const text = rows[0]?.[0];
  try {
    return JSON.parse(String(text)) as IoPlan;
  } catch {
    throw new InvalidArgumentError(`${what}: only a read-only query is accepted, and Trino reports another kind of statement`);
  }
}

function inputsOf(plan: IoPlan): TableRef[] {
  return (plan.inputTableColumnInfos ?? []).map((i) => ({
    catalog: i.table?.catalog ?? '',
    schema: i.table?.schemaTable?.schema ?? '',
    table: i.table?.schemaTable?.table ?? '',
  }));
}

async function runToEnd(client: TrinoClient, sql: string, what: string, signal?: AbortSignal, table?: string): Promise<unknown[][]> {
  const statement = await client.start(sql, what, signal, table);
  const rows: unknown[][] = [];
  for await (const page of statement.pages()) rows.push(...(page as unknown[][]));
  return rows;
}
