/**
 * Times get_historical_features through the real Flight path (DoExchange, as Feast 0.67 sends it)
 * for several offline store types, each served by a separate `larder serve_offline` process, so
 * the reported peak RSS is the server's alone (the client's Arrow tables do not count).
 *
 *   npx tsx bench/historical-stores.ts [--stores file,duckdb,postgres] [--entities 10000,100000,1000000] [--features 10000000]
 *
 * Data: `--features` rows over 10,000 drivers, one row per driver and hour (with jitter inside the
 * hour), cached in ~/.cache/larder/bench-data/<rows>/ because generating 10M rows takes a while.
 * For `postgres`, a throwaway cluster is started and the same rows are loaded into a table
 * (binary COPY, then ANALYZE; no index, as a source table often has none); the load time is
 * printed but not counted.
 * Entity rows are at pseudo-random drivers and times inside the data's range (fixed seed, so
 * every store answers the same request). Each size runs twice; the faster run is reported.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Field, Float32, Float64, Int64, RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, makeData, type DataType } from 'apache-arrow';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { encodeCopyBinary } from '../plugins/postgres/src/copy-binary-encoder.ts';
import { pgTypeForArrow } from '../plugins/postgres/src/pg-types.ts';
import { startPostgres, type PostgresServer } from '../test/support/postgres-server.ts';
import { encodeRegistry } from '../core/src/registry/encode.ts';
import { connect } from '../test/support/flight-client.ts';
import { startLarder, type ServerProcess } from '../test/support/larder-process.ts';
import { writeParquetFile } from '../test/support/parquet-fixtures.ts';

const { values: options } = parseArgs({
  options: {
    stores: { type: 'string', default: 'file,duckdb' },
    entities: { type: 'string', default: '10000,100000,1000000' },
    features: { type: 'string', default: '10000000' },
  },
});
const stores = options.stores.split(',').map((s) => s.trim()).filter(Boolean);
const entitySizes = options.entities.split(',').map(positiveInt);
const featureRows = positiveInt(options.features);

const DRIVERS = 10_000;
/** Rows per generated RecordBatch: bounds the generator's memory per step. */
const BATCH_ROWS = 1_000_000;
const RUNS = 2;
const SAMPLE_MS = 50;
const T0_SECONDS = Date.UTC(2024, 0, 1) / 1000;
const HOURS = Math.ceil(featureRows / DRIVERS);
const tsType = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
const MiB = 2 ** 20;
const POSTGRES_SOURCE = 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource';

function positiveInt(text: string): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${text}`);
  return n;
}

const micros = (seconds: number): bigint => BigInt(seconds) * 1_000_000n;

function batch(columns: Array<[string, DataType, ArrayLike<unknown>]>, length: number): RecordBatch {
  const fields = columns.map(([name, type]) => new Field(name, type, true));
  const children = columns.map(([, type, data]) => makeData({ type, length, data } as never));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, nullCount: 0, children }));
}

/** Feature rows [start, start + length): row i is driver i % DRIVERS in hour i / DRIVERS. */
function featureBatch(start: number, length: number): RecordBatch {
  const driver = new BigInt64Array(length);
  const event = new BigInt64Array(length);
  const created = new BigInt64Array(length);
  const conv = new Float32Array(length);
  const acc = new Float64Array(length);
  const trips = new BigInt64Array(length);
  for (let j = 0; j < length; j++) {
    const i = start + j;
    // The jitter stays inside the hour, so each driver's rows remain in time order.
    const seconds = T0_SECONDS + Math.floor(i / DRIVERS) * 3600 + ((i * 7919) % 3600);
    driver[j] = BigInt(i % DRIVERS);
    event[j] = micros(seconds);
    created[j] = micros(seconds + ((i * 104_729) % 600));
    conv[j] = (i % 997) / 997;
    acc[j] = (i % 991) / 991;
    trips[j] = BigInt(i % 50);
  }
  return batch(
    [
      ['driver_id', new Int64(), driver],
      ['event_timestamp', tsType, event],
      ['created', tsType, created],
      ['conv_rate', new Float32(), conv],
      ['acc_rate', new Float64(), acc],
      ['trips', new Int64(), trips],
    ],
    length,
  );
}

/** The cached feature parquet for `featureRows`, generated on first use. */
function featureFile(): string {
  const dir = path.join(homedir(), '.cache', 'larder', 'bench-data', String(featureRows));
  const file = path.join(dir, 'driver_stats.parquet');
  if (existsSync(file)) {
    console.log(`feature data: reusing ${file}`);
    return file;
  }
  console.log(`feature data: generating ${featureRows.toLocaleString('en')} rows into ${file} …`);
  const started = performance.now();
  const batches: RecordBatch[] = [];
  for (let start = 0; start < featureRows; start += BATCH_ROWS) batches.push(featureBatch(start, Math.min(BATCH_ROWS, featureRows - start)));
  mkdirSync(dir, { recursive: true });
  // Written under a temporary name and renamed, so an interrupted run never leaves a truncated
  // file that later runs would take for a finished cache.
  const partial = `${file}.${process.pid}.partial`;
  writeParquetFile(partial, new Table(batches));
  renameSync(partial, file);
  console.log(`feature data: written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return file;
}

