/**
 * larder against Python Feast's own `feast serve_offline`: the same registry, the same data, the
 * same unchanged Feast 0.67 Python client (bench/feast_client_bench.py) calling both.
 *
 *   npx tsx --conditions=larder-source bench/feast-vs-larder.ts [--stores file,duckdb,postgres] [--entities 10000,100000,1000000]
 *     [--features 10000000] [--pull-rows 10000000] [--runs 1] [--feast-timeout-s 1800]
 *     [--rss-cap-mib 12288] [--json FILE] [--feast-cache DIR]
 *
 * Data: the `--features`-row driver_stats parquet of bench/support/driver-stats.ts (10,000
 * drivers, one row per driver and hour; cached, and shared with bench/historical-stores.ts). The
 * repo (bench/support/feast-bench-repo.ts, applied with the real `feast apply`) has ONE source over
 * it and THREE feature views over that source (conv_rate ttl 1 day, acc_rate ttl 3 h, trips ttl 7
 * days), so a historical request joins 3 × `--features` source rows. For `postgres`, a throwaway
 * cluster holds the same rows in table driver_stats (binary COPY; load time printed, not counted);
 * both servers read that table. PostgreSQL's own memory is not counted.
 *
 * Cases, per store: get_historical_features at each `--entities` size (deterministic entity rows
 * inside the data's range, the same for both servers), and pull_all_from_table_or_query of
 * `--pull-rows` rows (the first pull-rows/10,000 hours of the same source). Each case runs on a
 * FRESH server process (larder first, then Feast), so its peak RSS covers that case alone; with
 * `--runs N` the client repeats the call N times on that server and the fastest run is reported.
 * Time is measured in the Python client around the call and `.to_arrow()`. Peak RSS is the server's
 * process tree, sampled every 50 ms. Both servers' results are normalized and compared as whole
 * sorted tables; a difference is printed loudly and marked in the table.
 *
 * A case that takes longer than `--feast-timeout-s` (the same cap applies to larder), fails, or
 * grows the server past `--rss-cap-mib` (the server is killed: this machine is shared) is reported
 * as such and the run goes on. Run it under `flock /tmp/larder-bench.lock` so benches never overlap.
 *
 * `--feast-cache DIR` keeps Feast's outcome and answer of each case (keyed by store, case and data
 * size) and reuses them on later runs: Feast's side does not change when larder does, and some
 * of its cases take half an hour. Answers are still compared against the cached table; a cached
 * outcome without one (Feast gave no answer) compares nothing, as before.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startFeastServer, startLarder, REPO_ROOT, type ServerProcess } from '../test/support/larder-process.ts';
import { startPostgres, type PostgresServer } from '../test/support/postgres-server.ts';
import { DRIVERS, T0_SECONDS, featureFile, hoursFor, loadPostgresTable, positiveInt } from './support/driver-stats.ts';
import { FEATURE_REFS, PULL_COLUMNS, SOURCE, buildBenchRepo, type BenchRepo } from './support/feast-bench-repo.ts';
import { watchRss } from './support/process-rss.ts';

const { values: options } = parseArgs({
  options: {
    stores: { type: 'string', default: 'file,duckdb,postgres' },
    entities: { type: 'string', default: '10000,100000,1000000' },
    features: { type: 'string', default: '10000000' },
    'pull-rows': { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '1' },
    'feast-timeout-s': { type: 'string', default: '1800' },
    'rss-cap-mib': { type: 'string', default: '12288' },
    json: { type: 'string' },
    'feast-cache': { type: 'string' },
  },
});
const stores = options.stores
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const entitySizes = options.entities.split(',').map(positiveInt);
const featureRows = positiveInt(options.features);
const pullRows = positiveInt(options['pull-rows']);
const runs = positiveInt(options.runs);
const timeoutMs = positiveInt(options['feast-timeout-s']) * 1000;
const MiB = 2 ** 20;
const rssCap = positiveInt(options['rss-cap-mib']) * MiB;
if (pullRows % DRIVERS !== 0 || pullRows > featureRows) {
  throw new Error(`--pull-rows must be a multiple of ${DRIVERS} and at most --features (the pull reads whole hours of the source)`);
}

const CLIENT_SCRIPT = path.join(REPO_ROOT, 'bench', 'feast_client_bench.py');
const VENV = process.env.LARDER_BENCH_VENV || path.join(homedir(), '.cache', 'larder', 'venv-feast-bench');
const SERVERS = ['larder', 'feast'] as const;
type ServerKind = (typeof SERVERS)[number];

interface Case {
  readonly kind: 'historical' | 'pull';
  readonly rows: number;
}

/** One server's outcome on one case. `seconds` is the fastest run; absent when it did not finish. */
interface Outcome {
  readonly status: 'ok' | 'timeout' | 'rss cap' | 'failed';
  readonly seconds?: number;
  readonly peakRss: number;
  readonly detail?: string;
}

