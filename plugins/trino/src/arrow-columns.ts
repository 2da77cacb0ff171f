/**
 * Column builders that turn Trino's JSON values (as its statement protocol sends them) into Arrow
 * column data, one record batch's worth at a time. Written here rather than with apache-arrow's
 * builders because those take timestamps as JavaScript milliseconds, losing Trino's micro- and
 * nanoseconds, and 64-bit integers as numbers.
 *
 * Trino's encodings: bigint a JSON number (a decimal string from parseTrinoJson when beyond
 * 2^53), real/double a number or "NaN"/"Infinity"/"-Infinity", decimal a string, varbinary
 * base64, date `YYYY-MM-DD`, timestamp `YYYY-MM-DD HH:MM:SS[.fraction]` with a zone (`UTC`, an
 * offset or a region id) after a space for `with time zone`, arrays JSON arrays.
 */
import { type Data, DataType, type List, TimeUnit, type Timestamp, makeData } from 'apache-arrow';
import { LarderError } from '@larder/core';

/** Collects one column's values for a batch. */
export interface ColumnBuilder {
  /** Appends one Trino value (null for SQL NULL). */
  append(value: unknown): void;
  /** Rough bytes held, for bounding a batch. */
  readonly bytes: number;
  /** The column's data for the rows appended since the last finish; the builder starts empty again. */
  finish(): Data;
}

/** A builder for `type` (from arrowTypeForTrino); `column` names the column in errors. */
export function columnBuilder(type: DataType, column: string): ColumnBuilder {
  if (DataType.isList(type)) return new ListBuilder(type as List, column);
  if (DataType.isBool(type)) return new BoolBuilder(type);
  if (DataType.isUtf8(type)) return new BytesBuilder(type, (v) => UTF8.encode(typeof v === 'string' ? v : JSON.stringify(v)));
  if (DataType.isBinary(type)) return new BytesBuilder(type, (v) => Buffer.from(String(v), 'base64'));
  if (DataType.isTimestamp(type)) {
    const t = type as Timestamp;
    return new FixedBuilder(type, BigInt64Array, (v) => epochOf(String(v), t.unit, column));
  }
  if (DataType.isDate(type)) return new FixedBuilder(type, Int32Array, (v) => daysOf(String(v), column));
  if (DataType.isInt(type)) {
    if ((type as { bitWidth: number }).bitWidth === 64) return new FixedBuilder(type, BigInt64Array, (v) => BigInt(v as string | number));
    const array = { 8: Int8Array, 16: Int16Array, 32: Int32Array }[(type as { bitWidth: 8 | 16 | 32 }).bitWidth];
    return new FixedBuilder(type, array, (v) => Number(v));
  }
  if (DataType.isFloat(type)) {
    return new FixedBuilder(type, (type as { precision: number }).precision === 1 ? Float32Array : Float64Array, (v) => Number(v));
  }
  throw new LarderError(`column "${column}": no Arrow builder for ${type}`);
}

const UTF8 = new TextEncoder();

/** Validity bits shared by the builders. */
class Validity {
  private bits: number[] = [];
  length = 0;
  nullCount = 0;
  push(valid: boolean): void {
    if (!valid) this.nullCount++;
    this.bits.push(valid ? 1 : 0);
    this.length++;
  }
  /** The bitmap, or undefined without nulls (Arrow's way of saying "all valid"). */
  take(): Uint8Array | undefined {
    const { bits, nullCount } = this;
    this.bits = [];
    this.length = 0;
    this.nullCount = 0;
    if (nullCount === 0) return undefined;
    return packBits(bits);
  }
}

