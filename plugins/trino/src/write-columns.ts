/**
 * Before a write sends anything: each Arrow column is matched to its table column (by name), its
 * type checked against the column's Trino type, and every value checked to fit (integer ranges,
 * varchar lengths, decimal digits, four-digit years). Trino's hive connector commits
 * each statement on its own, so a value Trino would refuse half-way through a write must be found
 * here, while nothing has been written yet.
 */
import { InvalidArgumentError } from '@larder/core';
import { type Data, DataType, type Schema, type Table, makeVector } from 'apache-arrow';
import { type TextOf, textWriter, yearOf } from './value-text.ts';
import { parseTrinoType, type TrinoType } from './trino-types.ts';

/** One column of a write: the table column it goes to and how its values are written. */
export interface ColumnPlan {
  /** The table's column name. */
  readonly name: string;
  /** Index of the column in the Arrow table. */
  readonly index: number;
  readonly arrowType: DataType;
  readonly target: TrinoType;
  /** Each value as the text Trino casts to `target`. */
  readonly text: TextOf;
}

/** A table column as Trino reports it (name, type name). */
export interface TableColumn {
  readonly name: string;
  readonly type: string;
}

/**
 * Plans writing `schema`'s columns, named `names` in the table (field_mapping undone), into a table
 * with `columns`. Throws InvalidArgumentError naming every column the table lacks, or the first
 * whose Arrow type cannot go into its column's type.
 */
export function planColumns(
  schema: Schema,
  names: readonly string[],
  columns: readonly TableColumn[],
  what: string,
  table: string,
): ColumnPlan[] {
  // Trino's column names are case-insensitive (reported lower-case).
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const missing = names.filter((n) => !byName.has(n.toLowerCase()));
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      `${what}: table ${table} has no column ${missing.map((m) => `"${m}"`).join(', ')} (columns: ${columns.map((c) => c.name).join(', ')})`,
    );
  }
  return schema.fields.map((field, index) => {
    const column = byName.get(names[index]!.toLowerCase())!;
    const target = parseTrinoType(column.type);
    if (!writable(field.type, target)) {
      throw new InvalidArgumentError(
        `${what}: column "${names[index]}" holds Arrow ${field.type} values, which cannot be written to table ${table}'s column "${column.name}" of Trino type ${column.type}`,
      );
    }
    return { name: column.name, index, arrowType: field.type, target, text: textWriter(field.type, target) };
  });
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'integer', 'bigint']);
const FLOAT_TYPES = new Set(['real', 'double']);

/** Whether values of Arrow `type` can be written to a column of Trino type `target` without changing their meaning. */
export function writable(type: DataType, target: TrinoType): boolean {
  if (DataType.isNull(type)) return true;
  if (DataType.isDictionary(type)) return writable(type.dictionary, target);
  const base = target.base;
  if (DataType.isInt(type)) return INTEGER_TYPES.has(base) || FLOAT_TYPES.has(base) || base === 'decimal';
  if (DataType.isFloat(type)) return FLOAT_TYPES.has(base);
  if (DataType.isDecimal(type)) return base === 'decimal' || FLOAT_TYPES.has(base);
  if (DataType.isBool(type)) return base === 'boolean';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return base === 'varchar' || base === 'char';
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isFixedSizeBinary(type)) return base === 'varbinary';
  if (DataType.isDate(type)) return base === 'date';
  if (DataType.isTimestamp(type)) return base === 'timestamp';
  if (DataType.isList(type) || DataType.isLargeList(type) || DataType.isFixedSizeList(type)) {
    return base === 'array' && target.element !== undefined && writable(type.children[0]!.type, target.element);
  }
  return false;
}

/** A value's problem for its target type, or undefined when it fits. */
type ValueCheck = (data: Data, index: number) => string | undefined;

const INTEGER_RANGE: Readonly<Record<string, readonly [bigint, bigint]>> = {
  tinyint: [-(2n ** 7n), 2n ** 7n - 1n],
  smallint: [-(2n ** 15n), 2n ** 15n - 1n],
  integer: [-(2n ** 31n), 2n ** 31n - 1n],
  bigint: [-(2n ** 63n), 2n ** 63n - 1n],
};

