/**
 * The column builders of copy-binary-decoder.ts: each appends one PostgreSQL binary value at a
 * time straight into typed arrays and hands its rows over as Arrow Data. Every class implements
 * append() itself, so a value costs one dynamic call, not two.
 */
import type { DataType } from 'apache-arrow';
import type { Column } from './copy-binary-column.ts';
import {
  BigintColumn,
  BoolColumn,
  DateColumn,
  Float32Column,
  Float64Column,
  Int32Column,
  NumericColumn,
  TimestampColumn,
} from './copy-binary-fixed-columns.ts';
import { BytesColumn, JsonbColumn, ListColumn, UuidColumn } from './copy-binary-varlen-columns.ts';
import { PG_ARRAY_ELEMENT, PG_OID } from './pg-types.ts';

export type { Column } from './copy-binary-column.ts';

/** The column that decodes values of `oid` into Arrow `type` (as arrowTypeForPg chose it). */
export function columnFor(oid: number, type: DataType, capacity: number): Column {
  const element = PG_ARRAY_ELEMENT.get(oid);
  if (element !== undefined) {
    // Elements have no known count per batch: start small and let the column grow.
    return new ListColumn(type, capacity, element, columnFor(element, type.children[0]!.type, 1024));
  }
  switch (oid) {
    case PG_OID.int2:
      return new Int32Column(type, capacity, 2);
    case PG_OID.int4:
      return new Int32Column(type, capacity, 4);
    case PG_OID.float4:
      return new Float32Column(type, capacity, Float32Array);
    case PG_OID.float8:
      return new Float64Column(type, capacity, Float64Array);
    case PG_OID.numeric:
      return new NumericColumn(type, capacity, Float64Array);
    case PG_OID.int8:
      return new BigintColumn(type, capacity);
    case PG_OID.timestamp:
    case PG_OID.timestamptz:
      return new TimestampColumn(type, capacity);
    case PG_OID.date:
      return new DateColumn(type, capacity);
    case PG_OID.bool:
      return new BoolColumn(type, capacity);
    case PG_OID.uuid:
      return new UuidColumn(type, capacity);
    case PG_OID.jsonb:
      return new JsonbColumn(type, capacity);
    default:
      return new BytesColumn(type, capacity); // text-like, json (its text) and bytea
  }
}
