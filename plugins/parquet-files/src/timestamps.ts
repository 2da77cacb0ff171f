/**
 * Exact instants of timestamp columns.
 *
 * Arrow JS's `Vector.get()` turns µs and ns timestamps into millisecond numbers, and BigInt
 * arithmetic on every row is slow. Instead an instant is held as two numbers: whole microseconds
 * since the epoch (exact in a double for years 1685–2255) and the 0–999 nanoseconds within that
 * microsecond. Both are computed from the two 32-bit halves of the int64, without BigInt.
 *
 * Arrow stores tz-aware timestamps as UTC instants and naive ones as wall-clock values; like
 * Feast, naive values are read as UTC, so the stored number is the instant in both cases.
 */
import type { SourceColumnTypes } from '@larder/core';
import { makeData, Timestamp, TimeUnit, Type, DateUnit, type Data, type DataType, type Schema, type Vector } from 'apache-arrow';

/** Instants of a column's rows: `us` is NaN for a null. */
export interface Instants {
  readonly us: Float64Array;
  readonly ns: Uint16Array;
}

/** One instant. */
export interface Instant {
  readonly us: number;
  readonly ns: number;
}

const TWO_32 = 4294967296;

/** Whether rows of this type are points in time the point-in-time rule can compare. */
export function isTimeType(type: DataType): boolean {
  return type.typeId === Type.Timestamp || type.typeId === Type.Date;
}

/** A parquet file's columns as core's time-column checks ask about them (a missing column is left to the column checks). */
export function arrowColumnTypes(schema: Schema): SourceColumnTypes {
  const typeOf = (column: string) => schema.fields.find((f) => f.name === column)?.type;
  return {
    isTime: (column) => {
      const type = typeOf(column);
      return type === undefined || isTimeType(type);
    },
    typeName: (column) => String(typeOf(column)),
  };
}

/** Orders two instants: negative, zero or positive. Nulls (NaN) are not handled here. */
export function compareInstants(aUs: number, aNs: number, bUs: number, bNs: number): number {
  return aUs !== bUs ? aUs - bUs : aNs - bNs;
}

export function instantFromDate(date: Date): Instant {
  return { us: date.getTime() * 1000, ns: 0 };
}

/** An instant `seconds` earlier (TTL lower bounds), exact to the microsecond. */
export function instantMinusSeconds(at: Instant, seconds: number): Instant {
  return { us: at.us - Math.round(seconds * 1e6), ns: at.ns };
}

/** The instants of one chunk of a Timestamp or Date column. */
export function instantsOfData(data: Data): Instants {
  const n = data.length;
  const us = new Float64Array(n);
  const ns = new Uint16Array(n);
  const type = data.type as DataType & { unit: number };
  if (data.typeId === Type.Date && type.unit === DateUnit.DAY) {
    const days = data.values as Int32Array;
    for (let i = 0; i < n; i++) us[i] = days[i]! * 86_400_000_000;
  } else if (data.typeId === Type.Date || data.typeId === Type.Timestamp) {
    const values = data.values as BigInt64Array;
    const hi = new Int32Array(values.buffer, values.byteOffset, n * 2);
    const lo = new Uint32Array(values.buffer, values.byteOffset, n * 2);
    const unit = data.typeId === Type.Date ? TimeUnit.MILLISECOND : type.unit;
    if (unit === TimeUnit.NANOSECOND) {
      // v = h·2^32 + l = 1000·(h·4294967) + (h·296 + l): both parts are exact doubles.
      for (let i = 0; i < n; i++) {
        const h = hi[2 * i + 1]!;
        const r = h * 296 + lo[2 * i]!;
        const q = Math.floor(r / 1000);
        us[i] = h * 4294967 + q;
        ns[i] = r - q * 1000;
      }
    } else {
      const scale = unit === TimeUnit.SECOND ? 1e6 : unit === TimeUnit.MILLISECOND ? 1e3 : 1;
      for (let i = 0; i < n; i++) us[i] = (hi[2 * i + 1]! * TWO_32 + lo[2 * i]!) * scale;
    }
  } else {
    throw new TypeError(`not a timestamp or date column: ${String(data.type)}`);
  }
  if (data.nullCount > 0) {
    for (let i = 0; i < n; i++) if (!data.getValid(i)) us[i] = NaN;
  }
  return { us, ns };
}

/** The instants of a whole (possibly chunked) column. */
export function instantsOfVector(vector: Vector): Instants {
  if (vector.data.length === 1) return instantsOfData(vector.data[0]!);
  const us = new Float64Array(vector.length);
  const ns = new Uint16Array(vector.length);
  let at = 0;
  for (const chunk of vector.data) {
    const part = instantsOfData(chunk);
    us.set(part.us, at);
    ns.set(part.ns, at);
    at += chunk.length;
  }
  return { us, ns };
}

/** A `timestamp[ns, tz]` column from instants (NaN → null). */
export function timestampNsData(instants: Instants, timezone: string | null = 'UTC'): Data<Timestamp> {
  const n = instants.us.length;
  const values = new BigInt64Array(n);
  const validity = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const us = instants.us[i]!;
    if (Number.isNaN(us)) {
      nullCount++;
      continue;
    }
    values[i] = BigInt(us) * 1000n + BigInt(instants.ns[i]!);
    validity[i >> 3]! |= 1 << (i & 7);
  }
  const type = new Timestamp(TimeUnit.NANOSECOND, timezone);
  return makeData({ type, length: n, nullCount, nullBitmap: nullCount > 0 ? validity : null, data: values });
}
