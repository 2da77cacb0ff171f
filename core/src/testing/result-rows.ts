/**
 * Reading a store's result stream into plain rows, and comparing them with the reference's, with
 * an error that says which row and which column differ. Values are compared as instants and
 * numbers: a store may return naive or zoned timestamps of any unit, and int64 or float64 where
 * the kit wrote them, as long as the values are the same.
 */
import { DataType, type RecordBatch, type Schema, type Vector } from 'apache-arrow';
import type { ResultStream } from '../store.ts';
import { showValue, type Row, type Value } from './kit-table.ts';

export interface ResultRows {
  readonly columns: readonly string[];
  /** Columns holding times (shown as ISO 8601 in messages). */
  readonly timeColumns: ReadonlySet<string>;
  readonly rows: readonly Row[];
  readonly batches: number;
}

/** Reads a whole result (the kit's results are small). */
export async function readResult(result: ResultStream): Promise<ResultRows> {
  const rows: Row[] = [];
  let batches = 0;
  for await (const batch of result.batches) {
    batches++;
    if (!sameNames(batch.schema, result.schema)) {
      throw new Error(`a batch has columns [${names(batch.schema)}] but the result's schema has [${names(result.schema)}]`);
    }
    rows.push(...rowsOf(batch));
  }
  if (result.numRows !== undefined && result.numRows !== rows.length) {
    throw new Error(`the result announced numRows ${result.numRows} but streamed ${rows.length} rows`);
  }
  const timeColumns = new Set(
    result.schema.fields.filter((f) => DataType.isTimestamp(f.type) || DataType.isDate(f.type)).map((f) => f.name),
  );
  return { columns: names(result.schema), timeColumns, rows, batches };
}

const names = (schema: Schema) => schema.fields.map((f) => f.name);
const sameNames = (a: Schema, b: Schema) => names(a).join('\u0000') === names(b).join('\u0000');

export function rowsOf(batch: RecordBatch): Row[] {
  const columns = batch.schema.fields.map((f, i) => [f.name, batch.getChildAt(i)!] as const);
  const rows: Row[] = [];
  for (let r = 0; r < batch.numRows; r++) rows.push(Object.fromEntries(columns.map(([name, vector]) => [name, cell(vector, r)])));
  return rows;
}

function cell(vector: Vector, row: number): Value {
  const value: unknown = vector.get(row);
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return Number.isNaN(value) ? null : value;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'boolean') return value ? 1 : 0;
  return String(value);
}

export interface CompareOptions {
  /** What was asked, for the message ("get_historical_features of drivers:rate at 12 entity rows"). */
  readonly what: string;
  /** Rows must come in this order (the entity rows' order); otherwise compared as a multiset. */
  readonly ordered: boolean;
  /** Column names must come in this order too. */
  readonly orderedColumns: boolean;
  /** Columns a row is identified by in messages (the entity columns). */
  readonly identity?: readonly string[];
  /** Columns the store may add besides the expected ones (Feast's `__dummy_id` of an entityless pull). */
  readonly extraColumnsAllowed?: readonly string[];
}

/** Throws an Error naming the first differences when `actual` is not `expected`. */
export function expectRows(
  actual: ResultRows,
  expectedColumns: readonly string[],
  expected: readonly Row[],
  options: CompareOptions,
): void {
  const allowed = new Set(options.extraColumnsAllowed ?? []);
  const got = actual.columns.filter((c) => !allowed.has(c) || expectedColumns.includes(c));
  const columnsMatch = options.orderedColumns ? got.join('\u0000') === expectedColumns.join('\u0000') : sameSet(got, expectedColumns);
  if (!columnsMatch) {
    throw new Error(
      `${options.what}: the result's columns are [${actual.columns.join(', ')}], expected [${expectedColumns.join(', ')}]` +
        (options.orderedColumns ? ' in this order' : ''),
    );
  }
  if (actual.rows.length !== expected.length) {
    throw new Error(
      `${options.what}: ${actual.rows.length} rows, expected ${expected.length}${options.ordered ? ' (one per entity row)' : ''}` +
        sample(actual, expected, expectedColumns),
    );
  }
  const show = (row: Row, columns: readonly string[]) =>
    columns.map((c) => `${c}=${showValue(row[c], actual.timeColumns.has(c))}`).join(', ');
  if (options.ordered) {
    const problems: string[] = [];
    expected.forEach((want, i) => {
      const have = actual.rows[i]!;
      const wrong = expectedColumns.filter((c) => !sameValue(have[c], want[c]));
      if (wrong.length > 0) {
        const id = options.identity ? ` (${show(want, options.identity)})` : '';
        problems.push(
          `row ${i}${id}: ${wrong.map((c) => `${c} is ${showValue(have[c], actual.timeColumns.has(c))}, expected ${showValue(want[c], actual.timeColumns.has(c))}`).join('; ')}`,
        );
      }
    });
    if (problems.length > 0)
      throw new Error(
        `${options.what}: ${problems.length} row(s) differ from the point-in-time rule:\n  ${problems.slice(0, 8).join('\n  ')}`,
      );
    return;
  }
  const key = (row: Row) => JSON.stringify(expectedColumns.map((c) => normal(row[c])));
  const remaining = new Map<string, number>();
  for (const row of actual.rows) remaining.set(key(row), (remaining.get(key(row)) ?? 0) + 1);
  const missing: Row[] = [];
  for (const row of expected) {
    const n = remaining.get(key(row)) ?? 0;
    if (n === 0) missing.push(row);
    else remaining.set(key(row), n - 1);
  }
  if (missing.length > 0) {
    const unexpected = actual.rows.filter((row) => (remaining.get(key(row)) ?? 0) > 0);
    throw new Error(
      `${options.what}: ${missing.length} expected row(s) missing:\n  ${missing
        .slice(0, 6)
        .map((r) => show(r, expectedColumns))
        .join('\n  ')}` +
        `\nand instead:\n  ${unexpected
          .slice(0, 6)
          .map((r) => show(r, expectedColumns))
          .join('\n  ')}`,
    );
  }
}

function sample(actual: ResultRows, expected: readonly Row[], columns: readonly string[]): string {
  const show = (rows: readonly Row[]) =>
    rows
      .slice(0, 6)
      .map((r) => columns.map((c) => showValue(r[c], actual.timeColumns.has(c))).join(', '))
      .join('\n    ');
  return `\n  got:\n    ${show(actual.rows)}\n  expected:\n    ${show(expected)}`;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** Integers and floats compare by value; timestamps as instants rounded to the microsecond. */
function normal(value: Value | undefined): Value {
  if (value === undefined) return null;
  if (typeof value === 'number') return Math.round(value * 1000) / 1000;
  return value;
}

const sameValue = (a: Value | undefined, b: Value | undefined) => normal(a) === normal(b);
