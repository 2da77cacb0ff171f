/**
 * larder's trino store against Feast's own TrinoOfflineStore (`feast serve_offline`) on the same
 * Trino cluster: a coordinator and one worker as separate processes on this machine (the
 * coordinator schedules no tasks, so every split runs in the worker and results cross the
 * exchange), the same registry written by `feast apply`, the same feature_store.yaml (type trino),
 * and the unchanged Feast 0.67 Python client (bench/feast_client_bench.py) calling both.
 *
 *   npx tsx --conditions=larder-source bench/trino-vs-feast.ts [--entities 10000,100000,1000000]
 *     [--modes sql,df] [--features 10000000] [--keys 100000] [--pull-all-rows 1000000] [--runs 3]
 *     [--call-timeout-s 1800] [--coordinator-heap 1G] [--worker-heap 3G] [--worker-query-memory 1800MB]
 *     [--rss-cap-mib 8192] [--json FILE]
 *
 * Data, generated inside Trino (no row leaves it): `--features` rows in the hive table
 * bench.driver_stats (parquet), `--keys` drivers with one row per driver and hour
 * (features/keys hours), and entity tables bench.entities_<n> of each `--entities` size (drivers
 * and times spread over the data by fixed formulas). The repo has ONE TrinoSource over
 * driver_stats and THREE feature views over it (conv_rate ttl 1 day, acc_rate ttl 3 h, trips ttl
 * 7 days), as bench/feast-vs-larder.ts. Feast's temporary entity tables go to the `memory` catalog
 * (Feast's hive path cannot create the client's timezone-aware timestamps, see
 * test/support/feast-trino.ts).
 *
 * Cases: get_historical_features at each size with the entity rows as SQL over the entity table
 * (`sql`, entity_df_sql: the rows never leave Trino) and as a pandas dataframe the client sends
 * (`df`, uploaded by each server its own way: Feast by INSERT … VALUES, so the cluster's
 * query.max-length is raised to let it try); pull_latest_from_table_or_query over every row (one
 * row per driver comes back) and pull_all_from_table_or_query of `--pull-all-rows` rows.
 *
 * Both servers stay up for the whole run; each case runs `--runs` times per server, alternating
 * call by call (Feast first on odd runs, larder first on even ones) so neither profits from a
 * warmer cluster. Time is measured in the client around the call and `.to_arrow()`; the table
 * gives the median with min and max. Peak RSS is each server's process tree sampled every 50 ms
 * during its calls, backed by the root's VmHWM (a high-water mark since the server started: cases
 * run smallest first). A server that answers UNIMPLEMENTED (larder's trino store before its
 * retrieval slices land) is printed as n/a. The first answers of both servers are compared as
 * whole sorted tables. Trino's own memory is not counted in either server's RSS.
 *
 * Run it under `flock /tmp/larder-bench.lock` so benches never overlap. `LARDER_FEAST_VENV` names
 * the venv with feast[trino] (default: the conformance venv, built by scripts/ensure-feast-venv.sh).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { feastPython } from '../test/support/feast-python.ts';
import { buildFeastTrinoRepo, type FeastTrinoRepo } from '../test/support/feast-trino.ts';
import { REPO_ROOT, type ServerProcess, startLarder } from '../test/support/larder-process.ts';
import { startTrinoCluster, type TrinoCluster } from '../test/support/trino-server.ts';
import { trinoQuery } from '../test/support/trino-statement.ts';
import { T0_SECONDS, positiveInt } from './support/driver-stats.ts';
import { FEATURE_REFS, PULL_COLUMNS, SOURCE } from './support/feast-bench-repo.ts';
import { procStatus, treeRss, watchRss } from './support/process-rss.ts';

const { values: options } = parseArgs({
  options: {
    entities: { type: 'string', default: '10000,100000,1000000' },
    modes: { type: 'string', default: 'sql,df' },
    features: { type: 'string', default: '10000000' },
    keys: { type: 'string', default: '100000' },
    'pull-all-rows': { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    'call-timeout-s': { type: 'string', default: '1800' },
    'coordinator-heap': { type: 'string', default: '1G' },
    'worker-heap': { type: 'string', default: '3G' },
    // A worker's share of a query (query.max-memory-per-node); Trino refuses to start one above ~70% of its heap.
    'worker-query-memory': { type: 'string', default: '1800MB' },
    'rss-cap-mib': { type: 'string', default: '8192' },
    json: { type: 'string' },
  },
});
const entitySizes = options.entities.split(',').map(positiveInt);
const modes = options.modes.split(',').filter(Boolean) as ('sql' | 'df')[];
const featureRows = positiveInt(options.features);
const keys = positiveInt(options.keys);
const pullAllRows = positiveInt(options['pull-all-rows']);
const runs = positiveInt(options.runs);
const callTimeoutMs = positiveInt(options['call-timeout-s']) * 1000;
const MiB = 2 ** 20;
const rssCap = positiveInt(options['rss-cap-mib']) * MiB;
if (featureRows % keys !== 0 || pullAllRows % keys !== 0 || pullAllRows > featureRows)
  throw new Error('--features and --pull-all-rows must be multiples of --keys, and --pull-all-rows at most --features (whole hours)');
for (const m of modes) if (m !== 'sql' && m !== 'df') throw new Error(`--modes: unknown mode '${m}' (sql, df)`);
const HOURS = featureRows / keys;
const CLIENT_SCRIPT = path.join(REPO_ROOT, 'bench', 'feast_client_bench.py');
const SCHEMA = 'hive.bench';
const T0_SQL = "TIMESTAMP '2024-01-01 00:00:00.000'"; // timestamp(3): the hive catalog's precision

/** The views: one feature each, ttls of a day, three hours and a week (bench/support/feast-bench-repo.ts's). */
const DEFINITIONS = `# Written by bench/trino-vs-feast.ts.
from datetime import timedelta

from feast import Entity, FeatureView, Field, ValueType
from feast.infra.offline_stores.contrib.trino_offline_store.trino_source import TrinoSource
from feast.types import Float32, Float64, Int64

source = TrinoSource(
    name="${SOURCE}",
    table="${SCHEMA}.driver_stats",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)
driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
driver_conv = FeatureView(name="driver_conv", entities=[driver], ttl=timedelta(days=1), schema=[Field(name="conv_rate", dtype=Float32)], source=source, online=False)
driver_acc = FeatureView(name="driver_acc", entities=[driver], ttl=timedelta(hours=3), schema=[Field(name="acc_rate", dtype=Float64)], source=source, online=False)
driver_trips = FeatureView(name="driver_trips", entities=[driver], ttl=timedelta(days=7), schema=[Field(name="trips", dtype=Int64)], source=source, online=False)
`;

