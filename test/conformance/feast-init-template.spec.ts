/**
 * The repo `feast init` creates (what a new Feast user tries first), served by larder: its
 * complex features — a struct-valued Map column, a Json string and a Struct — come back through
 * get_historical_features value for value as Python Feast's own local store returns them.
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
    server = await startLarder({ repoPath: repo });
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
});
