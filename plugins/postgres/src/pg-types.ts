/**
 * PostgreSQL type OIDs ↔ Arrow types, for results read with binary COPY and for tables written
 * with it. The mapping follows Feast's PostgreSQL source (smallint widens to int32, numeric reads
 * as float64, date reads as a naive timestamp at midnight, json as its text) so a client sees the
 * same Arrow schema from larder as from Feast's own offline store.
 */
import { InvalidArgumentError } from '@larder/core';
import { Binary, Bool, DataType, Field, Float32, Float64, Int32, Int64, List, Precision, TimeUnit, Timestamp, Utf8 } from 'apache-arrow';

/** The built-in type OIDs larder reads or writes (pg_type.oid; stable across server versions). */
export const PG_OID = {
  bool: 16,
  bytea: 17,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  json: 114,
  float4: 700,
  float8: 701,
  boolArray: 1000,
  byteaArray: 1001,
  int2Array: 1005,
  int4Array: 1007,
  textArray: 1009,
  varcharArray: 1015,
  int8Array: 1016,
  float4Array: 1021,
  float8Array: 1022,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestampArray: 1115,
  dateArray: 1182,
  timestamptz: 1184,
  timestamptzArray: 1185,
  numericArray: 1231,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

/** Array type OID → its element type OID, for the 1-D arrays larder reads and writes. */
export const PG_ARRAY_ELEMENT: ReadonlyMap<number, number> = new Map([
  [PG_OID.boolArray, PG_OID.bool],
  [PG_OID.byteaArray, PG_OID.bytea],
  [PG_OID.int2Array, PG_OID.int2],
  [PG_OID.int4Array, PG_OID.int4],
  [PG_OID.textArray, PG_OID.text],
  [PG_OID.varcharArray, PG_OID.varchar],
  [PG_OID.int8Array, PG_OID.int8],
  [PG_OID.float4Array, PG_OID.float4],
  [PG_OID.float8Array, PG_OID.float8],
  [PG_OID.timestampArray, PG_OID.timestamp],
  [PG_OID.dateArray, PG_OID.date],
  [PG_OID.timestamptzArray, PG_OID.timestamptz],
  [PG_OID.numericArray, PG_OID.numeric],
]);

/** The Arrow type of a scalar (non-array) OID, or undefined when larder cannot read it. */
function scalarArrowType(oid: number): DataType | undefined {
  switch (oid) {
    case PG_OID.int8:
      return new Int64();
    case PG_OID.int4:
    case PG_OID.int2:
      return new Int32();
    case PG_OID.float4:
      return new Float32();
    case PG_OID.float8:
    case PG_OID.numeric:
      return new Float64();
    case PG_OID.text:
    case PG_OID.varchar:
    case PG_OID.bpchar:
    case PG_OID.name:
    case PG_OID.uuid:
    case PG_OID.json:
    case PG_OID.jsonb:
      return new Utf8();
    case PG_OID.bool:
      return new Bool();
    case PG_OID.bytea:
      return new Binary();
    // Feast's postgres store returns every time type as a naive timestamp[us] (the UTC instant
    // for timestamptz, since the session time zone is UTC), and clients see these dtypes.
    case PG_OID.timestamptz:
    case PG_OID.timestamp:
    case PG_OID.date:
      return new Timestamp(TimeUnit.MICROSECOND);
    default:
      return undefined;
  }
}

/** The Arrow type a result column of this type OID is returned as; throws for types larder cannot read. */
export function arrowTypeForPg(oid: number, column: string): DataType {
  const element = PG_ARRAY_ELEMENT.get(oid);
  const type = element === undefined ? scalarArrowType(oid) : listOf(scalarArrowType(element)!);
  // The column comes from what a client controls (its entity_df_sql, a source's table): its to fix.
  if (!type) {
    throw new InvalidArgumentError(
      `column "${column}" has PostgreSQL type oid ${oid}, which larder cannot return as Arrow: CAST it (to text, double precision, bigint or timestamptz) in the SQL that produces it, or leave it out`,
    );
  }
  return type;
}

function listOf(element: DataType): List {
  return new List(new Field('item', element, true));
}

/** Feast's `pg_type_code_to_pg_type` (feast/type_map.py), including its fallback "unknown". */
const FEAST_PG_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [16, 'boolean'],
  [17, 'bytea'],
  [20, 'bigint'],
  [21, 'smallint'],
  [23, 'integer'],
  [25, 'text'],
  [114, 'json'],
  [199, 'json[]'],
  [700, 'real'],
  [701, 'double precision'],
  [1000, 'boolean[]'],
  [1001, 'bytea[]'],
  [1005, 'smallint[]'],
  [1007, 'integer[]'],
  [1009, 'text[]'],
  [1014, 'character[]'],
  [1016, 'bigint[]'],
  [1021, 'real[]'],
  [1022, 'double precision[]'],
  [1042, 'character'],
  [1043, 'character varying'],
  [1082, 'date'],
  [1083, 'time without time zone'],
  [1114, 'timestamp without time zone'],
  [1115, 'timestamp without time zone[]'],
  [1182, 'date[]'],
  [1183, 'time without time zone[]'],
  [1184, 'timestamp with time zone'],
  [1185, 'timestamp with time zone[]'],
  [1231, 'numeric[]'],
  [1700, 'numeric'],
  [2950, 'uuid'],
  [2951, 'uuid[]'],
  [3802, 'jsonb'],
  [3807, 'jsonb[]'],
]);

