/**
 * Defect 6 with the unchanged Feast client: two Python processes, each talking to its own larder
 * replica on the same feature repo, call `write_to_offline_store` 10 times at once; every write
 * Feast acknowledged is in the parquet file afterwards.
 */
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { buildFeastRepo, type FeastRepo } from '../support/feast-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';
import { driverIds } from '../support/write-repo.ts';

const run = promisify(execFile);

const WRITER = `
import sys
import numpy as np, pandas as pd
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
first = int(sys.argv[2])
for r in range(10):
    t = pd.Timestamp("2024-03-05 10:00", tz="UTC") + pd.Timedelta(minutes=r)
    store.write_to_offline_store("driver_hourly_stats", pd.DataFrame({
        "driver_id": np.array([first + r], dtype="int64"), "event_timestamp": [t], "created": [t],
        "conv_rate": np.array([0.5], dtype="float32"), "acc_rate": np.array([0.25], dtype="float32"),
        "avg_daily_trips": np.array([7], dtype="int64"),
    }))
    print(first + r, flush=True)
`;

describe('concurrent write_to_offline_store from two Feast clients on two replicas', function () {
  this.timeout(600_000);
  let repo: FeastRepo;
  const replicas: ServerProcess[] = [];

  before(async () => {
    repo = await buildFeastRepo({ type: 'file' });
    replicas.push(...(await Promise.all([startLarder({ repoPath: repo.serverRepo }), startLarder({ repoPath: repo.serverRepo })])));
  });

  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    repo?.cleanup();
  });

  it('every acknowledged row is in the file', async () => {
    const file = path.join(repo.serverRepo, 'data', 'driver_stats.parquet');
    const before = await driverIds(file);
    // One client directory per replica (writeClient writes <root>/client).
    const first = repo.writeClient(replicas[0]!.port);
    const second = `${first}-2`;
    cpSync(first, second, { recursive: true });
    const yaml = path.join(second, 'feature_store.yaml');
    writeFileSync(
      yaml,
      readFileSync(yaml, 'utf8').replace(`port: ${replicas[0]!.port}`, `port: ${replicas[1]!.port}`).replaceAll(first, second),
    );
    const { python } = feastPython();
    const outputs = await Promise.all(
      [
        [first, 5000],
        [second, 6000],
      ].map(([dir, start]) =>
        run(python, ['-c', WRITER, String(dir), String(start)], { cwd: String(dir), env: repo.env, timeout: 300_000 }),
      ),
    );
    const acknowledged = outputs.flatMap((o) => o.stdout.trim().split('\n').map(Number));
    expect(acknowledged).to.have.length(20);
    const after = await driverIds(file);
    expect(after.length).to.equal(before.length + 20);
    expect(after.filter((id) => id >= 5000 && id < 7000).sort((a, b) => a - b)).to.deep.equal([...acknowledged].sort((a, b) => a - b));
  });
});
