/**
 * On-demand feature views: get_historical_features with Feast quick-start's `transformed_conv_rate`
 * (pandas, request data) through the unchanged Feast client, against larder with its ODFV worker
 * and against Feast's own `feast serve_offline`, on the same registry written by `feast apply`;
 * and larder on the same refs without the ODFV, for the worker's own cost.
 *
 *   npx tsx --conditions=larder-source bench/odfv-historical.ts [--rows 10000,100000,1000000] [--runs 3] [--store file|duckdb] [--skip-feast]
 *
 * The repo is the example's (five drivers, 72 hourly rows each) plus the quick-start ODFV; entity
 * rows are distinct (driver, second) pairs in the data's range (at most 1.26M), with
 * val_to_add/val_to_add_2.
 * Each figure is the client's wall time for the call and `.to_arrow()` (best and median of
 * --runs, after one warm-up); both servers' answers are checked equal (same columns, values
 * within 1e-9 after sorting).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { applyExampleRepo, EXAMPLE_PROJECT } from '../test/support/applied-example-repo.ts';
import { feastEnv } from '../test/support/feast-repo.ts';
import { feastPython } from '../test/support/feast-python.ts';
import { startFeastServer, startLarder, type ServerProcess } from '../test/support/larder-process.ts';
import { ODFV_DEFINITIONS } from '../test/support/odfv-definitions.ts';

const run = promisify(execFile);
const { values: options } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000,100000,1000000' },
    runs: { type: 'string', default: '3' },
    store: { type: 'string', default: 'duckdb' },
    'skip-feast': { type: 'boolean', default: false },
  },
});
const sizes = options.rows.split(',').map(Number);
const runs = Number(options.runs);

const WITH_ODFV = [
  'driver_hourly_stats:conv_rate',
  'transformed_conv_rate:conv_rate_plus_val1',
  'transformed_conv_rate:conv_rate_plus_val2',
];

/** Times the call; prints RESULT {seconds: [...], rows, digest}. */
const CLIENT = `
import json, sys, time
import numpy as np, pandas as pd, pyarrow as pa, pyarrow.compute as pc
from feast import FeatureStore
client, rows, refs, runs, save = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), int(sys.argv[4]), sys.argv[5]
store = FeatureStore(repo_path=client)
rng = np.random.default_rng(7)
t0 = pd.Timestamp("2021-04-10 01:00:00", tz="UTC").value // 10**9
# Distinct (driver, second) pairs: Feast's file store collapses entity rows that share both.
pairs = rng.choice(5 * 70 * 3600, rows, replace=False)
entity_df = pd.DataFrame({
    "driver_id": (1001 + pairs % 5).astype(np.int64),
    "event_timestamp": pd.to_datetime(t0 + pairs // 5, unit="s", utc=True),
    "val_to_add": rng.integers(0, 10, rows, dtype=np.int64),
    "val_to_add_2": rng.integers(10, 100, rows, dtype=np.int64),
})
seconds = []
for i in range(runs + 1):
    table = None
    started = time.perf_counter()
    table = store.get_historical_features(entity_df=entity_df, features=refs).to_arrow()
    if i > 0:
        seconds.append(time.perf_counter() - started)
if save:
    names = sorted(n for n in table.column_names if not n.startswith("__"))
    cols = {n: (pc.cast(table[n], pa.float64()) if pa.types.is_integer(table[n].type) or pa.types.is_floating(table[n].type) else table[n]) for n in names}
    t = pa.table(cols).sort_by([(n, "ascending") for n in names])
    import pyarrow.feather as feather
    feather.write_feather(t, save)
print("RESULT " + json.dumps({"seconds": seconds, "rows": table.num_rows, "columns": table.column_names}))
`;

const COMPARE = `
import sys, pyarrow.feather as feather, numpy as np
a, b = feather.read_table(sys.argv[1]), feather.read_table(sys.argv[2])
assert a.column_names == b.column_names, (a.column_names, b.column_names)
for n in a.column_names:
    x, y = a[n].to_numpy(zero_copy_only=False), b[n].to_numpy(zero_copy_only=False)
    if x.dtype.kind == "f":
        assert np.allclose(x, y, atol=1e-9, equal_nan=True), n
    else:
        assert (x == y).all(), n
print("SAME")
`;

