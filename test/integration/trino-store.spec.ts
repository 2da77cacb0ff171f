/**
 * The trino store's first slice against a real Trino 476 (test/support/trino-server.ts, started
 * once for the file): the plugin is resolved from a feature_store.yaml by its `type:` (larder's
 * name and Feast's class path), lists the columns of a hive table and of a query source as
 * Feast's TrinoSource reports them, validates sources (a missing table is Feast's
 * DataSourceNotFoundException), lists under an auth provider only what the caller may read,
 * and reports a stopped Trino as UNAVAILABLE. The client module runs statements as configured (user, source, catalog, session
 * properties), streams a many-page result, and cancels a running query on the cluster.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pino from 'pino';
import { loadRepoConfig } from '../../core/src/config/load.ts';
import { validateSection } from '../../core/src/config/validate.ts';
import { createHooks } from '../../core/src/hooks.ts';
import { resolvePlugin, tapDefaultResolvers } from '../../core/src/plugins/resolve.ts';
import type { OfflineStore } from '../../core/src/store.ts';
import { TrinoClient } from '../../plugins/trino/src/client.ts';
import { connectionOf, type TrinoStoreConfig } from '../../plugins/trino/src/config.ts';
import { trinoSource } from '../support/feature-views.ts';
import { startTrino, type TrinoServer } from '../support/trino-server.ts';
import { trinoQuery } from '../support/trino-statement.ts';
import { context, failure } from '../support/trino-store-testing.ts';

const FEAST_STORE_CLASS = 'feast.infra.offline_stores.contrib.trino_offline_store.trino.TrinoOfflineStore';

describe('trino store (real Trino 476): column listing, validation, health', function () {
  this.timeout(180_000);
  let trino: TrinoServer | undefined;
  let repo: string;
  let store: OfflineStore;

  /** The store as the server builds it: feature_store.yaml → resolved plugin → validated section → create. */
  async function storeFromYaml(type: string, port: number): Promise<{ store: OfflineStore; name: string }> {
    writeFileSync(
      path.join(repo, 'feature_store.yaml'),
      `project: p
registry: data/registry.db
provider: local
offline_store:
  type: ${type}
  host: 127.0.0.1
  port: ${port}
  catalog: hive
  user: larder-test
  connector:
    type: hive
    file_format: parquet
  session_properties:
    query_max_run_time: 10m
entity_key_serialization_version: 3
`,
    );
    const config = await loadRepoConfig({ chdir: repo, env: {} });
    const hooks = createHooks();
    tapDefaultResolvers(hooks);
    const plugin = await resolvePlugin(hooks, 'offline_store', config.offlineStore.type, { repoPath: repo });
    validateSection(plugin.configSchema, config.offlineStore, config.configPath, 'offline_store');
    const env = { repoPath: repo, dataRoots: [], repoConfig: config.raw, logger: pino({ level: 'silent' }) };
    return { store: await plugin.create(config.offlineStore, env), name: plugin.name };
  }

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-trino-repo-'));
    trino = await startTrino();
    await trinoQuery(trino.url, 'CREATE SCHEMA hive.feast');
    await trinoQuery(
      trino.url,
      `CREATE TABLE hive.feast.driver_stats (driver_id BIGINT, event_timestamp TIMESTAMP(3), conv_rate DOUBLE, city VARCHAR, trips ARRAY(INTEGER))
       WITH (format = 'PARQUET')`,
    );
    ({ store } = await storeFromYaml('trino', trino.port));
  });

  after(async () => {
    await store?.close();
    await trino?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  it("resolves `trino` and Feast's TrinoOfflineStore class path to the plugin", async () => {
    const byClassPath = await storeFromYaml(FEAST_STORE_CLASS, trino!.port);
    expect(byClassPath.name).to.equal('trino');
    const columns = await byClassPath.store.getTableColumnNamesAndTypes(trinoSource('s', { table: 'feast.driver_stats' }), context());
    expect(columns.map((c) => c.name)).to.deep.equal(['driver_id', 'event_timestamp', 'conv_rate', 'city', 'trips']);
    await byClassPath.store.close();
  });

  it('lists the columns of a hive table with Trino type names (qualified, and unqualified in the catalog)', async () => {
    const expected = [
      { name: 'driver_id', type: 'bigint' },
      { name: 'event_timestamp', type: 'timestamp(3)' },
      { name: 'conv_rate', type: 'double' },
      { name: 'city', type: 'varchar' },
      { name: 'trips', type: 'array(integer)' },
    ];
    expect(await store.getTableColumnNamesAndTypes(trinoSource('s', { table: 'hive.feast.driver_stats' }), context())).to.deep.equal(
      expected,
    );
    expect(await store.getTableColumnNamesAndTypes(trinoSource('s', { table: 'feast.driver_stats' }), context())).to.deep.equal(expected);
  });

  it("lists a query source's columns, computed ones included, and the table wins when both are set", async () => {
    const query = trinoSource('q', {
      query: 'SELECT driver_id, conv_rate * 2 AS doubled, CAST(event_timestamp AS DATE) AS day FROM hive.feast.driver_stats;',
    });
    expect(await store.getTableColumnNamesAndTypes(query, context())).to.deep.equal([
      { name: 'driver_id', type: 'bigint' },
      { name: 'doubled', type: 'double' },
      { name: 'day', type: 'date' },
    ]);
    const both = trinoSource('b', { table: 'feast.driver_stats', query: 'SELECT 1 AS one' });
    expect((await store.getTableColumnNamesAndTypes(both, context())).map((c) => c.name)).to.include('driver_id');
  });

  it('validates an existing table and query; a missing table, schema or catalog is DataSourceNotFoundException', async () => {
    await store.validateDataSource(trinoSource('s', { table: 'hive.feast.driver_stats' }), context());
    await store.validateDataSource(trinoSource('q', { query: 'SELECT city FROM feast.driver_stats' }), context());
    for (const table of ['hive.feast.no_such_table', 'hive.no_such_schema.t', 'no_such_catalog.feast.t']) {
      const missing = await failure(store.validateDataSource(trinoSource('m', { table }), context()));
      expect(missing, table).to.deep.equal({
        message: `Unable to find table at '${table}'. Please check that table exists.`,
        code: status.NOT_FOUND,
        feastClass: 'DataSourceNotFoundException',
      });
    }
  });

  it("refuses a query Trino rejects (INVALID_ARGUMENT with Trino's reason), a table that is not a name, and a non-Trino source", async () => {
    const bad = await failure(
      store.validateDataSource(trinoSource('q', { query: 'SELECT no_such_column FROM feast.driver_stats' }), context()),
    );
    expect(bad.code).to.equal(status.INVALID_ARGUMENT);
    expect(bad.message).to.match(/^Data source q \(the query of data source q\): Trino error COLUMN_NOT_FOUND: .*no_such_column/);
    const injected = await failure(
      store.getTableColumnNamesAndTypes(trinoSource('t', { table: 'feast.driver_stats; DROP TABLE feast.driver_stats' }), context()),
    );
    expect(injected.code).to.equal(status.INVALID_ARGUMENT);
    expect(injected.message).to.include('is not a table name');
    const notTrino = {
      ...trinoSource('f', {}),
      type: 'BATCH_FILE',
      dataSourceClassType: 'feast.infra.offline_stores.file_source.FileSource',
    };
    delete (notTrino as { trinoOptions?: unknown }).trinoOptions;
    const refused = await failure(store.validateDataSource(notTrino, context()));
    expect(refused).to.deep.include({ code: status.INVALID_ARGUMENT });
    expect(refused.message).to.equal('Data source f is a FileSource; the trino offline store reads TrinoSources only');
    // The table is still there: nothing but the listing ran.
    const still = await trinoQuery(trino!.url, 'SELECT count(*) FROM hive.feast.driver_stats');
    expect(still.rows).to.deep.equal([[0]]);
  });

  it('under an auth provider, lists a source only when every table it reads is read by a source the caller may read', async () => {
    await trinoQuery(
      trino!.url,
      "CREATE TABLE IF NOT EXISTS hive.feast.secret (driver_id BIGINT, salary DOUBLE) WITH (format = 'PARQUET')",
    );
    const readable = trinoSource('readable', { table: 'hive.feast.driver_stats' });
    const denied = trinoSource('denied', { table: 'hive.feast.secret' });
    const ctx = { ...context(), user: 'alice', sourceAccess: { readable: [readable], denied: [denied] } };
    // The same table however it is named, and a query reading only it.
    for (const sent of [
      trinoSource('sent', { table: 'hive.feast.driver_stats' }),
      trinoSource('sent', { table: 'feast.driver_stats' }),
      trinoSource('sent', { query: 'SELECT city FROM feast.driver_stats WHERE conv_rate > 0' }),
    ]) {
      expect((await store.getTableColumnNamesAndTypes(sent, ctx)).length).to.be.greaterThan(0);
    }
    for (const sent of [
      trinoSource('sent', { table: 'hive.feast.secret' }),
      trinoSource('sent', { query: 'SELECT d.city, s.salary FROM feast.driver_stats d JOIN feast.secret s USING (driver_id)' }),
    ]) {
      const refused = await failure(store.getTableColumnNamesAndTypes(sent, ctx));
      expect(refused).to.deep.include({ code: status.PERMISSION_DENIED, feastClass: 'FeastPermissionError' });
      expect(refused.message).to.include('reads hive.feast.secret, which no data source you may read (READ_OFFLINE) reads');
    }
  });

  describe('the client module', () => {
    const client = () =>
      new TrinoClient(
        connectionOf(
          {
            type: 'trino',
            host: '127.0.0.1',
            port: trino!.port,
            catalog: 'hive',
            user: 'larder-test',
            source: 'larder-spec',
            connector: { type: 'hive' },
            session_properties: { query_max_run_time: '7m', join_distribution_type: 'PARTITIONED' },
          } satisfies TrinoStoreConfig,
          repo,
        ),
      );
    const rowsOf = async (sql: string) => {
      const statement = await client().start(sql, 'spec statement');
      const rows: unknown[][] = [];
      for await (const page of statement.pages()) rows.push(...(page as unknown[][]));
      return rows;
    };

    it('runs statements as the configured user, source and catalog, with the session properties', async () => {
      expect(await rowsOf('SELECT current_user, current_catalog')).to.deep.equal([['larder-test', 'hive']]);
      const session = await rowsOf("SHOW SESSION LIKE 'query_max_run_time'");
      expect(session[0]!.slice(0, 2)).to.deep.equal(['query_max_run_time', '7m']);
      const join = await rowsOf("SHOW SESSION LIKE 'join_distribution_type'");
      expect(join[0]!.slice(0, 2)).to.deep.equal(['join_distribution_type', 'PARTITIONED']);
      const sources = await rowsOf("SELECT DISTINCT source FROM system.runtime.queries WHERE query LIKE 'SHOW SESSION%'");
      expect(sources).to.deep.equal([['larder-spec']]);
    });

    it('streams a result of many pages, every row once and in order', async () => {
      const statement = await client().start(
        'SELECT a.x * 1000 + b.y AS x FROM UNNEST(sequence(0, 199)) a(x) CROSS JOIN UNNEST(sequence(1, 1000)) b(y) ORDER BY 1',
        'spec statement',
      );
      expect((await statement.columns()).map((c) => [c.name, c.type])).to.deep.equal([['x', 'bigint']]);
      let pages = 0;
      let next = 1;
      for await (const page of statement.pages()) {
        pages++;
        for (const [x] of page as number[][]) expect(x).to.equal(next++);
      }
      expect(next).to.equal(200_001);
      expect(pages).to.be.greaterThan(1);
    });

    it('cancels a running statement on the cluster when its signal aborts', async () => {
      const marker = 'larder-cancel-spec';
      const stateOf = async () =>
        rowsOf(`SELECT state, error_code FROM system.runtime.queries WHERE query LIKE '%${marker}%' AND query NOT LIKE '%system.runtime%'`);
      /** Polls until the statement's [state, error code] is `wanted` (Trino updates it asynchronously). */
      const until = async (wanted: string) => {
        let rows: unknown[][] = [];
        for (let i = 0; i < 100; i++) {
          rows = await stateOf();
          if (rows[0]?.[0] === wanted) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        return rows;
      };
      const abort = new AbortController();
      // About 10^11 joined rows: it runs far longer than this test unless it is cancelled.
      const statement = await client().start(
        `SELECT count(*) FROM UNNEST(sequence(1, 10000)) a(x) CROSS JOIN UNNEST(sequence(1, 10000)) b(y) CROSS JOIN UNNEST(sequence(1, 1000)) c(z) WHERE x + y + z = -1 /* ${marker} */`,
        'spec statement',
        abort.signal,
      );
      const reading = (async () => {
        for await (const _ of statement.pages());
      })();
      expect((await until('RUNNING'))[0]?.[0]).to.equal('RUNNING');
      abort.abort();
      const refused = await failure(reading);
      expect(refused.message).to.equal('spec statement: cancelled, the call was aborted');
      expect(await until('FAILED')).to.deep.equal([['FAILED', 'USER_CANCELED']]);
    });
  });

  // Last: it stops the file's Trino (nested describes run after the top-level tests, in order).
  describe('health', () => {
    it('is healthy while Trino runs; once Trino is stopped, health and calls are UNAVAILABLE', async () => {
      await store.ping!();
      await trino!.stop();
      const down = await failure(store.ping!());
      expect(down.code).to.equal(status.UNAVAILABLE);
      expect(down.message).to.match(/^Trino at http:\/\/127\.0\.0\.1:\d+ is unreachable: /);
      const listing = await failure(store.getTableColumnNamesAndTypes(trinoSource('s', { table: 'feast.driver_stats' }), context()));
      expect(listing.code).to.equal(status.UNAVAILABLE);
    });
  });
});
