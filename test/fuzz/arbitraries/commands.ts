/**
 * Feast commands (the JSON of a CMD FlightDescriptor) for fuzzing: first valid-ish ones, shaped
 * like what the Feast client sends for each api (core/src/api/commands.ts, spec §0 and §3) and
 * naming the example repo's objects most of the time, then mutated — wrong types, huge numbers,
 * deep nesting, long and odd unicode strings, unknown keys, missing keys, duplicate refs — and
 * finally, sometimes, corrupted as text (duplicate keys, truncation, invalid UTF-8).
 */
import fc from 'fast-check';

/** Names that exist in the example repo, names that do not, and hostile ones. */
const VIEWS = ['driver_hourly_stats'];
const SOURCES = ['driver_hourly_stats_source'];
const SERVICES = ['driver_activity'];
const FEATURES = ['conv_rate', 'acc_rate', 'avg_daily_trips'];

/** Strings that tend to break parsers, paths and SQL. */
const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '..',
    '../../../../etc/passwd',
    '/etc/passwd',
    'data/driver_stats.parquet',
    "'; DROP TABLE x; --",
    '\u0000',
    '\ud800', // a lone surrogate
    '\u202e\u0041',
    '%s%s%n',
    '${process.exit()}',
    '__proto__',
    'constructor',
    'driver_hourly_stats:',
    ':conv_rate',
    'a:b:c',
    'driver_hourly_stats:conv_rate:conv_rate',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  // Long strings: a few KiB usually, sometimes past a MiB (a command size limit's business).
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom(1_100_000, 3_000_000).map((n) => 'é'.repeat(n / 2)),
);

const name = (known: readonly string[]) =>
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: nastyString });

const featureRef = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...VIEWS), fc.constantFrom(...FEATURES)).map(([v, f]) => `${v}:${f}`) },
  { weight: 1, arbitrary: fc.tuple(name(VIEWS), name(FEATURES)).map(([v, f]) => `${v}:${f}`) },
  { weight: 1, arbitrary: nastyString },
);

/** ISO dates as Python's isoformat writes them, and dates that are not quite. */
const isoDate = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .date({ min: new Date('2021-04-09T00:00:00Z'), max: new Date('2021-04-13T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString()),
  },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '2021-04-12T10:59:42',
      '2021-04-12T10:59:42+14:00',
      '2021-04-12',
      '+275760-09-13T00:00:00.000Z',
      '-271821-04-20T00:00:00.000Z',
      '9999-12-31T23:59:59.999999+00:00',
      '2021-02-30T00:00:00',
      'now',
      '',
      '2021-04-12T10:59:42.123456789123Z',
      null,
    ),
  },
);

/** A data source as `MessageToJson(DataSource)` renders it, pointing somewhere (maybe hostile). */
const dataSourceProto = fc
  .record(
    {
      type: fc.constantFrom('BATCH_FILE', 'CUSTOM_SOURCE', 'BATCH_SNOWFLAKE', 1, 99, 'NOPE'),
      name: name(SOURCES),
      timestampField: fc.constantFrom('event_timestamp', 'created', 'conv_rate', ''),
      fileOptions: fc.record(
        {
          uri: fc.oneof(
            fc.constantFrom(
              'data/driver_stats.parquet',
              'data/registry.db',
              'feature_store.yaml',
              'data',
              's3://bucket/x.parquet',
              'file:///etc/passwd',
            ),
            nastyString,
          ),
          fileFormat: fc.constantFrom({ parquetFormat: {} }, {}, { deltaFormat: {} }, 'parquet'),
        },
        { requiredKeys: [] },
      ),
      fieldMapping: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    },
    { requiredKeys: ['type'] },
  )
  .map((o) => JSON.stringify(o));

const common = { command_id: fc.uuid() };

const historical = fc.record(
  {
    ...common,
    api: fc.constant('get_historical_features'),
    feature_view_names: fc.array(name(VIEWS), { minLength: 1, maxLength: 3 }),
    name_aliases: fc.array(fc.option(nastyString, { nil: null, freq: 4 }), { maxLength: 3 }),
    feature_refs: fc.array(featureRef, { minLength: 1, maxLength: 6 }),
    project: fc.oneof({ weight: 4, arbitrary: fc.constant('larder_example') }, { weight: 1, arbitrary: nastyString }),
    full_feature_names: fc.boolean(),
    start_date: isoDate,
    end_date: isoDate,
    entity_df_sql: fc.oneof(
      fc.constant(null),
      fc.constantFrom(
        "SELECT 1001 AS driver_id, TIMESTAMP '2021-04-12 10:00:00' AS event_timestamp",
        "SELECT * FROM read_text('feature_store.yaml')",
      ),
      nastyString,
    ),
  },
  { requiredKeys: ['api', 'feature_view_names', 'name_aliases', 'feature_refs', 'project', 'full_feature_names'] },
);

