/**
 * Arrow types rendered exactly as pyarrow's `str(type)` prints them.
 *
 * Feast's client turns the type strings of `get_table_column_names_and_types` into Feast value
 * types by string matching (`type_map.pa_to_feast_value_type`), so anything but pyarrow's exact
 * spelling is a KeyError on the client. The strings describe a parquet file *as pyarrow reads it*,
 * which differs from the Arrow schema in two places (see `parquetRead`).
 */
import { type DataType, Type, TimeUnit, DateUnit, IntervalUnit, UnionMode, type Field, type Schema } from 'apache-arrow';

export interface PyarrowRenderOptions {
  /**
   * Apply pyarrow's parquet-reader conventions: a map's entries field is named after the field
   * that holds the map (pyarrow prints `map<string, string ('m')>` for a top-level column `m`),
   * and date64 comes back as date32 (parquet has only a 32-bit DATE).
   */
  readonly parquetRead?: boolean;
}

const UNIT: Record<number, string> = {
  [TimeUnit.SECOND]: 's',
  [TimeUnit.MILLISECOND]: 'ms',
  [TimeUnit.MICROSECOND]: 'us',
  [TimeUnit.NANOSECOND]: 'ns',
};

/** pyarrow's `str(field.type)` for a top-level column. */
export function pyarrowTypeString(field: Field, options: PyarrowRenderOptions = {}): string {
  return render(field.type, field.name, options);
}

/** `(name, type)` pairs of a schema, as Feast's FileSource lists a parquet file's columns. */
export function pyarrowColumns(schema: Schema, options: PyarrowRenderOptions = {}): { name: string; type: string }[] {
  return schema.fields.map((f) => ({ name: f.name, type: pyarrowTypeString(f, options) }));
}

/**
 * pyarrow's `str(schema)` without metadata: one `name: type` line per column and indented
 * `child i, …` lines for nested types. Used in error messages that quote Feast's text.
 */
export function pyarrowSchemaString(schema: Schema, options: PyarrowRenderOptions = {}): string {
  const lines: string[] = [];
  const visit = (field: Field, holder: string, depth: number, prefix: string) => {
    const notNull = field.nullable ? '' : ' not null';
    lines.push(`${'  '.repeat(depth)}${prefix}${field.name}: ${render(field.type, holder, options)}${notNull}`);
    const children = childFields(field.type, field.name, options);
    children.forEach((c, i) => visit(c, c.name, depth + (depth === 0 ? 1 : 2), `child ${i}, `));
  };
  for (const f of schema.fields) visit(f, f.name, 0, '');
  return lines.join('\n');
}

function childFields(type: DataType, holder: string, options: PyarrowRenderOptions): Field[] {
  const children = (type as { children?: Field[] }).children ?? [];
  if (type.typeId === Type.Map && options.parquetRead && children[0]) {
    return [children[0].clone({ name: holder })];
  }
  return children;
}

function fieldString(f: Field, options: PyarrowRenderOptions): string {
  return `${f.name}: ${render(f.type, f.name, options)}${f.nullable ? '' : ' not null'}`;
}

function render(type: DataType, holder: string, options: PyarrowRenderOptions): string {
  // biome-ignore lint/suspicious/noExplicitAny: each case reads the fields of the DataType subclass its typeId names
  const t = type as DataType & Record<string, any>;
  switch (type.typeId) {
    case Type.Null:
      return 'null';
    case Type.Bool:
      return 'bool';
    case Type.Int:
      return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`;
    case Type.Float:
      return ['halffloat', 'float', 'double'][t.precision as number]!;
    case Type.Decimal:
      return `decimal${t.bitWidth}(${t.precision}, ${t.scale})`;
    case Type.Utf8:
      return 'string';
    case Type.LargeUtf8:
      return 'large_string';
    case Type.Utf8View:
      return 'string_view';
    case Type.Binary:
      return 'binary';
    case Type.LargeBinary:
      return 'large_binary';
    case Type.BinaryView:
      return 'binary_view';
    case Type.FixedSizeBinary:
      return `fixed_size_binary[${t.byteWidth}]`;
    case Type.Date:
      if (t.unit === DateUnit.DAY || options.parquetRead) return 'date32[day]';
      return 'date64[ms]';
    case Type.Time:
      return `time${t.bitWidth}[${UNIT[t.unit]}]`;
    case Type.Timestamp:
      return t.timezone ? `timestamp[${UNIT[t.unit]}, tz=${t.timezone}]` : `timestamp[${UNIT[t.unit]}]`;
    case Type.Duration:
      return `duration[${UNIT[t.unit]}]`;
    case Type.Interval:
      if (t.unit === IntervalUnit.YEAR_MONTH) return 'month_interval';
      if (t.unit === IntervalUnit.DAY_TIME) return 'day_time_interval';
      return 'month_day_nano_interval';
    case Type.List:
      return `list<${fieldString(t.children[0], options)}>`;
    case Type.LargeList:
      return `large_list<${fieldString(t.children[0], options)}>`;
    case Type.FixedSizeList:
      return `fixed_size_list<${fieldString(t.children[0], options)}>[${t.listSize}]`;
    case Type.Struct:
      return `struct<${(t.children as Field[]).map((c) => fieldString(c, options)).join(', ')}>`;
    case Type.Map:
      return renderMap(t, holder, options);
    case Type.Dictionary:
      return `dictionary<values=${render(t.dictionary, holder, options)}, indices=${render(t.indices, holder, options)}, ordered=${t.isOrdered ? 1 : 0}>`;
    case Type.Union: {
      const prefix = t.mode === UnionMode.Dense ? 'dense_union' : 'sparse_union';
      const members = (t.children as Field[]).map((c, i) => `${fieldString(c, options)}=${t.typeIds[i]}`);
      return `${prefix}<${members.join(', ')}>`;
    }
    default:
      // Types pyarrow has but Arrow JS does not model get Arrow JS's own name, lower-cased.
      return String(type).toLowerCase();
  }
}

/**
 * pyarrow prints `map<K, V>` and names the key, value and entries fields only when they are not
 * the standard `key`, `value`, `entries`.
 */
// biome-ignore lint/suspicious/noExplicitAny: the fields of an Arrow Map type, read as render() reads them
function renderMap(t: Record<string, any>, holder: string, options: PyarrowRenderOptions): string {
  const entries = t.children[0] as Field;
  const [key, value] = (entries.type as unknown as { children: Field[] }).children as [Field, Field];
  const named = (f: Field, standard: string, name = f.name) => (name !== standard ? ` ('${name}')` : '');
  const entriesName = options.parquetRead ? holder : entries.name;
  let s = `map<${render(key.type, key.name, options)}${named(key, 'key')}`;
  s += `, ${render(value.type, value.name, options)}${named(value, 'value')}`;
  if (t.keysSorted) s += ', keys_sorted';
  s += `${named(entries, 'entries', entriesName)}>`;
  return s;
}