function packBits(bits: readonly number[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

type FixedArray = Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;
type FixedArrayConstructor = { new (length: number): FixedArray };

class FixedBuilder implements ColumnBuilder {
  private values: (number | bigint)[] = [];
  private readonly validity = new Validity();
  constructor(
    private readonly type: DataType,
    private readonly array: FixedArrayConstructor,
    private readonly convert: (value: unknown) => number | bigint,
  ) {}
  get bytes(): number {
    return this.values.length * 8;
  }
  append(value: unknown): void {
    const valid = value !== null && value !== undefined;
    this.validity.push(valid);
    this.values.push(valid ? this.convert(value) : this.array === BigInt64Array ? 0n : 0);
  }
  finish(): Data {
    const length = this.validity.length;
    const { nullCount } = this.validity;
    const data = new this.array(length);
    for (let i = 0; i < length; i++) (data as unknown as (number | bigint)[])[i] = this.values[i]!;
    this.values = [];
    return makeData({ type: this.type, length, nullCount, nullBitmap: this.validity.take(), data } as never);
  }
}

class BoolBuilder implements ColumnBuilder {
  private values: number[] = [];
  private readonly validity = new Validity();
  constructor(private readonly type: DataType) {}
  get bytes(): number {
    return this.values.length;
  }
  append(value: unknown): void {
    const valid = value !== null && value !== undefined;
    this.validity.push(valid);
    this.values.push(valid && value === true ? 1 : 0);
  }
  finish(): Data {
    const length = this.validity.length;
    const { nullCount } = this.validity;
    const data = packBits(this.values);
    this.values = [];
    return makeData({ type: this.type, length, nullCount, nullBitmap: this.validity.take(), data } as never);
  }
}

class BytesBuilder implements ColumnBuilder {
  private chunks: Uint8Array[] = [];
  private offsets: number[] = [0];
  private total = 0;
  private readonly validity = new Validity();
  constructor(
    private readonly type: DataType,
    private readonly encode: (value: unknown) => Uint8Array,
  ) {}
  get bytes(): number {
    return this.total + this.offsets.length * 4;
  }
  append(value: unknown): void {
    const valid = value !== null && value !== undefined;
    this.validity.push(valid);
    if (valid) {
      const bytes = this.encode(value);
      this.chunks.push(bytes);
      this.total += bytes.length;
    }
    this.offsets.push(this.total);
  }
  finish(): Data {
    const length = this.validity.length;
    const { nullCount } = this.validity;
    const data = new Uint8Array(this.total);
    let at = 0;
    for (const chunk of this.chunks) {
      data.set(chunk, at);
      at += chunk.length;
    }
    const valueOffsets = Int32Array.from(this.offsets);
    this.chunks = [];
    this.offsets = [0];
    this.total = 0;
    return makeData({ type: this.type, length, nullCount, nullBitmap: this.validity.take(), valueOffsets, data } as never);
  }
}

class ListBuilder implements ColumnBuilder {
  private offsets: number[] = [0];
  private count = 0;
  private readonly child: ColumnBuilder;
  private readonly validity = new Validity();
  constructor(
    private readonly type: List,
    private readonly column: string,
  ) {
    this.child = columnBuilder(type.children[0]!.type, column);
  }
  get bytes(): number {
    return this.child.bytes + this.offsets.length * 4;
  }
  append(value: unknown): void {
    const valid = value !== null && value !== undefined;
    if (valid && !Array.isArray(value)) {
      throw new LarderError(`column "${this.column}": Trino sent ${JSON.stringify(value)} for an array`);
    }
    this.validity.push(valid);
    if (valid) {
      for (const item of value as unknown[]) this.child.append(item);
      this.count += (value as unknown[]).length;
    }
    this.offsets.push(this.count);
  }
  finish(): Data {
    const length = this.validity.length;
    const { nullCount } = this.validity;
    const valueOffsets = Int32Array.from(this.offsets);
    this.offsets = [0];
    this.count = 0;
    const child = this.child.finish();
    return makeData({ type: this.type, length, nullCount, nullBitmap: this.validity.take(), valueOffsets, child } as never);
  }
}

const DATE = /^([+-]?\d{4,})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^([+-]?\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?: (.+))?$/;
const OFFSET = /^([+-])(\d{2}):(\d{2})$/;
const UNITS_PER_SECOND: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1n,
  [TimeUnit.MILLISECOND]: 1000n,
  [TimeUnit.MICROSECOND]: 1_000_000n,
  [TimeUnit.NANOSECOND]: 1_000_000_000n,
};
const FRACTION_DIGITS: Record<TimeUnit, number> = {
  [TimeUnit.SECOND]: 0,
  [TimeUnit.MILLISECOND]: 3,
  [TimeUnit.MICROSECOND]: 6,
  [TimeUnit.NANOSECOND]: 9,
};

/** Milliseconds since the epoch of a UTC wall time (any year, unlike Date.UTC's 0–99 → 19xx). */
function utcMillis(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

function daysOf(text: string, column: string): number {
  const m = DATE.exec(text);
  if (!m) throw new LarderError(`column "${column}": Trino sent ${JSON.stringify(text)} for a date`);
  return Math.floor(utcMillis(Number(m[1]), Number(m[2]), Number(m[3])) / 86_400_000);
}

/**
 * A Trino timestamp's text as a count of `unit` since the epoch: the wall time itself for a naive
 * timestamp, the instant for one with a zone. Digits beyond the unit are truncated (Trino allows
 * picoseconds; Arrow stops at nanoseconds).
 */
function epochOf(text: string, unit: TimeUnit, column: string): bigint {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new LarderError(`column "${column}": Trino sent ${JSON.stringify(text)} for a timestamp`);
  const wall = utcMillis(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const digits = FRACTION_DIGITS[unit];
  const fraction = BigInt(((m[7] ?? '') + '000000000').slice(0, digits) || '0');
  const offsetSeconds = m[8] === undefined ? 0 : zoneOffsetSeconds(m[8], wall, column);
  return (BigInt(wall / 1000) - BigInt(offsetSeconds)) * UNITS_PER_SECOND[unit] + fraction;
}

/** The zone's offset from UTC (seconds east) at the wall time `wall` (UTC milliseconds of the wall clock). */
function zoneOffsetSeconds(zone: string, wall: number, column: string): number {
  if (zone === 'UTC' || zone === 'Z' || zone === 'GMT') return 0;
  const offset = OFFSET.exec(zone);
  if (offset) return (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 3600 + Number(offset[3]) * 60);
  // A region id: its offset at the instant the wall time names (refined once across a DST change).
  const format = zoneFormat(zone, column);
  const offsetAt = (instant: number) => (wallClockMillis(format, instant) - instant) / 1000;
  const first = offsetAt(wall);
  return offsetAt(wall - first * 1000);
}

const ZONE_FORMATS = new Map<string, Intl.DateTimeFormat>();

function zoneFormat(zone: string, column: string): Intl.DateTimeFormat {
  let format = ZONE_FORMATS.get(zone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new LarderError(`column "${column}": Trino sent a timestamp in time zone ${JSON.stringify(zone)}, which Node does not know`);
    }
    ZONE_FORMATS.set(zone, format);
  }
  return format;
}

/** The wall clock of `format`'s zone at `instant`, as UTC milliseconds. */
function wallClockMillis(format: Intl.DateTimeFormat, instant: number): number {
  const parts: Record<string, string> = {};
  for (const p of format.formatToParts(new Date(instant))) parts[p.type] = p.value;
  const year = parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year);
  const seconds = Math.floor(instant / 1000) * 1000;
  return (
    utcMillis(year, Number(parts.month), Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) +
    (instant - seconds)
  );
}