/** `SELECT i` for i in [0, n): two UNNESTed sequences crossed (one sequence holds at most 10,000 entries). */
function range(n: number): string {
  const outer = Math.ceil(n / 1000);
  return `(SELECT x * 1000 + y AS i FROM UNNEST(sequence(0, ${outer - 1})) AS a (x) CROSS JOIN UNNEST(sequence(0, 999)) AS b (y) WHERE x * 1000 + y < ${n})`;
}

interface QueryCost {
  readonly seconds: number;
  readonly peakMemoryMiB: number;
  readonly cpuSeconds: number;
}

/** Runs `sql` on the cluster; its wall time, and Trino's peak memory and CPU for it (from /v1/query/{id}). */
async function timedQuery(cluster: TrinoCluster, sql: string): Promise<QueryCost> {
  const started = performance.now();
  const { id } = await trinoQuery(cluster.url, sql, { timeoutMs: 3_600_000 });
  const seconds = (performance.now() - started) / 1000;
  const info = (await (await fetch(`${cluster.url}/v1/query/${id}`, { headers: { 'X-Trino-User': 'larder-test' } })).json()) as {
    queryStats?: { peakUserMemoryReservation?: string; peakTotalMemoryReservation?: string; totalCpuTime?: string };
  };
  return {
    seconds,
    peakMemoryMiB: dataSizeMiB(info.queryStats?.peakTotalMemoryReservation ?? info.queryStats?.peakUserMemoryReservation ?? '0B'),
    cpuSeconds: durationSeconds(info.queryStats?.totalCpuTime ?? '0s'),
  };
}

/** Trino's DataSize text (`12.5MB`, `3GB`, `100B`) in MiB. */
function dataSizeMiB(text: string): number {
  const match = /^([\d.]+)\s*([KMGTP]?B)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const power = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'].indexOf(match[2]!);
  return (Number(match[1]) * 1024 ** power) / MiB;
}

/** Trino's Duration text (`1.50s`, `250.00ms`, `2.00m`) in seconds. */
function durationSeconds(text: string): number {
  const match = /^([\d.]+)\s*(ns|us|ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const unit = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 'ns'];
  return Number(match[1]) * unit;
}

