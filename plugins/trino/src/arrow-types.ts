/**
 * Trino column types as Arrow types, following Feast's Trino store (`trino_to_pa_value_type` in
 * its trino_type_map.py) where it is sound:
 *
 * | Trino                              | Arrow                                   |
 * | ---------------------------------- | --------------------------------------- |
 * | boolean                            | bool                                    |
 * | tinyint, smallint, integer, bigint | int8, int16, int32, int64               |
 * | real, double                       | float32, float64                        |
 * | decimal(p, s)                      | float64 (Feast: float32 up to p = 32, which keeps only ~7 digits; larder keeps 15-17) |
 * | varchar(n), char(n)                | utf8                                    |
 * | varbinary                          | binary                                  |
 * | date                               | date32                                  |
 * | timestamp(p)                       | timestamp[us] (p ≤ 6) or [ns], naive as in Trino      |
 * | timestamp(p) with time zone        | timestamp[us or ns, tz=UTC], the instant |
 * | array(T)                           | list<item: T>                           |
 * | anything else (json, uuid, time, interval, row, map, …) | utf8, Trino's text (row and map as JSON) |
 *
 * Naive timestamps stay naive, as Feast's store returns them (its client reads them as UTC).
 */
import {
  Binary,
  Bool,
  type DataType,
  DateDay,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  List,
  TimeUnit,
  Timestamp,
  Utf8,
} from 'apache-arrow';

/** The Arrow type for a Trino type name as Trino reports it in a result's columns. */
export function arrowTypeForTrino(trinoType: string): DataType {
  const t = trinoType.trim().toLowerCase();
  const element = arrayElement(t);
  if (element !== undefined) return new List(new Field('item', arrowTypeForTrino(element), true));
  switch (t) {
    case 'boolean':
      return new Bool();
    case 'tinyint':
      return new Int8();
    case 'smallint':
      return new Int16();
    case 'integer':
    case 'int':
      return new Int32();
    case 'bigint':
      return new Int64();
    case 'real':
      return new Float32();
    case 'double':
      return new Float64();
    case 'varbinary':
      return new Binary();
    case 'date':
      return new DateDay();
  }
  if (t.startsWith('decimal')) return new Float64();
  const timestamp = /^timestamp(?:\((\d+)\))?( with time zone)?$/.exec(t);
  if (timestamp) {
    const precision = timestamp[1] === undefined ? 3 : Number(timestamp[1]);
    return new Timestamp(precision <= 6 ? TimeUnit.MICROSECOND : TimeUnit.NANOSECOND, timestamp[2] ? 'UTC' : null);
  }
  return new Utf8();
}

/** `T` of `array(T)`, else undefined. */
function arrayElement(t: string): string | undefined {
  return t.startsWith('array(') && t.endsWith(')') ? t.slice(6, -1) : undefined;
}