interface Row {
  readonly store: string;
  readonly label: string;
  readonly rows: number;
  readonly larder: Outcome;
  readonly feast: Outcome;
  /** 'same', 'MISMATCH: …', or why there was nothing to compare. */
  readonly answers: string;
}

/** Builds the bench venv (a no-op when up to date) and makes feastPython() use it. */
function ensureVenv(): void {
  const result = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'ensure-bench-venv.sh')], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('scripts/ensure-bench-venv.sh failed');
  process.env.LARDER_FEAST_VENV = VENV;
}

const python = path.join(VENV, 'bin', 'python');

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs the client script; SIGKILL after `limitMs`. */
function runClient(args: string[], env: NodeJS.ProcessEnv, limitMs: number): Promise<Exit> {
  return new Promise((done) => {
    const child = spawn(python, [CLIENT_SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The JSON after `prefix` on the last line that has it. */
function tagged<T>(stdout: string, prefix: string): T | undefined {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(prefix));
  return line ? (JSON.parse(line.slice(prefix.length)) as T) : undefined;
}

const caseArgs = (c: Case): string[] => [
  c.kind,
  '--rows',
  String(c.rows),
  '--drivers',
  String(DRIVERS),
  '--t0',
  String(T0_SECONDS),
  '--hours',
  String(hoursFor(featureRows)),
  '--runs',
  String(runs),
  ...(c.kind === 'historical' ? ['--features', FEATURE_REFS.join(',')] : ['--source', SOURCE, '--columns', PULL_COLUMNS.join(',')]),
];

function startServer(kind: ServerKind, repo: BenchRepo): Promise<ServerProcess> {
  const common = { repoPath: repo.serverRepo, logLevel: 'warning', readyTimeoutMs: 120_000 };
  return kind === 'larder' ? startLarder(common) : startFeastServer({ ...common, env: repo.env });
}

/** One case on a fresh server; the normalized result goes to `save`. */
async function runOnServer(kind: ServerKind, repo: BenchRepo, c: Case, save: string): Promise<Outcome> {
  let server: ServerProcess;
  try {
    server = await startServer(kind, repo);
  } catch (error) {
    return { status: 'failed', peakRss: 0, detail: `server did not start: ${String(error).slice(0, 2000)}` };
  }
  const client = repo.writeClient(server.port);
  const watch = watchRss(server.pid, { intervalMs: 50, capBytes: rssCap });
  let exit: Exit;
  let peakRss = 0;
  try {
    exit = await runClient([...caseArgs(c), '--repo', client, '--save', save], repo.env, timeoutMs);
  } finally {
    peakRss = watch.stop();
    await server.stop(10_000);
  }
  const result = tagged<{ seconds: number[]; rows: number; schema: Record<string, string>; extra_columns: string[] }>(
    exit.stdout,
    'RESULT ',
  );
  const serverLog = server.logs().trim().slice(-3000);
  if (watch.capped)
    return {
      status: 'rss cap',
      peakRss,
      detail: `killed above ${(rssCap / MiB).toFixed(0)} MiB, ${watch.cappedAfterSeconds!.toFixed(0)} s into the case`,
    };
  if (exit.timedOut) return { status: 'timeout', peakRss, detail: `no answer within ${timeoutMs / 1000} s` };
  if (exit.code !== 0 || !result) {
    return { status: 'failed', peakRss, detail: `client exit ${exit.code}: ${exit.stderr.trim().slice(-3000)}\nserver log: ${serverLog}` };
  }
  const seconds = Math.min(...result.seconds);
  const notes = [
    `schema ${Object.entries(result.schema)
      .map(([k, v]) => `${k}:${v}`)
      .join(', ')}`,
    ...(result.extra_columns.length > 0 ? [`extra columns ${result.extra_columns.join(', ')} (not compared)`] : []),
    ...(result.rows !== c.rows ? [`returned ${result.rows} rows, expected ${c.rows}`] : []),
  ];
  return { status: 'ok', seconds, peakRss, detail: notes.join('; ') };
}

/** Feast's outcome on a case from --feast-cache, its answer copied to `save`; undefined when not cached. */
function cachedFeast(store: string, c: Case, save: string): Outcome | undefined {
  if (!options['feast-cache']) return undefined;
  const base = path.join(options['feast-cache'], `${store}-${c.kind}-${c.rows}-of-${featureRows}`);
  if (!existsSync(`${base}.json`)) return undefined;
  if (existsSync(`${base}.arrow`)) copyFileSync(`${base}.arrow`, save);
  return JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Outcome;
}

function cacheFeast(store: string, c: Case, outcome: Outcome, saved: string): void {
  if (!options['feast-cache']) return;
  mkdirSync(options['feast-cache'], { recursive: true });
  const base = path.join(options['feast-cache'], `${store}-${c.kind}-${c.rows}-of-${featureRows}`);
  if (existsSync(saved)) copyFileSync(saved, `${base}.arrow`);
  writeFileSync(`${base}.json`, JSON.stringify(outcome));
}

/** Whether the two saved results are the same table (python compare; see the client script). */
async function compareResults(a: string, b: string, env: NodeJS.ProcessEnv): Promise<string> {
  const exit = await runClient(['compare', a, b], env, 600_000);
  const report = tagged<{ equal: boolean; rows: number[]; detail: string }>(exit.stdout, 'COMPARE ');
  if (!report) return `MISMATCH? compare failed: ${exit.stderr.trim().slice(-1000)}`;
  return report.equal ? 'same' : `MISMATCH: larder ${report.rows[0]} rows, Feast ${report.rows[1]}: ${report.detail}`;
}

const count = (n: number) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));

async function benchStore(store: string, parquet: string, report: (row: Row) => void): Promise<void> {
  let postgres: PostgresServer | undefined;
  let repo: BenchRepo | undefined;
  const scratch = mkdtempSync(path.join(tmpdir(), 'larder-feast-bench-results-'));
  try {
    if (store === 'postgres') {
      postgres = await startPostgres();
      const seconds = await loadPostgresTable(postgres, featureRows, SOURCE);
      console.log(`postgres: ${featureRows.toLocaleString('en')} rows loaded in ${seconds.toFixed(1)} s`);
    }
    repo = await buildBenchRepo(store, parquet, postgres);
    const cases: Case[] = [...entitySizes.map((rows) => ({ kind: 'historical' as const, rows })), { kind: 'pull', rows: pullRows }];
    for (const c of cases) {
      const label = `${c.kind === 'historical' ? 'historical' : 'pull_all'} ${count(c.rows)}`;
      const saved = { larder: path.join(scratch, 'larder.arrow'), feast: path.join(scratch, 'feast.arrow') };
      const outcomes = {} as Record<ServerKind, Outcome>;
      for (const kind of SERVERS) {
        rmSync(saved[kind], { force: true });
        const cached = kind === 'feast' ? cachedFeast(store, c, saved.feast) : undefined;
        outcomes[kind] = cached ?? (await runOnServer(kind, repo, c, saved[kind]));
        if (kind === 'feast' && !cached) cacheFeast(store, c, outcomes.feast, saved.feast);
        const o = outcomes[kind];
        console.log(
          `${store} ${label} ${kind}${cached ? ' (cached)' : ''}: ${o.status}${o.seconds !== undefined ? ` ${o.seconds.toFixed(2)} s` : ''}, peak RSS ${(o.peakRss / MiB).toFixed(0)} MiB${o.detail ? `\n  ${o.detail.replaceAll('\n', '\n  ')}` : ''}`,
        );
      }
      let answers = 'not compared (a server gave no answer)';
      if (outcomes.larder.status === 'ok' && outcomes.feast.status === 'ok')
        answers = await compareResults(saved.larder, saved.feast, repo.env);
      if (answers.startsWith('MISMATCH')) console.log(`\n!!!!! ${store} ${label}: ${answers}\n`);
      report({ store, label, rows: c.rows, larder: outcomes.larder, feast: outcomes.feast, answers });
      for (const file of Object.values(saved)) rmSync(file, { force: true });
    }
  } finally {
    repo?.cleanup();
    await postgres?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const secondsCell = (o: Outcome): string =>
  o.status === 'ok'
    ? o.seconds!.toFixed(2)
    : o.status === 'timeout'
      ? `>${timeoutMs / 1000}`
      : o.status === 'rss cap'
        ? 'RSS cap'
        : 'failed';
const rateCell = (o: Outcome, rows: number): string => (o.status === 'ok' ? Math.round(rows / o.seconds!).toLocaleString('en') : '-');
const rssCell = (o: Outcome): string => (o.peakRss > 0 ? `${o.status === 'rss cap' ? '>' : ''}${(o.peakRss / MiB).toFixed(0)}` : '-');
function ratioCell(row: Row): string {
  const { larder, feast } = row;
  if (larder.status !== 'ok') return '-';
  if (feast.status === 'ok') return `${(feast.seconds! / larder.seconds!).toFixed(1)}x`;
  return feast.status === 'timeout' ? `>${(timeoutMs / 1000 / larder.seconds!).toFixed(0)}x` : '-';
}

function printTable(rows: Row[]): void {
  const header = [
    'store',
    'case',
    'larder s',
    'Feast s',
    'larder rows/s',
    'Feast rows/s',
    'larder peak RSS MiB',
    'Feast peak RSS MiB',
    'Feast/larder speed ratio',
    'answers',
  ];
  const cells = rows.map((r) => [
    r.store,
    r.label,
    secondsCell(r.larder),
    secondsCell(r.feast),
    rateCell(r.larder, r.rows),
    rateCell(r.feast, r.rows),
    rssCell(r.larder),
    rssCell(r.feast),
    ratioCell(r),
    r.answers === 'same' ? 'same' : r.answers.startsWith('MISMATCH') ? 'MISMATCH' : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (i < 2 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(' | ')} |`;
  console.log(
    `\nFeast 0.67 Python client → larder vs feast serve_offline; ${featureRows.toLocaleString('en')} source rows, 3 feature views; best of ${runs} run(s)`,
  );
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

ensureVenv();
const parquet = featureFile(featureRows);
const rows: Row[] = [];
for (const store of stores) {
  const started = performance.now();
  try {
    await benchStore(store, parquet, (row) => rows.push(row));
  } catch (error) {
    // A store whose setup fails (e.g. feast apply) must not hide the others' numbers.
    console.error(`${store}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
  console.log(`${store}: finished in ${((performance.now() - started) / 60_000).toFixed(1)} min`);
}
printTable(rows);
const mismatches = rows.filter((r) => r.answers.startsWith('MISMATCH'));
for (const r of mismatches) console.log(`MISMATCH ${r.store} ${r.label}: ${r.answers}`);
if (mismatches.length > 0) process.exitCode = 1;
if (options.json) writeFileSync(options.json, JSON.stringify({ featureRows, pullRows, runs, rows }, null, 2));
