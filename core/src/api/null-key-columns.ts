/**
 * Join-key columns of Arrow type null in an uploaded entity table. pandas gives an empty object
 * column (the usual dtype of a string key) Arrow type null, so the Feast client sends a 0-row
 * entity dataframe with such key columns, and Feast answers it with 0 rows. No store can join on
 * a null-typed column, so core settles it once for every store:
 * - with 0 rows, each such column is given its entity's registry type before the store sees the
 *   table, and the store's answer is given the uploaded (null) type back, so the result's entity
 *   columns are as uploaded and its feature columns have their sources' types;
 * - with rows, the column is refused, named, with the fix (a null-typed key cannot match anything
 *   and is almost always a column of None the client did not mean to send).
 */
import {
  Binary,
  Bool,
  type DataType,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Type,
  Utf8,
} from 'apache-arrow';
import { InvalidArgumentError } from '../errors.ts';
import type { FeatureView } from '../registry/model.ts';
import type { ResultStream } from '../store.ts';

/** Arrow types of Feast's scalar ValueTypes a join key can have (feast.types.ValueType numbers). */
const KEY_TYPES: Readonly<Record<number, () => DataType>> = {
  1: () => new Binary(),
  2: () => new Utf8(),
  3: () => new Int32(),
  4: () => new Int64(),
  5: () => new Float64(),
  6: () => new Float32(),
  7: () => new Bool(),
};

/** A null-typed entity column that is a join key of a requested view, and the type its entity has. */
interface NullKey {
  readonly column: string;
  readonly view: string;
  readonly type: DataType | null;
}

function nullKeys(table: Table, views: readonly FeatureView[]): NullKey[] {
  const found = new Map<string, NullKey>();
  for (const view of views) {
    for (const entity of view.entityColumns) {
      const column = view.projection.joinKeyMap[entity.name] ?? entity.name;
      const field = table.schema.fields.find((f) => f.name === column);
      if (!field || field.type.typeId !== Type.Null || found.has(column)) continue;
      found.set(column, { column, view: view.name, type: KEY_TYPES[entity.valueType]?.() ?? null });
    }
  }
  return [...found.values()];
}

/**
 * Runs `retrieve` on the uploaded entity table, settling its null-typed join-key columns as the
 * module comment says. `views` are the regular views the store is asked for.
 */
export async function withNullKeyColumnsSettled(
  table: Table,
  views: readonly FeatureView[],
  retrieve: (table: Table) => Promise<ResultStream>,
): Promise<ResultStream> {
  const keys = nullKeys(table, views);
  if (keys.length === 0) return retrieve(table);
  if (table.numRows > 0) {
    const { column, view } = keys[0]!;
    throw new InvalidArgumentError(
      `Entity column "${column}" (a join key of feature view ${view}) has Arrow type null: every value is missing, so no row can match. ` +
        `Send the keys with their type (in pandas, e.g. df["${column}"].astype("string") or "Int64"), or drop the rows without a key.`,
    );
  }
  const typed = new Map(keys.filter((k) => k.type !== null).map((k) => [k.column, k.type!]));
  const result = await retrieve(
    emptyTable(
      new Schema(
        table.schema.fields.map((f) => retyped(f, typed.get(f.name))),
        table.schema.metadata,
      ),
    ),
  );
  const schema = new Schema(
    result.schema.fields.map((f) => (typed.has(f.name) ? retyped(f, table.schema.fields.find((u) => u.name === f.name)!.type) : f)),
    result.schema.metadata,
  );
  return { schema, numRows: 0, batches: withoutRows(result.batches) };
}

function retyped(field: Field, type: DataType | undefined): Field {
  return type ? new Field(field.name, type, true, field.metadata) : field;
}

/** A 0-row table of `schema` (one empty batch, as an upload of an empty dataframe is). */
function emptyTable(schema: Schema): Table {
  const children = schema.fields.map((f) => makeData({ type: f.type, length: 0, nullCount: 0 } as never));
  return new Table([new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 0, nullCount: 0, children }))]);
}

/**
 * Drains the store's batches (one per entity row: none), so the store finishes and frees what it
 * holds; the answer is its schema alone, which the client reads as an empty table.
 */
// biome-ignore lint/correctness/useYield: yields nothing on purpose, after draining the store's stream
async function* withoutRows(batches: AsyncIterable<RecordBatch>): AsyncGenerator<RecordBatch> {
  for await (const batch of batches) {
    if (batch.numRows > 0) throw new Error(`The store answered ${batch.numRows} rows for an empty entity table`);
  }
}
