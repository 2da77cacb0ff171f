/**
 * The `file` store over s3:// sources in a real S3-compatible server (S3Proxy, test/support/s3-server.ts):
 * the same parquet files uploaded to a bucket answer get_historical_features, pull_latest,
 * pull_all and column listing exactly as they do from local disk, for a single file, a directory
 * of files, and a hive-partitioned directory (with `_SUCCESS` and hidden objects skipped); and the
 * failures reach the client as Feast's errors: a missing object as DataSourceNotFoundException
 * (NOT_FOUND), a wrong secret as FeastPermissionError naming the source and the S3 permission, a
 * stopped server as UNAVAILABLE, an object replaced mid-read as UNAVAILABLE; a client-sent source
 * outside the `s3://` data roots, or aimed at another endpoint, is refused.
 *
 * Credentials reach the store only through the AWS SDK's default chain: the spec sets
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in this process's environment (and points the shared
 * config files at nothing), and restores it afterwards.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { Int64, type Table, Utf8 } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import type { DataSource, FeatureView } from '../../core/src/registry/model.ts';
import type { OfflineStore, PullRequest, StoreEnvironment } from '../../core/src/store.ts';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import { readRowGroups } from '../../plugins/parquet-files/src/parquet-read.ts';
import { openObjectRanges, S3Connector, S3Location, s3SettingsFromConfig } from '../../plugins/parquet-files/src/s3/index.ts';
import { featureView, fileSource } from '../support/feature-views.ts';
import { H_US, T0_US, TTL_S, cityRows, driverRows, entityRows, random, snapshot } from '../support/generated-data.ts';
import { arrowTable, callContext, collect, writeParquetFile } from '../support/parquet-fixtures.ts';
import { createBucket, putObject, type S3Server, s3Client, startS3Server } from '../support/s3-server.ts';
import { writeDifferentialData } from '../support/store-differential.ts';

const BUCKET = 'feast-data';
const PREFIX = 'repo';
const s3Uri = (relative: string) => `s3://${BUCKET}/${PREFIX}/${relative}`;

/** Every file below `dir`, as paths relative to it (hidden and `_` files included: the listing must skip them). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

/** The sources and views of the local repo, and the same over the uploaded copy in S3. */
function catalogue(where: (relative: string) => string) {
  const sources = {
    drivers: fileSource('drivers', where('drivers')),
    hive: fileSource('hive_drivers', where('hive_drivers')),
    cities: fileSource('cities', where('cities.parquet'), { createdTimestampColumn: '' }),
    globals: fileSource('globals', where('globals.parquet'), { createdTimestampColumn: '' }),
  };
  const views = {
    drivers: featureView('drivers', sources.drivers, ['driver_id'], ['rate', 'trips', 'name', 'flag'], TTL_S),
    other: featureView('drivers', sources.drivers, ['driver_id'], ['rate'], 0, {
      nameAlias: 'other',
      joinKeyMap: { driver_id: 'other_driver_id' },
    }),
    hive: featureView('hive_drivers', sources.hive, ['driver_id'], ['rate', 'name'], TTL_S),
    cities: featureView('cities', sources.cities, ['city'], ['population'], 0),
    global: featureView('global', sources.globals, [], ['total'], 6 * 3600),
  };
  return { sources, views };
}

/** The error `promise` rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: number; className?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: number; className?: string };
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** Sets environment variables for the duration of `work` (the SDK's chain reads them when a store first signs). */
async function withEnv<T>(values: Record<string, string | undefined>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, value] of Object.entries(v)) {
      if (value === undefined) delete process.env[k];
      else process.env[k] = value;
    }
  };
  apply(values);
  try {
    return await work();
  } finally {
    apply(saved);
  }
}

