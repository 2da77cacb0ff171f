/**
 * Server memory while streaming a result several times larger than the server's memory budget:
 * `larder serve_offline` (the real CLI, as a child process, started with
 * NODE_OPTIONS=--max-old-space-size=<heap>) answers pull_all_from_table_or_query over one parquet
 * file source, and a client reading at a capped rate (bench/streaming/pull_client.py: pyarrow,
 * DoExchange as Feast 0.67 sends it) discards every batch. The server's VmRSS is sampled every 50 ms.
 *
 *   npx tsx --conditions=larder-source bench/streaming-memory.ts [--stores file,duckdb] [--rows 64000000] [--row-group-rows 1048576]
 *                                     [--heap-mib 512] [--client-mbps 200]
 *
 * The default 64M rows make about 4.4 GB of IPC from a ~0.9 GB parquet file (one file, row groups of
 * pyarrow's default 1Mi rows, cached under ~/.cache/larder/bench-data/). Prints the RSS at each
 * ~256 MB served and, per store, the peak RSS against the bytes served: a server that holds the
 * result (or its input) grows with it; one that streams stays flat after the first row groups.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeRegistry } from '../core/src/registry/encode.ts';
import { feastPython } from '../test/support/feast-python.ts';
import { startLarder } from '../test/support/larder-process.ts';
import { MiB, procStatus, RssSampler } from './support/proc-memory.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values: options } = parseArgs({
  options: {
    stores: { type: 'string', default: 'file,duckdb' },
    rows: { type: 'string', default: '64000000' },
    'row-group-rows': { type: 'string', default: String(1024 * 1024) },
    'heap-mib': { type: 'string', default: '512' },
    'client-mbps': { type: 'string', default: '200' },
  },
});
const stores = options.stores
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const rows = positiveInt(options.rows);
const rowGroupRows = positiveInt(options['row-group-rows']);
const heapMib = positiveInt(options['heap-mib']);
const clientMbps = positiveInt(options['client-mbps']);
const python = feastPython().python;

function positiveInt(text: string): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${text}`);
  return n;
}

function runToEnd(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file} exited ${code}:\n${err}`))));
  });
}

async function parquetFile(): Promise<string> {
  const dir = path.join(homedir(), '.cache', 'larder', 'bench-data');
  const file = path.join(dir, `stream-${rows}-${rowGroupRows}.parquet`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  console.log(`source: generating ${rows.toLocaleString('en')} rows into ${file} …`);
  await runToEnd(python, [path.join(HERE, 'support', 'feature_table.py'), file, String(rows), String(rowGroupRows), 'parquet']);
  return file;
}

function writeRepo(store: string, parquet: string): string {
  const repo = mkdtempSync(path.join(tmpdir(), `larder-stream-${store}-`));
  mkdirSync(path.join(repo, 'data'));
  writeFileSync(path.join(repo, 'feature_store.yaml'), `project: bench\nregistry: data/registry.db\noffline_store:\n  type: ${store}\n`);
  writeFileSync(
    path.join(repo, 'data', 'registry.db'),
    encodeRegistry({
      project: 'bench',
      dataSources: [
        { kind: 'file', name: 'driver_stats', path: parquet, timestampField: 'event_timestamp', createdTimestampColumn: 'created' },
      ],
    }),
  );
  return repo;
}

/** The command Feast's client sends for `pull_all_from_table_or_query` over every column. */
const COMMAND = JSON.stringify({
  command_id: 'streaming-memory-bench',
  api: 'pull_all_from_table_or_query',
  data_source_name: 'driver_stats',
  join_key_columns: ['driver_id'],
  feature_name_columns: ['conv_rate', 'acc_rate', 'trips', 'rating', 'city'],
  timestamp_field: 'event_timestamp',
  created_timestamp_column: 'created',
  start_date: '2024-01-01T00:00:00+00:00',
  end_date: '2030-01-01T00:00:00+00:00',
});

interface Progress {
  ipcBytes: number;
  rows: number;
  seconds: number;
  done?: boolean;
}

interface Outcome {
  store: string;
  idleRss: number;
  peakRss: number;
  final: Progress;
}

async function bench(store: string, parquet: string): Promise<Outcome> {
  const repo = writeRepo(store, parquet);
  const server = await startLarder({ repoPath: repo, logLevel: 'warning', env: { NODE_OPTIONS: `--max-old-space-size=${heapMib}` } });
  try {
    const idleRss = procStatus(server.pid, 'VmRSS');
    let latest = idleRss;
    const sampler = new RssSampler(server.pid, 50, (rss) => (latest = rss));
    console.log(`${store}: server pid ${server.pid}, idle RSS ${(idleRss / MiB).toFixed(0)} MiB, client capped at ${clientMbps} MB/s`);
    const client = spawn(python, [path.join(HERE, 'streaming', 'pull_client.py'), String(server.port), COMMAND, String(clientMbps)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    client.stderr.on('data', (c: Buffer) => (err += c.toString()));
    let final: Progress | null = null;
    let peakSoFar = idleRss;
    for await (const line of createInterface({ input: client.stdout })) {
      const p = JSON.parse(line) as Progress;
      peakSoFar = Math.max(peakSoFar, latest);
      if (p.done) final = p;
      else
        console.log(
          `  ${(p.ipcBytes / 1e9).toFixed(2)} GB served, ${(p.seconds).toFixed(1)} s: RSS ${(latest / MiB).toFixed(0)} MiB (peak so far ${(peakSoFar / MiB).toFixed(0)})`,
        );
    }
    const code = await new Promise<number | null>((done) => (client.exitCode !== null ? done(client.exitCode) : client.once('exit', done)));
    const { peak } = sampler.stop();
    if (code !== 0 || !final) throw new Error(`client failed (exit ${code}):\n${err}\nserver log:\n${server.logs().slice(-4000)}`);
    if (final.rows !== rows) throw new Error(`${store}: expected ${rows} rows, got ${final.rows}`);
    return { store, idleRss, peakRss: peak, final };
  } finally {
    await server.stop(5_000);
    rmSync(repo, { recursive: true, force: true });
  }
}

const parquet = await parquetFile();
const outcomes: Outcome[] = [];
for (const store of stores) outcomes.push(await bench(store, parquet));

console.log(
  `\npull_all_from_table_or_query of ${rows.toLocaleString('en')} rows, server heap cap ${heapMib} MiB, client ≤ ${clientMbps} MB/s`,
);
console.log(['store ', ' GB served', 'seconds', '  MB/s', 'idle RSS MiB', 'peak RSS MiB', 'peak / served'].join('  '));
for (const o of outcomes) {
  console.log(
    [
      o.store.padEnd(6),
      (o.final.ipcBytes / 1e9).toFixed(2).padStart(10),
      o.final.seconds.toFixed(1).padStart(7),
      (o.final.ipcBytes / 1e6 / o.final.seconds).toFixed(0).padStart(6),
      (o.idleRss / MiB).toFixed(0).padStart(12),
      (o.peakRss / MiB).toFixed(0).padStart(12),
      `${((o.peakRss / o.final.ipcBytes) * 100).toFixed(1)}%`.padStart(13),
    ].join('  '),
  );
}
