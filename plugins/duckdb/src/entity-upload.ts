/**
 * The uploaded entity table → a DuckDB temporary table, without a text detour: Arrow buffers are
 * copied into DuckDB data chunks (memcpy for int64 and float64, a widening loop for narrower
 * numbers, string bytes one by one) and appended a chunk at a time.
 *
 * Only what the join needs goes in: the row's position (`__row`), its event timestamp as
 * nanoseconds since the epoch (`__ts`), and the join key columns (`__k0`, `__k1`, …). The entity
 * columns themselves are returned to the client from the Arrow table as uploaded, untouched.
 */
import { InvalidArgumentError } from '@larder/core';
import { DuckDBDataChunk, type DuckDBConnection } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { DataType, DateUnit, Precision, Type, TimeUnit, util, type Data, type Float, type Table, type Timestamp } from 'apache-arrow';
import { ident } from './sql.ts';

/** A join key column as DuckDB receives it. */
type KeyKind = 'BIGINT' | 'DOUBLE' | 'VARCHAR' | 'BOOLEAN';

export interface UploadedEntities {
  readonly table: string;
  /** DuckDB column of each uploaded entity key column (by entity column name). */
  readonly keyColumns: ReadonlyMap<string, string>;
  readonly keyKinds: ReadonlyMap<string, KeyKind>;
}

export function keyKindOf(typeId: Type, column: string): KeyKind {
  switch (typeId) {
    case Type.Int:
      return 'BIGINT';
    case Type.Float:
      return 'DOUBLE';
    case Type.Utf8:
    case Type.LargeUtf8:
      return 'VARCHAR';
    case Type.Bool:
      return 'BOOLEAN';
    default:
      throw new InvalidArgumentError(`Entity column "${column}" has type ${Type[typeId]}, which cannot be a join key in the duckdb store`);
  }
}

const NS_PER_UNIT: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000_000n,
  [TimeUnit.MILLISECOND]: 1_000_000n,
  [TimeUnit.MICROSECOND]: 1_000n,
  [TimeUnit.NANOSECOND]: 1n,
};

