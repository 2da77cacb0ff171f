/**
 * The uploaded entity table → a temporary table, by binary COPY: only what the join needs goes
 * in — the row's position (`__row`), its event timestamp (`__ts`, timestamptz) and the join key
 * columns under their own names. The entity columns themselves go back to the client from the
 * Arrow table as uploaded, untouched.
 *
 * The table is created ON COMMIT DROP inside the call's transaction, so it disappears with the
 * transaction on every path, and it is analyzed so the planner knows its size and key spread.
 */
import { InvalidArgumentError } from '@larder/core';
import {
  DataType,
  DateUnit,
  Field,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  TimeUnit,
  Timestamp,
  makeData,
  type Data,
  type Date_,
  type Table,
} from 'apache-arrow';
import { encodeCopyBinary } from './copy-binary-encoder.ts';
import { familyOfOid, type EntityKeys } from './point-in-time-sql.ts';
import { pgOidForArrow, pgTypeForArrow } from './pg-types.ts';
import type { Session } from './session.ts';
import { ident } from './sql.ts';

export const ENTITY_TABLE = 'pg_temp.__larder_entities';

/** The upload's columns, batch by batch: __row, __ts as a UTC instant, then the keys. */
function* uploadBatches(entities: Table, timestampColumn: string, keyNames: readonly string[], schema: Schema): Generator<RecordBatch> {
  const tsIndex = entities.schema.fields.findIndex((f) => f.name === timestampColumn);
  const keyIndexes = keyNames.map((n) => entities.schema.fields.findIndex((f) => f.name === n));
  const tsType = schema.fields[1]!.type;
  let offset = 0;
  for (const batch of entities.batches) {
    const rows = new BigInt64Array(batch.numRows);
    for (let i = 0; i < rows.length; i++) rows[i] = BigInt(offset + i);
    offset += batch.numRows;
    const ts = batch.getChildAt(tsIndex)!.data[0]!;
    // A naive entity timestamp means UTC: the same values, read as instants; a date is its midnight UTC.
    const tsUtc = DataType.isDate(ts.type) ? dateAsMicros(ts, tsType as Timestamp) : ts.clone(tsType);
    const children = [
      makeData({ type: new Int64(), length: rows.length, data: rows }),
      tsUtc,
      ...keyIndexes.map((k) => batch.getChildAt(k)!.data[0]!),
    ];
    yield new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: batch.numRows, nullCount: 0, children }));
  }
}

export async function uploadEntities(
  session: Session,
  entities: Table,
  timestampColumn: string,
  keyNames: readonly string[],
): Promise<EntityKeys> {
  const tsField = entities.schema.fields.find((f) => f.name === timestampColumn)!;
  if (!DataType.isTimestamp(tsField.type) && !DataType.isDate(tsField.type)) {
    throw new InvalidArgumentError(
      `Entity column "${timestampColumn}" has type ${tsField.type}; the event timestamp must be a timestamp or a date`,
    );
  }
  const tsUnit = DataType.isTimestamp(tsField.type) ? tsField.type.unit : TimeUnit.MICROSECOND;
  const keyFields = keyNames.map((n) => entities.schema.fields.find((f) => f.name === n)!);
  const schema = new Schema([
    new Field('__row', new Int64(), false),
    new Field('__ts', new Timestamp(tsUnit, 'UTC'), true),
    ...keyFields.map((f) => new Field(f.name, f.type, true)),
  ]);
  const keys = new Map(
    keyFields.map((f) => {
      let oid: number;
      try {
        oid = pgOidForArrow(f.type, f.name);
      } catch {
        throw new InvalidArgumentError(`Entity column "${f.name}" has type ${f.type}, which cannot be a join key in the postgres store`);
      }
      return [f.name, { column: f.name, family: familyOfOid(oid), type: String(f.type) }] as const;
    }),
  );
  const columns = ['__row bigint', '__ts timestamptz', ...keyFields.map((f) => `${ident(f.name)} ${pgTypeForArrow(f.type, f.name)}`)];
  await session.run(`CREATE TEMP TABLE ${ENTITY_TABLE.split('.')[1]} (${columns.join(', ')}) ON COMMIT DROP`, 'creating the entity table');
  await session.copyIn(
    ENTITY_TABLE,
    encodeCopyBinary(uploadBatches(entities, timestampColumn, keyNames, schema)),
    'uploading the entity dataframe',
  );
  await session.run(`ANALYZE ${ENTITY_TABLE}`, 'analyzing the entity table');
  return keys;
}

/** A date column as UTC microseconds (midnight of each day), nulls kept. */
function dateAsMicros(data: Data, type: Timestamp): Data<Timestamp> {
  const perUnit = (data.type as Date_).unit === DateUnit.DAY ? 86_400_000_000n : 1000n;
  const values = new BigInt64Array(data.length);
  const valid = new Uint8Array((data.length + 7) >> 3);
  for (let i = 0; i < data.length; i++) {
    if (!data.getValid(i)) continue;
    values[i] = BigInt(data.values[i]!) * perUnit;
    valid[i >> 3]! |= 1 << (i & 7);
  }
  return makeData({ type, length: data.length, nullCount: data.nullCount, nullBitmap: data.nullCount > 0 ? valid : null, data: values });
}
