/**
 * Join keys as hashable JavaScript values.
 *
 * Feast compares join keys by value: an entity column that pandas turned into float64 (an int
 * column with a null) still matches an int64 source column. So every numeric key becomes a JS
 * number (int64 outside ±2^53 becomes an exact decimal string), strings stay strings, and a
 * composite key becomes one self-delimiting string. A row with any null key part gets `null`: it
 * never matches (SQL semantics, the point-in-time rule of DESIGN.md).
 */
import { makeVector, Type, util, type Data, type DataType } from 'apache-arrow';
import { instantsOfData } from './timestamps.ts';

export type KeyValue = number | string;

/** Key columns compare only within one family; anything else is a type error, as in pandas. */
export type KeyFamily = 'number' | 'string' | 'bool' | 'binary' | 'time' | 'other';

export function keyFamily(type: DataType): KeyFamily {
  const t = type as DataType & { dictionary?: DataType };
  switch (type.typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Decimal:
      return 'number';
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Utf8View:
      return 'string';
    case Type.Bool:
      return 'bool';
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary:
    case Type.BinaryView:
      return 'binary';
    case Type.Timestamp:
    case Type.Date:
      return 'time';
    case Type.Dictionary:
      return keyFamily(t.dictionary!);
    default:
      return 'other';
  }
}

const TWO_32 = 4294967296;
const SAFE_HI = 2097152; // |hi| < 2^21 keeps hi·2^32 + lo below 2^53
const utf8 = new TextDecoder();

/** The key values of one column chunk (null where the value is null). */
export function keyValuesOfData(data: Data): (KeyValue | null)[] {
  const n = data.length;
  const out: (KeyValue | null)[] = new Array(n);
  const t = data.type as DataType & Record<string, unknown>;
  switch (data.typeId) {
    case Type.Int:
      if (t.bitWidth === 64) readInt64(data, t.isSigned as boolean, out);
      else {
        const values = data.values as ArrayLike<number>;
        for (let i = 0; i < n; i++) out[i] = values[i]!;
      }
      break;
    case Type.Float: {
      const values = data.values as ArrayLike<number>;
      // Float16 arrives as its raw 16 bits.
      const half = t.precision === 0;
      // NaN is how pandas spells a missing key; -0 and 0 are the same key.
      for (let i = 0; i < n; i++) {
        const v = half ? util.uint16ToFloat64(values[i]!) : values[i]!;
        out[i] = Number.isNaN(v) ? null : v + 0;
      }
      break;
    }
    case Type.Bool:
      for (let i = 0; i < n; i++) out[i] = (data.values as Uint8Array)[(data.offset + i) >> 3]! & (1 << ((data.offset + i) & 7)) ? 1 : 0;
      break;
    case Type.Utf8:
    case Type.LargeUtf8: {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const bytes = data.values as Uint8Array;
      for (let i = 0; i < n; i++) out[i] = utf8.decode(bytes.subarray(Number(offsets[i]!), Number(offsets[i + 1]!)));
      break;
    }
    case Type.Binary:
    case Type.LargeBinary: {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const bytes = data.values as Uint8Array;
      for (let i = 0; i < n; i++)
        out[i] = 'b' + Buffer.from(bytes.subarray(Number(offsets[i]!), Number(offsets[i + 1]!))).toString('base64');
      break;
    }
    case Type.Timestamp:
    case Type.Date: {
      const instants = instantsOfData(data);
      for (let i = 0; i < n; i++) {
        const ns = instants.ns[i]!;
        out[i] = ns === 0 ? instants.us[i]! : `${instants.us[i]}.${ns}`;
      }
      break;
    }
    case Type.Dictionary: {
      const values = keyValuesOfVectorData(data.dictionary!.data);
      const indices = data.values as ArrayLike<number | bigint>;
      for (let i = 0; i < n; i++) out[i] = values[Number(indices[i]!)] ?? null;
      break;
    }
    default: {
      // Rare key types (decimal, fixed-size binary, …): their printed value is the key.
      const vector = makeVector(data);
      for (let i = 0; i < n; i++) out[i] = 'g' + String(vector.get(i));
    }
  }
  if (data.nullCount > 0) {
    for (let i = 0; i < n; i++) if (!data.getValid(i)) out[i] = null;
  }
  return out;
}

function readInt64(data: Data, signed: boolean, out: (KeyValue | null)[]): void {
  const values = data.values as BigInt64Array | BigUint64Array;
  const hi = signed
    ? new Int32Array(values.buffer, values.byteOffset, data.length * 2)
    : new Uint32Array(values.buffer, values.byteOffset, data.length * 2);
  const lo = new Uint32Array(values.buffer, values.byteOffset, data.length * 2);
  for (let i = 0; i < data.length; i++) {
    const h = hi[2 * i + 1]!;
    out[i] = h < SAFE_HI && h >= -SAFE_HI ? h * TWO_32 + lo[2 * i]! : String(values[i]);
  }
}

function keyValuesOfVectorData(chunks: readonly Data[]): (KeyValue | null)[] {
  const out: (KeyValue | null)[] = [];
  for (const chunk of chunks) for (const v of keyValuesOfData(chunk)) out.push(v);
  return out;
}

/**
 * Combines the key columns of a chunk into one value per row. A single column is used as is;
 * several are joined as `n<number>` / `s<length>:<string>` parts, which cannot collide.
 */
export function encodeKeys(columns: readonly Data[], length: number): (KeyValue | null)[] {
  if (columns.length === 0) return new Array<KeyValue | null>(length).fill(0);
  if (columns.length === 1) return keyValuesOfData(columns[0]!);
  const parts = columns.map(keyValuesOfData);
  const out: (KeyValue | null)[] = new Array(length);
  for (let i = 0; i < length; i++) {
    let key: string | null = '';
    for (const column of parts) {
      const v = column[i];
      if (v === null || v === undefined) {
        key = null;
        break;
      }
      key += typeof v === 'number' ? `n${v}|` : `s${v.length}:${v}|`;
    }
    out[i] = key;
  }
  return out;
}
