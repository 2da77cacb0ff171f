/**
 * Times get_historical_features through the real Flight path (DoExchange, as Feast 0.67 sends it)
 * against the parquet-files store, and reports rows/s and the server process's peak RSS.
 *
 *   npx tsx --conditions=larder-source bench/historical-file-store.ts [entityRows=100000] [sourceRows=1000000]
 *
 * Data: `sourceRows` hourly rows over 1,000 drivers; entity rows at random drivers and times.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Field, Float32, Int64, RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, makeData } from 'apache-arrow';
import pino from 'pino';
import { encodeRegistry } from '../core/src/registry/encode.ts';
import { startServer } from '../core/src/server.ts';
import { connect } from '../test/support/flight-client.ts';
import { writeParquetFile } from '../test/support/parquet-fixtures.ts';

const entityRows = Number(process.argv[2] ?? 100_000);
const sourceRows = Number(process.argv[3] ?? 1_000_000);
const DRIVERS = 1000;
const T0 = BigInt(Date.UTC(2024, 0, 1)) * 1000n;
const HOUR = 3_600_000_000n;
const tsType = new Timestamp(TimeUnit.MICROSECOND, 'UTC');

// biome-ignore lint/suspicious/noExplicitAny: makeData's overloads are per type; a bench builds a few known columns
function batch(columns: Array<[string, any, any]>, length: number): RecordBatch {
  const fields = columns.map(([name, type]) => new Field(name, type, true));
  const children = columns.map(([, type, data]) => makeData({ type, length, data }));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, nullCount: 0, children }));
}

function sourceTable(): Table {
  const id = new BigInt64Array(sourceRows);
  const ts = new BigInt64Array(sourceRows);
  const rate = new Float32Array(sourceRows);
  for (let i = 0; i < sourceRows; i++) {
    id[i] = BigInt(i % DRIVERS);
    ts[i] = T0 + BigInt(Math.floor(i / DRIVERS)) * HOUR;
    rate[i] = (i % 997) / 997;
  }
  return new Table([
    batch(
      [
        ['driver_id', new Int64(), id],
        ['event_timestamp', tsType, ts],
        ['conv_rate', new Float32(), rate],
      ],
      sourceRows,
    ),
  ]);
}

function entityTable(): Table {
  const hours = Math.ceil(sourceRows / DRIVERS);
  const id = new BigInt64Array(entityRows);
  const ts = new BigInt64Array(entityRows);
  for (let i = 0; i < entityRows; i++) {
    id[i] = BigInt((i * 7919) % DRIVERS);
    ts[i] = T0 + BigInt((i * 104729) % (hours * 3600)) * 1_000_000n;
  }
  return new Table([
    batch(
      [
        ['driver_id', new Int64(), id],
        ['event_timestamp', tsType, ts],
      ],
      entityRows,
    ),
  ]);
}

const repo = mkdtempSync(path.join(tmpdir(), 'larder-bench-'));
try {
  writeFileSync(path.join(repo, 'feature_store.yaml'), 'project: bench\nregistry: data/registry.db\noffline_store:\n  type: file\n');
  mkdirSync(path.join(repo, 'data'));
  writeParquetFile(path.join(repo, 'data', 'stats.parquet'), sourceTable());
  writeFileSync(
    path.join(repo, 'data', 'registry.db'),
    encodeRegistry({
      project: 'bench',
      entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
      dataSources: [{ kind: 'file', name: 'stats', path: 'data/stats.parquet', timestampField: 'event_timestamp' }],
      featureViews: [
        {
          name: 'stats',
          entities: ['driver'],
          ttlSeconds: 7 * 86_400,
          source: 'stats',
          features: [{ name: 'conv_rate', valueType: 'FLOAT' }],
        },
      ],
    }),
  );
  const server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
  const client = connect(`127.0.0.1:${server.port}`);
  const entities = entityTable();
  const command = JSON.stringify({
    api: 'get_historical_features',
    feature_view_names: ['stats'],
    name_aliases: [null],
    feature_refs: ['stats:conv_rate'],
    project: 'bench',
    full_feature_names: false,
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const runs: number[] = [];
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    const result = await client.doExchange(command, entities);
    runs.push(performance.now() - started);
    if (result.numRows !== entityRows) throw new Error(`expected ${entityRows} rows, got ${result.numRows}`);
  }
  clearInterval(sampler);
  const best = Math.min(...runs);
  console.log(`get_historical_features, file store: ${entityRows} entity rows × ${sourceRows} source rows`);
  console.log(
    `  wall ${runs.map((r) => r.toFixed(0)).join(' / ')} ms (best ${best.toFixed(0)} ms), ${Math.round(entityRows / (best / 1000)).toLocaleString('en')} entity rows/s`,
  );
  console.log(`  peak RSS (server and client share this process) ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  client.close();
  await server.stop(1000);
} finally {
  rmSync(repo, { recursive: true, force: true });
}
