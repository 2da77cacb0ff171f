/**
 * Arrow values as Trino SQL literals, for the VALUES rows of the writes' INSERT statements.
 *
 * Each literal is exact: integers of any width as their digits, floats as double literals with
 * enough digits to round-trip (`nan()`, `infinity()` for the non-finite ones), decimals from their
 * unscaled 128/256-bit integers, timestamps from their raw int64 in the column's unit (so
 * nanoseconds are not lost through a JavaScript Date), binary as `X'…'`, lists as `ARRAY[…]`.
 * The INSERT casts each column to its table column's type, so a literal only has to denote the
 * value; Trino's CAST then rounds (timestamp precision, real, decimal scale) as it always does.
 */
import { type Data, DataType, makeVector, TimeUnit, type Vector } from 'apache-arrow';
import type { TrinoType } from './trino-types.ts';

/** The literal of row `index` of one chunk (`Data`) of a column. */
export type LiteralOf = (data: Data, index: number) => string;

/**
 * The literal writer for values of `type` going into a column of type `target`. Timestamps are
 * written as UTC wall clock; with ` UTC` when the target has a time zone, so a naive Arrow
 * timestamp is read as UTC (as larder reads naive times everywhere) and a zoned one keeps its
 * instant either way. Callers have checked the pair with `writable` (write-columns.ts).
 */
export function literalWriter(type: DataType, target: TrinoType): LiteralOf {
  const value = valueWriter(type, target);
  return (data, index) => (data.getValid(index) ? value(data, index) : 'NULL');
}

function valueWriter(type: DataType, target: TrinoType): LiteralOf {
  if (DataType.isNull(type)) return () => 'NULL';
  if (DataType.isBool(type)) return viaVector((v) => (v ? 'TRUE' : 'FALSE'));
  // A bare integer literal is integer or bigint; a uint64 beyond bigint, and bigint's minimum (whose
  // digits alone overflow), need a typed literal.
  if (DataType.isInt(type)) return viaVector((v) => integerLiteral(v as number | bigint));
  if (DataType.isFloat(type)) return viaVector((v) => doubleLiteral(v as number));
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return viaVector((v) => stringLiteral(v as string));
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isFixedSizeBinary(type)) {
    return viaVector((v) => `X'${Buffer.from(v as Uint8Array).toString('hex')}'`);
  }
  if (DataType.isDecimal(type)) {
    const words = type.bitWidth / 32;
    const scale = type.scale;
    return (data, index) => `DECIMAL '${decimalText(unscaled(data.values as Uint32Array, index * words, words), scale)}'`;
  }
  if (DataType.isDate(type)) {
    const perDay = type.unit === 0 /* DateUnit.DAY */ ? 1 : 86_400_000;
    return (data, index) => `DATE '${civilDate(Math.floor(Number(data.values[index]) / perDay))}'`;
  }
  if (DataType.isTimestamp(type)) {
    const unit = UNITS[type.unit]!;
    const zone = target.withTimeZone ? ' UTC' : '';
    return (data, index) => `TIMESTAMP '${timestampText(BigInt(data.values[index] as bigint | number), unit)}${zone}'`;
  }
  if (DataType.isDictionary(type)) {
    const inner = literalWriter(type.dictionary, target);
    return (data, index) => atVector(data.dictionary!, Number(data.values[index]), inner);
  }
  if (DataType.isList(type) || DataType.isLargeList(type) || DataType.isFixedSizeList(type)) {
    const element = literalWriter(type.children[0]!.type, target.element ?? target);
    const fixed = DataType.isFixedSizeList(type) ? type.listSize : undefined;
    return (data, index) => {
      const child = data.children[0]!;
      // A list's child is never sliced with it (offsets index it); a fixed-size list's child is.
      const begin = fixed === undefined ? Number(data.valueOffsets[index]) : index * fixed;
      const end = fixed === undefined ? Number(data.valueOffsets[index + 1]) : begin + fixed;
      const items: string[] = [];
      for (let k = begin; k < end; k++) items.push(element(child, k));
      return `ARRAY[${items.join(', ')}]`;
    };
  }
  throw new Error(`no Trino literal for Arrow type ${type}`); // writable() refuses these first
}

