/**
 * The repo `feast init` creates (what a new Feast user tries first), served by larder with its
 * ODFV worker: its complex features — a struct-valued Map column, a Json string and a Struct — and
 * the quick-start's historical retrievals (test_workflow.py's refs with the on-demand view
 * transformed_conv_rate, and the feature services driver_activity_v1..v3) come back value for
 * value, with the same columns and types, as Python Feast's own local store returns them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { feastPython } from '../support/feast-python.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';

const run = promisify(execFile);

const CHECK = `
import json, sys
import pandas as pd
import pyarrow.parquet as pq
from feast import FeatureStore
from feast.repo_config import RepoConfig

repo, port = sys.argv[1], int(sys.argv[2])
local = FeatureStore(repo_path=repo)
remote = FeatureStore(config=RepoConfig(**{**local.config.model_dump(by_alias=True), "offline_store": {"type": "remote", "host": "127.0.0.1", "port": port}, "repo_path": repo}))
data = pq.read_table(f"{repo}/data/driver_stats.parquet").to_pandas()
latest = data.sort_values("event_timestamp").groupby("driver_id").tail(1).head(3)
entity_df = pd.DataFrame({"driver_id": latest["driver_id"].tolist(), "event_timestamp": latest["event_timestamp"].tolist()})
refs = [f"driver_hourly_stats_fresh:{f}" for f in ["conv_rate", "driver_metadata", "driver_config", "driver_profile"]]
cols = ["driver_id", "conv_rate", "driver_metadata", "driver_config", "driver_profile"]
def values(store):
    table = store.get_historical_features(entity_df=entity_df, features=refs).to_arrow()
    return sorted(table.select(cols).to_pylist(), key=lambda r: r["driver_id"])
got, want = values(remote), values(local)
print("RESULT" + json.dumps({"got": got, "want": want}, default=str))
`;

/** test_workflow.py's entity rows and refs, and each feature service, remote and local (columns sorted: sources come in a Python set's order). */
const QUICKSTART = `
import json, sys
from datetime import datetime
import pandas as pd
from feast import FeatureStore
from feast.repo_config import RepoConfig

repo, port = sys.argv[1], int(sys.argv[2])
local = FeatureStore(repo_path=repo)
remote = FeatureStore(config=RepoConfig(**{**local.config.model_dump(by_alias=True), "offline_store": {"type": "remote", "host": "127.0.0.1", "port": port}, "repo_path": repo}))
entity_df = pd.DataFrame.from_dict({
    "driver_id": [1001, 1002, 1003],
    "event_timestamp": [datetime(2021, 4, 12, 10, 59, 42), datetime(2021, 4, 12, 8, 12, 10), datetime(2021, 4, 12, 16, 40, 26)],
    "label_driver_reported_satisfaction": [1, 5, 3],
    "val_to_add": [1, 2, 3],
    "val_to_add_2": [10, 20, 30],
})
cases = {
    "test_workflow": ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips",
                      "transformed_conv_rate:conv_rate_plus_val1", "transformed_conv_rate:conv_rate_plus_val2"],
    "driver_activity_v1": "driver_activity_v1",
    "driver_activity_v2": "driver_activity_v2",
    "driver_activity_v3": "driver_activity_v3",
}
def values(store, features):
    features = store.get_feature_service(features) if isinstance(features, str) else features
    table = store.get_historical_features(entity_df=entity_df, features=features).to_arrow()
    columns = sorted(table.column_names)
    return {"schema": sorted(f"{f.name}: {f.type}" for f in table.schema),
            "rows": sorted((json.dumps({c: row[c] for c in columns}, default=str, sort_keys=True) for row in table.to_pylist()))}
out = {name: {"got": values(remote, f), "want": values(local, f)} for name, f in cases.items()}
print("RESULT" + json.dumps(out))
`;

describe('the feast init template repo (Map, Json and Struct features)', function () {
  this.timeout(240_000);
  let workdir: string;
  let repo: string;
  let server: ServerProcess;
  const env = { ...process.env, FEAST_USAGE: 'False' };

  before(async () => {
    workdir = mkdtempSync(path.join(tmpdir(), 'larder-init-'));
    await run(feastPython().feast, ['init', 'demo'], { cwd: workdir, env });
    repo = path.join(workdir, 'demo', 'feature_repo');
    await run(feastPython().feast, ['-c', repo, 'apply'], { cwd: workdir, env });
    server = await startLarder({ repoPath: repo, args: ['--odfv-python', feastPython().python] });
  });

  after(async () => {
    if (server) expect(await server.stop()).to.equal(0);
    rmSync(workdir, { recursive: true, force: true });
  });

  it('returns the complex features exactly as local Feast does', async () => {
    // cwd = the repo: a FeatureStore built from a config resolves the registry path against it.
    const { stdout } = await run(feastPython().python, ['-c', CHECK, repo, String(server.port)], { cwd: repo, env });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT'));
    expect(line, stdout).to.be.a('string');
    const { got, want } = JSON.parse(line!.slice('RESULT'.length)) as { got: Array<Record<string, unknown>>; want: unknown[] };
    expect(got).to.have.length(3);
    expect(got[0]!.driver_profile).to.be.an('object');
    expect(got[0]!.driver_config).to.be.a('string');
    expect(got).to.deep.equal(want);
  });

  it("answers the quick-start's historical retrievals with its ODFV, and its feature services, as local Feast does", async () => {
    const { stdout } = await run(feastPython().python, ['-c', QUICKSTART, repo, String(server.port)], { cwd: repo, env });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT'));
    expect(line, stdout).to.be.a('string');
    type Side = { schema: string[]; rows: string[] };
    const cases = JSON.parse(line!.slice('RESULT'.length)) as Record<string, { got: Side; want: Side }>;
    expect(Object.keys(cases)).to.deep.equal(['test_workflow', 'driver_activity_v1', 'driver_activity_v2', 'driver_activity_v3']);
    for (const [name, { got, want }] of Object.entries(cases)) {
      expect(got.rows, name).to.have.length(3);
      expect(got.schema, name).to.deep.equal(want.schema);
      expect(got.rows, name).to.deep.equal(want.rows);
    }
    expect(cases.test_workflow!.got.schema).to.include('conv_rate_plus_val1: double');
    expect(cases.driver_activity_v3!.got.schema.join()).to.include('conv_rate_plus_val2');
  });
});
