/**
 * The unchanged Feast Python SDK (feast 0.67.0, `offline_store: {type: remote}`) against larder,
 * on a registry written by `feast apply`, once with each store behind the server: every check of
 * checks.py must pass, and larder must stop cleanly on SIGTERM. checks.py runs once per store (one
 * Python process, ~30 s); each check is one test.
 *
 * `file` and `duckdb` serve the parquet repo. `postgres` serves the postgres repo: a throwaway
 * PostgreSQL cluster (test/support/postgres-server.ts) holding its data, PostgreSQLSources applied
 * by `feast apply` with Feast's postgres store, which is also the oracle. Only the checks whose
 * checks.json `stores` include the store get a test.
 *
 * Needs the venv of scripts/ensure-feast-venv.sh (`npm test` runs it first).
 * Validate the checks themselves against Feast's own server with `npx tsx test/conformance/oracle.ts`
 * (`--store postgres` for the postgres repo).
 */
import { expect } from 'chai';
import { buildFeastPostgresRepo, buildFeastRepo, type FeastRepo } from '../support/feast-repo.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { applicableChecks, runChecks, type ChecksRun } from './run-checks.ts';

const stores = ['file', 'duckdb', 'postgres'];

for (const store of stores) describe(`Feast client conformance (feast 0.67.0 SDK → larder, ${store} store)`, function () {
  let pg: PostgresServer | undefined;
  let repo: FeastRepo | undefined;
  let server: ServerProcess | undefined;
  let run: ChecksRun | undefined;

  before(async function () {
    this.timeout(600_000);
    if (store === 'postgres') {
      pg = await startPostgres();
      repo = await buildFeastPostgresRepo(pg);
    } else {
      repo = await buildFeastRepo({ type: store });
    }
    server = await startLarder({ repoPath: repo.serverRepo });
    const clientDir = repo.writeClient(server.port);
    run = await runChecks(repo, clientDir, 'larder', { timeoutMs: 300_000 });
    expect(
      run.finished,
      `checks.py did not finish (exit ${run.exitCode}):\n${run.stderr.slice(-4000)}\n--- larder logs ---\n${server.logs().slice(-4000)}`,
    ).to.equal(true);
  });

  after(async function () {
    this.timeout(60_000);
    try {
      if (server) {
        const code = await server.stop();
        expect(code, `larder did not exit 0 on SIGTERM; its logs:\n${server.logs().slice(-4000)}`).to.equal(0);
      }
    } finally {
      try {
        repo?.cleanup();
      } finally {
        await pg?.stop();
      }
    }
  });

  for (const entry of applicableChecks(store)) {
    it(`${entry.name}: ${entry.about}`, function () {
      const result = run!.results.get(entry.name);
      expect(result, `checks.py reported nothing for ${entry.name}`).to.not.equal(undefined);
      expect(result!.skipped ?? false, `${entry.name} was skipped`).to.equal(false);
      expect(result!.ok, `${result!.detail}\n--- larder logs (tail) ---\n${server!.logs().slice(-2000)}`).to.equal(true);
    });
  }
});