const pullFields = {
  ...common,
  data_source_name: name(SOURCES),
  join_key_columns: fc.array(fc.oneof(fc.constant('driver_id'), nastyString), { maxLength: 3 }),
  feature_name_columns: fc.array(fc.oneof(fc.constantFrom(...FEATURES), nastyString), { maxLength: 4 }),
  timestamp_field: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('event_timestamp') },
    { weight: 1, arbitrary: fc.constantFrom('created', 'conv_rate', 'driver_id') },
    { weight: 1, arbitrary: nastyString },
  ),
  created_timestamp_column: fc.oneof(fc.constantFrom(null, 'created', 'event_timestamp', 'conv_rate'), nastyString),
  start_date: isoDate,
  end_date: isoDate,
};
const pullRequired: Array<keyof typeof pullFields | 'api'> = [
  'api',
  'data_source_name',
  'join_key_columns',
  'feature_name_columns',
  'timestamp_field',
];

const pullLatest = fc.record(
  { ...pullFields, api: fc.constant('pull_latest_from_table_or_query') },
  { requiredKeys: [...pullRequired, 'start_date', 'end_date'] as Array<keyof typeof pullFields | 'api'> },
);
const pullAll = fc.record({ ...pullFields, api: fc.constant('pull_all_from_table_or_query') }, { requiredKeys: pullRequired });

const columnNames = fc.record({
  ...common,
  api: fc.constant('get_table_column_names_and_types_from_data_source'),
  data_source_proto: dataSourceProto,
});
const validateSource = fc.record({ ...common, api: fc.constant('validate_data_source'), data_source_proto: dataSourceProto });

const writeBatch = fc.record(
  {
    ...common,
    api: fc.constant('offline_write_batch'),
    feature_view_names: fc.array(name(VIEWS), { minLength: 1, maxLength: 1 }),
    name_aliases: fc.array(fc.option(nastyString, { nil: null, freq: 4 }), { maxLength: 1 }),
    progress: fc.constant(null),
  },
  { requiredKeys: ['api', 'feature_view_names'] },
);

const writeLogged = fc.record({ ...common, api: fc.constant('write_logged_features'), feature_service_name: name(SERVICES) });

const persist = fc
  .tuple(
    fc.oneof(historical, pullAll, pullLatest),
    fc.record({ data_source_name: name(SOURCES), allow_overwrite: fc.boolean(), timeout: fc.option(fc.integer(), { nil: null }) }),
  )
  .map(([retrieval, extra]) => ({ ...retrieval, ...extra, api: 'persist', retrieve_func: retrieval.api }));

/** A command the Feast client could plausibly send (names and values may still be wrong). */
export const validishCommand: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  historical,
  pullLatest,
  pullAll,
  columnNames,
  validateSource,
  writeBatch,
  writeLogged,
  persist,
) as fc.Arbitrary<Record<string, unknown>>;

/** JSON values of the wrong type for any field. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, -1e308, 2 ** 53 + 1, 5e-324, {}, [], '', [null], { api: 'persist' }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  nastyString,
  fc.array(nastyString, { maxLength: 50 }),
  fc.jsonValue({ maxDepth: 4 }),
  // Huge arrays of refs (duplicates included).
  fc.integer({ min: 100, max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => `driver_hourly_stats:${FEATURES[i % 3]}`)),
);

/** A value wrapped in `depth` arrays or objects. */
function nest(value: unknown, depth: number, asObject: boolean): unknown {
  let v = value;
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}

/** Length of a value's JSON, or Infinity when it is too deep to write (nested by a mutation). */
function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value ?? null).length;
  } catch {
    return Infinity;
  }
}

