/**
 * TrinoSources: the relation a source names (Feast keeps it as `trino_options` {table, query} of a
 * BATCH_TRINO DataSource) and how its columns are asked of Trino.
 *
 * As in Feast, the table wins when both are set and is used as written (it may be qualified as
 * schema.table or catalog.schema.table; unqualified parts resolve in the configured catalog); a
 * query is wrapped in parentheses.
 */
import { InvalidArgumentError, type ColumnInfo, type DataSource } from '@larder/core';
import type { TrinoClient } from './client.ts';

export const TRINO_SOURCE_CLASS = 'feast.infra.offline_stores.contrib.trino_offline_store.trino_source.TrinoSource';

export interface SourceRelation {
  readonly source: DataSource;
  /** SQL for a FROM clause, without alias: the table name as configured, or `(query)`. */
  readonly from: string;
  /** How messages name the source: `table hive.s.t` or `the query of data source x`. */
  readonly label: string;
  /** The table as configured, for table sources (Feast's DataSourceNotFoundException names it). */
  readonly table?: string;
}

/**
 * Trino's identifier syntax, each part unquoted (letters, digits, `_`, not starting with a digit)
 * or double-quoted with `""` for a quote: a table must be only a (qualified) name, so that it can
 * stand in SQL as written (Feast pastes it there) and never carries more SQL.
 */
const IDENTIFIER = '(?:[A-Za-z_\\u0080-\\uffff][A-Za-z0-9_@$\\u0080-\\uffff]*|"(?:[^"\\u0000]|"")+")';
const TABLE_NAME = new RegExp(`^${IDENTIFIER}(?:\\.${IDENTIFIER}){0,2}$`, 'u');

/** Whether `text` is only a (qualified, maybe quoted) table name, so it can stand in SQL as written. */
export function isTableName(text: string): boolean {
  return TABLE_NAME.test(text);
}

export function sourceRelation(source: DataSource): SourceRelation {
  const options = source.trinoOptions;
  if (!options) {
    const kind = source.dataSourceClassType.split('.').pop() || source.type;
    throw new InvalidArgumentError(`Data source ${source.name} is a ${kind}; the trino offline store reads TrinoSources only`);
  }
  const table = options.table.trim();
  const query = options.query.trim().replace(/;\s*$/, '');
  if (table) {
    if (!TABLE_NAME.test(table)) {
      throw new InvalidArgumentError(
        `Data source ${source.name}: its table ${JSON.stringify(table)} is not a table name (table, schema.table or catalog.schema.table; quote a part with "…")`,
      );
    }
    return { source, from: table, label: `table ${table}`, table };
  }
  if (query) return { source, from: `(\n${query}\n)`, label: `the query of data source ${source.name}` };
  throw new InvalidArgumentError(`Data source ${source.name}: a TrinoSource needs a table or a query`);
}

/**
 * The source's columns with the Trino type names Feast's TrinoSource reports (`bigint`,
 * `timestamp(3)`, `varchar`, `array(integer)`, …). Feast runs `SELECT * … LIMIT 1` and reads the
 * result's columns; `LIMIT 0` gives the same columns without reading a row.
 */
export async function describeSource(client: TrinoClient, source: DataSource, signal?: AbortSignal): Promise<ColumnInfo[]> {
  const relation = sourceRelation(source);
  const columns = await client.columnsOf(
    `SELECT * FROM ${relation.from} LIMIT 0`,
    `Data source ${source.name} (${relation.label})`,
    signal,
    relation.table,
  );
  return columns.map((c) => ({ name: c.name, type: c.type }));
}
