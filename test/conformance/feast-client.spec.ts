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
 * The registry variants run the same checks with the registry where `feast apply` put it: Feast's
 * SQL registry in SQLite (file store) and in PostgreSQL (postgres store), where client, oracle and
 * server all read it; and behind Feast's registry server (duckdb store), which the server and the
 * client read while the oracle reads the file it serves.
 *
 * Needs the venv of scripts/ensure-feast-venv.sh (`npm test` runs it first).
 * Validate the checks themselves against Feast's own server with `npx tsx --conditions=larder-source test/conformance/oracle.ts`
 * (`--store postgres` for the postgres repo).
 */
import { expect } from 'chai';
import { buildFeastPostgresRepo, buildFeastRepo, PROJECT, type FeastRepo, type RegistrySection } from '../support/feast-repo.ts';
import { startFeastRegistryServer, type FeastRegistryServer } from '../support/feast-registry-server.ts';
import { feastPython } from '../support/feast-python.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { applicableChecks, runChecks, type ChecksRun } from './run-checks.ts';

/** A server configuration the suite runs against: its offline store, and where its registry is. */
interface Variant {
  readonly store: 'file' | 'duckdb' | 'postgres';
  /** Default: the file registry data/registry.db that `feast apply` wrote. */
  readonly registry?: 'sql-sqlite' | 'sql-postgres' | 'remote';
}

const REGISTRY_NAMES = {
  'sql-sqlite': 'SQL registry in SQLite',
  'sql-postgres': 'SQL registry in PostgreSQL',
  remote: 'remote registry (feast serve_registry)',
} as const;

// The SQL registries keep a copy for cache_ttl_seconds (60 here): checks that apply objects
// through the client (a PostgreSQL source before persisting to it) rely on the refresh a lookup
// miss triggers, not on the cache expiring.
const variants: readonly Variant[] = [
  { store: 'file' },
  { store: 'duckdb' },
  { store: 'postgres' },
  { store: 'file', registry: 'sql-sqlite' },
  { store: 'postgres', registry: 'sql-postgres' },
  { store: 'duckdb', registry: 'remote' },
];

for (const { store, registry } of variants)
  describe(`Feast client conformance (feast 0.67.0 SDK → larder, ${store} store${registry ? `, ${REGISTRY_NAMES[registry]}` : ''})`, () => {
    let pg: PostgresServer | undefined;
    let repo: FeastRepo | undefined;
    let server: ServerProcess | undefined;
    let registryServer: FeastRegistryServer | undefined;
    let run: ChecksRun | undefined;

    before(async function () {
      this.timeout(600_000);
      if (store === 'postgres') {
        pg = await startPostgres();
        const pgRegistry: RegistrySection | undefined =
          registry === 'sql-postgres'
            ? () => ({ registry_type: 'sql', path: pg!.url.replace('postgresql://', 'postgresql+psycopg://'), cache_ttl_seconds: 60 })
            : undefined;
        repo = await buildFeastPostgresRepo(pg, pg.offlineStoreConfig(), { registry: pgRegistry });
      } else {
        const sqliteRegistry: RegistrySection | undefined =
          registry === 'sql-sqlite'
            ? (serverRepo) => ({ registry_type: 'sql', path: `sqlite:///${serverRepo}/data/registry.sqlite`, cache_ttl_seconds: 60 })
            : undefined;
        repo = await buildFeastRepo({ type: store }, { registry: sqliteRegistry });
      }
      if (registry === 'remote') {
        // Feast's registry server over the registry.db `feast apply` wrote; larder and the client both read it there.
        registryServer = await startFeastRegistryServer({ registryPath: repo.registryPath, project: PROJECT, workdir: repo.root });
        repo.useRegistry({ registry_type: 'remote', path: registryServer.target, cache_ttl_seconds: 60 });
      }
      // The ODFV worker runs in the venv the client uses: the user's own Python with feast.
      server = await startLarder({ repoPath: repo.serverRepo, args: ['--odfv-python', feastPython().python] });
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
          await registryServer?.stop();
          repo?.cleanup();
        } finally {
          await pg?.stop();
        }
      }
    });

    for (const entry of applicableChecks(store)) {
      it(`${entry.name}: ${entry.about}`, () => {
        const result = run!.results.get(entry.name);
        expect(result, `checks.py reported nothing for ${entry.name}`).to.not.equal(undefined);
        expect(result!.skipped ?? false, `${entry.name} was skipped`).to.equal(false);
        expect(result!.ok, `${result!.detail}\n--- larder logs (tail) ---\n${server!.logs().slice(-2000)}`).to.equal(true);
      });
    }
  });