export async function uploadEntities(
  connection: DuckDBConnection,
  entities: Table,
  timestampColumn: string,
  keyNames: readonly string[],
  signal: AbortSignal,
): Promise<UploadedEntities> {
  const table = '__entities';
  const keyColumns = new Map(keyNames.map((name, i) => [name, `__k${i}`]));
  const keyKinds = new Map(
    keyNames.map((name) => [name, keyKindOf(entities.schema.fields.find((f) => f.name === name)!.type.typeId, name)]),
  );
  const columnDefs = ['__row BIGINT', '__ts BIGINT', ...keyNames.map((n) => `${ident(keyColumns.get(n)!)} ${keyKinds.get(n)}`)];
  await connection.run(`CREATE TEMP TABLE ${table} (${columnDefs.join(', ')})`);
  const kinds: KeyKind[] = ['BIGINT', 'BIGINT', ...keyNames.map((n) => keyKinds.get(n)!)];
  const logicalTypes = kinds.map((k) => duckdb.create_logical_type(duckdb.Type[k]));
  const appender = await connection.createAppender(table);
  const size = duckdb.vector_size();
  try {
    let rowBase = 0;
    for (const batch of entities.batches) {
      const tsData = batch.getChild(timestampColumn)!.data[0]!;
      const keyData = keyNames.map((n) => batch.getChild(n)!.data[0]!);
      for (let start = 0; start < batch.numRows; start += size) {
        signal.throwIfAborted();
        const count = Math.min(size, batch.numRows - start);
        const raw = duckdb.create_data_chunk(logicalTypes);
        writeRowNumbers(duckdb.data_chunk_get_vector(raw, 0), rowBase + start, count);
        writeTimestamps(duckdb.data_chunk_get_vector(raw, 1), tsData, start, count, timestampColumn, rowBase);
        keyData.forEach((data, i) => writeKey(duckdb.data_chunk_get_vector(raw, i + 2), data, kinds[i + 2]!, start, count));
        duckdb.data_chunk_set_size(raw, count);
        appender.appendDataChunk(new DuckDBDataChunk(raw));
      }
      rowBase += batch.numRows;
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return { table, keyColumns, keyKinds };
}

function copyInto(vector: duckdb.Vector, values: ArrayBufferView): void {
  duckdb.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
}

function writeRowNumbers(vector: duckdb.Vector, first: number, count: number): void {
  const rows = new BigInt64Array(count);
  for (let i = 0; i < count; i++) rows[i] = BigInt(first + i);
  copyInto(vector, rows);
}

function isValid(data: Data, row: number): boolean {
  const bitmap = data.nullBitmap;
  if (!bitmap || data.nullCount === 0) return true;
  const bit = data.offset + row;
  return ((bitmap[bit >>> 3]! >>> (bit & 7)) & 1) === 1;
}

/** Marks the nulls of rows [start, start + count) of `data` in the vector's validity mask. */
function writeNulls(vector: duckdb.Vector, data: Data, start: number, count: number): void {
  if (!data.nullBitmap || data.nullCount === 0) return;
  const mask = new Uint8Array(Math.ceil(count / 64) * 8).fill(0xff);
  for (let i = 0; i < count; i++) if (!isValid(data, start + i)) mask[i >>> 3]! &= ~(1 << (i & 7));
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, mask.buffer, 0, mask.byteLength);
}

/** Nanoseconds per stored unit of a timestamp or date column (a date is its midnight UTC). */
function nsPerValue(type: DataType): bigint {
  if (DataType.isDate(type)) return type.unit === DateUnit.DAY ? 86_400_000_000_000n : 1_000_000n;
  return NS_PER_UNIT[(type as Timestamp).unit];
}

const INT64_MAX = 9_223_372_036_854_775_807n;

function writeTimestamps(vector: duckdb.Vector, data: Data, start: number, count: number, column: string, batchRow: number): void {
  const factor = nsPerValue(data.type);
  const values = data.values as BigInt64Array | Int32Array;
  const ns = new BigInt64Array(count);
  if (values instanceof BigInt64Array) for (let i = 0; i < count; i++) ns[i] = values[start + i]! * factor;
  else for (let i = 0; i < count; i++) ns[i] = BigInt(values[start + i]!) * factor;
  if (factor > 1n) {
    // Times are compared as int64 nanoseconds: one beyond that range would wrap into a wrong time.
    const limit = INT64_MAX / factor;
    for (let i = 0; i < count; i++) {
      const value = BigInt(values[start + i]!);
      if ((value > limit || value < -limit) && isValid(data, start + i)) {
        throw new InvalidArgumentError(
          `Entity column "${column}" has a time at row ${batchRow + start + i} outside the range the duckdb store compares (years 1677 to 2262)`,
        );
      }
    }
  }
  copyInto(vector, ns);
  writeNulls(vector, data, start, count);
}

function writeKey(vector: duckdb.Vector, data: Data, kind: KeyKind, start: number, count: number): void {
  const values = data.values as ArrayLike<number | bigint> & ArrayBufferView;
  switch (kind) {
    case 'BIGINT': {
      if (values instanceof BigInt64Array) copyInto(vector, values.subarray(start, start + count));
      else {
        const wide = new BigInt64Array(count);
        for (let i = 0; i < count; i++) wide[i] = BigInt(values[start + i]!);
        copyInto(vector, wide);
      }
      break;
    }
    case 'DOUBLE': {
      // Float16 arrives as its raw 16 bits.
      const half = (data.type as Float).precision === Precision.HALF;
      copyInto(
        vector,
        Float64Array.from({ length: count }, (_, i) =>
          half ? util.uint16ToFloat64(values[start + i] as number) : Number(values[start + i]!),
        ),
      );
      break;
    }
    case 'BOOLEAN': {
      const bytes = new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        const bit = data.offset + start + i;
        bytes[i] = ((values as Uint8Array)[bit >>> 3]! >>> (bit & 7)) & 1;
      }
      copyInto(vector, bytes);
      break;
    }
    case 'VARCHAR': {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      for (let i = 0; i < count; i++) {
        if (!isValid(data, start + i)) continue;
        const from = Number(offsets[start + i]!);
        const to = Number(offsets[start + i + 1]!);
        duckdb.vector_assign_string_element_len(vector, i, (values as Uint8Array).subarray(from, to));
      }
      break;
    }
  }
  writeNulls(vector, data, start, count);
}
