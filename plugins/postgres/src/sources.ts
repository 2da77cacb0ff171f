/**
 * PostgreSQLSources: what relation a source names, and its columns.
 *
 * Feast keeps a PostgreSQLSource as a CUSTOM_SOURCE whose `custom_options.configuration` is JSON
 * `{"name", "query", "table"}`; the table wins when both are set, and is used as written (it may
 * be schema-qualified), a query is wrapped in parentheses. Either way larder only ever reads
 * through them inside read-only transactions.
 */
import { InvalidArgumentError, type DataSource, type SourceColumnTypes } from '@larder/core';
import { PG_OID, pgTypeNameForOid } from './pg-types.ts';
import type { Session } from './session.ts';
import { readsOfSelect } from './statement-reads.ts';

export const POSTGRES_SOURCE_CLASS = 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource';

export interface SourceRelation {
  readonly source: DataSource;
  /** SQL for a FROM clause, without alias: the table name as configured, or `(query)`. */
  readonly from: string;
  /** How messages name the source: `table public.x` or `query of data source x`. */
  readonly label: string;
  /** Table sources have a physical row order (ctid) that settles full ties. */
  readonly isTable: boolean;
  /** A query source's SQL, as configured (trailing `;` removed). */
  readonly query?: string;
}

export interface SourceTable extends SourceRelation {
  /** Raw column name → PostgreSQL type OID, in the relation's order. */
  readonly columns: ReadonlyMap<string, number>;
}

export function sourceRelation(source: DataSource): SourceRelation {
  if (source.dataSourceClassType !== POSTGRES_SOURCE_CLASS || !source.customConfiguration) {
    const kind = source.dataSourceClassType.split('.').pop() || source.type;
    throw new InvalidArgumentError(`Data source ${source.name} is a ${kind}; the postgres offline store reads PostgreSQLSources only`);
  }
  let options: { table?: unknown; query?: unknown };
  try {
    options = JSON.parse(Buffer.from(source.customConfiguration).toString('utf8')) as typeof options;
  } catch {
    throw new InvalidArgumentError(`Data source ${source.name}: its PostgreSQLSource options are not valid JSON`);
  }
  const table = typeof options.table === 'string' ? options.table.trim() : '';
  const query = typeof options.query === 'string' ? options.query.trim().replace(/;\s*$/, '') : '';
  if (table) {
    if (!isTableName(table)) {
      throw new InvalidArgumentError(
        `Data source ${source.name}: its table ${JSON.stringify(table)} is not a table name (name, schema.name or database.schema.name; quote a part with "…")`,
      );
    }
    return { source, from: table, label: `table ${table}`, isTable: true };
  }
  if (query) return { source, from: `(\n${query}\n)`, label: `the query of data source ${source.name}`, isTable: false, query };
  throw new InvalidArgumentError(`Data source ${source.name}: a PostgreSQLSource needs a table or a query`);
}

/**
 * Whether `table` is only a (qualified) name — PostgreSQL's identifier syntax, each part unquoted
 * (letters, digits, `_`, `$`, not starting with a digit) or double-quoted with `""` for a quote —
 * so that it can stand in SQL as written (Feast pastes it there) and never carries more SQL.
 */
const IDENTIFIER = '(?:[A-Za-z_\\u0080-\\uffff][A-Za-z0-9_$\\u0080-\\uffff]*|"(?:[^"\\u0000]|"")+")';
const TABLE_NAME = new RegExp(`^${IDENTIFIER}(?:\\.${IDENTIFIER}){0,2}$`, 'u');

export function isTableName(table: string): boolean {
  return TABLE_NAME.test(table);
}

/** The source's columns, asked of PostgreSQL without reading a row. */
export async function describeSource(session: Session, source: DataSource): Promise<SourceTable> {
  const relation = sourceRelation(source);
  // A query is pasted into larger statements: it must be one SELECT, so it cannot close them.
  if (relation.query !== undefined) await readsOfSelect(relation.query, `The query of data source ${source.name}`);
  const columns = await session.describe(`SELECT * FROM ${relation.from} AS s`, `Data source ${source.name} (${relation.label})`);
  return { ...relation, columns: new Map(columns.map((c) => [c.name, c.typeOid])) };
}

/** PostgreSQL types whose values are points in time. */
export const TIME_OIDS: ReadonlySet<number> = new Set([PG_OID.timestamp, PG_OID.timestamptz, PG_OID.date]);

/** A source's columns as core's time-column checks ask about them (a missing column is left to the column checks). */
export function pgColumnTypes(table: SourceTable): SourceColumnTypes {
  return {
    isTime: (column) => {
      const oid = table.columns.get(column);
      return oid === undefined || TIME_OIDS.has(oid);
    },
    typeName: (column) => {
      const oid = table.columns.get(column)!;
      const name = pgTypeNameForOid(oid);
      return name === 'unknown' ? `PostgreSQL type oid ${oid}` : name;
    },
  };
}
