/**
 * Arrow values as the text Trino casts back to them, for the rows of the writes' INSERT
 * statements (insert-statements.ts sends a batch of rows as one JSON document of these texts and
 * lets Trino `CAST` each to its table column's type).
 *
 * Each text is exact: integers of any width as their digits, floats with JavaScript's shortest
 * round-trip digits (`NaN`, `Infinity`, `-Infinity` as Java parses them; a float32 value's digits
 * parse back to the same float), decimals from their unscaled 128/256-bit integers, dates and
 * timestamps from their raw integers in the column's unit (so nanoseconds are not lost through a
 * JavaScript Date), binary as base64, lists as JSON arrays of their elements' texts. Trino's CAST
 * then rounds (timestamp precision, decimal scale) as it always does.
 */
import { type Data, DataType, makeVector, TimeUnit, type Vector } from 'apache-arrow';
import type { TrinoType } from './trino-types.ts';

/** What a value becomes in a row's JSON: a text, null, or (for a list) an array of those. */
export type ValueText = string | null | ValueText[];

/** The text of row `index` of one chunk (`Data`) of a column. */
export type TextOf = (data: Data, index: number) => ValueText;

/**
 * The text writer for values of `type` going into a column of type `target`. Timestamps are
 * written as UTC wall clock, with ` UTC` when the target has a time zone: a naive Arrow timestamp
 * is read as UTC (as larder reads naive times everywhere) and a zoned one keeps its instant either
 * way. Callers have checked the pair with `writable` (write-columns.ts).
 */
export function textWriter(type: DataType, target: TrinoType): TextOf {
  const value = valueWriter(type, target);
  return (data, index) => (data.getValid(index) ? value(data, index) : null);
}

function valueWriter(type: DataType, target: TrinoType): TextOf {
  if (DataType.isNull(type)) return () => null;
  if (DataType.isBool(type)) return viaVector((v) => (v ? 'true' : 'false'));
  if (DataType.isInt(type)) return viaVector((v) => String(v));
  if (DataType.isFloat(type)) return viaVector((v) => doubleText(v as number));
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return viaVector((v) => v as string);
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isFixedSizeBinary(type)) {
    return viaVector((v) => Buffer.from(v as Uint8Array).toString('base64'));
  }
  if (DataType.isDecimal(type)) {
    const words = type.bitWidth / 32;
    const scale = type.scale;
    return (data, index) => decimalText(unscaled(data.values as Uint32Array, index * words, words), scale);
  }
  if (DataType.isDate(type)) {
    const perDay = type.unit === 0 /* DateUnit.DAY */ ? 1 : 86_400_000;
    return (data, index) => civilDate(Math.floor(Number(data.values[index]) / perDay));
  }
  if (DataType.isTimestamp(type)) {
    const unit = UNITS[type.unit]!;
    const zone = target.withTimeZone ? ' UTC' : '';
    return (data, index) => `${timestampText(BigInt(data.values[index] as bigint | number), unit)}${zone}`;
  }
  if (DataType.isDictionary(type)) {
    const inner = textWriter(type.dictionary, target);
    return (data, index) => atVector(data.dictionary!, Number(data.values[index]), inner);
  }
  if (DataType.isList(type) || DataType.isLargeList(type) || DataType.isFixedSizeList(type)) {
    const element = textWriter(type.children[0]!.type, target.element ?? target);
    const fixed = DataType.isFixedSizeList(type) ? type.listSize : undefined;
    return (data, index) => {
      const child = data.children[0]!;
      // A list's child is never sliced with it (offsets index it); a fixed-size list's child is.
      const begin = fixed === undefined ? Number(data.valueOffsets[index]) : index * fixed;
      const end = fixed === undefined ? Number(data.valueOffsets[index + 1]) : begin + fixed;
      const items: ValueText[] = [];
      for (let k = begin; k < end; k++) items.push(element(child, k));
      return items;
    };
  }
  throw new Error(`no Trino text for Arrow type ${type}`); // writable() refuses these first
}

/** Text from the value arrow-js's own getter returns (for types whose getter is exact). */
function viaVector(format: (value: unknown) => string): TextOf {
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

/** The text of element `index` of a (possibly chunked) vector, a dictionary's values. */
function atVector(vector: Vector, index: number, text: TextOf): ValueText {
  let k = index;
  for (const data of vector.data) {
    if (k < data.length) return text(data, k);
    k -= data.length;
  }
  throw new Error(`dictionary index ${index} is out of range`);
}

/** A double (or float32, widened exactly) as Java's Double/Float.parseDouble read it back. */
export function doubleText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return Object.is(value, -0) ? '-0.0' : String(value);
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
 * The UTC year of a date or timestamp value (for the range check: the texts above have
 * four-digit years, 1-9999).
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
