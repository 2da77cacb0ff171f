/**
 * The kit's data as plain rows — what the reference implementation reads — and the same data as
 * Arrow tables — what the store is given. Timestamps are milliseconds since the epoch (UTC) in
 * rows and microsecond `timestamp[us, tz=UTC]` columns in Arrow, as Feast writes them.
 */
import {
  Field,
  Float64,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeUnit,
  Timestamp,
  Utf8,
  makeData,
  vectorFromArray,
  type Data,
  type DataType,
} from 'apache-arrow';

export type ColumnKind = 'int64' | 'float64' | 'utf8' | 'timestamp';

/** A cell: numbers (int64 and float64 alike, timestamps as epoch ms), strings, or null. */
export type Value = number | string | null;
export type Row = Readonly<Record<string, Value>>;

export interface KitColumn {
  readonly name: string;
  readonly kind: ColumnKind;
}

export interface KitTable {
  readonly columns: readonly KitColumn[];
  readonly rows: readonly Row[];
}

const arrowTypes: Record<ColumnKind, () => DataType> = {
  int64: () => new Int64(),
  float64: () => new Float64(),
  utf8: () => new Utf8(),
  timestamp: () => new Timestamp(TimeUnit.MICROSECOND, 'UTC'),
};

/** A KitTable from columns and rows given as arrays in column order. */
export function kitTable(columns: ReadonlyArray<readonly [string, ColumnKind]>, rows: ReadonlyArray<readonly Value[]>): KitTable {
  return {
    columns: columns.map(([name, kind]) => ({ name, kind })),
    rows: rows.map((values) => Object.fromEntries(columns.map(([name], i) => [name, values[i] ?? null]))),
  };
}

/** The table as one Arrow record batch, every column nullable. */
export function toArrow(table: KitTable): Table {
  const fields = table.columns.map((c) => new Field(c.name, arrowTypes[c.kind](), true));
  const children = table.columns.map((c, i) =>
    columnData(
      c,
      fields[i]!.type,
      table.rows.map((r) => r[c.name] ?? null),
    ),
  );
  const data = makeData({ type: new Struct(fields), length: table.rows.length, nullCount: 0, children });
  return new Table([new RecordBatch(new Schema(fields), data)]);
}

function columnData(column: KitColumn, type: DataType, values: Value[]): Data {
  switch (column.kind) {
    case 'int64':
      return vectorFromArray(
        values.map((v) => (v === null ? null : BigInt(v as number))),
        new Int64(),
      ).data[0]!;
    case 'timestamp':
      return timestampData(
        type as Timestamp,
        values.map((v) => (v === null ? null : BigInt(v as number) * 1000n)),
      );
    case 'float64':
      return vectorFromArray(values as Array<number | null>, new Float64()).data[0]!;
    case 'utf8':
      return vectorFromArray(values as Array<string | null>, new Utf8()).data[0]!;
  }
}

// vectorFromArray would read numbers as milliseconds and lose the unit: build the data directly.
function timestampData(type: Timestamp, values: Array<bigint | null>): Data {
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v !== null) bitmap[i >> 3]! |= 1 << (i & 7);
  });
  const nullCount = values.filter((v) => v === null).length;
  return makeData({ type, length: values.length, nullCount, nullBitmap: bitmap, data: BigInt64Array.from(values, (v) => v ?? 0n) });
}

/** A timestamp value as a reader sees it: ISO 8601. */
export function showValue(value: Value | undefined, columnIsTime = false): string {
  if (value === undefined) return '(absent)';
  if (value === null) return 'null';
  if (columnIsTime && typeof value === 'number') return new Date(value).toISOString();
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
