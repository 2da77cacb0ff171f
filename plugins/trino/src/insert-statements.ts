/**
 * The rows of a write as few INSERT statements as Trino allows. Each statement carries its rows as
 * one JSON document in a string literal, every value as text (value-text.ts), and lets Trino
 * parse it, unnest it and cast each column to its table column's type:
 *
 *   INSERT INTO t ("driver_id", "ts", "blob")
 *   SELECT CAST(c0 AS bigint), CAST(c1 AS timestamp(3)), from_base64(c2)
 *   FROM UNNEST(CAST(json_parse('[["1","2024-03-01 10:00:00.123456",null], …]')
 *     AS array(row(c0 varchar, c1 varchar, c2 varchar)))) AS v(c0, c1, c2)
 *
 * Why not `VALUES (…), (…)` with typed literals: Trino analyses and plans every literal of a VALUES
 * list, which measured here (Trino 476, one node, hive table of 4 columns) at ~500 rows/s
 * whatever the statement size (7,000 rows in one statement: 13-19 s); the same 7,000 rows with 7
 * columns as one JSON literal took 2.6 s, as the planner sees one constant.
 *
 * Each statement is filled with rows until the next would take it past `maxChars`: Trino refuses
 * statements longer than its `query.max-length` (1,000,000 characters by default), so that is the
 * bound; fewer, larger statements mean fewer commits (and, on hive, fewer files).
 */
import { InvalidArgumentError } from '@larder/core';
import type { Table } from 'apache-arrow';
import { quoteIdentifier, type TrinoType } from './trino-types.ts';
import type { ColumnPlan } from './write-columns.ts';

/**
 * Trino's default `query.max-length`, less a margin: the statement size larder aims at. A cluster
 * configured lower refuses larder's larger statements (QUERY_TEXT_TOO_LARGE); raise
 * `query.max-length` there.
 */
export const MAX_STATEMENT_CHARS = 999_000;

/** The type a value travels as inside the JSON: text, or an array of (arrays of) text. */
function wireType(target: TrinoType): string {
  return target.base === 'array' && target.element ? `array(${wireType(target.element)})` : 'varchar';
}

/** The SQL turning `expr` (of `wireType(target)`) into a value of `target`. */
function fromText(expr: string, target: TrinoType, depth = 0): string {
  if (target.base === 'array' && target.element) {
    const x = `x${depth}`;
    return `transform(${expr}, ${x} -> ${fromText(x, target.element, depth + 1)})`;
  }
  // varchar → varbinary would be the UTF-8 bytes of the text: the bytes travel as base64.
  if (target.base === 'varbinary') return `from_base64(${expr})`;
  return `CAST(${expr} AS ${target.text})`;
}

/**
 * The INSERT statements writing every row of `table` (columns as `plans` say) into `target` (a
 * table name as SQL), each at most `maxChars` long. Throws InvalidArgumentError, before any
 * statement runs, for a row that alone is longer than that.
 */
export function insertStatements(target: string, plans: readonly ColumnPlan[], table: Table, maxChars = MAX_STATEMENT_CHARS): string[] {
  const aliases = plans.map((_, i) => `c${i}`);
  const head =
    `INSERT INTO ${target} (${plans.map((p) => quoteIdentifier(p.name)).join(', ')})\n` +
    `SELECT ${plans.map((p, i) => fromText(aliases[i]!, p.target)).join(', ')}\n` +
    "FROM UNNEST(CAST(json_parse('[";
  const tail = `]') AS array(row(${plans.map((p, i) => `${aliases[i]} ${wireType(p.target)}`).join(', ')})))) AS v(${aliases.join(', ')})`;
  const room = maxChars - head.length - tail.length;
  const statements: string[] = [];
  let rows: string[] = [];
  let length = 0;
  const flush = () => {
    if (rows.length > 0) statements.push(head + rows.join(',') + tail);
    rows = [];
    length = 0;
  };
  const columns = plans.map((p) => table.getChildAt(p.index)!);
  const chunkCount = columns[0]?.data.length ?? 0;
  let rowNumber = 0;
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const chunks = columns.map((c) => c.data[chunk]!);
    const texts = plans.map((p) => p.text);
    const count = chunks[0]?.length ?? 0;
    for (let i = 0; i < count; i++) {
      rowNumber++;
      // JSON inside a SQL string literal: its single quotes doubled.
      const row = JSON.stringify(chunks.map((data, c) => texts[c]!(data, i))).replaceAll("'", "''");
      if (row.length > room) {
        throw new InvalidArgumentError(
          `row ${rowNumber} alone takes ${row.length} characters of SQL, more than a Trino statement may (${maxChars}); nothing was written`,
        );
      }
      const added = row.length + (rows.length > 0 ? 1 : 0);
      if (length + added > room) flush();
      length += row.length + (rows.length > 0 ? 1 : 0);
      rows.push(row);
    }
  }
  flush();
  return statements;
}