interface Timing {
  readonly best: number;
  readonly median: number;
  readonly rows: number;
}

const dir = mkdtempSync(path.join(tmpdir(), 'larder-bench-odfv-'));
const python = feastPython().python;
try {
  const repo = await applyExampleRepo(path.join(dir, 'repo'), ['path: data/registry.db'], ODFV_DEFINITIONS);
  const client = (port: number) => {
    const clientDir = mkdtempSync(path.join(dir, 'client-'));
    writeFileSync(
      path.join(clientDir, 'feature_store.yaml'),
      [
        `project: ${EXAMPLE_PROJECT}`,
        `registry: ${path.join(repo, 'data', 'registry.db')}`,
        'provider: local',
        'offline_store:',
        '  type: remote',
        '  host: 127.0.0.1',
        `  port: ${port}`,
        'entity_key_serialization_version: 3',
        '',
      ].join('\n'),
    );
    return clientDir;
  };
  const time = async (server: ServerProcess, rows: number, refs: string[], save = ''): Promise<Timing> => {
    const { stdout } = await run(python, ['-c', CLIENT, client(server.port), String(rows), refs.join(','), String(runs), save], {
      env: feastEnv(),
      encoding: 'utf8',
      timeout: 3_600_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const result = JSON.parse(
      stdout
        .split('\n')
        .find((l) => l.startsWith('RESULT '))!
        .slice(7),
    ) as { seconds: number[]; rows: number };
    const sorted = [...result.seconds].sort((a, b) => a - b);
    return { best: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, rows: result.rows };
  };

  // larder reads its store type from the yaml; Feast's server always serves the file (dask) store.
  const yamlStore = (type: string) =>
    writeFileSync(
      path.join(repo, 'feature_store.yaml'),
      [
        `project: ${EXAMPLE_PROJECT}`,
        'registry: data/registry.db',
        'provider: local',
        'offline_store:',
        `  type: ${type}`,
        'entity_key_serialization_version: 3',
        '',
      ].join('\n'),
    );
  const table: string[] = [];
  for (const rows of sizes) {
    yamlStore(options.store);
    const larder = await startLarder({ repoPath: repo, args: ['--odfv-python', python] });
    let withOdfv: Timing;
    let without: Timing;
    try {
      withOdfv = await time(larder, rows, WITH_ODFV, path.join(dir, `larder-${rows}.feather`));
      without = await time(larder, rows, [
        'driver_hourly_stats:conv_rate',
        'driver_hourly_stats:acc_rate',
        'driver_hourly_stats:avg_daily_trips',
      ]);
    } finally {
      await larder.stop();
    }
    let feastTiming: Timing | null = null;
    if (!options['skip-feast']) {
      yamlStore('file');
      const feast = await startFeastServer({ repoPath: repo });
      try {
        feastTiming = await time(feast, rows, WITH_ODFV, path.join(dir, `feast-${rows}.feather`));
      } catch (error) {
        console.error(`Feast's server failed at ${rows} rows: ${(error as Error).message.slice(0, 300)}`);
      } finally {
        await feast.stop();
      }
    }
    let same = 'n/a';
    if (feastTiming) {
      const { stdout } = await run(
        python,
        ['-c', COMPARE, path.join(dir, `larder-${rows}.feather`), path.join(dir, `feast-${rows}.feather`)],
        { encoding: 'utf8' },
      ).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: `DIFFER ${e.stderr?.slice(-300)}` }));
      same = stdout.trim();
    }
    const fmt = (t: Timing | null) => (t ? `${t.best.toFixed(3)} / ${t.median.toFixed(3)}` : options['skip-feast'] ? 'skipped' : 'failed');
    table.push(
      `| ${rows.toLocaleString('en')} | ${fmt(withOdfv)} | ${fmt(without)} | ${fmt(feastTiming)} | ${feastTiming ? (feastTiming.median / withOdfv.median).toFixed(2) + '×' : '-'} | ${same} |`,
    );
    console.error(table.at(-1));
  }
  console.log(`larder store: ${options.store}; Feast: file store; seconds best / median of ${runs} runs after a warm-up`);
  console.log(
    '| entity rows | larder + ODFV s | larder, same source refs without the ODFV s | Feast + ODFV s | Feast / larder | answers |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const line of table) console.log(line);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
