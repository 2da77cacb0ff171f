/**
 * Feast's integration harness for the remote offline store starts the server first and runs
 * `feast apply` afterwards. larder must do what `feast serve_offline` does: start on a registry
 * that does not exist yet (a missing registry file; a SQL registry without its tables, in SQLite
 * and in PostgreSQL), answer as an empty registry, and serve the objects once the real
 * `feast apply` has written them, to the unchanged Feast client.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { EXAMPLE_PROJECT, feastApply, writeUnappliedExampleRepo } from '../support/applied-example-repo.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { connect } from '../support/flight-client.ts';
import { placeholderTable, pullAllCommand, rejection } from '../support/guarded-repo.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const run = promisify(execFile);

/** The unchanged Feast client: historical features of two drivers; prints `rows N` or the error. */
const CLIENT = `
import sys
import pandas as pd
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
entity_df = pd.DataFrame({"driver_id": [1001, 1002], "event_timestamp": pd.to_datetime(["2021-04-12 10:59:42", "2021-04-12 08:12:10"], utc=True)})
try:
    df = store.get_historical_features(entity_df=entity_df, features=["driver_hourly_stats:conv_rate"]).to_df()
    print("rows", len(df), "conv_rate", int(df["conv_rate"].notna().sum()))
except Exception as e:
    print(type(e).__module__ + "." + type(e).__name__, str(e).replace("\\n", " | "))
`;

/** A Feast client repo in `repo` using the same registry, with the offline store remote at `port`. */
function writeClientRepo(repo: string, registryLines: readonly string[], port: number): string {
  const client = mkdtempSync(path.join(repo, 'client-'));
  writeFileSync(
    path.join(client, 'feature_store.yaml'),
    [
      `project: ${EXAMPLE_PROJECT}`,
      'registry:',
      ...registryLines.map((line) => `  ${line}`),
      'provider: local',
      'offline_store:',
      '  type: remote',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      'entity_key_serialization_version: 3',
      '',
    ].join('\n'),
  );
  return client;
}

async function clientOutput(client: string): Promise<string | undefined> {
  const { stdout } = await run(feastPython().python, ['-c', CLIENT, client], { cwd: client, env: feastEnv(), timeout: 120_000 });
  return stdout.trim().split('\n').pop();
}

const pullAll = pullAllCommand({
  data_source_name: 'driver_hourly_stats_source',
  join_key_columns: ['driver_id'],
  feature_name_columns: ['conv_rate'],
  timestamp_field: 'event_timestamp',
  start_date: '2021-01-01T00:00:00+00:00',
});

for (const kind of ['file', 'sql in SQLite', 'sql in PostgreSQL'] as const) {
  describe(`registry (${kind}) that does not exist yet when larder starts`, function () {
    this.timeout(300_000);
    let dir: string;
    let pg: PostgresServer | undefined;
    let server: ServerProcess | undefined;

    before(async function () {
      this.timeout(120_000);
      dir = mkdtempSync(path.join(tmpdir(), 'larder-before-apply-'));
      if (kind === 'sql in PostgreSQL') pg = await startPostgres();
    });

    after(async () => {
      await server?.stop();
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('starts, answers as an empty registry, and serves the Feast client once feast apply has run', async () => {
      const registryLines =
        kind === 'file'
          ? ['path: data/registry.db']
          : kind === 'sql in SQLite'
            ? ['registry_type: sql', 'path: sqlite:///data/registry.sqlite', 'cache_ttl_seconds: 600']
            : [
                'registry_type: sql',
                `path: ${pg!.url.replace('postgresql://', 'postgresql+psycopg://')}?sslmode=disable`,
                'cache_ttl_seconds: 600',
              ];
      const repo = await writeUnappliedExampleRepo(path.join(dir, 'repo'), registryLines);
      const registryFile = kind === 'file' ? 'registry.db' : 'registry.sqlite';
      if (kind !== 'sql in PostgreSQL') expect(existsSync(path.join(repo, 'data', registryFile))).to.equal(false);

      server = await startLarder({ repoPath: repo });
      expect(server.logs()).to.match(/registry (file does|tables do) not exist yet; serving an empty registry/);

      const flight = connect(`127.0.0.1:${server.port}`);
      try {
        const missing = await rejection(flight.doExchange(pullAll, placeholderTable()));
        expect(missing.details).to.include('DataSourceObjectNotFoundException');
        expect(missing.details).to.include(`Data source driver_hourly_stats_source does not exist in project ${EXAMPLE_PROJECT}`);
      } finally {
        flight.close();
      }

      await feastApply(repo);
      // The client's repo is elsewhere: the same registry, named by its absolute path.
      const clientRegistry = registryLines.map((line) =>
        line.replace('path: data/', `path: ${repo}/data/`).replace('sqlite:///data/', `sqlite:///${repo}/data/`),
      );
      expect(await clientOutput(writeClientRepo(repo, clientRegistry, server.port))).to.equal('rows 2 conv_rate 2');
    });
  });
}
