/**
 * Entity columns as Feast's postgres store returns them: that store round-trips the entity
 * dataframe through a table, so every timestamp column comes back as a naive timestamp[us] (the
 * UTC instant). larder returns the uploaded columns untouched otherwise, and re-types only these.
 */
import { DataType, Field, TimeUnit, Timestamp, makeData, type Data, type Schema } from 'apache-arrow';

const MICROS: Timestamp = new Timestamp(TimeUnit.MICROSECOND);
const PER_MICRO: Record<TimeUnit, { multiply: bigint; divide: bigint }> = {
  [TimeUnit.SECOND]: { multiply: 1_000_000n, divide: 1n },
  [TimeUnit.MILLISECOND]: { multiply: 1000n, divide: 1n },
  [TimeUnit.MICROSECOND]: { multiply: 1n, divide: 1n },
  [TimeUnit.NANOSECOND]: { multiply: 1n, divide: 1000n },
};

/** The entity schema's fields with timestamp columns as naive timestamp[us]. */
export function entityFields(schema: Schema): Field[] {
  return schema.fields.map((f) => (DataType.isTimestamp(f.type) ? new Field(f.name, MICROS, f.nullable, f.metadata) : f));
}

/** A column of an entity batch in the type entityFields gives it. */
export function entityColumn(data: Data): Data {
  if (!DataType.isTimestamp(data.type)) return data;
  const { multiply, divide } = PER_MICRO[(data.type as Timestamp).unit];
  if (multiply === 1n && divide === 1n) return data.clone(MICROS);
  // A sliced Data's values start at its first row already; only its validity bits keep the offset.
  const source = data.values as BigInt64Array;
  const values = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = source[i]!;
    // Floor division, so instants before 1970 round down like every later one.
    values[i] = divide === 1n ? v * multiply : (v - (((v % divide) + divide) % divide)) / divide;
  }
  return makeData({
    type: MICROS,
    length: data.length,
    nullCount: data.nullCount,
    nullBitmap: data.nullCount > 0 ? sliceBitmap(data) : null,
    data: values,
  });
}

/** The validity bits of a sliced Data, realigned to start at bit 0. */
function sliceBitmap(data: Data): Uint8Array {
  const out = new Uint8Array((data.length + 7) >> 3);
  const bits = data.nullBitmap!;
  for (let i = 0; i < data.length; i++) {
    const j = data.offset + i;
    if (bits[j >> 3]! & (1 << (j & 7))) out[i >> 3]! |= 1 << (i & 7);
  }
  return out;
}
