/**
 * Table names as written in a TrinoSource or a logging destination (`t`, `schema.t`,
 * `catalog.schema.t`, any part double-quoted): split into their parts, so a write can find the
 * table's catalog (whose connector decides the DDL types) and name a staging table beside it.
 */
import { quoteIdentifier } from './trino-types.ts';

const PART = /(?:"((?:[^"]|"")+)"|([^."]+))(?:\.|$)/gu;

/** The parts of a table name that sources.ts accepted, unquoted; unquoted parts lower-cased as Trino does. */
export function tableNameParts(table: string): string[] {
  const parts: string[] = [];
  for (const match of table.matchAll(PART)) {
    parts.push(match[1] !== undefined ? match[1].replaceAll('""', '"') : match[2]!.toLowerCase());
  }
  return parts;
}

/** The catalog a table name resolves in: its own first part when it has three, else the session's. */
export function catalogOf(table: string, sessionCatalog: string): string {
  const parts = tableNameParts(table);
  return parts.length === 3 ? parts[0]! : sessionCatalog;
}

/** A table beside `table` (same catalog and schema) named `table` + `suffix`, quoted. */
export function siblingTable(table: string, suffix: string): string {
  const parts = tableNameParts(table);
  const last = parts.pop()!;
  return [...parts, `${last}${suffix}`].map(quoteIdentifier).join('.');
}
