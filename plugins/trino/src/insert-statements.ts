/**
 * The rows of a write as few INSERT statements as Trino allows: each is
 *
 *   INSERT INTO t ("a", "b") SELECT CAST(c0 AS bigint), CAST(c1 AS timestamp(3))
 *   FROM (VALUES (1, TIMESTAMP '…'), (2, NULL), …) AS v(c0, c1)
 *
 * filled with rows until the next would take it past `maxChars`. Trino refuses statements longer
 * than its `query.max-length` (1,000,000 characters by default), so that is the bound; fewer, larger
 * statements mean fewer commits (and, on hive, fewer files). The CASTs give every value its table
 * column's type, so Trino coerces nothing implicitly and a table column's type decides.
 */
import { InvalidArgumentError } from '@larder/core';
import type { Table } from 'apache-arrow';
import { quoteIdentifier } from './trino-types.ts';
import type { ColumnPlan } from './write-columns.ts';

/**
 * Trino's default `query.max-length`, less room for the statement's head and tail: the statement
 * size larder aims at. A cluster configured lower refuses larder's statements
 * (QUERY_TEXT_TOO_LARGE); raise `query.max-length` there.
 */
export const MAX_STATEMENT_CHARS = 999_000;

/**
 * The INSERT statements writing every row of `table` (columns as `plans` say) into `target` (a
 * table name as SQL), each at most `maxChars` long. Throws InvalidArgumentError, before any
 * statement runs, for a row that alone is longer than that.
 */
export function insertStatements(target: string, plans: readonly ColumnPlan[], table: Table, maxChars = MAX_STATEMENT_CHARS): string[] {
  const head =
    `INSERT INTO ${target} (${plans.map((p) => quoteIdentifier(p.name)).join(', ')})\n` +
    `SELECT ${plans.map((p, i) => `CAST(c${i} AS ${p.target.text})`).join(', ')}\nFROM (VALUES\n`;
  const tail = `\n) AS v(${plans.map((_, i) => `c${i}`).join(', ')})`;
  const statements: string[] = [];
  let rows: string[] = [];
  let length = head.length + tail.length;
  const flush = () => {
    if (rows.length > 0) statements.push(head + rows.join(',\n') + tail);
    rows = [];
    length = head.length + tail.length;
  };
  const columns = plans.map((p) => table.getChildAt(p.index)!);
  const chunkCount = columns[0]?.data.length ?? 0;
  let rowNumber = 0;
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const chunks = columns.map((c) => c.data[chunk]!);
    const literals = plans.map((p) => p.literal);
    const count = chunks[0]?.length ?? 0;
    for (let i = 0; i < count; i++) {
      rowNumber++;
      const row = `(${chunks.map((data, c) => literals[c]!(data, i)).join(', ')})`;
      const added = row.length + (rows.length > 0 ? 2 : 0);
      if (head.length + tail.length + row.length > maxChars) {
        throw new InvalidArgumentError(
          `row ${rowNumber} alone takes ${row.length} characters of SQL, more than a Trino statement may (${maxChars}); nothing was written`,
        );
      }
      if (length + added > maxChars) flush();
      rows.push(row);
      length += row.length + (rows.length > 1 ? 2 : 0);
    }
  }
  flush();
  return statements;
}