/**
 * The type name Feast reports for a column of this type OID when it lists a table's columns.
 * Feast answers "unknown" for codes outside its table (so such columns are skipped, not fatal).
 */
export function pgTypeNameForOid(oid: number): string {
  return FEAST_PG_TYPE_NAMES.get(oid) ?? 'unknown';
}

/** SQL names of the types larder writes, by OID (arrays add `[]`). */
const WRITE_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [PG_OID.int2, 'smallint'],
  [PG_OID.int4, 'integer'],
  [PG_OID.int8, 'bigint'],
  [PG_OID.float4, 'real'],
  [PG_OID.float8, 'double precision'],
  [PG_OID.bool, 'boolean'],
  [PG_OID.text, 'text'],
  [PG_OID.bytea, 'bytea'],
  [PG_OID.timestamptz, 'timestamptz'],
  [PG_OID.timestamp, 'timestamp'],
  [PG_OID.date, 'date'],
]);

/** Element OID → array OID, for the element types larder writes. */
const ARRAY_OF: ReadonlyMap<number, number> = new Map(
  [...PG_ARRAY_ELEMENT].filter(([, element]) => WRITE_TYPE_NAMES.has(element)).map(([array, element]) => [element, array]),
);

/**
 * The SQL type of a CREATE TABLE column that will hold values of this Arrow type, as written by
 * copy-binary-encoder.ts. Throws for types larder cannot write.
 */
export function pgTypeForArrow(type: DataType, column: string): string {
  const oid = pgOidForArrow(type, column);
  const element = PG_ARRAY_ELEMENT.get(oid);
  return element === undefined ? WRITE_TYPE_NAMES.get(oid)! : `${WRITE_TYPE_NAMES.get(element)!}[]`;
}

/**
 * The type OID binary COPY writes for values of this Arrow type (the OID of pgTypeForArrow's type).
 * Unsigned integers widen to the next signed type, as SQL has no unsigned types; dictionaries
 * write their decoded values; a list becomes a 1-D array (PostgreSQL arrays are rectangular
 * multi-dimensional arrays, not lists of lists, so only one level). Throws for other types.
 */
export function pgOidForArrow(type: DataType, column: string): number {
  const oid = oidOf(type, false);
  if (oid === undefined)
    throw new InvalidArgumentError(`column "${column}" has Arrow type ${type}, which larder cannot write to PostgreSQL`);
  return oid;
}

function oidOf(type: DataType, inList: boolean): number | undefined {
  if (DataType.isInt(type)) {
    const { bitWidth, isSigned } = type;
    if (bitWidth === 8 || (bitWidth === 16 && isSigned)) return PG_OID.int2;
    if (bitWidth === 16 || (bitWidth === 32 && isSigned)) return PG_OID.int4;
    if (bitWidth === 32 || (bitWidth === 64 && isSigned)) return PG_OID.int8;
    return undefined; // uint64 does not fit bigint
  }
  if (DataType.isFloat(type)) return type.precision === Precision.DOUBLE ? PG_OID.float8 : PG_OID.float4;
  if (DataType.isBool(type)) return PG_OID.bool;
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return PG_OID.text;
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return PG_OID.bytea;
  if (DataType.isTimestamp(type)) return type.timezone ? PG_OID.timestamptz : PG_OID.timestamp;
  if (DataType.isDate(type)) return PG_OID.date;
  if (DataType.isDictionary(type)) return oidOf(type.dictionary, inList);
  if (!inList && (DataType.isList(type) || DataType.isLargeList(type))) {
    const element = oidOf(type.children[0]!.type, true);
    return element === undefined ? undefined : ARRAY_OF.get(element);
  }
  return undefined;
}