/** Literal from the value arrow-js's own getter returns (for types whose getter is exact). */
function viaVector(format: (value: unknown) => string): LiteralOf {
  let cached: Data | undefined;
  let vector: Vector | undefined;
  return (data, index) => {
    if (data !== cached) {
      cached = data;
      vector = makeVector(data);
    }
    return format(vector!.get(index));
  };
}

/** The literal of element `index` of a (possibly chunked) vector, a dictionary's values. */
function atVector(vector: Vector, index: number, literal: LiteralOf): string {
  let k = index;
  for (const data of vector.data) {
    if (k < data.length) return literal(data, k);
    k -= data.length;
  }
  throw new Error(`dictionary index ${index} is out of range`);
}

const BIGINT_MAX = 2n ** 63n - 1n;

function integerLiteral(value: number | bigint): string {
  if (typeof value === 'number') return String(value);
  if (value > BIGINT_MAX) return `DECIMAL '${value}'`;
  if (value === -BIGINT_MAX - 1n) return `BIGINT '${value}'`;
  return String(value);
}

/** A string literal: single quotes, a quote doubled. */
export function stringLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * A DOUBLE literal (Trino reads `1.5` as a DECIMAL, `1.5E0` as a DOUBLE): JavaScript's shortest
 * round-trip digits with an exponent; NaN and the infinities as Trino's functions.
 */
export function doubleLiteral(value: number): string {
  if (Number.isNaN(value)) return 'nan()';
  if (value === Infinity) return 'infinity()';
  if (value === -Infinity) return '-infinity()';
  if (Object.is(value, -0)) return '-0E0';
  const text = String(value).toUpperCase();
  return text.includes('E') ? text : `${text}E0`;
}

/** A two's-complement integer of `words` little-endian 32-bit words from `offset`. */
function unscaled(values: Uint32Array, offset: number, words: number): bigint {
  let result = 0n;
  for (let w = words - 1; w >= 0; w--) result = (result << 32n) | BigInt(values[offset + w]!);
  const bits = BigInt(words * 32);
  return result >= 1n << (bits - 1n) ? result - (1n << bits) : result;
}

function decimalText(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  if (scale <= 0) return `${negative ? '-' : ''}${digits}${'0'.repeat(-scale)}`;
  const padded = digits.padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

interface Unit {
  readonly perSecond: bigint;
  readonly digits: number;
}

const UNITS: Readonly<Record<number, Unit>> = {
  [TimeUnit.SECOND]: { perSecond: 1n, digits: 0 },
  [TimeUnit.MILLISECOND]: { perSecond: 1_000n, digits: 3 },
  [TimeUnit.MICROSECOND]: { perSecond: 1_000_000n, digits: 6 },
  [TimeUnit.NANOSECOND]: { perSecond: 1_000_000_000n, digits: 9 },
};

/** `YYYY-MM-DD HH:MM:SS[.fff…]` (UTC wall clock) of `value` units since the epoch, all digits of the unit kept. */
function timestampText(value: bigint, unit: Unit): string {
  let seconds = value / unit.perSecond;
  let fraction = value % unit.perSecond;
  if (fraction < 0n) {
    fraction += unit.perSecond;
    seconds -= 1n;
  }
  const iso = new Date(Number(seconds) * 1000).toISOString();
  const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  return unit.digits === 0 ? text : `${text}.${fraction.toString().padStart(unit.digits, '0')}`;
}

/** `YYYY-MM-DD` of a day number since 1970-01-01. */
function civilDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The UTC year of a date or timestamp value (for the range check: Trino's literals take years
 * 1-9999 here, as four digits).
 */
export function yearOf(type: DataType, raw: bigint | number): number {
  if (DataType.isDate(type)) {
    const perDay = type.unit === 0 ? 1 : 86_400_000;
    return new Date(Math.floor(Number(raw) / perDay) * 86_400_000).getUTCFullYear();
  }
  const unit = UNITS[(type as unknown as { unit: TimeUnit }).unit]!;
  const seconds = BigInt(raw) / unit.perSecond;
  return new Date(Number(seconds) * 1000).getUTCFullYear();
}
