/**
 * The duckdb store over s3:// sources, against a real S3-compatible server (S3Proxy, started
 * here) and DuckDB's httpfs extension from a local extension_directory
 * (scripts/ensure-duckdb-extensions.sh): the same data uploaded to S3 must give the same answers
 * as from local disk — get_historical_features over a directory source, an alias and an
 * entityless view; pull_latest and pull_all; a hive-partitioned directory; column listing — and
 * S3's failures must reach the client as Feast's errors: a missing extension names the setting and
 * the script, 404 is DataSourceNotFoundException, 403 a permission error naming the source, an
 * unreachable endpoint UNAVAILABLE. Credentials come from the AWS environment variables, read on
 * each call (a changed secret is picked up by a running store).
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Float64, Int64, type Table, Utf8 } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  DataSourceNotFoundException,
  FailedPreconditionError,
  FeastPermissionError,
  InvalidArgumentError,
  UnavailableError,
} from '../../core/src/index.ts';
import type { DataSource, FeatureView } from '../../core/src/registry/model.ts';
import type { OfflineStore, PullRequest, StoreEnvironment } from '../../core/src/store.ts';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import { fileSource } from '../support/feature-views.ts';
import { freePort } from '../support/larder-process.ts';
import { H_US, T0_US, entityRows, random, snapshot, tsUtc } from '../support/generated-data.ts';
import { arrowTable, callContext, collect, writeParquetFile } from '../support/parquet-fixtures.ts';
import { createBucket, putObject, s3Client, startS3Server, type S3Server } from '../support/s3-server.ts';
import { selfSignedCert } from '../support/self-signed-cert.ts';
import { historical, pull, views, writeDifferentialData } from '../support/store-differential.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUCKET = 'larder-data';
const PREFIX = `s3://${BUCKET}/repo`;

/** The extension directory the ensure script lays out (downloading the wheel on first use). */
function extensionDirectory(): string {
  return execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'ensure-duckdb-extensions.sh')], { encoding: 'utf8' }).trim();
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full, base) : [path.relative(base, full)];
  });
}

/** `view` reading the same relative path under PREFIX in S3. */
function onS3(view: FeatureView): FeatureView {
  return { ...view, batchSource: s3Source(view.batchSource!) };
}

function s3Source(source: DataSource, uri = `${PREFIX}/${source.fileOptions!.uri}`): DataSource {
  return { ...source, fileOptions: { ...source.fileOptions!, uri } };
}

/** A hive-partitioned directory: events/day=<d>/part-0.parquet, three days. */
function writeHiveData(repo: string): void {
  for (const [i, day] of ['2024-01-01', '2024-01-02', '2024-01-03'].entries()) {
    writeParquetFile(
      path.join(repo, 'events', `day=${day}`, 'part-0.parquet'),
      arrowTable([
        ['user_id', new Int64(), [1n, 2n, 3n].map((u) => u + BigInt(i % 2))],
        ['ts', tsUtc, [0n, 1n, 2n].map((h) => T0_US + (BigInt(i) * 24n + h) * H_US)],
        ['score', new Float64(), [0.5, 1.5, null].map((v) => (v === null ? null : v + i))],
        ['label', new Utf8(), ['a', null, `d${i}`]],
      ]),
    );
  }
}

const eventsPull = (source: DataSource): PullRequest => ({
  source,
  joinKeyColumns: ['user_id'],
  featureNameColumns: [],
  timestampField: 'ts',
  createdTimestampColumn: '',
  startDate: null,
  endDate: null,
});

/**
 * An https endpoint with a self-signed certificate in front of `server`: each request is passed
 * on unchanged (its Host header too, which the signature covers). Close it when done.
 */
