/**
 * Trino types on the write side: the DDL type of a new column that will hold values of an Arrow
 * type (write_logged_features and persist create tables), and Trino type names as Trino reports
 * them (`bigint`, `timestamp(3) with time zone`, `array(integer)`, `decimal(10, 2)`) parsed, so
 * a write can check that each Arrow column fits its table column before anything is written.
 *
 * What a table may hold depends on the catalog's connector: Hive keeps timestamps at its configured
 * precision (`hive.timestamp-precision`, milliseconds by default) and has no `timestamp with time
 * zone`, so there a time-zone-aware Arrow timestamp becomes `timestamp(3)` holding the UTC wall
 * clock (the instant is kept; the zone is not). Iceberg keeps microseconds with or without a zone.
 */
import { InvalidArgumentError } from '@larder/core';
import { DataType, Precision, TimeUnit } from 'apache-arrow';

/** A Trino type name, parsed: `base` lower-case (`timestamp`, `varchar`, `array`, …), its arguments and element. */
export interface TrinoType {
  /** The type as Trino spells it, to go into a CAST. */
  readonly text: string;
  /** `bigint`, `varchar`, `decimal`, `timestamp`, `array`, `row`, … */
  readonly base: string;
  /** Numeric arguments: varchar/char length, decimal precision and scale, timestamp precision. */
  readonly args: readonly number[];
  /** Timestamps and times: whether `with time zone`. */
  readonly withTimeZone: boolean;
  /** Arrays: the element's type. */
  readonly element?: TrinoType;
}

/**
 * Parses a type name as Trino reports it in a result's columns. Types larder does not write into
 * (row, map, json, …) parse with their base and no element: the compatibility check refuses them.
 */
export function parseTrinoType(text: string): TrinoType {
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  const withTimeZone = lower.endsWith(' with time zone');
  const head = withTimeZone ? lower.slice(0, -' with time zone'.length).trim() : lower.replace(/ without time zone$/, '');
  const open = head.indexOf('(');
  if (open < 0) return { text: trimmed, base: head, args: [], withTimeZone };
  const base = head.slice(0, open).trim();
  const inner = trimmed.slice(open + 1, trimmed.lastIndexOf(')'));
  if (base === 'array') return { text: trimmed, base, args: [], withTimeZone, element: parseTrinoType(inner) };
  const args = /^[\d\s,]+$/.test(inner) ? inner.split(',').map((a) => Number(a.trim())) : [];
  return { text: trimmed, base, args, withTimeZone };
}

/** How a connector stores timestamps: the precision it keeps and whether it has `with time zone`. */
interface TimestampRule {
  /** Fixed precision, or undefined to keep the Arrow unit's (s 0, ms 3, µs 6, ns 9). */
  readonly naive?: number;
  /** Precision of a zoned column; `false` when the connector has no zoned timestamps. */
  readonly zoned?: number | false;
}

const TIMESTAMP_RULES: Readonly<Record<string, TimestampRule>> = {
  // hive.timestamp-precision defaults to MILLISECONDS; other precisions are refused by CREATE TABLE.
  hive: { naive: 3, zoned: false },
  iceberg: { naive: 6, zoned: 6 },
  delta_lake: { naive: 6, zoned: 3 },
};

const UNIT_PRECISION: Readonly<Record<number, number>> = {
  [TimeUnit.SECOND]: 0,
  [TimeUnit.MILLISECOND]: 3,
  [TimeUnit.MICROSECOND]: 6,
  [TimeUnit.NANOSECOND]: 9,
};

/**
 * The DDL type of a column created to hold values of `type` in a catalog of `connector` (the
 * catalog's connector name, e.g. `hive`, `memory`, `iceberg`). Unsigned integers widen to the
 * next signed type (Trino has none); a dictionary is its values' type; a list is an `array`.
 * Throws InvalidArgumentError naming the column for types Trino cannot hold.
 */
export function trinoTypeForArrow(type: DataType, column: string, connector: string): string {
  const text = ddlType(type, connector);
  if (!text) throw new InvalidArgumentError(`column "${column}" has Arrow type ${type}, which larder cannot write to Trino`);
  return text;
}

function ddlType(type: DataType, connector: string): string | undefined {
  if (DataType.isInt(type)) {
    const { bitWidth, isSigned } = type;
    if (bitWidth === 8 && isSigned) return 'tinyint';
    if ((bitWidth === 8 && !isSigned) || (bitWidth === 16 && isSigned)) return 'smallint';
    if ((bitWidth === 16 && !isSigned) || (bitWidth === 32 && isSigned)) return 'integer';
    if ((bitWidth === 32 && !isSigned) || (bitWidth === 64 && isSigned)) return 'bigint';
    return 'decimal(20, 0)'; // uint64 does not fit bigint
  }
  if (DataType.isFloat(type)) return type.precision === Precision.DOUBLE ? 'double' : 'real';
  if (DataType.isBool(type)) return 'boolean';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'varchar';
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return 'varbinary';
  if (DataType.isDate(type)) return 'date';
  if (DataType.isDecimal(type)) return type.precision <= 38 ? `decimal(${type.precision}, ${type.scale})` : undefined;
  if (DataType.isTimestamp(type)) {
    const rule = TIMESTAMP_RULES[connector] ?? {};
    const unit = UNIT_PRECISION[type.unit]!;
    if (type.timezone && rule.zoned !== false) return `timestamp(${rule.zoned ?? unit}) with time zone`;
    return `timestamp(${rule.naive ?? unit})`;
  }
  if (DataType.isDictionary(type)) return ddlType(type.dictionary, connector);
  if (DataType.isList(type) || DataType.isLargeList(type) || DataType.isFixedSizeList(type)) {
    const element = ddlType(type.children[0]!.type, connector);
    return element && `array(${element})`;
  }
  return undefined;
}

/**
 * The type a column of Trino type `type` must be cast to before a table of `connector` can hold
 * it, or undefined when it can be stored as it is: on hive, a zoned timestamp becomes its UTC wall
 * clock at the configured precision, and any timestamp takes that precision; on iceberg and delta,
 * timestamps take their fixed precisions. (persist's `CREATE TABLE … AS` of a retrieval's SQL.)
 */
export function storableTimestamp(type: TrinoType, connector: string): { readonly type: string; readonly dropZone: boolean } | undefined {
  const rule = TIMESTAMP_RULES[connector];
  if (!rule || type.base !== 'timestamp') return undefined;
  const precision = type.args[0];
  if (type.withTimeZone && rule.zoned === false) return { type: `timestamp(${rule.naive ?? precision ?? 3})`, dropZone: true };
  const wanted = type.withTimeZone ? (rule.zoned as number | undefined) : rule.naive;
  if (wanted === undefined || wanted === precision) return undefined;
  return { type: type.withTimeZone ? `timestamp(${wanted}) with time zone` : `timestamp(${wanted})`, dropZone: false };
}

/** Trino's identifier quoting: `"name"` with `""` for a quote. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A SQL string literal: single quotes, a quote doubled. */
export function stringLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