describe('file store: s3:// sources in a real S3-compatible server', function () {
  this.timeout(120_000);
  let s3: S3Server | undefined;
  let repo = '';
  let localStore: OfflineStore | undefined;
  let s3Store: OfflineStore | undefined;
  const local = catalogue((relative) => relative);
  const remote = catalogue(s3Uri);
  const rand = random(2026_12_07);
  const server = () => {
    if (!s3) throw new Error('S3Proxy did not start (see the before hook)');
    return s3;
  };
  /** The environment the SDK's default chain finds the test server's key pair in (and nothing else). */
  const credentialsEnv = () => ({
    AWS_ACCESS_KEY_ID: server().accessKeyId,
    AWS_SECRET_ACCESS_KEY: server().secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: path.join(repo, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(repo, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  const storeConfig = (extra: Record<string, unknown> = {}) => ({
    type: 'file',
    s3: { endpoint_url: server().endpoint, region: server().region, ...extra },
  });
  const env = (dataRoots: string[]): StoreEnvironment => ({ repoPath: repo, dataRoots, repoConfig: {}, logger: pino({ level: 'silent' }) });
  /** The same call on the local store over local views and on the S3 store over S3 views; the tables must be equal. */
  async function same(call: (store: OfflineStore, c: ReturnType<typeof catalogue>) => Promise<Table>): Promise<Table> {
    const expected = await call(localStore!, local);
    const actual = await withEnv(credentialsEnv(), () => call(s3Store!, remote));
    expect(expected.numRows).to.be.greaterThan(0);
    const [e, a] = [snapshot(expected), snapshot(actual)];
    expect(a.schema).to.deep.equal(e.schema);
    expect(a.rows.length).to.equal(e.rows.length);
    a.rows.forEach((row, i) => expect(row, `row ${i}`).to.equal(e.rows[i]));
    return actual;
  }

  before(async () => {
    s3 = await startS3Server();
    repo = mkdtempSync(path.join(tmpdir(), 'larder-s3-repo-'));
    writeDifferentialData(repo, rand);
    // A hive-partitioned directory, with a marker and a hidden file that reading must skip.
    writeParquetFile(path.join(repo, 'hive_drivers', 'day=0', 'part-0.parquet'), driverRows(rand, 1500));
    writeParquetFile(path.join(repo, 'hive_drivers', 'day=1', 'part-0.parquet'), driverRows(rand, 1500));
    writeParquetFile(path.join(repo, 'hive_drivers', 'day=10', 'part-0.parquet'), driverRows(rand, 500));
    for (const junk of ['_SUCCESS', '.hidden', 'day=1/_committed', 'day=1/.part-0.parquet.crc', '_temporary/0/part-9.parquet']) {
      const file = path.join(repo, 'hive_drivers', junk);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, 'not parquet');
    }
    const client = s3Client(server());
    try {
      await createBucket(client, BUCKET);
      for (const relative of filesUnder(repo)) {
        await putObject(client, BUCKET, `${PREFIX}/${relative}`, readFileSync(path.join(repo, relative)));
      }
    } finally {
      client.destroy();
    }
    localStore = await parquetFilesPlugin.create({ type: 'file' }, env([]));
    s3Store = await parquetFilesPlugin.create(storeConfig(), env([`s3://${BUCKET}/${PREFIX}`]));
  });

  after(async () => {
    await localStore?.close();
    await s3Store?.close();
    await s3?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  const historical = (views: FeatureView[], refs: string[]) => (store: OfflineStore) =>
    store
      .getHistoricalFeatures(
        { featureViews: views, featureRefs: refs, project: 'p', fullFeatureNames: true, entityTable: entityRows(random(7), 3000) },
        callContext(),
      )
      .then(collect);

  it('get_historical_features: a directory, an alias, a single file, an entityless view — as from local disk', async () => {
    const result = await same((store, c) =>
      historical(
        [c.views.drivers, c.views.other, c.views.cities, c.views.global],
        ['drivers:rate', 'drivers:trips', 'drivers:name', 'drivers:flag', 'other:rate', 'cities:population', 'global:total'],
      )(store),
    );
    const rates = result.getChild('drivers__rate')!;
    expect(rates.nullCount, 'matches and misses alike').to.be.within(1, rates.length - 1);
  });

  it('get_historical_features over a hive-partitioned directory (markers and hidden objects skipped) — as from local disk', async () => {
    const result = await same((store, c) => historical([c.views.hive], ['hive_drivers:rate', 'hive_drivers:name'])(store));
    expect(result.getChild('hive_drivers__rate')!.nullCount).to.be.lessThan(result.numRows);
  });

  it('get_historical_features in the start/end-date mode — as from local disk', async () => {
    await same((store, c) =>
      store
        .getHistoricalFeatures(
          {
            featureViews: [c.views.drivers],
            featureRefs: ['drivers:rate', 'drivers:name'],
            project: 'p',
            fullFeatureNames: false,
            startDate: new Date(Number((T0_US + 2n * H_US) / 1000n)),
            endDate: new Date(Number((T0_US + 30n * H_US) / 1000n)),
          },
          callContext(),
        )
        .then(collect),
    );
  });

  const pullOf = (source: DataSource, extra: Partial<PullRequest> = {}): PullRequest => ({
    source,
    joinKeyColumns: ['driver_id'],
    featureNameColumns: ['rate', 'name', 'flag'],
    timestampField: 'ts',
    createdTimestampColumn: 'created',
    startDate: new Date(Number((T0_US + 5n * H_US) / 1000n)),
    endDate: new Date(Number((T0_US + 40n * H_US) / 1000n)),
    ...extra,
  });

  it('pull_latest and pull_all over a directory and a hive-partitioned directory — as from local disk', async () => {
    for (const which of ['drivers', 'hive'] as const) {
      await same((store, c) => store.pullLatestFromTableOrQuery(pullOf(c.sources[which]), callContext()).then(collect));
      await same((store, c) => store.pullAllFromTableOrQuery(pullOf(c.sources[which]), callContext()).then(collect));
    }
    await same((store, c) =>
      store.pullAllFromTableOrQuery(pullOf(c.sources.drivers, { startDate: null, endDate: null }), callContext()).then(collect),
    );
  });

  it('lists a source’s columns and validates it, as from local disk', async () => {
    for (const which of ['drivers', 'cities', 'hive'] as const) {
      const expected = await localStore!.getTableColumnNamesAndTypes(local.sources[which], callContext());
      const actual = await withEnv(credentialsEnv(), () => s3Store!.getTableColumnNamesAndTypes(remote.sources[which], callContext()));
      expect(actual, which).to.deep.equal(expected);
    }
    await withEnv(credentialsEnv(), () => s3Store!.validateDataSource(remote.sources.drivers, callContext()));
  });

  it('a missing object or prefix is DataSourceNotFoundException (NOT_FOUND) naming it', async () => {
    const missing = fileSource('gone', s3Uri('no/such/data.parquet'));
    const error = await failure(withEnv(credentialsEnv(), () => s3Store!.pullAllFromTableOrQuery(pullOf(missing), callContext())));
    expect(error.className).to.equal('DataSourceNotFoundException');
    expect(error.code).to.equal(status.NOT_FOUND);
    expect(error.message).to.include(s3Uri('no/such/data.parquet'));
  });

  it('a wrong secret is FeastPermissionError (PERMISSION_DENIED) naming the source and the permission', async () => {
    const store = await parquetFilesPlugin.create(storeConfig(), env([]));
    try {
      const error = await failure(
        withEnv({ ...credentialsEnv(), AWS_SECRET_ACCESS_KEY: 'not-the-secret' }, () =>
          store.pullAllFromTableOrQuery(pullOf(remote.sources.drivers), callContext()),
        ),
      );
      expect(error.className).to.equal('FeastPermissionError');
      expect(error.code).to.equal(status.PERMISSION_DENIED);
      expect(error.message).to.include('data source drivers').and.include(s3Uri('drivers')).and.include('s3:GetObject');
    } finally {
      await store.close();
    }
  });

  it('a stopped S3 server is UNAVAILABLE, naming the endpoint', async () => {
    const other = await startS3Server();
    const client = s3Client(other);
    await createBucket(client, BUCKET);
    await putObject(client, BUCKET, 'repo/cities.parquet', readFileSync(path.join(repo, 'cities.parquet')));
    client.destroy();
    const store = await parquetFilesPlugin.create(
      { type: 'file', s3: { endpoint_url: other.endpoint, region: other.region, request_timeout_seconds: 5 } },
      env([]),
    );
    try {
      const creds = { ...credentialsEnv(), AWS_ACCESS_KEY_ID: other.accessKeyId, AWS_SECRET_ACCESS_KEY: other.secretAccessKey };
      const pullCities = () =>
        store
          .pullAllFromTableOrQuery(
            pullOf(remote.sources.cities, { joinKeyColumns: ['city'], featureNameColumns: ['population'], createdTimestampColumn: '' }),
            callContext(),
          )
          .then(collect);
      expect((await withEnv(creds, pullCities)).numRows, 'it answered while the server ran').to.be.greaterThan(0);
      await other.stop();
      const error = await failure(withEnv(creds, pullCities));
      expect(error.code).to.equal(status.UNAVAILABLE);
      expect(error.message).to.include(other.endpoint).and.include('ECONNREFUSED');
    } finally {
      await store.close();
      await other.stop();
    }
  });

  it('an object replaced while it is read fails the read as UNAVAILABLE (If-Match on every ranged GET)', async () => {
    const connector = new S3Connector(s3SettingsFromConfig({ endpoint_url: server().endpoint, region: server().region }));
    const client = s3Client(server());
    try {
      await putObject(client, BUCKET, 'scratch/replaced.bin', 'version one, long enough');
      const ranges = await withEnv(credentialsEnv(), () =>
        openObjectRanges(connector.access(), { bucket: BUCKET, key: 'scratch/replaced.bin' }, 'replaced'),
      );
      expect((await withEnv(credentialsEnv(), () => ranges.read(0, 7))).toString()).to.equal('version');
      await putObject(client, BUCKET, 'scratch/replaced.bin', 'version two, long enough!');
      const error = await failure(withEnv(credentialsEnv(), () => ranges.read(8, 11)));
      expect(error.code).to.equal(status.UNAVAILABLE);
      expect(error.message).to.include('was replaced while it was being read');
    } finally {
      client.destroy();
      connector.close();
    }
  });

  it("the call's signal aborts its S3 requests (an abandoned call does not wait out a slow GET)", async () => {
    const connector = new S3Connector(
      s3SettingsFromConfig({ endpoint_url: server().endpoint, region: server().region, footer_cache_mb: 0 }),
    );
    try {
      const controller = new AbortController();
      const ranges = await withEnv(credentialsEnv(), () =>
        openObjectRanges(connector.access(), { bucket: BUCKET, key: `${PREFIX}/cities.parquet` }, 'cities', undefined, controller.signal),
      );
      expect((await withEnv(credentialsEnv(), () => ranges.read(0, 4))).toString()).to.equal('PAR1');
      controller.abort();
      const error = await failure(withEnv(credentialsEnv(), () => ranges.read(0, 4)));
      expect(error.name).to.equal('AbortError');
    } finally {
      connector.close();
    }
  });

  it('reads only the bytes a projection needs: one narrow column of a wide object by ranged GETs, not the object', async () => {
    const rowCount = 50_000;
    const wide = arrowTable([
      ['id', new Int64(), Array.from({ length: rowCount }, (_, i) => BigInt(i))],
      // Incompressible-ish text, so the column is most of the object.
      ['payload', new Utf8(), Array.from({ length: rowCount }, (_, i) => `${i}:${Math.sin(i).toString(36).repeat(6)}`)],
    ]);
    const file = path.join(repo, 'wide.parquet');
    writeParquetFile(file, wide);
    const body = readFileSync(file);
    const client = s3Client(server());
    await putObject(client, BUCKET, 'scratch/wide.parquet', body);
    client.destroy();
    const connector = new S3Connector(s3SettingsFromConfig({ endpoint_url: server().endpoint, region: server().region }));
    const access = connector.access();
    let fetched = 0;
    let gets = 0;
    access.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'GetObjectCommand') {
          gets++;
          fetched += Number((result.response as { headers: Record<string, string> }).headers['content-length'] ?? 0);
        }
        return result;
      },
      { step: 'deserialize', name: 'countFetchedBytes' },
    );
    try {
      let ids = 0n;
      await withEnv(credentialsEnv(), async () => {
        for await (const table of readRowGroups(new S3Location({ bucket: BUCKET, key: 'scratch/wide.parquet' }, access, 'wide'), ['id'])) {
          expect(table.schema.fields.map((f) => f.name)).to.deep.equal(['id']);
          for (const id of table.getChild('id')!) ids += id as bigint;
        }
      });
      expect(ids, 'every row read').to.equal(BigInt((rowCount * (rowCount - 1)) / 2));
      expect(gets, 'ranged GETs were made').to.be.greaterThan(0);
      expect(fetched, `fetched ${fetched} of ${body.length} bytes in ${gets} GETs`).to.be.lessThan(body.length / 4);
    } finally {
      connector.close();
    }
  });

  it('opens an object version once: footers come from the ETag-keyed cache on the next call, a replaced object is read afresh', async () => {
    const client = s3Client(server());
    await putObject(client, BUCKET, 'scratch/cached.parquet', readFileSync(path.join(repo, 'cities.parquet')));
    const connector = new S3Connector(s3SettingsFromConfig({ endpoint_url: server().endpoint, region: server().region }));
    const access = connector.access();
    let gets = 0;
    access.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetObjectCommand') gets++;
        return next(args);
      },
      { step: 'initialize', name: 'countGets' },
    );
    /** Every population of the object, and the GETs it took; a new S3Location per pass, as per call. */
    const pass = async () => {
      const before = gets;
      const values: unknown[] = [];
      await withEnv(credentialsEnv(), async () => {
        const location = new S3Location({ bucket: BUCKET, key: 'scratch/cached.parquet' }, access, 'cached');
        for await (const table of readRowGroups(location, ['population'])) values.push(...table.getChild('population')!.toArray());
      });
      return { values, gets: gets - before };
    };
    try {
      const first = await pass();
      const second = await pass();
      expect(second.values).to.deep.equal(first.values);
      // The footer (the PAR1 probe, the tail, the metadata) comes from the cache; the column chunk does not.
      expect(second.gets, `first pass ${first.gets} GETs`).to.be.within(1, first.gets - 3);
      // Replaced (other rows, so another footer): nothing of the old version is served.
      writeParquetFile(path.join(repo, 'cached-2.parquet'), cityRows(random(99), 40));
      await putObject(client, BUCKET, 'scratch/cached.parquet', readFileSync(path.join(repo, 'cached-2.parquet')));
      const third = await pass();
      expect(third.values).to.have.length(40);
      expect(third.gets).to.equal(first.gets);
    } finally {
      client.destroy();
      connector.close();
    }
  });

  it('a client-sent source naming the S3 data of a source the caller may not read is refused (READ_OFFLINE)', async () => {
    const probe = fileSource('probe', s3Uri('cities.parquet'), { createdTimestampColumn: '' });
    const error = await failure(
      withEnv(credentialsEnv(), () =>
        s3Store!.getTableColumnNamesAndTypes(probe, { ...callContext(), sourceAccess: { readable: [], denied: [remote.sources.cities] } }),
      ),
    );
    expect(error.className).to.equal('FeastPermissionError');
    expect(error.message).to.include('data source cities').and.include(s3Uri('cities.parquet'));
    // The same object is readable when a source the caller may read holds it too.
    const columns = await withEnv(credentialsEnv(), () =>
      s3Store!.getTableColumnNamesAndTypes(probe, {
        ...callContext(),
        sourceAccess: { readable: [remote.sources.cities], denied: [remote.sources.cities] },
      }),
    );
    expect(columns.map((c) => c.name)).to.include('population');
  });

  it('refuses a client-sent source outside the s3:// data roots or aimed at another endpoint, before any request', async () => {
    const outside = [
      fileSource('elsewhere', `s3://${BUCKET}/other/cities.parquet`),
      // A sibling whose name starts like the root is not under it.
      fileSource('sibling', `s3://${BUCKET}/${PREFIX}sitory/cities.parquet`),
      fileSource('other_bucket', `s3://another-bucket/${PREFIX}/cities.parquet`),
    ];
    for (const source of outside) {
      const error = await failure(withEnv(credentialsEnv(), () => s3Store!.getTableColumnNamesAndTypes(source, callContext())));
      expect(error.code, source.name).to.equal(status.INVALID_ARGUMENT);
      expect(error.message, source.name).to.include(`Data source ${source.name}`).and.include('larder.data_roots');
    }
    const elsewhere = fileSource('redirected', s3Uri('cities.parquet'));
    const redirected = {
      ...elsewhere,
      fileOptions: { ...elsewhere.fileOptions!, s3EndpointOverride: 'http://169.254.169.254' },
    };
    const error = await failure(withEnv(credentialsEnv(), () => s3Store!.validateDataSource(redirected, callContext())));
    expect(error.code).to.equal(status.INVALID_ARGUMENT);
    expect(error.message).to.include('s3_endpoint_override http://169.254.169.254');
    // The local store (no s3:// data roots) refuses every s3:// source a client sends.
    const none = await failure(localStore!.getTableColumnNamesAndTypes(remote.sources.cities, callContext()));
    expect(none.message).to.include('none configured');
  });
});
