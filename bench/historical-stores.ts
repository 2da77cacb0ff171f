/**
 * Times get_historical_features through the real Flight path (DoExchange, as Feast 0.67 sends it)
 * for several offline store types, each served by a separate `larder serve_offline` process, so
 * the reported peak RSS is the server's alone (the client's Arrow tables do not count).
 *
 *   npx tsx --conditions=larder-source bench/historical-stores.ts [--stores file,duckdb,postgres] [--entities 10000,100000,1000000] [--features 10000000]
 *
 * Data: `--features` rows over 10,000 drivers, one row per driver and hour (with jitter inside the
 * hour; bench/support/driver-stats.ts), cached in ~/.cache/larder/bench-data/<rows>/ because
 * generating 10M rows takes a while.
 * For `postgres`, a throwaway cluster is started and the same rows are loaded into a table
 * (binary COPY, then ANALYZE; no index, as a source table often has none); the load time is
 * printed but not counted.
 * Entity rows are at pseudo-random drivers and times inside the data's range (fixed seed, so
 * every store answers the same request). Each size runs twice; the faster run is reported.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Int64, Table } from 'apache-arrow';
import { startPostgres, type PostgresServer } from '../test/support/postgres-server.ts';
import { encodeRegistry } from '../core/src/registry/encode.ts';
import { connect } from '../test/support/flight-client.ts';
import { startLarder, type ServerProcess } from '../test/support/larder-process.ts';
import {
  DRIVERS,
  T0_SECONDS,
  batch,
  featureFile as cachedFeatureFile,
  hoursFor,
  loadPostgresTable,
  micros,
  positiveInt,
  tsType,
} from './support/driver-stats.ts';

const { values: options } = parseArgs({
  options: {
    stores: { type: 'string', default: 'file,duckdb' },
    entities: { type: 'string', default: '10000,100000,1000000' },
    features: { type: 'string', default: '10000000' },
  },
});
const stores = options.stores
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const entitySizes = options.entities.split(',').map(positiveInt);
const featureRows = positiveInt(options.features);

const RUNS = 2;
const SAMPLE_MS = 50;
const HOURS = hoursFor(featureRows);
const MiB = 2 ** 20;
const POSTGRES_SOURCE = 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource';

const featureFile = (): string => cachedFeatureFile(featureRows);

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
  return new Table([
    batch(
      [
        ['driver_id', new Int64(), driver],
        ['event_timestamp', tsType, event],
      ],
      rows,
    ),
  ]);
}

/** A cluster holding the feature rows in table `driver_stats`. */
async function loadPostgres(): Promise<PostgresServer> {
  const server = await startPostgres();
  const seconds = await loadPostgresTable(server, featureRows);
  console.log(`postgres: ${featureRows.toLocaleString('en')} rows loaded in ${seconds.toFixed(1)} s`);
  return server;
}

function storeYaml(store: string, postgres?: PostgresServer): string {
  if (store !== 'postgres') return `  type: ${store}\n`;
  const config = postgres!.offlineStoreConfig();
  return Object.entries(config)
    .map(([k, v]) => `  ${k}: ${String(v)}\n`)
    .join('');
}

function writeRepo(store: string, parquet: string, postgres?: PostgresServer): string {
  const repo = mkdtempSync(path.join(tmpdir(), `larder-bench-${store}-`));
  mkdirSync(path.join(repo, 'data'));
  writeFileSync(
    path.join(repo, 'feature_store.yaml'),
    `project: bench\nregistry: data/registry.db\noffline_store:\n${storeYaml(store, postgres)}`,
  );
  const source = postgres
    ? {
        kind: 'custom' as const,
        name: 'driver_stats',
        classType: POSTGRES_SOURCE,
        configuration: { name: 'driver_stats', query: '', table: 'driver_stats' },
      }
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
