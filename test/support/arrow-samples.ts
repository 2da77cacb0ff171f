/**
 * Arrow test data covering every type a store can produce, with nulls, plus helpers that compare
 * tables by value (and by raw buffer values where `.get()` loses precision, e.g. timestamps).
 */
import {
  Binary,
  Bool,
  type Data,
  DateDay,
  DateMillisecond,
  Decimal,
  Dictionary,
  DurationMicrosecond,
  Field,
  FixedSizeList,
  Float16,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  LargeBinary,
  LargeUtf8,
  List,
  Map_,
  Null,
  Struct,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';

const isNull = (i: number, every: number) => i % every === every - 1;

/** A validity bitmap with row i null when `nullAt(i)`. */
function bitmap(n: number, nullAt: (i: number) => boolean): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array(((n + 63) & ~63) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (nullAt(i)) nullCount++;
    else nullBitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { nullBitmap, nullCount };
}

/** Timestamps with sub-millisecond parts, so a lossy path shows up in the raw values. */
function timestamps(type: DataType, n: number, perUnit: bigint): Vector {
  const base = 1_700_000_000n * perUnit; // 2023-11-14 in the column's unit
  const values = new BigInt64Array(n);
  for (let i = 0; i < n; i++) values[i] = base + BigInt(i) * 1_234_567n + 987n;
  return makeVector(makeData({ type: type as TimestampNanosecond, length: n, data: values, ...bitmap(n, (i) => isNull(i, 5)) }));
}

function numbers<T>(n: number, every: number, f: (i: number) => T): (T | null)[] {
  return Array.from({ length: n }, (_, i) => (isNull(i, every) ? null : f(i)));
}

const str = (i: number) => (i % 4 === 0 ? '' : `välue-${i}-${'x'.repeat(i % 13)}`);

/** One column of each type, `n` rows, every column with some nulls (except the Null column, all null). */
export function sampleColumns(n: number): Record<string, Vector> {
  const decimals = new Uint32Array(n * 4);
  for (let i = 0; i < n; i++) {
    decimals[i * 4] = i * 1000 + 7;
  }
  const durations = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_001n);
  const entries = new Struct<{ key: Utf8; value: Int64 }>([new Field('key', new Utf8(), false), new Field('value', new Int64(), true)]);
  const mapType = new Map_<Utf8, Int64>(new Field('entries', entries, false));
  const structType = new Struct([
    new Field('x', new Int32(), true),
    new Field('y', new Utf8(), true),
    new Field('z', new Struct([new Field('ts', new TimestampMicrosecond('UTC'), true)]), true),
  ]);
  return {
    i8: vectorFromArray(
      numbers(n, 7, (i) => (i % 256) - 128),
      new Int8(),
    ),
    i16: vectorFromArray(
      numbers(n, 7, (i) => i * 3 - 30000),
      new Int16(),
    ),
    i32: vectorFromArray(
      numbers(n, 7, (i) => i * 1000 - 2 ** 30),
      new Int32(),
    ),
    i64: vectorFromArray(
      numbers(n, 7, (i) => 2n ** 60n + BigInt(i)),
      new Int64(),
    ),
    u8: vectorFromArray(
      numbers(n, 6, (i) => i % 256),
      new Uint8(),
    ),
    u16: vectorFromArray(
      numbers(n, 6, (i) => (i * 7) % 65536),
      new Uint16(),
    ),
    u32: vectorFromArray(
      numbers(n, 6, (i) => 2 ** 32 - 1 - i),
      new Uint32(),
    ),
    u64: vectorFromArray(
      numbers(n, 6, (i) => 2n ** 64n - 1n - BigInt(i)),
      new Uint64(),
    ),
    f16: vectorFromArray(
      numbers(n, 5, (i) => i / 4),
      new Float16(),
    ),
    f32: vectorFromArray(
      numbers(n, 5, (i) => i / 8),
      new Float32(),
    ),
    f64: vectorFromArray(
      numbers(n, 5, (i) => i / 3),
      new Float64(),
    ),
    bool: vectorFromArray(
      numbers(n, 3, (i) => i % 2 === 0),
      new Bool(),
    ),
    utf8: vectorFromArray(numbers(n, 4, str), new Utf8()),
    large_utf8: vectorFromArray(numbers(n, 4, str), new LargeUtf8()),
    binary: vectorFromArray(
      numbers(n, 4, (i) => Uint8Array.from({ length: i % 9 }, (_, k) => (k + i) % 256)),
      new Binary(),
    ),
    large_binary: vectorFromArray(
      numbers(n, 4, (i) => Uint8Array.from({ length: i % 5 }, (_, k) => k)),
      new LargeBinary(),
    ),
    ts_s: timestamps(new TimestampSecond(), n, 1n),
    ts_ms: timestamps(new TimestampMillisecond(), n, 1000n),
    ts_us: timestamps(new TimestampMicrosecond(), n, 1_000_000n),
    ts_ns: timestamps(new TimestampNanosecond(), n, 1_000_000_000n),
    ts_s_tz: timestamps(new TimestampSecond('UTC'), n, 1n),
    ts_ms_tz: timestamps(new TimestampMillisecond('Europe/Paris'), n, 1000n),
    ts_us_tz: timestamps(new TimestampMicrosecond('UTC'), n, 1_000_000n),
    ts_ns_tz: timestamps(new TimestampNanosecond('America/New_York'), n, 1_000_000_000n),
    date32: vectorFromArray(
      numbers(n, 5, (i) => new Date(Date.UTC(2024, 0, 1 + i))),
      new DateDay(),
    ),
    date64: vectorFromArray(
      numbers(n, 5, (i) => new Date(Date.UTC(2024, 0, 1) + i * 86_400_000)),
      new DateMillisecond(),
    ),
    decimal: makeVector(makeData({ type: new Decimal(2, 20, 128), length: n, data: decimals, ...bitmap(n, (i) => isNull(i, 6)) })),
    duration: makeVector(makeData({ type: new DurationMicrosecond(), length: n, data: durations, ...bitmap(n, (i) => isNull(i, 6)) })),
    list_i32: vectorFromArray(
      numbers(n, 4, (i) => Array.from({ length: i % 4 }, (_, k) => (k === 1 ? null : i + k))),
      new List(new Field('item', new Int32(), true)),
    ),
    list_utf8: vectorFromArray(
      numbers(n, 5, (i) => Array.from({ length: i % 3 }, (_, k) => str(i + k))),
      new List(new Field('item', new Utf8(), true)),
    ),
    fixed_list: vectorFromArray(
      numbers(n, 5, (i) => [i, i + 1]),
      new FixedSizeList(2, new Field('item', new Float64(), true)),
    ),
    map: vectorFromArray(
      numbers(
        n,
        4,
        (i) => new Map<string, bigint | null>(Array.from({ length: i % 3 }, (_, k) => [`k${k}`, k === 1 ? null : BigInt(i * k)])),
      ),
      mapType,
    ),
    struct: vectorFromArray(
      numbers(n, 4, (i) => ({ x: i % 5 === 0 ? null : i, y: str(i), z: i % 3 === 0 ? null : { ts: new Date(1_700_000_000_000 + i) } })),
      structType,
    ),
    dict: vectorFromArray(
      numbers(n, 5, (i) => ['red', 'green', 'blue'][i % 3]!),
      new Dictionary(new Utf8(), new Int32()),
    ),
    nulls: makeVector(makeData({ type: new Null(), length: n })),
  };
}