/**
 * Checks every value of the planned columns; throws InvalidArgumentError naming the column, the
 * row (1-based) and the value of the first that does not fit.
 */
export function checkValues(table: Table, plans: readonly ColumnPlan[], what: string, tableName: string): void {
  for (const plan of plans) {
    const check = valueCheck(plan.arrowType, plan.target);
    if (!check) continue;
    const column = table.getChildAt(plan.index)!;
    let row = 0;
    for (const data of column.data) {
      for (let i = 0; i < data.length; i++, row++) {
        const problem = data.getValid(i) ? check(data, i) : undefined;
        if (problem) {
          throw new InvalidArgumentError(
            `${what}: column "${plan.name}" row ${row + 1}: ${problem} for table ${tableName}'s column of Trino type ${plan.target.text}; nothing was written`,
          );
        }
      }
    }
  }
}

function valueCheck(type: DataType, target: TrinoType): ValueCheck | undefined {
  if (DataType.isDictionary(type)) {
    const inner = valueCheck(type.dictionary, target);
    if (!inner) return undefined;
    return (data, index) => {
      let k = Number(data.values[index]);
      for (const chunk of data.dictionary!.data) {
        if (k < chunk.length) return chunk.getValid(k) ? inner(chunk, k) : undefined;
        k -= chunk.length;
      }
      return undefined;
    };
  }
  const range = INTEGER_RANGE[target.base];
  if (DataType.isInt(type) && range) {
    return byValue((v) => {
      const n = BigInt(v as number | bigint);
      return n < range[0] || n > range[1] ? `${n} is out of range` : undefined;
    });
  }
  if (target.base === 'decimal' && (DataType.isInt(type) || DataType.isDecimal(type))) {
    const [precision = 38, scale = 0] = target.args;
    const limit = 10n ** BigInt(precision - scale);
    const sourceScale = DataType.isDecimal(type) ? type.scale : 0;
    return byValue((v) => {
      // The integer part must fit the column's precision minus scale (a wider fraction is rounded).
      const whole = DataType.isDecimal(type) ? BigInt(String(v)) / 10n ** BigInt(sourceScale) : BigInt(v as number | bigint);
      return (whole < 0n ? -whole : whole) >= limit
        ? `the value is out of range (more than ${precision - scale} integer digits)`
        : undefined;
    });
  }
  if ((target.base === 'varchar' || target.base === 'char') && target.args.length === 1) {
    const length = target.args[0]!;
    return byValue((v) => {
      const n = [...(v as string)].length;
      return n > length ? `a string of ${n} characters is too long` : undefined;
    });
  }
  if (DataType.isDate(type) || DataType.isTimestamp(type)) {
    return (data, index) => {
      const year = yearOf(type, data.values[index] as bigint | number);
      return year >= 1 && year <= 9999 ? undefined : `year ${year} is out of range (1-9999)`;
    };
  }
  if ((DataType.isList(type) || DataType.isLargeList(type) || DataType.isFixedSizeList(type)) && target.element) {
    const element = valueCheck(type.children[0]!.type, target.element);
    if (!element) return undefined;
    const fixed = DataType.isFixedSizeList(type) ? type.listSize : undefined;
    return (data, index) => {
      const child = data.children[0]!;
      const begin = fixed === undefined ? Number(data.valueOffsets[index]) : index * fixed;
      const end = fixed === undefined ? Number(data.valueOffsets[index + 1]) : begin + fixed;
      for (let k = begin; k < end; k++) {
        const problem = child.getValid(k) ? element(child, k) : undefined;
        if (problem) return `element ${k - begin + 1}: ${problem}`;
      }
      return undefined;
    };
  }
  return undefined;
}

/** A check on the value arrow-js's getter returns. */
function byValue(check: (value: unknown) => string | undefined): ValueCheck {
  let cached: Data | undefined;
  let vector: ReturnType<typeof makeVector> | undefined;
  return (data, index) => {
    if (data !== cached) {
      cached = data;
      vector = makeVector(data);
    }
    return check(vector!.get(index));
  };
}
