/**
 * An on-demand feature view whose transformation lives in a module outside the feature repo,
 * found through a relative PYTHONPATH entry: Feast's own integration harness runs this way
 * (`PYTHONPATH=.` from sdk/python, its views' UDFs in the `tests` package, `feast -c <repo>
 * serve_offline` started from sdk/python). Feast pickles such a UDF by reference (module and
 * name), so the ODFV worker must import that module from where larder was started, as Feast's
 * server process does; it used to run in the repo directory and fail with ModuleNotFoundError.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { EXAMPLE_PROJECT, writeExampleYaml } from '../support/applied-example-repo.ts';
import { writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';

const run = promisify(execFile);

/** The transformation, in its own importable module (so Feast pickles it by reference). */
const SHARED_UDFS = `
def doubled_rate(inputs: dict) -> dict:
    return {"doubled_rate": [None if x is None else x * 2 for x in inputs["conv_rate"]]}
`;

const DEFINITIONS = `
from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource, OnDemandFeatureView
from feast.transformation.python_transformation import PythonTransformation
from feast.types import Float32, Float64, Int64
from shared_udfs import doubled_rate

driver = Entity(name="driver", join_keys=["driver_id"])
driver_hourly_stats = FeatureView(
    name="driver_hourly_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[Field(name="conv_rate", dtype=Float32), Field(name="acc_rate", dtype=Float32), Field(name="avg_daily_trips", dtype=Int64)],
    source=FileSource(name="driver_hourly_stats_source", path="data/driver_stats.parquet", timestamp_field="event_timestamp", created_timestamp_column="created"),
)
# Built as Feast's harness builds its views: the constructor, not the decorator (which re-homes the
# function in __main__ so that it is pickled by value), so the UDF is pickled by reference.
doubled = OnDemandFeatureView(
    name="doubled",
    sources=[driver_hourly_stats],
    schema=[Field(name="doubled_rate", dtype=Float64)],
    feature_transformation=PythonTransformation(udf=doubled_rate, udf_string="doubled_rate"),
    mode="python",
)
`;

/** get_historical_features by the Feast client: prints `RESULT <rates> <doubled>` or the error. */
const CLIENT = `
import sys
import pandas as pd
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
entity_df = pd.DataFrame({"driver_id": [1001, 1002], "event_timestamp": pd.to_datetime(["2021-04-12 10:00:00"] * 2, utc=True)})
try:
    df = store.get_historical_features(entity_df=entity_df, features=["driver_hourly_stats:conv_rate", "doubled:doubled_rate"]).to_df()
    print("RESULT", list(df["conv_rate"]), list(df["doubled_rate"]))
except Exception as e:
    print("ERROR", type(e).__module__ + "." + type(e).__name__, str(e).replace("\\n", " | "))
`;

describe('an ODFV whose transformation a relative PYTHONPATH entry finds (as in Feast harness)', function () {
  this.timeout(240_000);
  let dir: string;
  let server: ServerProcess | undefined;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-odfv-paths-'));
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is computed by the worker, importing the module from where larder was started', async () => {
    // work/shared_udfs.py is importable only through PYTHONPATH=. from work/, never from the repo.
    const work = path.join(dir, 'work');
    mkdirSync(work);
    writeFileSync(path.join(work, 'shared_udfs.py'), SHARED_UDFS);
    const repo = await writeExampleRepo(path.join(dir, 'repo'));
    writeExampleYaml(repo, ['path: data/registry.db'], ['larder:', `  odfv_python: ${feastPython().python}`]);
    writeFileSync(path.join(repo, 'definitions.py'), DEFINITIONS);
    await run(feastPython().feast, ['-c', repo, 'apply'], { cwd: repo, env: { ...feastEnv(), PYTHONPATH: work }, timeout: 180_000 });

    server = await startLarder({ repoPath: repo, cwd: work, env: { PYTHONPATH: '.' } });
    const client = path.join(dir, 'client');
    mkdirSync(client);
    writeFileSync(
      path.join(client, 'feature_store.yaml'),
      [
        `project: ${EXAMPLE_PROJECT}`,
        `registry: ${path.join(repo, 'data', 'registry.db')}`,
        'provider: local',
        'offline_store:',
        '  type: remote',
        '  host: 127.0.0.1',
        `  port: ${server.port}`,
        'entity_key_serialization_version: 3',
        '',
      ].join('\n'),
    );
    // The client reads the ODFV from the registry too (dill needs shared_udfs there as well).
    const { stdout } = await run(feastPython().python, ['-c', CLIENT, client], {
      cwd: client,
      env: { ...feastEnv(), PYTHONPATH: work },
      timeout: 120_000,
    });
    const line = stdout.trim().split('\n').pop() ?? '';
    expect(line, `the client's answer (larder's log: ${server.logs().slice(-2000)})`).to.match(/^RESULT /);
    const [rates, doubled] = line
      .slice('RESULT '.length)
      .split('] [')
      .map((list) => list.replace(/[[\]]/g, '').split(', ').map(Number));
    expect(rates).to.have.length(2);
    rates!.forEach((rate, i) => expect(doubled![i]).to.be.closeTo(rate * 2, 1e-6));
  });
});