async function tlsFront(server: S3Server, dir: string): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const { keyPath, certPath } = selfSignedCert(dir);
  const front = https.createServer({ key: readFileSync(keyPath), cert: readFileSync(certPath) }, (req, res) => {
    const upstream = http.request(
      { host: '127.0.0.1', port: server.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const { port } = front.address() as { port: number };
  return {
    endpoint: `https://127.0.0.1:${port}`,
    close: async () => {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}

/** The error `promise` rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.fail('the call succeeded'),
    (error: Error) => error,
  );
}

describe('duckdb store: s3:// sources through httpfs, against a real S3 server', function () {
  this.timeout(180_000);
  let server: S3Server;
  let repo: string;
  let env: StoreEnvironment;
  let extensions: string;
  let local: OfflineStore;
  let remote: OfflineStore;
  const saved = { ...process.env };
  const rand = random(20261207);

  /** The duckdb store config reading `server` (or `overrides`). */
  const config = (overrides: Record<string, unknown> = {}) => ({
    type: 'duckdb',
    threads: 2,
    extension_directory: extensions,
    s3: { endpoint_url: server.endpoint, region: server.region },
    ...overrides,
  });

  before(async () => {
    extensions = extensionDirectory();
    server = await startS3Server();
    process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
    delete process.env.AWS_SESSION_TOKEN;
    repo = mkdtempSync(path.join(tmpdir(), 'larder-duckdb-s3-'));
    writeDifferentialData(repo, rand);
    writeHiveData(repo);
    const client = s3Client(server);
    try {
      await createBucket(client, BUCKET);
      for (const file of filesUnder(repo)) await putObject(client, BUCKET, `repo/${file}`, readFileSync(path.join(repo, file)));
      // Files the listing skips, as the local one does.
      await putObject(client, BUCKET, 'repo/drivers/_SUCCESS', '');
      await putObject(client, BUCKET, 'repo/drivers/.hidden.parquet', 'not parquet');
    } finally {
      client.destroy();
    }
    env = { repoPath: repo, dataRoots: [PREFIX], repoConfig: {}, logger: pino({ level: 'silent' }) };
    local = await duckdbPlugin.create({ type: 'duckdb', threads: 2 }, env);
    remote = await duckdbPlugin.create(config(), env);
  });

  after(async () => {
    await local?.close();
    await remote?.close();
    await server?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  /** The two tables are equal, schema and rows in order, and not empty. */
  const same = (fromS3: Table, fromDisk: Table) => {
    expect(fromDisk.numRows).to.be.greaterThan(0);
    const [a, e] = [snapshot(fromS3), snapshot(fromDisk)];
    expect(a.schema).to.deep.equal(e.schema);
    expect(a.rows).to.deep.equal(e.rows);
  };

  it('get_historical_features: a directory source, an alias and an entityless view answer as from disk', async () => {
    const entityTable = entityRows(rand, 2000);
    const request = (v: typeof views) => ({
      entityTable,
      featureViews: [v.drivers, v.other, v.cities, v.global],
      featureRefs: ['drivers:rate', 'drivers:trips', 'drivers:name', 'drivers:flag', 'other:rate', 'cities:population', 'global:total'],
    });
    const s3Views = Object.fromEntries(Object.entries(views).map(([k, v]) => [k, onS3(v)])) as typeof views;
    const fromS3 = await historical(request(s3Views))(remote);
    same(fromS3, await historical(request(views))(local));
    expect(fromS3.getChild('drivers__rate')!.nullCount).to.be.within(1, fromS3.numRows - 1);
  });

  it('pull_latest and pull_all answer as from disk', async () => {
    const drivers = views.drivers.batchSource!;
    for (const extra of [{}, { joinKeyColumns: [], startDate: null }]) {
      same(
        await collect(await remote.pullLatestFromTableOrQuery(pull({ ...extra, source: s3Source(drivers) }), callContext())),
        await collect(await local.pullLatestFromTableOrQuery(pull({ ...extra, source: drivers }), callContext())),
      );
    }
    same(
      await collect(await remote.pullAllFromTableOrQuery(pull({ source: s3Source(drivers) }), callContext())),
      await collect(await local.pullAllFromTableOrQuery(pull({ source: drivers }), callContext())),
    );
  });

  it('a hive-partitioned directory: pull_all with the partition column, and column listing, as from disk', async () => {
    const disk = fileSource('events', 'events', { createdTimestampColumn: '' });
    const fromS3 = await collect(await remote.pullAllFromTableOrQuery(eventsPull(s3Source(disk)), callContext()));
    same(fromS3, await collect(await local.pullAllFromTableOrQuery(eventsPull(disk), callContext())));
    expect(fromS3.numRows).to.equal(9);
    expect(fromS3.schema.fields.map((f) => f.name)).to.include('day');
    const columns = await remote.getTableColumnNamesAndTypes!(s3Source(disk), callContext());
    expect(columns).to.deep.equal(await local.getTableColumnNamesAndTypes!(disk, callContext()));
    expect(columns.map((c) => c.name)).to.deep.equal(['user_id', 'ts', 'score', 'label']);
    // One file: the same listing as from disk.
    const cities = views.cities.batchSource!;
    expect(await remote.getTableColumnNamesAndTypes!(s3Source(cities), callContext())).to.deep.equal(
      await local.getTableColumnNamesAndTypes!(cities, callContext()),
    );
  });

  it('a client-sent s3:// source outside the s3:// data roots is refused before any request', async () => {
    const outside = s3Source(views.cities.batchSource!, `s3://${BUCKET}/elsewhere/cities.parquet`);
    const error = await failure(remote.getTableColumnNamesAndTypes!(outside, callContext()));
    expect(error).to.be.instanceOf(InvalidArgumentError);
    expect(error.message).to.contain('outside the s3:// entries of larder.data_roots');
    const prefixTrick = s3Source(views.cities.batchSource!, `s3://${BUCKET}/repository/cities.parquet`);
    expect(await failure(remote.getTableColumnNamesAndTypes!(prefixTrick, callContext()))).to.be.instanceOf(InvalidArgumentError);
    const dotDot = s3Source(views.cities.batchSource!, `${PREFIX}/../elsewhere/cities.parquet`);
    expect((await failure(remote.getTableColumnNamesAndTypes!(dotDot, callContext()))).message).to.contain('not an s3://bucket/key URI');
  });

  it("a source's s3_endpoint_override is the endpoint for that source, whatever the store's", async () => {
    // The store's own endpoint is closed; the source names the real server.
    const closed = `http://127.0.0.1:${await freePort()}`;
    const store = await duckdbPlugin.create(config({ s3: { endpoint_url: closed, region: server.region } }), env);
    try {
      const cities = views.cities.batchSource!;
      const overridden = { ...s3Source(cities), fileOptions: { ...s3Source(cities).fileOptions!, s3EndpointOverride: server.endpoint } };
      const request = (source: DataSource) =>
        pull({
          source,
          joinKeyColumns: ['city'],
          featureNameColumns: ['population'],
          createdTimestampColumn: '',
          startDate: null,
          endDate: null,
        });
      same(
        await collect(await store.pullAllFromTableOrQuery(request(overridden), callContext())),
        await collect(await local.pullAllFromTableOrQuery(request(cities), callContext())),
      );
      // A source without an override goes to the store's (closed) endpoint. (DuckDB scopes a secret
      // by path: an override holds for every source under the same URI.)
      const globals = s3Source(views.global.batchSource!);
      const plain = pull({
        source: globals,
        joinKeyColumns: [],
        featureNameColumns: ['total'],
        createdTimestampColumn: '',
        startDate: null,
        endDate: null,
      });
      expect(await failure(store.pullAllFromTableOrQuery(plain, callContext()))).to.be.instanceOf(UnavailableError);
    } finally {
      await store.close();
    }
  });

  it('without an s3 section: the endpoint from AWS_ENDPOINT_URL_S3, path-style, as the AWS SDK would', async () => {
    process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
    const store = await duckdbPlugin.create({ type: 'duckdb', threads: 2, extension_directory: extensions }, env);
    try {
      const cities = views.cities.batchSource!;
      const request = (source: DataSource) =>
        pull({
          source,
          joinKeyColumns: ['city'],
          featureNameColumns: ['population'],
          createdTimestampColumn: '',
          startDate: null,
          endDate: null,
        });
      same(
        await collect(await store.pullAllFromTableOrQuery(request(s3Source(cities)), callContext())),
        await collect(await local.pullAllFromTableOrQuery(request(cities), callContext())),
      );
    } finally {
      delete process.env.AWS_ENDPOINT_URL_S3;
      await store.close();
    }
  });

  it('a client-sent s3:// source may not name an endpoint of its own, nor the objects of a source the caller may not read', async () => {
    const cities = s3Source(views.cities.batchSource!);
    const elsewhere = { ...cities, fileOptions: { ...cities.fileOptions!, s3EndpointOverride: 'http://169.254.169.254' } };
    const error = await failure(remote.getTableColumnNamesAndTypes!(elsewhere, callContext()));
    expect(error).to.be.instanceOf(InvalidArgumentError);
    expect(error.message).to.contain('s3_endpoint_override').and.to.contain('169.254.169.254');
    // Under an auth provider: a probe under another name over the cities object of a denied source.
    const probe = { ...cities, name: 'cities_probe' };
    const ctx = { ...callContext(), sourceAccess: { readable: [s3Source(views.drivers.batchSource!)], denied: [cities] } };
    const denied = await failure(remote.getTableColumnNamesAndTypes!(probe, ctx));
    expect(denied).to.be.instanceOf(FeastPermissionError);
    expect(denied.message).to.contain('cities_probe').and.to.contain(`${PREFIX}/cities.parquet`).and.to.contain('data source cities');
    // The same probe is answered when the caller may read the source that holds the object.
    const allowed = { ...callContext(), sourceAccess: { readable: [cities], denied: [] } };
    expect(await remote.getTableColumnNamesAndTypes!(probe, allowed)).to.have.length.greaterThan(0);
  });

  it('validate_data_source: outside the roots an error, a missing object under them a warning; entity_df_sql cannot read S3', async () => {
    const outside = s3Source(views.cities.batchSource!, `s3://${BUCKET}/elsewhere/cities.parquet`);
    expect(await failure(remote.validateDataSource!(outside, callContext()))).to.be.instanceOf(InvalidArgumentError);
    const warnings: unknown[] = [];
    const ctx = { ...callContext(), logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) }) };
    await remote.validateDataSource!(s3Source(views.cities.batchSource!, `${PREFIX}/not-yet.parquet`), ctx);
    expect(JSON.stringify(warnings)).to.contain('not readable yet').and.to.contain('not-yet.parquet');
    // The client-SQL sandbox has neither httpfs nor external access, even after the store loaded httpfs.
    const sql = `SELECT city, ts AS event_timestamp FROM read_parquet('${PREFIX}/cities.parquet')`;
    const error = await failure(
      historical({ entityDfSql: sql, featureViews: [onS3(views.cities)], featureRefs: ['cities:population'] })(remote),
    );
    expect(error.message).to.not.contain('population');
    expect(error).to.be.instanceOf(InvalidArgumentError);
    expect(error.message).to.contain('file system operations are disabled');
  });

  it('a missing object is DataSourceNotFoundException naming it', async () => {
    const missing = s3Source(views.cities.batchSource!, `${PREFIX}/no-such.parquet`);
    const error = await failure(
      remote.pullAllFromTableOrQuery(pull({ source: missing, joinKeyColumns: ['city'], featureNameColumns: [] }), callContext()),
    );
    expect(error).to.be.instanceOf(DataSourceNotFoundException);
    expect(error.message).to.contain(`${PREFIX}/no-such.parquet`);
  });

  /** A store created, and first asked for credentials, while `env` holds (the chain caches what it finds). */
  async function storeUnder(vars: Record<string, string | undefined>, use: (store: OfflineStore) => Promise<void>): Promise<void> {
    const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    const restore = () => {
      for (const [k, v] of Object.entries(before)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    };
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    const store = await duckdbPlugin.create(config(), env);
    try {
      await use(store);
    } finally {
      restore();
      await store.close();
    }
  }

  const citiesPull = () =>
    pull({
      source: s3Source(views.cities.batchSource!),
      joinKeyColumns: ['city'],
      featureNameColumns: ['population'],
      createdTimestampColumn: '',
      startDate: null,
      endDate: null,
    });

  it('refused credentials are a permission error naming the source; a store with the right ones still reads', async () => {
    const request = citiesPull();
    await storeUnder({ AWS_SECRET_ACCESS_KEY: 'not-the-secret' }, async (wrong) => {
      const error = await failure(wrong.pullAllFromTableOrQuery(request, callContext()));
      expect(error).to.be.instanceOf(FeastPermissionError);
      expect(error.message).to.contain('data source cities').and.to.contain(request.source.fileOptions!.uri).and.to.contain('403');
    });
    expect((await collect(await remote.pullAllFromTableOrQuery(request, callContext()))).numRows).to.equal(500);
  });

  it("takes credentials from the AWS SDK's default chain: a shared credentials file, no keys in the environment", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'larder-aws-'));
    const file = path.join(dir, 'credentials');
    writeFileSync(file, `[default]\naws_access_key_id = ${server.accessKeyId}\naws_secret_access_key = ${server.secretAccessKey}\n`);
    try {
      await storeUnder(
        {
          AWS_ACCESS_KEY_ID: undefined,
          AWS_SECRET_ACCESS_KEY: undefined,
          AWS_SESSION_TOKEN: undefined,
          AWS_PROFILE: undefined,
          AWS_SHARED_CREDENTIALS_FILE: file,
          AWS_CONFIG_FILE: path.join(dir, 'config'),
        },
        async (store) => {
          expect((await collect(await store.pullAllFromTableOrQuery(citiesPull(), callContext()))).numRows).to.equal(500);
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without the httpfs extension: FAILED_PRECONDITION naming extension_directory and the ensure script; local sources still read', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'larder-no-extensions-'));
    const store = await duckdbPlugin.create(config({ extension_directory: empty }), env);
    try {
      const cities = views.cities.batchSource!;
      const request = (source: DataSource) =>
        pull({ source, joinKeyColumns: ['city'], featureNameColumns: [], createdTimestampColumn: '', startDate: null, endDate: null });
      const error = await failure(store.pullAllFromTableOrQuery(request(s3Source(cities)), callContext()));
      // With autoinstall on, DuckDB would have tried to download it instead.
      expect(error).to.be.instanceOf(FailedPreconditionError);
      expect(error.message)
        .to.contain('offline_store.extension_directory')
        .and.to.contain('scripts/ensure-duckdb-extensions.sh')
        .and.to.contain(empty);
      expect((await collect(await store.pullAllFromTableOrQuery(request(cities), callContext()))).numRows).to.equal(500);
    } finally {
      await store.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('TLS: an untrusted certificate is refused (FAILED_PRECONDITION naming verify_tls) unless verify_tls is false', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'larder-s3-tls-'));
    const front = await tlsFront(server, dir);
    const strict = await duckdbPlugin.create(config({ s3: { endpoint_url: front.endpoint, region: server.region } }), env);
    const lax = await duckdbPlugin.create(config({ s3: { endpoint_url: front.endpoint, region: server.region, verify_tls: false } }), env);
    try {
      const cities = views.cities.batchSource!;
      const request = (source: DataSource) =>
        pull({
          source,
          joinKeyColumns: ['city'],
          featureNameColumns: ['population'],
          createdTimestampColumn: '',
          startDate: null,
          endDate: null,
        });
      const error = await failure(strict.pullAllFromTableOrQuery(request(s3Source(cities)), callContext()));
      expect(error).to.be.instanceOf(FailedPreconditionError);
      expect(error.message).to.contain('not trusted').and.to.contain('verify_tls');
      same(
        await collect(await lax.pullAllFromTableOrQuery(request(s3Source(cities)), callContext())),
        await collect(await local.pullAllFromTableOrQuery(request(cities), callContext())),
      );
    } finally {
      await strict.close();
      await lax.close();
      await front.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an endpoint that fails midway through a pull_all: UNAVAILABLE, not a truncated result sent as complete', async () => {
    // Its own server, stopped while the pull streams. The output (6M rows, 144 MB) outgrows what
    // DuckDB computes ahead of its reader (streaming_buffer_size, 64 MB), so rows are still to be
    // fetched from S3 when it stops; the file is small (delta and dictionary encodings).
    const dying = await startS3Server();
    const dir = mkdtempSync(path.join(tmpdir(), 'larder-s3-midway-'));
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    let store: OfflineStore | undefined;
    try {
      const file = path.join(dir, 'big.parquet');
      const db = await DuckDBInstance.create(':memory:');
      const writer = await db.connect();
      await writer.run(
        `COPY (SELECT range AS id, TIMESTAMPTZ '2024-01-01' + INTERVAL (range) SECOND AS ts, (range % 10)::DOUBLE AS v FROM range(6000000)) ` +
          `TO '${file}' (FORMAT parquet, PARQUET_VERSION V2, ROW_GROUP_SIZE 122880)`,
      );
      writer.disconnectSync();
      db.closeSync();
      const client = s3Client(dying);
      try {
        await createBucket(client, 'midway');
        await putObject(client, 'midway', 'big.parquet', readFileSync(file));
      } finally {
        client.destroy();
      }
      process.env.AWS_ACCESS_KEY_ID = dying.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = dying.secretAccessKey;
      store = await duckdbPlugin.create(config({ s3: { endpoint_url: dying.endpoint, region: dying.region } }), env);
      const source = fileSource('big', 's3://midway/big.parquet', { createdTimestampColumn: '' });
      const result = await store.pullAllFromTableOrQuery(
        {
          source,
          joinKeyColumns: ['id'],
          featureNameColumns: ['v'],
          timestampField: 'ts',
          createdTimestampColumn: '',
          startDate: null,
          endDate: null,
        },
        callContext(),
      );
      let rows = 0;
      const drained = (async () => {
        for await (const batch of result.batches) {
          rows += batch.numRows;
          if (rows === batch.numRows) await dying.stop();
        }
      })();
      const error = await failure(drained);
      expect(rows).to.be.within(1, 5_999_999);
      expect(error).to.be.instanceOf(UnavailableError);
      expect(error.message).to.contain('Data source big').and.to.contain('of 6000000 rows');
    } finally {
      await store?.close();
      process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = saved;
      await dying.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreachable endpoint is UNAVAILABLE (which the Feast client retries)', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const store = await duckdbPlugin.create(config({ s3: { endpoint_url: closed, region: server.region } }), env);
    try {
      const request = pull({
        source: s3Source(views.cities.batchSource!),
        joinKeyColumns: ['city'],
        featureNameColumns: [],
        startDate: null,
        endDate: null,
      });
      const error = await failure(store.pullAllFromTableOrQuery(request, callContext()));
      expect(error).to.be.instanceOf(UnavailableError);
      expect(error.message).to.contain('Data source cities').and.to.contain('unavailable');
    } finally {
      await store.close();
    }
  });
});
