/**
 * `registry_type: sql` against Feast's SQL registry as `feast apply` writes it, in SQLite and in a
 * real PostgreSQL: serving from it, finding objects applied later, honouring cache_ttl_seconds,
 * permissions from its tables, refusing to start on a registry it cannot read, and keeping the
 * last good copy (reported by the health service) while the database is away.
 *
 * Data answers are the conformance suite's business (feast-client.spec.ts runs it on both SQL
 * registries); here the example repo's single parquet file is enough.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pino, { type Logger } from 'pino';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { applyExampleRepo, EXAMPLE_PROJECT, withFeatureStore, writeExampleYaml } from '../support/applied-example-repo.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { fixturePackage, installPackages, placeholderTable, pullAllCommand, rejection } from '../support/guarded-repo.ts';
import { connectHealth } from '../support/health-client.ts';
import { LARDER_DEV } from '../support/larder-process.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const run = promisify(execFile);

/** A permission in the registry: only role `reader` may read data sources. */
const READERS_ONLY = `
from feast.data_source import DataSource
from feast.permissions.action import AuthzedAction
from feast.permissions.permission import Permission
from feast.permissions.policy import RoleBasedPolicy
source_readers = Permission(name="source_readers", types=[DataSource], actions=[AuthzedAction.READ_OFFLINE], policy=RoleBasedPolicy(roles=["reader"]))
`;

/** pull_all on one of the example repo's FileSources (all of 2021), as the Feast client sends it. */
const pullAll = (source: string) =>
  pullAllCommand({
    data_source_name: source,
    timestamp_field: 'event_timestamp',
    start_date: '2021-01-01T00:00:00+00:00',
    end_date: '2022-01-01T00:00:00+00:00',
  });

const fileSource = (name: string, file: string) =>
  `from feast import FileSource\nstore.apply([FileSource(name="${name}", path="${file}", timestamp_field="event_timestamp")])`;

interface LogLine {
  level: number;
  msg: string;
  err?: string;
  registry?: string;
}

function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }), lines };
}

