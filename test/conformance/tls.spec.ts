/**
 * TLS as Feast users set it up: `serve_offline --key --cert` on the server, and a client
 * feature_store.yaml with `scheme: https` and `cert:` pointing at the self-signed certificate.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { driverStatsTable } from '../../core/src/example/driver-stats.ts';
import { EXAMPLE_PROJECT, writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';
import { selfSignedCert } from '../support/self-signed-cert.ts';

const run = promisify(execFile);

describe('TLS: serve_offline --key/--cert with a Feast client using scheme https', function () {
  this.timeout(180_000);
  let workdir: string;
  let keyPath: string;
  let certPath: string;
  let server: ServerProcess;

  before(async () => {
    workdir = mkdtempSync(path.join(tmpdir(), 'larder-tls-'));
    const repo = await writeExampleRepo(path.join(workdir, 'repo'));
    ({ keyPath, certPath } = selfSignedCert(workdir));
    server = await startLarder({
      repoPath: repo,
      args: ['--key', keyPath, '--cert', certPath],
    });
    mkdirSync(path.join(workdir, 'client'));
    writeFileSync(
      path.join(workdir, 'client', 'feature_store.yaml'),
      [
        `project: ${EXAMPLE_PROJECT}`,
        `registry: ${path.join(repo, 'data', 'registry.db')}`,
        'provider: local',
        'offline_store:',
        '  type: remote',
        '  host: 127.0.0.1',
        `  port: ${server.port}`,
        '  scheme: https',
        `  cert: ${certPath}`,
        'entity_key_serialization_version: 3',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (server) expect(await server.stop()).to.equal(0);
    rmSync(workdir, { recursive: true, force: true });
  });

  it('serves get_historical_features over grpc+tls', async () => {
    const script = [
      'from datetime import datetime, timezone',
      'import pandas as pd',
      'from feast import FeatureStore',
      'store = FeatureStore(repo_path="client")',
      'df = pd.DataFrame({"driver_id": [1004], "event_timestamp": [datetime(2021, 4, 11, 12, tzinfo=timezone.utc)]})',
      'out = store.get_historical_features(entity_df=df, features=["driver_hourly_stats:avg_daily_trips"]).to_df()',
      'print("RESULT", int(out["avg_daily_trips"][0]))',
    ].join('\n');
    const { stdout } = await run(feastPython().python, ['-c', script], { cwd: workdir, env: { ...process.env, FEAST_USAGE: 'False' } });
    // The example has one row per driver and hour: at exactly 12:00 that row is chosen.
    const at = Date.UTC(2021, 3, 11, 12);
    const expected = driverStatsTable()
      .toArray()
      .find((r) => Number(r.driver_id) === 1004 && Number(r.event_timestamp) === at)!;
    expect(stdout).to.include(`RESULT ${Number(expected.avg_daily_trips)}`);
    expect(server.logs()).to.match(/grpc\+tls:\/\/127\.0\.0\.1/);
  });
});