/** The feature table and the entity tables, generated inside Trino; prints what each took. */
async function generateData(cluster: TrinoCluster): Promise<void> {
  await trinoQuery(cluster.url, `CREATE SCHEMA ${SCHEMA}`);
  const features = await timedQuery(
    cluster,
    `CREATE TABLE ${SCHEMA}.driver_stats WITH (format = 'PARQUET') AS
     SELECT i % ${keys} AS driver_id,
            date_add('hour', i / ${keys}, ${T0_SQL}) AS event_timestamp,
            date_add('hour', i / ${keys}, ${T0_SQL}) AS created,
            CAST(((i % ${keys}) * 31 + (i / ${keys}) * 17) % 1000 AS real) / 1000 AS conv_rate,
            CAST(((i % ${keys}) * 13 + (i / ${keys}) * 7) % 997 AS double) / 997 AS acc_rate,
            CAST((i % ${keys} + i / ${keys}) % 50 AS bigint) AS trips
     FROM ${range(featureRows)}`,
  );
  console.log(
    `data: ${featureRows.toLocaleString('en')} feature rows (${keys.toLocaleString('en')} drivers × ${HOURS} hours) generated in ${features.seconds.toFixed(1)} s ` +
      `(Trino CPU ${features.cpuSeconds.toFixed(1)} s, peak query memory ${features.peakMemoryMiB.toFixed(0)} MiB; ` +
      `worker RSS now ${(procStatus(cluster.workerPids[0]!, 'VmRSS') / MiB).toFixed(0)} MiB, coordinator ${(procStatus(cluster.pid, 'VmRSS') / MiB).toFixed(0)} MiB)`,
  );
  // Entity times: whole seconds from the data's second hour to its end; drivers and times by
  // multiplicative hashes of the row number, so every size is spread over all drivers and hours.
  const span = (HOURS - 1) * 3600;
  for (const n of entitySizes) {
    const cost = await timedQuery(
      cluster,
      `CREATE TABLE ${SCHEMA}.entities_${n} WITH (format = 'PARQUET') AS
       SELECT (i * 7919) % ${keys} AS driver_id, date_add('second', 3600 + (i * 104729) % ${span}, ${T0_SQL}) AS event_timestamp
       FROM ${range(n)}`,
    );
    console.log(`data: entity table of ${n.toLocaleString('en')} rows in ${cost.seconds.toFixed(1)} s`);
  }
}

interface Case {
  readonly label: string;
  /** Rows the answer should have. */
  readonly rows: number;
  readonly args: readonly string[];
}

function cases(): Case[] {
  const common = ['--drivers', String(keys), '--t0', String(T0_SECONDS), '--hours', String(HOURS)];
  const list: Case[] = [];
  for (const mode of modes)
    for (const n of entitySizes)
      list.push({
        label: `historical ${mode} ${count(n)}`,
        rows: n,
        args: [
          'historical',
          '--rows',
          String(n),
          ...common,
          '--features',
          FEATURE_REFS.join(','),
          ...(mode === 'sql' ? ['--entity-sql', `SELECT driver_id, event_timestamp FROM ${SCHEMA}.entities_${n}`] : ['--repeat-seconds']),
        ],
      });
  const pull = ['--source', SOURCE, '--columns', PULL_COLUMNS.join(',')];
  list.push({
    label: `pull_latest ${count(featureRows)}`,
    rows: keys,
    args: ['pull', '--rows', String(featureRows), ...common, ...pull, '--latest'],
  });
  list.push({
    label: `pull_all ${count(pullAllRows)}`,
    rows: pullAllRows,
    args: ['pull', '--rows', String(pullAllRows), ...common, ...pull],
  });
  return list;
}

const count = (n: number) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

function runClient(args: readonly string[], env: NodeJS.ProcessEnv, limitMs: number): Promise<Exit> {
  return new Promise((done) => {
    const child = spawn(feastPython().python, [CLIENT_SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-16_384)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, timedOut });
    });
  });
}

function tagged<T>(stdout: string, prefix: string): T | undefined {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(prefix));
  return line ? (JSON.parse(line.slice(prefix.length)) as T) : undefined;
}

type Kind = 'feast' | 'larder';

/** One server's record on one case. */
interface Outcome {
  seconds: number[];
  /** 'ok', 'n/a' (UNIMPLEMENTED), 'failed', 'timeout', 'rss cap'. */
  status: string;
  peakRss: number;
  rows?: number;
  detail?: string;
}