/** `larder_registry_stale` as the server's /metrics reports it. */
async function registryStaleMetric(server: RunningServer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('larder_registry_stale '));
  return Number(line?.split(' ')[1]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

for (const backend of ['SQLite', 'PostgreSQL'] as const) {
  describe(`registry_type: sql in ${backend}, written by feast apply`, function () {
    this.timeout(180_000);
    let dir: string;
    let repo: string;
    let pg: PostgresServer | undefined;
    let url: string;
    let yamlCount = 0;
    const servers: RunningServer[] = [];
    const clients: FlightTestClient[] = [];

    const registryLines = (ttl: number, registryUrl = url) => ['registry_type: sql', `path: ${registryUrl}`, `cache_ttl_seconds: ${ttl}`];
    const yamlFile = (ttl: number, extra: string[] = [], registryUrl = url) =>
      writeExampleYaml(repo, registryLines(ttl, registryUrl), extra, `feature_store.${++yamlCount}.yaml`);
    async function serve(
      ttl: number,
      options: { extra?: string[]; logger?: Logger } = {},
    ): Promise<{ server: RunningServer; client: (token?: string) => FlightTestClient }> {
      const server = await startServer({
        chdir: repo,
        featureStoreYaml: yamlFile(ttl, options.extra),
        port: 0,
        healthRecheckMs: 100,
        metricsPort: 0,
        logger: options.logger ?? pino({ level: 'silent' }),
      });
      servers.push(server);
      const client = (token?: string) => {
        const c = connect(`127.0.0.1:${server.port}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
        clients.push(c);
        return c;
      };
      return { server, client };
    }

    before(async function () {
      this.timeout(300_000);
      dir = mkdtempSync(path.join(tmpdir(), `larder-registry-sql-${backend.toLowerCase()}-`));
      if (backend === 'PostgreSQL') {
        pg = await startPostgres();
        url = pg.url.replace('postgresql://', 'postgresql+psycopg://') + '?sslmode=disable';
      } else {
        // Relative, as users write it: `feast apply` creates it under the repo directory.
        url = 'sqlite:///data/registry.sqlite';
      }
      repo = await applyExampleRepo(path.join(dir, 'repo'), registryLines(600), READERS_ONLY);
    });

    after(async () => {
      clients.forEach((c) => c.close());
      await Promise.allSettled(servers.map((s) => s.stop(500)));
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('serves what feast apply wrote, and finds a source applied afterwards on its first call, without waiting for cache_ttl_seconds', async () => {
      const { client } = await serve(600);
      const rows = (await client().doExchange(pullAll('driver_hourly_stats_source'), placeholderTable())).numRows;
      expect(rows).to.be.greaterThan(0);
      await withFeatureStore(repo, fileSource('driver_stats_copy', 'data/driver_stats.parquet'));
      expect((await client().doExchange(pullAll('driver_stats_copy'), placeholderTable())).numRows).to.equal(rows);
      const unknown = await rejection(client().doExchange(pullAll('no_such_source'), placeholderTable()));
      expect(unknown.details).to.include(`Data source no_such_source does not exist in project ${EXAMPLE_PROJECT}`);
    });

    it('honours cache_ttl_seconds: a changed object is served as it was until the copy expires', async () => {
      const ttlSeconds = 18;
      await withFeatureStore(repo, fileSource('driver_stats_moving', 'data/driver_stats.parquet'));
      const { client } = await serve(ttlSeconds);
      const loadedAt = Date.now();
      expect((await client().doExchange(pullAll('driver_stats_moving'), placeholderTable())).numRows).to.be.greaterThan(0);
      await withFeatureStore(repo, fileSource('driver_stats_moving', 'data/moved_away.parquet'));
      expect(Date.now() - loadedAt, 'applying took longer than the TTL; the test cannot tell').to.be.lessThan((ttlSeconds - 1) * 1000);
      expect((await client().doExchange(pullAll('driver_stats_moving'), placeholderTable())).numRows).to.be.greaterThan(0);
      await sleep(loadedAt + ttlSeconds * 1000 + 300 - Date.now());
      const moved = await rejection(client().doExchange(pullAll('driver_stats_moving'), placeholderTable()));
      expect(moved.details).to.include('moved_away.parquet');
    });

    it('takes the permissions from the same tables', async () => {
      installPackages(repo, [fixturePackage('larder-auth-static')]);
      const { client } = await serve(600, {
        extra: [
          'auth:',
          '  type: larder-auth-static',
          '  users:',
          '    token-reader: {username: rita, roles: [reader]}',
          '    token-nobody: {username: ned}',
        ],
      });
      expect(
        (await client('token-reader').doExchange(pullAll('driver_hourly_stats_source'), placeholderTable())).numRows,
      ).to.be.greaterThan(0);
      const denied = await rejection(client('token-nobody').doExchange(pullAll('driver_hourly_stats_source'), placeholderTable()));
      expect(denied.details).to.include('FeastPermissionError');
      expect(denied.details).to.include('Permission source_readers denied execution of');
    });

    it('keeps serving the last good copy while the registry cannot be read, warns once, and reports it (health service `registry`, larder_registry_stale)', async () => {
      const { logger, lines } = capturingLogger();
      const { server, client } = await serve(1, { logger });
      const health = connectHealth(`127.0.0.1:${server.port}`);
      try {
        expect(await health.check('registry')).to.equal('SERVING');
        const sqliteFile = path.join(repo, 'data', 'registry.sqlite');
        if (pg) await pg.pause();
        else renameSync(sqliteFile, `${sqliteFile}.away`);

        await sleep(1_100);
        // No call is needed: a probe lets the expired copy be checked, in the background.
        await until('the registry to be reported stale', async () => (await health.check('registry')) === 'NOT_SERVING');
        expect((await client().doExchange(pullAll('driver_hourly_stats_source'), placeholderTable())).numRows).to.be.greaterThan(0);
        expect(await health.check('')).to.equal('SERVING');
        expect(await registryStaleMetric(server)).to.equal(1);
        const warnings = lines.filter((l) => l.level === 40 && l.msg === 'registry could not be read; still serving the last good copy');
        expect(warnings.length).to.be.greaterThan(0);
        expect(warnings[0]!.registry).to.not.include('larder-test-secret');

        if (pg) await pg.resume();
        else renameSync(`${sqliteFile}.away`, sqliteFile);
        await until('the registry to be readable again', async () => (await health.check('registry')) === 'SERVING');
        expect(lines.some((l) => l.msg === 'registry readable again')).to.equal(true);
        expect(await registryStaleMetric(server)).to.equal(0);
      } finally {
        health.close();
        if (pg) await pg.resume().catch(() => {});
      }
    });

    it('closes the registry again when a later start-up step fails, so larder exits with the error at once', async () => {
      writeFileSync(
        path.join(repo, 'failing-store.mjs'),
        "export default { kind: 'offline_store', name: 'failing', configSchema: {}, create() { throw new Error('this store cannot start'); } };\n",
      );
      writeExampleYaml(repo, registryLines(600), [], 'feature_store.yaml');
      const yaml = path.join(repo, 'feature_store.yaml');
      writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('  type: file', '  type: ./failing-store.mjs'));
      // An open PostgreSQL pool would keep the process alive for its 60 s idle timeout.
      const error = (await run(process.execPath, [...LARDER_DEV, '-c', repo, 'serve_offline', '-p', '0'], { timeout: 30_000 }).catch(
        (e) => e,
      )) as { code: number | null; killed: boolean; stderr: string };
      expect(error.killed, 'larder did not exit within 30 s').to.equal(false);
      expect(error.code).to.equal(1);
      expect(error.stderr).to.include('this store cannot start');
    });

    it('refuses to start when the registry cannot be read, naming it without its password', async () => {
      // A missing SQLite file is an empty registry with schema_mode auto; with verify it is refused, as in Feast.
      const unreadable = backend === 'PostgreSQL' ? url.replace(`:${pg!.port}/`, ':1/') : 'sqlite:///data/no-such-registry.sqlite';
      const error = (await startServer({
        chdir: repo,
        featureStoreYaml: writeExampleYaml(
          repo,
          [...registryLines(600, unreadable), 'schema_mode: verify'],
          [],
          `feature_store.${++yamlCount}.yaml`,
        ),
        port: 0,
        logger: pino({ level: 'silent' }),
      }).catch((e: Error) => e)) as Error;
      expect(error).to.be.instanceOf(Error);
      expect(error.message).to.match(/^Cannot read the registry \(/);
      expect(error.message).to.not.include('larder-test-secret');
      if (backend === 'SQLite')
        expect(error.message).to.include(`${path.join(repo, 'data', 'no-such-registry.sqlite')} does not exist; run feast apply`);
      else expect(error.message).to.include('postgresql+psycopg://larder:***@127.0.0.1:1/feast');
    });
  });
}

describe('registry_type: sql, start-up errors', function () {
  this.timeout(60_000);
  let repo: string;

  before(() => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-registry-sql-errors-'));
  });
  after(() => rmSync(repo, { recursive: true, force: true }));

  it('with schema_mode verify, refuses a database that holds no Feast registry, and larder exits non-zero saying so', async () => {
    writeFileSync(path.join(repo, 'empty.sqlite'), '');
    writeExampleYaml(repo, ['registry_type: sql', 'path: sqlite:///empty.sqlite', 'schema_mode: verify']);
    const error = (await run(process.execPath, [...LARDER_DEV, '-c', repo, 'serve_offline', '-p', '0']).catch((e) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).to.equal(1);
    expect(error.stderr).to.include(
      'has no entities, data_sources, feature_views, feature_services tables: it does not hold a Feast SQL registry',
    );
  });

  it("with schema_mode auto (Feast's default), serves a database that holds no Feast registry yet as an empty registry, warning once", async () => {
    writeFileSync(path.join(repo, 'no-tables.sqlite'), '');
    const yaml = writeExampleYaml(repo, ['registry_type: sql', 'path: sqlite:///no-tables.sqlite'], [], 'feature_store.auto.yaml');
    const { logger, lines } = capturingLogger();
    const server = await startServer({ chdir: repo, featureStoreYaml: yaml, port: 0, logger });
    const client = connect(`127.0.0.1:${server.port}`);
    try {
      const missing = await rejection(client.doExchange(pullAll('driver_hourly_stats_source'), placeholderTable()));
      expect(missing.details).to.include(`Data source driver_hourly_stats_source does not exist in project ${EXAMPLE_PROJECT}`);
      const warnings = lines.filter((l) => l.level === 40 && l.msg.includes('registry tables do not exist yet'));
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.registry).to.equal(`sqlite:///${path.join(repo, 'no-tables.sqlite')}`);
      // larder wrote nothing into it: the tables are Feast's to create.
      expect(readFileSync(path.join(repo, 'no-tables.sqlite')).length).to.equal(0);
    } finally {
      client.close();
      await server.stop(500);
    }
  });

  for (const [registryPath, message] of [
    ['mysql+pymysql://u:secret@db/feast', "registry.path uses the mysql dialect, which larder's sql registry cannot read"],
    ['sqlite://', 'is an in-memory SQLite database'],
    ['not a url', 'is not an SQLAlchemy URL'],
  ] as const) {
    it(`refuses registry.path ${registryPath} with a clear error`, async () => {
      const yaml = writeExampleYaml(repo, ['registry_type: sql', `path: ${registryPath}`]);
      const error = (await startServer({ chdir: repo, featureStoreYaml: yaml, port: 0, logger: pino({ level: 'silent' }) }).catch(
        (e: Error) => e,
      )) as Error;
      expect(error.message).to.include(message);
      expect(error.message).to.not.include('secret');
    });
  }

  it('refuses snowflake.registry, saying what to use instead', async () => {
    const yaml = writeExampleYaml(repo, ['registry_type: snowflake.registry', 'path: x']);
    const error = (await startServer({ chdir: repo, featureStoreYaml: yaml, port: 0, logger: pino({ level: 'silent' }) }).catch(
      (e: Error) => e,
    )) as Error;
    expect(error.message).to.include('registry.registry_type "snowflake.registry" is a Feast registry larder has no plugin for');
    expect(error.message).to.include('feast serve_registry');
  });
});