export function sampleTable(n: number): Table {
  return new Table(sampleColumns(n));
}

/** A JSON-comparable form of any Arrow value. */
export function normalize(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : value;
  if (value instanceof Date) return value.getTime();
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<unknown>, normalize);
  if (typeof value === 'object' && 'type' in value && typeof (value as Vector).toArray === 'function') {
    return Array.from(value as Vector, normalize);
  }
  if (typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return normalize((value as { toJSON(): unknown }).toJSON());
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

/** Every column's values, row by row, in a comparable form. */
export function tableValues(table: Table): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const field of table.schema.fields) {
    const column = table.getChild(field.name)!;
    out[field.name] = Array.from({ length: column.length }, (_, i) => normalize(column.get(i)));
  }
  return out;
}

/** The raw values of a fixed-width column (e.g. a timestamp's BigInt64 values), nulls included. */
export function rawValues(column: Vector): unknown[] {
  const out: unknown[] = [];
  for (const data of column.data as Data[]) {
    const values = data.values as unknown as ArrayLike<unknown> & { subarray(a: number, b: number): ArrayLike<unknown> };
    out.push(...Array.from(values.subarray(0, data.length * data.stride)));
  }
  return out;
}

/** Validity of each row. */
export function validity(column: Vector): boolean[] {
  return Array.from({ length: column.length }, (_, i) => column.isValid(i));
}