/** One call on a running server; `save` gets the normalized answer. Updates `outcome`. */
async function call(
  kind: Kind,
  server: ServerProcess,
  client: string,
  c: Case,
  env: NodeJS.ProcessEnv,
  save: string | undefined,
  outcome: Outcome,
) {
  const watch = watchRss(server.pid, { intervalMs: 50, capBytes: rssCap });
  let exit: Exit;
  try {
    exit = await runClient([...c.args, '--repo', client, '--runs', '1', ...(save ? ['--save', save] : [])], env, callTimeoutMs);
  } finally {
    outcome.peakRss = Math.max(outcome.peakRss, watch.stop());
  }
  const result = tagged<{ seconds: number[]; rows: number }>(exit.stdout, 'RESULT ');
  if (watch.capped) {
    outcome.status = 'rss cap';
    outcome.detail = `killed above ${rssCap / MiB} MiB`;
  } else if (exit.timedOut) {
    outcome.status = 'timeout';
    outcome.detail = `no answer within ${callTimeoutMs / 1000} s`;
  } else if (exit.code !== 0 || !result) {
    const unimplemented = /UNIMPLEMENTED:([^\n.]*)/.exec(exit.stderr);
    outcome.status = unimplemented ? 'n/a' : 'failed';
    outcome.detail = unimplemented
      ? `UNIMPLEMENTED:${unimplemented[1]}`
      : `${exit.stderr.trim().split('\n').slice(-3).join(' | ').slice(-600)}\n  server log: ${server.logs().trim().slice(-600)}`;
  } else {
    outcome.seconds.push(result.seconds[0]!);
    outcome.rows = result.rows;
    if (result.rows !== c.rows) outcome.detail = `returned ${result.rows} rows, expected ${c.rows}`;
  }
  console.log(
    `  ${c.label} ${kind}: ${outcome.status === 'ok' && result ? `${result.seconds[0]!.toFixed(2)} s` : outcome.status}, peak RSS ${(outcome.peakRss / MiB).toFixed(0)} MiB` +
      (outcome.detail ? `\n    ${outcome.detail.replaceAll('\n', '\n    ')}` : ''),
  );
}

async function compareAnswers(a: string, b: string, env: NodeJS.ProcessEnv): Promise<string> {
  const exit = await runClient(['compare', a, b], env, 600_000);
  const report = tagged<{ equal: boolean; rows: number[]; detail: string; narrowed?: string[] }>(exit.stdout, 'COMPARE ');
  if (!report) return `MISMATCH? compare failed: ${exit.stderr.trim().slice(-500)}`;
  if (report.equal) return report.narrowed ? `same (${report.narrowed.join('; ')})` : 'same';
  return `MISMATCH: larder ${report.rows[0]} rows, Feast ${report.rows[1]}: ${report.detail}`;
}