type Mutation = (cmd: Record<string, unknown>) => Record<string, unknown>;

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // A field with a value of the wrong type.
  fc.tuple(fc.nat(), wrongValue).map(([i, v]) => (cmd: Record<string, unknown>) => {
    const keys = Object.keys(cmd);
    return { ...cmd, [keys[i % keys.length]!]: v };
  }),
  // A field removed.
  fc.nat().map((i) => (cmd: Record<string, unknown>) => {
    const keys = Object.keys(cmd);
    const out = { ...cmd };
    delete out[keys[i % keys.length]!];
    return out;
  }),
  // Unknown keys, prototype-pollution keys among them.
  fc
    .tuple(
      fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'), fc.string({ maxLength: 12 })),
      wrongValue,
    )
    .map(([key, v]) => (cmd: Record<string, unknown>) => {
      const out = { ...cmd };
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      return out;
    }),
  // Deep nesting under some field (V8's JSON.parse copes; the validators must too).
  fc.tuple(fc.nat(), fc.integer({ min: 10, max: 100_000 }), fc.boolean()).map(([i, depth, asObject]) => (cmd: Record<string, unknown>) => {
    const keys = Object.keys(cmd);
    return { ...cmd, [keys[i % keys.length]!]: nest('x', depth, asObject) };
  }),
  // Duplicate refs or view names.
  fc.integer({ min: 2, max: 2_000 }).map((n) => (cmd: Record<string, unknown>) => {
    const out = { ...cmd };
    for (const key of ['feature_refs', 'feature_view_names', 'join_key_columns', 'feature_name_columns']) {
      const list = out[key];
      if (!Array.isArray(list) || list.length === 0) continue;
      // At most ~2 MB of copies: a long first item repeats fewer times (the case stays cheap to build).
      const copies = Math.max(2, Math.min(n, Math.floor(2_000_000 / (jsonLength(list[0]) + 1))));
      out[key] = Array.from({ length: copies }, () => list[0]);
    }
    return out;
  }),
  // The api of another command on this one's fields.
  fc
    .constantFrom(
      'get_historical_features',
      'pull_latest_from_table_or_query',
      'pull_all_from_table_or_query',
      'get_table_column_names_and_types_from_data_source',
      'validate_data_source',
      'offline_write_batch',
      'write_logged_features',
      'persist',
      'list_actions',
      'GET_HISTORICAL_FEATURES',
    )
    .map((api) => (cmd: Record<string, unknown>) => ({ ...cmd, api })),
);

/** How the JSON text is finally corrupted (usually not at all). */
const textCorruption: fc.Arbitrary<(text: string) => Uint8Array> = fc.oneof(
  { weight: 8, arbitrary: fc.constant((text: string) => Buffer.from(text, 'utf8')) },
  // Duplicate keys: JSON.parse keeps the last; the api seen must be the one validated.
  fc.constant((text: string) => Buffer.from(text.replace(/^\{/, '{"api":"persist","retrieve_func":"nope",'), 'utf8')),
  fc.nat().map((n) => (text: string) => Buffer.from(text.slice(0, n % (text.length + 1)), 'utf8')),
  fc
    .uint8Array({ minLength: 1, maxLength: 4 })
    .map((bad) => (text: string) => Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from(bad)])),
  fc.constant((text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')])),
  fc.constant((text: string) => Buffer.from(text, 'utf16le')),
  fc.constant((text: string) => Buffer.from(text.replace(/:(\d+|true|false)/, ':NaN'), 'utf8')),
);

/** The bytes of a fuzzed command and the api it claims (for choosing the transport). */
export interface FuzzedCommand {
  readonly bytes: Uint8Array;
  readonly api: unknown;
}

export const fuzzedCommand: fc.Arbitrary<FuzzedCommand> = fc
  .tuple(validishCommand, fc.array(mutation, { maxLength: 3 }), textCorruption)
  .map(([cmd, mutations, corrupt]) => {
    const mutated = mutations.reduce((c, m) => m(c), cmd);
    let text: string;
    try {
      text = JSON.stringify(mutated);
    } catch {
      // Too deep for JSON.stringify in this process: send the nesting as text instead.
      text = '{"api":"persist","x":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}';
    }
    return { bytes: corrupt(text), api: mutated.api };
  });

/** Whole raw byte strings as commands: random, or a JSON prefix with junk. */
export const randomCommandBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc
    .constantFrom(
      'null',
      '[]',
      '""',
      '1',
      '{}',
      '{"api":null}',
      '{"api":{}}',
      '{"api":["persist"]}',
      '{"api":"__proto__"}',
      '{"api":"constructor"}',
      '{"api":"toString"}',
    )
    .map((s) => Buffer.from(s, 'utf8')),
  fc.integer({ min: 1_000, max: 200_000 }).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth), 'utf8')),
  fc
    .integer({ min: 1_000, max: 200_000 })
    .map((depth) => Buffer.from('{"api":' + '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) + '}', 'utf8')),
);
