/**
 * The `feast` entry stands in for `feast serve_offline`, whose server computes on-demand feature
 * views in its own Python. Feast's integration harness starts the server as `feast -c <repo>
 * serve_offline …` with its venv on PATH and nothing in feature_store.yaml about Python: through
 * the `feast` entry, larder then computes ODFVs with the Python on PATH. Where PATH has no Python
 * (larder's image), they are refused with advice, and `larder serve_offline` keeps them opt-in
 * (`--odfv-python` / `larder.odfv_python`) whatever PATH holds.
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
import { REPO_ROOT, freePort, launch, startLarder, type ServerProcess } from '../support/larder-process.ts';

const run = promisify(execFile);

const DEFINITIONS = `
from datetime import timedelta
import pandas as pd
from feast import Entity, FeatureView, Field, FileSource
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float32, Float64, Int64

driver = Entity(name="driver", join_keys=["driver_id"])
driver_hourly_stats = FeatureView(
    name="driver_hourly_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[Field(name="conv_rate", dtype=Float32), Field(name="acc_rate", dtype=Float32), Field(name="avg_daily_trips", dtype=Int64)],
    source=FileSource(name="driver_hourly_stats_source", path="data/driver_stats.parquet", timestamp_field="event_timestamp", created_timestamp_column="created"),
)

@on_demand_feature_view(sources=[driver_hourly_stats], schema=[Field(name="tripled_rate", dtype=Float64)])
def tripled(inputs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"tripled_rate": inputs["conv_rate"] * 3})
`;

/** get_historical_features by the Feast client: prints `RESULT <rates> <tripled>` or the error. */
const CLIENT = `
import sys
import pandas as pd
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
entity_df = pd.DataFrame({"driver_id": [1001, 1002], "event_timestamp": pd.to_datetime(["2021-04-12 10:00:00"] * 2, utc=True)})
try:
    df = store.get_historical_features(entity_df=entity_df, features=["driver_hourly_stats:conv_rate", "tripled:tripled_rate"]).to_df()
    print("RESULT", list(df["conv_rate"]), list(df["tripled_rate"]))
except Exception as e:
    print("ERROR", type(e).__module__ + "." + type(e).__name__, str(e).replace("\\n", " | "))
`;

describe("the feast entry computes ODFVs with the Python on PATH, as Feast's server does", function () {
  this.timeout(300_000);
  let dir: string;
  let repo: string;
  let server: ServerProcess | undefined;

  /** The feast entry from the sources, as `feast -c <repo> serve_offline`, with PATH set to `searchPath`. */
  async function startFeastEntry(searchPath: string): Promise<ServerProcess> {
    const port = await freePort();
    const args = ['--conditions=larder-source', '--import', 'tsx', path.join(REPO_ROOT, 'cli', 'bin', 'feast.js')];
    args.push('-c', repo, 'serve_offline', '--host', '127.0.0.1', '--port', String(port));
    return launch(process.execPath, args, port, { repoPath: repo, cwd: REPO_ROOT, env: { PATH: searchPath } }, 'feast entry');
  }

  async function clientAnswer(port: number): Promise<string> {
    const client = mkdtempSync(path.join(dir, 'client-'));
    writeFileSync(
      path.join(client, 'feature_store.yaml'),
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
    const { stdout } = await run(feastPython().python, ['-c', CLIENT, client], { cwd: client, env: feastEnv(), timeout: 120_000 });
    return stdout.trim().split('\n').pop() ?? '';
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-feast-entry-odfv-'));
    repo = await writeExampleRepo(path.join(dir, 'repo'));
    // Nothing about Python in the yaml, as in Feast's harness.
    writeExampleYaml(repo, ['path: data/registry.db']);
    writeFileSync(path.join(repo, 'definitions.py'), DEFINITIONS);
    await run(feastPython().feast, ['-c', repo, 'apply'], { cwd: repo, env: feastEnv(), timeout: 180_000 });
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("computes them with the venv's python3 when the venv is on PATH", async () => {
    server = await startFeastEntry(`${path.dirname(feastPython().python)}${path.delimiter}/usr/bin${path.delimiter}/bin`);
    const line = await clientAnswer(server.port);
    expect(line, `the client's answer (larder's log: ${server.logs().slice(-2000)})`).to.match(/^RESULT /);
    const [rates, tripled] = line
      .slice('RESULT '.length)
      .split('] [')
      .map((list) => list.replace(/[[\]]/g, '').split(', ').map(Number));
    expect(rates).to.have.length(2);
    rates!.forEach((rate, i) => expect(tripled![i]).to.be.closeTo(rate * 3, 1e-6));
    expect(server.logs()).to.include("computed by the Python on PATH, as by Feast's server");
  });

  it('refuses them with advice when PATH has no Python (as in the image)', async () => {
    const empty = path.join(dir, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    server = await startFeastEntry(empty);
    const line = await clientAnswer(server.port);
    expect(line).to.match(/^ERROR /);
    expect(line).to.match(/odfv.python/i);
  });

  it('larder serve_offline keeps them opt-in, even with a Python on PATH', async () => {
    server = await startLarder({
      repoPath: repo,
      env: { PATH: `${path.dirname(feastPython().python)}${path.delimiter}${process.env.PATH}` },
    });
    const line = await clientAnswer(server.port);
    expect(line).to.match(/^ERROR /);
    expect(line).to.match(/odfv.python/i);
  });
});