interface Row {
  readonly label: string;
  readonly feast: Outcome;
  readonly larder: Outcome;
  readonly answers: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function timeCell(o: Outcome): string {
  if (o.seconds.length === 0) return o.status === 'ok' ? '-' : o.status;
  const cell = `${median(o.seconds).toFixed(2)} (${Math.min(...o.seconds).toFixed(2)}–${Math.max(...o.seconds).toFixed(2)})`;
  return o.status === 'ok' ? cell : `${cell} then ${o.status}`;
}

function printTable(rows: Row[], title: string): void {
  const header = [
    'case',
    'Feast s: median (min–max)',
    'larder s: median (min–max)',
    'Feast/larder',
    'Feast peak RSS MiB',
    'larder peak RSS MiB',
    'answers',
  ];
  const cells = rows.map((r) => [
    r.label,
    timeCell(r.feast),
    timeCell(r.larder),
    r.feast.seconds.length > 0 && r.larder.seconds.length > 0
      ? `${(median(r.feast.seconds) / median(r.larder.seconds)).toFixed(1)}x`
      : 'n/a',
    (r.feast.peakRss / MiB).toFixed(0),
    r.larder.status === 'n/a' ? 'n/a' : (r.larder.peakRss / MiB).toFixed(0),
    r.answers,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (i === 0 || i === 6 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 || i === 6 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  if (!process.env.LARDER_FEAST_VENV) {
    const built = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'ensure-feast-venv.sh')], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('scripts/ensure-feast-venv.sh failed');
  }
  const scratch = mkdtempSync(path.join(tmpdir(), 'larder-trino-bench-'));
  let cluster: TrinoCluster | undefined;
  let repo: FeastTrinoRepo | undefined;
  const servers: Partial<Record<Kind, ServerProcess>> = {};
  const rows: Row[] = [];
  try {
    let started = performance.now();
    cluster = await startTrinoCluster({
      workers: 1,
      maxHeap: options['coordinator-heap'],
      workerHeap: options['worker-heap'],
      // Feast uploads a dataframe as one INSERT … VALUES per million rows; Trino's default cap on a
      // statement's text (1,000,000 characters) refuses it beyond ~15k rows.
      config: { 'query.max-length': '1000000000', 'query.max-memory': '8GB' },
      workerConfig: { 'query.max-memory-per-node': options['worker-query-memory'] },
    });
    console.log(
      `cluster: coordinator (pid ${cluster.pid}, heap ${options['coordinator-heap']}, schedules no tasks) and 1 worker (pid ${cluster.workerPids[0]}, heap ${options['worker-heap']}, query memory ${options['worker-query-memory']}) up in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    await generateData(cluster);
    started = performance.now();
    repo = await buildFeastTrinoRepo(cluster, DEFINITIONS, { project: 'larder_bench' });
    console.log(`repo: feast apply in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    servers.feast = await repo.serveFeast({ logLevel: 'warning' });
    servers.larder = await startLarder({ repoPath: await larderRepo(cluster, repo), logLevel: 'warning', readyTimeoutMs: 120_000 });
    const clients = {
      feast: repo.writeClient(servers.feast.port),
      larder: repo.writeClient(servers.larder.port, '127.0.0.1', 'larder-client'),
    };
    for (const c of cases()) {
      console.log(`${c.label}:`);
      const outcomes: Record<Kind, Outcome> = {
        feast: { seconds: [], status: 'ok', peakRss: 0 },
        larder: { seconds: [], status: 'ok', peakRss: 0 },
      };
      const saved = { feast: path.join(scratch, 'feast.arrow'), larder: path.join(scratch, 'larder.arrow') };
      for (let run = 0; run < runs; run++) {
        const order: Kind[] = run % 2 === 0 ? ['feast', 'larder'] : ['larder', 'feast'];
        for (const kind of order) {
          if (outcomes[kind].status !== 'ok') continue;
          await call(kind, servers[kind]!, clients[kind], c, repo.env, run === 0 ? saved[kind] : undefined, outcomes[kind]);
        }
      }
      const answers =
        outcomes.feast.seconds.length > 0 && outcomes.larder.seconds.length > 0
          ? await compareAnswers(saved.larder, saved.feast, repo.env)
          : '-';
      if (answers.startsWith('MISMATCH')) console.log(`!!!!! ${c.label}: ${answers}`);
      rows.push({ label: c.label, feast: outcomes.feast, larder: outcomes.larder, answers });
      for (const f of Object.values(saved)) rmSync(f, { force: true });
    }
    console.log(
      `cluster after the cases: worker RSS ${(treeRss(cluster.workerPids[0]!) / MiB).toFixed(0)} MiB (VmHWM ${(procStatus(cluster.workerPids[0]!, 'VmHWM') / MiB).toFixed(0)}), coordinator ${(treeRss(cluster.pid) / MiB).toFixed(0)} MiB (VmHWM ${(procStatus(cluster.pid, 'VmHWM') / MiB).toFixed(0)})`,
    );
  } finally {
    printTable(
      rows,
      `Feast 0.67 Python client → feast serve_offline (TrinoOfflineStore) vs larder (trino store); Trino 476, coordinator + 1 worker; ` +
        `${featureRows.toLocaleString('en')} feature rows, ${keys.toLocaleString('en')} drivers, 3 feature views; ${runs} run(s) each, alternating`,
    );
    await servers.larder?.stop(10_000);
    await servers.feast?.stop(10_000);
    repo?.cleanup();
    await cluster?.stop();
    rmSync(scratch, { recursive: true, force: true });
    if (options.json) writeFileSync(options.json, JSON.stringify({ featureRows, keys, runs, rows }, null, 2));
  }
}

await main();

/**
 * larder's copy of the server repo: the same registry and offline_store, plus larder's
 * `entity_staging` (entity tables as parquet files under the cluster's warehouse, read through an
 * external Hive table). Feast's config refuses keys it does not know, so Feast keeps the original.
 */
async function larderRepo(cluster: TrinoCluster, repo: FeastTrinoRepo): Promise<string> {
  const dir = path.join(repo.root, 'larder-server');
  cpSync(repo.serverRepo, dir, { recursive: true });
  const files = path.join(cluster.warehouse, 'larder-staging-files');
  mkdirSync(files, { recursive: true });
  await trinoQuery(cluster.url, 'CREATE SCHEMA IF NOT EXISTS hive.larder_staging');
  const yaml = readFileSync(path.join(dir, 'feature_store.yaml'), 'utf8');
  const staging = `  entity_staging: {catalog: hive, schema: larder_staging, location: ${files}, trino_location: "local:///larder-staging-files"}\n`;
  writeFileSync(
    path.join(dir, 'feature_store.yaml'),
    yaml.replace(/^offline_store:\n/m, (m) => m + staging),
  );
  return dir;
}
