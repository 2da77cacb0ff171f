/**
 * What reading the registry costs, for each registry kind larder serves from: `file`
 * (data/registry.db), `sql` in SQLite, `sql` in PostgreSQL, and `remote` (Feast's own
 * `feast serve_registry` over the file registry). Every registry is written by the real
 * `feast apply` of the example repo (test/support/applied-example-repo.ts).
 *
 *   npx tsx --conditions=larder-source bench/registry-reads.ts [--calls 2000] [--runs 20] [--scale 500] [--block 100]
 *                                   [--kinds file,sqlite,postgres,remote] [--json FILE]
 *
 * 1. Per-call overhead. One in-process larder per kind (`startServer`, port 0, silent logger,
 *    `cache_ttl_seconds: 600`), read by the test Flight client (test/support/flight-client.ts)
 *    over DoExchange, `--calls` sequential calls of each of two small commands:
 *    `pull_all_from_table_or_query` of one hour of the example's source (5 rows), and
 *    `get_historical_features` of driver_hourly_stats for a 1-row entity table. The kinds take
 *    turns in blocks of `--block` calls (the first kind of each round rotates), so load from
 *    others on the machine falls on all of them alike; 100 calls per kind and command warm up
 *    first and are not counted. Client and servers share this process, so a call's time includes
 *    the client's work (the same for every kind). The whole phase stays well inside the TTL, so
 *    the cached registries answer every call from memory; the file registry stats its file per
 *    call, as it always does. "vs file" is the mean of the per-round differences from the file
 *    registry's mean (rounds pair the kinds in time) ± 2 standard errors. Since a call's own noise
 *    dwarfs the registry's part, the registry's part is also measured alone: the mean cost of the
 *    `snapshot()` each call asks its registry source for (20,000 on an open source; the source
 *    as larder opens it: openFileRegistry, or the sql/remote plugin's create).
 * 2. Refresh costs, median of `--runs`, straight from the loaders behind core's cached registry
 *    (after 5 unmeasured warm-up runs each):
 *    - change check: what one expired TTL costs when nothing changed: `stamp()` of the SQLite
 *      loader (a stat) and of the PostgreSQL loader (two small queries); the remote registry has
 *      no stamp, so its check IS a full load. For `file`, the check is the file registry's own
 *      per-call `snapshot()` on an unchanged file (a stat).
 *    - full load: `load()` plus building the lookup snapshot from it, as the cached registry
 *      does on a change; for `file`, `openFileRegistry` (open, stat, read, decode, snapshot).
 * 3. Size scaling (`--scale N`, 0 skips it): the same refresh costs for a registry holding the
 *    example plus N feature views, each over its own FileSource (2N+3 objects), applied by one
 *    `feast apply` of generated definitions into each backend (its build time is printed).
 *
 * Everything it starts (larder servers, feast serve_registry, the throwaway PostgreSQL cluster,
 * temporary directories) is stopped and removed on every exit path, including Ctrl-C.
 * Run it under `flock /tmp/larder-bench.lock` so benches never overlap.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Int64 } from 'apache-arrow';
import pino from 'pino';
import { startServer, type RunningServer } from '../core/src/server.ts';
import { EXAMPLE_PROJECT } from '../test/support/applied-example-repo.ts';
import { connect, type FlightTestClient } from '../test/support/flight-client.ts';
import { tsUtc } from '../test/support/generated-data.ts';
import { placeholderTable, pullAllCommand } from '../test/support/guarded-repo.ts';
import { arrowTable } from '../test/support/parquet-fixtures.ts';
import { startPostgres } from '../test/support/postgres-server.ts';
import {
  buildRegistries,
  CACHE_TTL_SECONDS,
  createDatabase,
  KINDS,
  scaleDefinitions,
  type Kind,
  type Registries,
} from './support/bench-registries.ts';
import { refreshCosts, type RefreshStats } from './support/registry-refresh-costs.ts';

const { values: options } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '20' },
    scale: { type: 'string', default: '500' },
    block: { type: 'string', default: '100' },
    kinds: { type: 'string', default: KINDS.join(',') },
    json: { type: 'string' },
  },
});
const calls = count(options.calls, 1);
const runs = count(options.runs, 1);
const scale = count(options.scale, 0);
const blockSize = count(options.block, 1);
const WARMUP_CALLS = 100;
const WARMUP_RUNS = 5;
const kinds = options.kinds
  .split(',')
  .map((k) => k.trim())
  .filter(Boolean) as Kind[];
for (const k of kinds) if (!KINDS.includes(k)) throw new Error(`unknown kind ${k}; one of ${KINDS.join(', ')}`);

function count(text: string, min: number): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`not an integer >= ${min}: ${text}`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Cleanup on every path: a stack of closers, run on the way out and on SIGINT/SIGTERM.

const closers: Array<{ what: string; close: () => unknown }> = [];
const onExit = (what: string, close: () => unknown) => closers.push({ what, close });
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    while (closers.length > 0) {
      const { what, close } = closers.pop()!;
      try {
        await close();
      } catch (error) {
        console.error(`cleanup: ${what}: ${(error as Error).message}`);
      }
    }
  })();
  return cleaning;
}
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping servers and removing temporary files …`);
    void cleanup().finally(() => process.exit(130));
  });
}

const silent = pino({ level: 'silent' });
const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

// ---------------------------------------------------------------------------------------------
// 1. Per-call overhead.

const HOUR_US = 3_600_000_000n;
const START_US = BigInt(Date.UTC(2021, 3, 10)) * 1000n; // the example data's first hour

const pullCommand = () =>
  pullAllCommand({
    data_source_name: 'driver_hourly_stats_source',
    timestamp_field: 'event_timestamp',
    created_timestamp_column: 'created',
    start_date: '2021-04-10T12:00:00+00:00',
    end_date: '2021-04-10T12:59:59+00:00',
  });
const historicalCommand = () =>
  JSON.stringify({
    command_id: `hist-${Math.random().toString(36).slice(2)}`,
    api: 'get_historical_features',
    feature_view_names: ['driver_hourly_stats'],
    name_aliases: [null],
    feature_refs: ['driver_hourly_stats:conv_rate', 'driver_hourly_stats:acc_rate', 'driver_hourly_stats:avg_daily_trips'],
    project: EXAMPLE_PROJECT,
    full_feature_names: false,
  });
const oneEntityRow = arrowTable([
  ['driver_id', new Int64(), [1001n]],
  ['event_timestamp', tsUtc, [START_US + 12n * HOUR_US + HOUR_US / 2n]],
]);
const placeholder = placeholderTable();

const COMMANDS = {
  pull: { rows: 5, call: (c: FlightTestClient) => c.doExchange(pullCommand(), placeholder) },
  historical: { rows: 1, call: (c: FlightTestClient) => c.doExchange(historicalCommand(), oneEntityRow) },
} as const;
type CommandName = keyof typeof COMMANDS;

interface CallStats {
  readonly kind: Kind;
  readonly command: CommandName;
  readonly calls: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Mean minus the file registry's, from the per-round differences (paired by round), and 2 standard errors of it. */
  readonly vsFile: { readonly deltaMs: number; readonly twoSeMs: number } | null;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Mean of the per-round differences a[i] - b[i], and twice its standard error. */
