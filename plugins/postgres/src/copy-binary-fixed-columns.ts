/**
 * Binary COPY column builders for fixed-width values (integers, floats, numeric, timestamps,
 * dates, booleans): one typed-array slot per row, read with DataView from the big-endian wire.
 */
import { makeData, type Data, type DataType } from 'apache-arrow';
import { Column, INT32_MAX, INT32_MIN, malformed } from './copy-binary-column.ts';

type FixedArray = Int32Array | Float32Array | Float64Array | BigInt64Array;

/** Columns with one typed-array slot per row. */
abstract class FixedColumn<A extends FixedArray> extends Column {
  protected values: A;

  constructor(
    type: DataType,
    capacity: number,
    private readonly ArrayType: { new (n: number): A },
  ) {
    super(type, capacity);
    this.values = new ArrayType(0);
  }

  protected resize(capacity: number): void {
    const values = new this.ArrayType(capacity);
    values.set(this.values.subarray(0, this.length) as never);
    this.values = values;
  }

  protected toData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.type as never, length, nullCount, nullBitmap, data: this.values.subarray(0, length) as never });
  }
}

/** int2 and int4 → Int32 (Feast widens smallint). */
export class Int32Column extends FixedColumn<Int32Array> {
  constructor(
    type: DataType,
    capacity: number,
    private readonly width: 2 | 4,
  ) {
    super(type, capacity, Int32Array);
  }

  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== this.width) throw malformed(`int${this.width}`, len);
    if (this.length === this.capacity) this.grow();
    this.values[this.length++] = this.width === 4 ? view.getInt32(pos) : view.getInt16(pos);
  }
}

export class Float32Column extends FixedColumn<Float32Array> {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 4) throw malformed('float4', len);
    if (this.length === this.capacity) this.grow();
    this.values[this.length++] = view.getFloat32(pos);
  }
}

export class Float64Column extends FixedColumn<Float64Array> {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 8) throw malformed('float8', len);
    if (this.length === this.capacity) this.grow();
    this.values[this.length++] = view.getFloat64(pos);
  }
}

/** Powers of ten a double holds exactly (as literals, so no pow() rounding). */
const EXACT_POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/**
 * numeric → the nearest double (what float(Decimal) gives in Feast). The value is ±digits ×
 * 10000^(weight − ndigits + 1) with base-10000 digits; when the digits form an exact integer and
 * the power of ten is exact, one multiplication or division rounds correctly; otherwise the
 * decimal text goes through Number(), which also rounds correctly.
 */
export class NumericColumn extends FixedColumn<Float64Array> {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (this.length === this.capacity) this.grow();
    this.values[this.length++] = readNumeric(view, pos, len);
  }
}

function readNumeric(view: DataView, pos: number, len: number): number {
  if (len < 8) throw malformed('numeric', len);
  const ndigits = view.getUint16(pos);
  const weight = view.getInt16(pos + 2);
  const sign = view.getUint16(pos + 4);
  if (sign === 0xc000) return NaN;
  if (sign === 0xd000) return Infinity;
  if (sign === 0xf000) return -Infinity;
  if (len !== 8 + 2 * ndigits) throw malformed('numeric', len);
  let mantissa = 0;
  for (let k = 0; k < ndigits; k++) mantissa = mantissa * 10_000 + view.getUint16(pos + 8 + 2 * k);
  const exponent = 4 * (weight - ndigits + 1);
  let value: number;
  if (Number.isSafeInteger(mantissa) && Math.abs(exponent) <= 22) {
    value = exponent >= 0 ? mantissa * EXACT_POW10[exponent]! : mantissa / EXACT_POW10[-exponent]!;
  } else {
    let digits = '';
    for (let k = 0; k < ndigits; k++) digits += String(view.getUint16(pos + 8 + 2 * k)).padStart(4, '0');
    value = Number(`${digits}e${exponent}`);
  }
  return sign === 0x4000 ? -value : value;
}