/** Entity rows at pseudo-random drivers and times; a fixed-seed LCG makes every run ask the same. */
function entityTable(rows: number): Table {
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0);
  const driver = new BigInt64Array(rows);
  const event = new BigInt64Array(rows);
  for (let i = 0; i < rows; i++) {
    driver[i] = BigInt(next() % DRIVERS);
    event[i] = micros(T0_SECONDS + (next() % (HOURS * 3600)));
  }
  return new Table([batch([['driver_id', new Int64(), driver], ['event_timestamp', tsType, event]], rows)]);
}

/** A cluster holding the feature rows in table `driver_stats`, loaded batch by batch. */
async function loadPostgres(): Promise<PostgresServer> {
  const server = await startPostgres();
  const client = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: server.database });
  await client.connect();
  try {
    const started = performance.now();
    const first = featureBatch(0, 1);
    await client.query(`CREATE TABLE driver_stats (${first.schema.fields.map((f) => `"${f.name}" ${pgTypeForArrow(f.type, f.name)}`).join(', ')})`);
    for (let start = 0; start < featureRows; start += BATCH_ROWS) {
      const rows = featureBatch(start, Math.min(BATCH_ROWS, featureRows - start));
      await pipeline(Readable.from(encodeCopyBinary([rows])), client.query(copyFrom('COPY driver_stats FROM STDIN (FORMAT binary)')));
    }
    await client.query('ANALYZE driver_stats');
    console.log(`postgres: ${featureRows.toLocaleString('en')} rows loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await client.end();
  }
  return server;
}

function storeYaml(store: string, postgres?: PostgresServer): string {
  if (store !== 'postgres') return `  type: ${store}\n`;
  const config = postgres!.offlineStoreConfig();
  return Object.entries(config).map(([k, v]) => `  ${k}: ${String(v)}\n`).join('');
}

function writeRepo(store: string, parquet: string, postgres?: PostgresServer): string {
  const repo = mkdtempSync(path.join(tmpdir(), `larder-bench-${store}-`));
  mkdirSync(path.join(repo, 'data'));
  writeFileSync(path.join(repo, 'feature_store.yaml'), `project: bench\nregistry: data/registry.db\noffline_store:\n${storeYaml(store, postgres)}`);
  const source = postgres
    ? { kind: 'custom' as const, name: 'driver_stats', classType: POSTGRES_SOURCE, configuration: { name: 'driver_stats', query: '', table: 'driver_stats' } }
    : { kind: 'file' as const, name: 'driver_stats', path: parquet };
  writeFileSync(
    path.join(repo, 'data', 'registry.db'),
    encodeRegistry({
      project: 'bench',
      entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
      dataSources: [{ ...source, timestampField: 'event_timestamp', createdTimestampColumn: 'created' }],
      featureViews: [
        {
          name: 'driver_stats',
          entities: ['driver'],
          ttlSeconds: 86_400,
          source: 'driver_stats',
          features: [
            { name: 'conv_rate', valueType: 'FLOAT' },
            { name: 'acc_rate', valueType: 'DOUBLE' },
            { name: 'trips', valueType: 'INT64' },
          ],
        },
      ],
    }),
  );
  return repo;
}

/** A `kB` field of /proc/<pid>/status, in bytes. */
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/**
 * Peak server RSS while `work` runs. VmHWM is reset first (clear_refs 5) so it covers this
 * interval only and catches spikes between samples; the 50 ms samples back it up and show the
 * peak even where the reset is not allowed.
 */
async function peakRssDuring<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Not permitted (e.g. hardened kernels): VmHWM then covers the process lifetime, an upper bound.
  }
  let peak = procStatus(pid, 'VmRSS');
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, procStatus(pid, 'VmRSS'));
    } catch {
      // The server exited mid-request; the request itself reports why.
    }
  }, SAMPLE_MS);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, procStatus(pid, 'VmHWM')) };
  } finally {
    clearInterval(sampler);
  }
}

interface Row {
  store: string;
  entityRows: number;
  seconds: number;
  peakRss: number;
}

const COMMAND = JSON.stringify({
  api: 'get_historical_features',
  feature_view_names: ['driver_stats'],
  name_aliases: [null],
  feature_refs: ['driver_stats:conv_rate', 'driver_stats:acc_rate', 'driver_stats:trips'],
  project: 'bench',
  full_feature_names: false,
});

async function benchStore(store: string, parquet: string, report: (row: Row) => void): Promise<void> {
  const postgres = store === 'postgres' ? await loadPostgres() : undefined;
  const repo = writeRepo(store, parquet, postgres);
  let server: ServerProcess | undefined;
  try {
    server = await startLarder({ repoPath: repo, logLevel: 'warning' });
    const pid = server.pid;
    console.log(`${store}: server pid ${pid} on port ${server.port}, idle RSS ${(procStatus(pid, 'VmRSS') / MiB).toFixed(0)} MiB`);
    const client = connect(`127.0.0.1:${server.port}`);
    try {
      for (const entityRows of entitySizes) {
        const entities = entityTable(entityRows);
        const { result: runs, peak } = await peakRssDuring(pid, async () => {
          const seconds: number[] = [];
          for (let run = 0; run < RUNS; run++) {
            const started = performance.now();
            const table = await client.doExchange(COMMAND, entities);
            seconds.push((performance.now() - started) / 1000);
            if (table.numRows !== entityRows) throw new Error(`expected ${entityRows} rows, got ${table.numRows}`);
          }
          return seconds;
        });
        report({ store, entityRows, seconds: Math.min(...runs), peakRss: peak });
      }
    } finally {
      client.close();
    }
  } catch (error) {
    const logs = server?.logs().trim();
    throw new Error(`${error instanceof Error ? error.message : String(error)}${logs ? `\nserver log (tail):\n${logs.slice(-4000)}` : ''}`);
  } finally {
    await server?.stop(5_000);
    await postgres?.stop();
    rmSync(repo, { recursive: true, force: true });
  }
}

const columns = ['store', 'entity rows', 'feature rows', 'seconds', 'rows/s', 'peak server RSS MiB'];
const widths = [8, 12, 13, 8, 11, 20];
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');

const parquet = featureFile();
const rows: Row[] = [];
const failures: string[] = [];
for (const store of stores) {
  try {
    await benchStore(store, parquet, (row) => {
      rows.push(row);
      console.log(`${store}: ${row.entityRows.toLocaleString('en')} entity rows in ${row.seconds.toFixed(2)} s`);
    });
  } catch (error) {
    // One broken store (e.g. a plugin still being written) must not hide the others' numbers.
    const message = error instanceof Error ? error.message : String(error);
    failures.push(store);
    console.error(`${store}: FAILED: ${message}`);
  }
}

console.log(`\nget_historical_features via DoExchange, best of ${RUNS} runs, 3 features, ttl 1 day`);
console.log(line(columns));
for (const row of rows) {
  console.log(
    line([
      row.store,
      row.entityRows.toLocaleString('en'),
      featureRows.toLocaleString('en'),
      row.seconds.toFixed(2),
      Math.round(row.entityRows / row.seconds).toLocaleString('en'),
      (row.peakRss / MiB).toFixed(0),
    ]),
  );
}
if (failures.length > 0) {
  console.log(`failed stores: ${failures.join(', ')}`);
  process.exitCode = 1;
}
