/**
 * The uploaded entity table's metadata, carried over to the entity columns of the result.
 *
 * pyarrow's `to_pandas` reads the schema's `pandas` metadata (written by `Table.from_pandas` on the
 * client) to restore pandas dtypes that Arrow cannot say by itself: a nullable `Int64` key column
 * is an Arrow int64 column either way, and without that metadata it comes back as float64. Feast's
 * server with its file store returns the metadata of its result frame, so its clients get `Int64`
 * back (its postgres store loses it: larder keeps it there too). A store only sees Arrow data, so
 * core carries the upload's metadata over, for every store at once.
 */
import { Field, Schema, util, type Table } from 'apache-arrow';
import type { ResultStream } from '../store.ts';

/** The schema metadata key pyarrow reads and writes for pandas. */
export const PANDAS_METADATA_KEY = 'pandas';

/**
 * The result with the entity table's schema metadata (its `pandas` description narrowed to the
 * carried columns) and, on each carried column, that column's field metadata. A column is carried
 * when the entity table has it with the same Arrow type: a description written for another type
 * would convert wrongly (a `datetimetz` entry would turn a store's naive timestamps into UTC ones).
 * Metadata the store set itself wins over the upload's on the same key.
 */
export function withEntityMetadata(result: ResultStream, entityTable: Table): ResultStream {
  const uploaded = entityTable.schema;
  if (uploaded.metadata.size === 0 && uploaded.fields.every((f) => f.metadata.size === 0)) return result;
  const uploadedFields = new Map(uploaded.fields.map((f) => [f.name, f]));
  const carried = new Set<string>();
  const fields = result.schema.fields.map((field) => {
    const from = uploadedFields.get(field.name);
    if (!from || !util.compareTypes(field.type, from.type)) return field;
    carried.add(field.name);
    if (from.metadata.size === 0) return field;
    return new Field(field.name, field.type, field.nullable, new Map([...from.metadata, ...field.metadata]));
  });
  const metadata = new Map(uploaded.metadata);
  const pandas = metadata.get(PANDAS_METADATA_KEY);
  if (pandas !== undefined) {
    const narrowed = pandasMetadataFor(pandas, carried);
    if (narrowed === null) metadata.delete(PANDAS_METADATA_KEY);
    else metadata.set(PANDAS_METADATA_KEY, narrowed);
  }
  for (const [key, value] of result.schema.metadata) metadata.set(key, value);
  const schema = new Schema(fields, metadata, result.schema.dictionaries, result.schema.metadataVersion);
  return { schema, numRows: result.numRows, batches: result.batches };
}

/** The part of a pandas column description that names its Arrow column. */
interface PandasColumn {
  readonly name?: unknown;
  readonly field_name?: unknown;
}

/**
 * The pandas metadata JSON describing only the columns in `present`: the entries (and serialized
 * index columns) of upload columns the result does not have are dropped, so the description never
 * names a column the table lacks. `null` when the text is not pandas metadata as pyarrow writes it
 * (then it is not passed on: pyarrow would fail on it, or restore the wrong dtypes).
 */
export function pandasMetadataFor(text: string, present: ReadonlySet<string>): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const meta = parsed as Record<string, unknown>;
  if (!Array.isArray(meta.columns) || !Array.isArray(meta.index_columns)) return null;
  const columnName = (c: PandasColumn) => (typeof c.field_name === 'string' ? c.field_name : c.name);
  const columns = (meta.columns as PandasColumn[]).filter(
    (c) => typeof c === 'object' && c !== null && typeof columnName(c) === 'string' && present.has(columnName(c) as string),
  );
  // A string names a serialized index column; an object (a RangeIndex) is metadata only.
  const indexColumns = (meta.index_columns as unknown[]).filter((i) => typeof i !== 'string' || present.has(i));
  return JSON.stringify({ ...meta, index_columns: indexColumns, columns });
}