/** PostgreSQL's epoch (2000-01-01) as Unix microseconds, split into 32-bit words. */
const PG_EPOCH_US = 946_684_800_000_000;
const EPOCH_HI = Math.floor(PG_EPOCH_US / 2 ** 32);
const EPOCH_LO = PG_EPOCH_US - EPOCH_HI * 2 ** 32;
const US_PER_DAY = 86_400_000_000;

/**
 * 64-bit columns (int8, timestamps, dates) in a BigInt64Array, written through a view of its
 * 32-bit words (the low word first on a little-endian host) so no value becomes a BigInt.
 */
abstract class Int64Column extends FixedColumn<BigInt64Array> {
  protected words: Int32Array<ArrayBufferLike> = new Int32Array(0);

  constructor(type: DataType, capacity: number) {
    super(type, capacity, BigInt64Array);
  }

  protected override resize(capacity: number): void {
    super.resize(capacity);
    this.words = new Int32Array(this.values.buffer);
  }
}

export class BigintColumn extends Int64Column {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 8) throw malformed('int8', len);
    if (this.length === this.capacity) this.grow();
    const w = 2 * this.length++;
    this.words[w] = view.getInt32(pos + 4);
    this.words[w + 1] = view.getInt32(pos);
  }
}

/** timestamp and timestamptz: int64 µs since 2000-01-01 → Unix µs. */
export class TimestampColumn extends Int64Column {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 8) throw malformed('timestamp', len);
    const hi = view.getInt32(pos);
    const lo = view.getUint32(pos + 4);
    if (this.length === this.capacity) this.grow();
    const w = 2 * this.length++;
    // ±infinity are int64's extremes, and adding the epoch would wrap them around: keep them.
    if (hi === INT32_MAX || hi === INT32_MIN) {
      this.words[w] = lo;
      this.words[w + 1] = hi;
      return;
    }
    const sumLo = lo + EPOCH_LO;
    this.words[w] = sumLo; // an Int32Array stores it modulo 2^32
    this.words[w + 1] = hi + EPOCH_HI + (sumLo >= 2 ** 32 ? 1 : 0);
  }
}

/** date: int32 days since 2000-01-01 → Unix µs at midnight; ±infinity → int64's extremes. */
export class DateColumn extends Int64Column {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 4) throw malformed('date', len);
    const days = view.getInt32(pos);
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    if (days === INT32_MAX || days === INT32_MIN) {
      this.values[i] = days === INT32_MAX ? 0x7fffffffffffffffn : -0x8000000000000000n;
      return;
    }
    const us = days * US_PER_DAY + PG_EPOCH_US;
    if (Number.isSafeInteger(us)) {
      const hi = Math.floor(us / 2 ** 32);
      this.words[2 * i] = us - hi * 2 ** 32;
      this.words[2 * i + 1] = hi;
    } else {
      // Beyond ±285 years of 1970 the double is inexact: do it in BigInt (rare, slower).
      this.values[i] = BigInt.asIntN(64, BigInt(days) * BigInt(US_PER_DAY) + BigInt(PG_EPOCH_US));
    }
  }
}

/** bool: one byte per value → Arrow's bit-packed values. */
export class BoolColumn extends Column {
  private bits = new Uint8Array(0);

  append(_view: DataView, bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 1) throw malformed('bool', len);
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    if (bytes[pos] !== 0) this.bits[i >> 3]! |= 1 << (i & 7);
  }

  protected resize(capacity: number): void {
    const bits = new Uint8Array((capacity + 7) >> 3);
    bits.set(this.bits.subarray(0, (this.length + 7) >> 3));
    this.bits = bits;
  }

  protected override truncated(length: number, previous: number): void {
    // Those rows will be written again, and a write only ever sets bits.
    for (let i = length; i < previous; i++) this.bits[i >> 3]! &= ~(1 << (i & 7));
  }

  protected toData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.type as never, length, nullCount, nullBitmap, data: this.bits.subarray(0, (length + 7) >> 3) as never });
  }
}
