/**
 * The Arrow column operations a store written in JavaScript needs and apache-arrow lacks: the
 * instants of a time column, join keys as comparable strings, and "take" (rows picked by index).
 */
import type { SourceColumnTypes } from '@larder/core';
import { DataType, Type, makeBuilder, makeData, type Data, type Schema, type Vector } from 'apache-arrow';

/** The typed array holding a fixed-width column's values (Int32Array, Float64Array, BigInt64Array, …). */
interface RawValues {
  subarray(begin: number, end: number): RawValues;
  set(values: RawValues, offset: number): void;
}

/** Nanoseconds per unit, indexed by TimeUnit (SECOND, MILLISECOND, MICROSECOND, NANOSECOND). */
const NS_PER_UNIT = [1_000_000_000n, 1_000_000n, 1_000n, 1n];

/** Whether a column holds times: a timestamp of any unit, or a date (read as midnight UTC). */
export function isTimeType(type: DataType): boolean {
  return DataType.isTimestamp(type) || DataType.isDate(type);
}

/**
 * Each row of a timestamp or date column as nanoseconds since the epoch (null stays null).
 * Timestamps are read from their raw int64 counts: `Vector.get` returns float milliseconds,
 * which loses the microseconds of large values.
 */
export function instantsNs(column: Vector): (bigint | null)[] {
  const out = new Array<bigint | null>(column.length);
  if (DataType.isTimestamp(column.type)) {
    const raw = column.toArray() as BigInt64Array;
    const scale = NS_PER_UNIT[column.type.unit]!;
    for (let i = 0; i < column.length; i++) out[i] = column.isValid(i) ? raw[i]! * scale : null;
  } else {
    for (let i = 0; i < column.length; i++) {
      const ms = column.get(i) as number | null;
      out[i] = ms === null ? null : BigInt(ms) * 1_000_000n;
    }
  }
  return out;
}

/**
 * The join key of each row as one string. Numbers of any width compare by value (an entity column
 * pandas made float64 still matches an int64 source); strings are quoted, so "5" never equals 5.
 * A null part makes the key null (`nulls: 'never-match'`, the point-in-time rule) or the token
 * `null` (`nulls: 'group'`, pull_latest, where such rows form their own group, as in pandas).
 */
export function keyStrings(columns: readonly Vector[], length: number, nulls: 'never-match' | 'group'): (string | null)[] {
  const out = new Array<string | null>(length);
  for (let i = 0; i < length; i++) {
    let key: string | null = '';
    for (const column of columns) {
      const value: unknown = column.get(i);
      if (value === null && nulls === 'never-match') {
        key = null;
        break;
      }
      key += `${typeof value === 'string' ? JSON.stringify(value) : String(value)},`;
    }
    out[i] = key;
  }
  return out;
}

/**
 * A column whose row i is row `rows[i]` of `column`, or null where `rows[i]` is -1. Numeric and
 * time columns are copied bit for bit; other types go through `Vector.get` and a builder (exact
 * for strings, booleans, dates, lists of numbers; nested timestamps only to the millisecond).
 */
export function take(column: Vector, rows: Int32Array): Data {
  const { type } = column;
  const length = rows.length;
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (rows[i]! >= 0 && column.isValid(rows[i]!)) nullBitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  switch (type.typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Decimal:
    case Type.Time:
    case Type.Timestamp: {
      const source = column.toArray() as RawValues;
      const stride = column.stride;
      const values = new (source.constructor as new (n: number) => RawValues)(length * stride);
      for (let i = 0; i < length; i++) {
        const row = rows[i]!;
        if (row >= 0) values.set(source.subarray(row * stride, (row + 1) * stride), i * stride);
      }
      // makeData's overloads are per type; these props fit every fixed-width one.
      return makeData({ type, length, nullCount, nullBitmap, data: values } as never);
    }
    default: {
      const builder = makeBuilder({ type, nullValues: [null, undefined] });
      for (let i = 0; i < length; i++) builder.append(rows[i]! >= 0 ? column.get(rows[i]!) : null);
      return builder.finish().flush();
    }
  }
}

/** What core's time-column checks (assertViewTimeColumns, assertPullTimeColumns) ask of a schema. */
export function columnTypes(schema: Schema): SourceColumnTypes {
  const typeOf = (column: string) => schema.fields.find((f) => f.name === column)!.type;
  return { isTime: (column) => isTimeType(typeOf(column)), typeName: (column) => String(typeOf(column)) };
}