function pairedDelta(a: readonly number[], b: readonly number[]): { deltaMs: number; twoSeMs: number } {
  const d = a.map((x, i) => x - b[i]!);
  const mean = d.reduce((x, y) => x + y, 0) / d.length;
  const variance = d.length > 1 ? d.reduce((x, y) => x + (y - mean) ** 2, 0) / (d.length - 1) : NaN;
  return { deltaMs: mean, twoSeMs: 2 * Math.sqrt(variance / d.length) };
}

async function perCall(registries: Registries): Promise<CallStats[]> {
  const targets: Array<{ kind: Kind; server: RunningServer; client: FlightTestClient }> = [];
  for (const kind of kinds) {
    const server = await startServer({ chdir: registries.repo[kind], featureStoreYaml: registries.yaml[kind], port: 0, logger: silent });
    onExit(`larder (${kind})`, () => server.stop(1_000));
    const client = connect(`127.0.0.1:${server.port}`);
    onExit(`client (${kind})`, () => client.close());
    targets.push({ kind, server, client });
  }
  const startedAt = Date.now();
  const out: CallStats[] = [];
  for (const command of Object.keys(COMMANDS) as CommandName[]) {
    const { rows, call } = COMMANDS[command];
    for (const { kind, client } of targets) {
      for (let i = 0; i < WARMUP_CALLS; i++) {
        const table = await call(client);
        if (table.numRows !== rows) throw new Error(`${kind} ${command}: ${table.numRows} rows, expected ${rows}`);
      }
    }
    const times = new Map<Kind, number[]>(targets.map((t) => [t.kind, []]));
    const roundMeans = new Map<Kind, number[]>(targets.map((t) => [t.kind, []]));
    const rounds = Math.ceil(calls / blockSize);
    for (let round = 0; round < rounds; round++) {
      const n = Math.min(blockSize, calls - round * blockSize);
      for (let j = 0; j < targets.length; j++) {
        const { kind, client } = targets[(round + j) % targets.length]!;
        const list = times.get(kind)!;
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const t = process.hrtime.bigint();
          await call(client);
          const took = ms(t);
          list.push(took);
          sum += took;
        }
        roundMeans.get(kind)!.push(sum / n);
      }
    }
    for (const { kind } of targets) {
      const list = times.get(kind)!;
      const sorted = [...list].sort((a, b) => a - b);
      const stats: CallStats = {
        kind,
        command,
        calls: list.length,
        meanMs: list.reduce((a, b) => a + b, 0) / list.length,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted[sorted.length - 1]!,
        vsFile: kind === 'file' || !roundMeans.has('file') ? null : pairedDelta(roundMeans.get(kind)!, roundMeans.get('file')!),
      };
      console.log(
        `per call: ${kind} ${command}: mean ${stats.meanMs.toFixed(3)} ms, p50 ${stats.p50Ms.toFixed(3)}, p99 ${stats.p99Ms.toFixed(3)}`,
      );
      out.push(stats);
    }
  }
  const elapsed = (Date.now() - startedAt) / 1000;
  if (elapsed >= CACHE_TTL_SECONDS)
    console.log(`WARNING: the per-call phase took ${elapsed.toFixed(0)} s, longer than the TTL: the cached registries refreshed during it`);
  for (const t of targets.reverse()) {
    t.client.close();
    await t.server.stop(1_000);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Printing.

function printTable(title: string, header: string[], rows: string[][], leftColumns: number): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i < leftColumns ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(1) : x >= 10 ? x.toFixed(2) : x.toFixed(3));

function printPerCall(stats: CallStats[]): void {
  const us = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 1000).toFixed(0)}`;
  printTable(
    `Per call, ${calls} sequential DoExchange calls per kind and command (in-process larder, cache_ttl_seconds ${CACHE_TTL_SECONDS}), ms;` +
      ` vs file: mean difference of ${Math.ceil(calls / blockSize)} interleaved rounds ± 2 SE, µs`,
    ['command', 'registry', 'mean', 'p50', 'p99', 'mean vs file, µs'],
    stats.map((s) => [
      s.command === 'pull' ? 'pull_all (5 rows)' : 'historical (1 row)',
      label(s.kind),
      fmt(s.meanMs),
      fmt(s.p50Ms),
      fmt(s.p99Ms),
      s.vsFile ? `${us(s.vsFile.deltaMs)} ± ${(s.vsFile.twoSeMs * 1000).toFixed(0)}` : '-',
    ]),
    2,
  );
}

function printRefresh(stats: RefreshStats[]): void {
  printTable(
    `Registry reads: snapshot() on an open source (mean of 20,000); change check and full load, median of ${runs} runs, ms`,
    ['registry', 'kind', 'objects', 'snapshot() per call, µs', 'change check', 'full load'],
    stats.map((s) => [
      s.registry,
      label(s.kind),
      `${s.objects.featureViews} FV, ${s.objects.dataSources} DS`,
      s.snapshotUs.toFixed(2),
      s.check ? fmt(s.check.medianMs) : '= load',
      fmt(s.load.medianMs),
    ]),
    3,
  );
}

const label = (kind: Kind) => ({ file: 'file', sqlite: 'sql (SQLite)', postgres: 'sql (PostgreSQL)', remote: 'remote' })[kind];

// ---------------------------------------------------------------------------------------------

const workdir = mkdtempSync(path.join(tmpdir(), 'larder-registry-bench-'));
onExit('temporary directory', () => rmSync(workdir, { recursive: true, force: true }));
const result: {
  calls: number;
  runs: number;
  scale: number;
  buildSeconds: Record<string, number>;
  perCall: CallStats[];
  refresh: RefreshStats[];
  registryBytes: Record<string, { file: number; sqlite: number }>;
} = { calls, runs, scale, buildSeconds: {}, perCall: [], refresh: [], registryBytes: {} };
try {
  const pgServer = await startPostgres();
  onExit('PostgreSQL', () => pgServer.stop());

  let t = process.hrtime.bigint();
  const example = await buildRegistries(path.join(workdir, 'example'), pgServer, pgServer.database, '', onExit);
  result.buildSeconds.example = ms(t) / 1000;
  result.registryBytes.example = { file: statSync(example.registryDb).size, sqlite: statSync(example.sqliteFile).size };
  console.log(`example registries applied and served in ${result.buildSeconds.example.toFixed(1)} s`);

  result.perCall = await perCall(example);
  result.refresh.push(...(await refreshCosts('example', example, kinds, { warmup: WARMUP_RUNS, measured: runs })));

  if (scale > 0) {
    t = process.hrtime.bigint();
    await createDatabase(pgServer, 'feast_scale');
    const large = await buildRegistries(path.join(workdir, 'scale'), pgServer, 'feast_scale', scaleDefinitions(scale), onExit);
    result.buildSeconds.scale = ms(t) / 1000;
    result.registryBytes[`+${scale} FV`] = { file: statSync(large.registryDb).size, sqlite: statSync(large.sqliteFile).size };
    console.log(`registries with ${scale} more feature views applied and served in ${result.buildSeconds.scale.toFixed(1)} s`);
    result.refresh.push(...(await refreshCosts(`+${scale} FV`, large, kinds, { warmup: WARMUP_RUNS, measured: runs })));
  }

  printPerCall(result.perCall);
  printRefresh(result.refresh);
  console.log(
    `\nRegistry sizes: ${Object.entries(result.registryBytes)
      .map(([k, b]) => `${k}: registry.db ${(b.file / 1024).toFixed(0)} KiB, SQLite file ${(b.sqlite / 1024).toFixed(0)} KiB`)
      .join('; ')}.` +
      ` Build (feast apply ×3 side by side + feast serve_registry): ${Object.entries(result.buildSeconds)
        .map(([k, s]) => `${k} ${s.toFixed(0)} s`)
        .join(', ')}.`,
  );
  if (options.json) writeFileSync(options.json, JSON.stringify(result, null, 2));
} catch (error) {
  // After a signal, the cleanup closes what the bench is using: that failure is not news.
  if (!interrupted) console.error(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
