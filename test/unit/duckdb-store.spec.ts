/**
 * What only the duckdb store does: entity_df_sql in a read-only sandbox, its config section
 * (Feast's fields plus threads, memory_limit, temp_directory relative to the repo), and
 * interruption of a running query when the call is aborted.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Float64, Int64, TimeUnit, Timestamp } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import { validateSection } from '../../core/src/config/validate.ts';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import type { DataSource, FeatureView } from '../../core/src/registry/model.ts';
import type { CallContext, HistoricalFeaturesRequest, OfflineStore } from '../../core/src/store.ts';
import { fileSource } from '../support/feature-views.ts';
import { arrowTable, callContext, collect, micros, rows, writeParquetFile } from '../support/parquet-fixtures.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');

const source: DataSource = fileSource('stats', 'data/stats.parquet', { createdTimestampColumn: '' });
const fields = [{ name: 'rate', valueType: 6, tags: {} }];
const stats: FeatureView = {
  kind: 'featureView',
  name: 'stats',
  project: 'p',
  entities: ['driver'],
  features: fields,
  entityColumns: [{ name: 'driver_id', valueType: 4, tags: {} }],
  ttlSeconds: 0,
  batchSource: source,
  tags: {},
  projection: { name: 'stats', nameAlias: null, features: fields, joinKeyMap: {}, versionTag: null },
};

describe('duckdb store: entity_df_sql, config, interruption', () => {
  let repo: string;
  let store: OfflineStore;

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-duck-'));
    const n = 200_000;
    writeParquetFile(
      path.join(repo, 'data', 'stats.parquet'),
      arrowTable([
        ['driver_id', new Int64(), Array.from({ length: n }, (_, i) => BigInt(i % 1000))],
        ['ts', tsUtc, Array.from({ length: n }, (_, i) => micros(T0 + Math.floor(i / 1000) * H))],
        ['rate', new Float64(), Array.from({ length: n }, (_, i) => i / 2)],
      ]),
    );
    store = await duckdbPlugin.create(
      { type: 'duckdb', threads: 2, memory_limit: '1GB', temp_directory: 'spill' },
      { repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) },
    );
  });

  after(async () => {
    await store.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const request = (extra: Partial<HistoricalFeaturesRequest>): HistoricalFeaturesRequest => ({
    featureViews: [stats],
    featureRefs: ['stats:rate'],
    project: 'p',
    fullFeatureNames: false,
    ...extra,
  });

  it('creates temp_directory relative to the feature repo', () => {
    expect(existsSync(path.join(repo, 'spill'))).to.equal(true);
  });

  it("answers entity_df_sql that reads the repo's own files", async () => {
    const sql = `SELECT driver_id, ts + INTERVAL 30 MINUTE AS event_timestamp FROM '${path.join(repo, 'data', 'stats.parquet')}' WHERE driver_id = 7 AND ts < TIMESTAMPTZ '2024-01-01 03:00:00+00' ORDER BY ts`;
    const result = await collect(await store.getHistoricalFeatures(request({ entityDfSql: sql }), callContext()));
    expect(result.schema.fields.map((f) => f.name)).to.deep.equal(['driver_id', 'event_timestamp', 'rate']);
    expect(rows(result).map((r) => r.rate)).to.deep.equal([3.5, 503.5, 1003.5]);
  });

  it('refuses entity_df_sql that writes, and nothing is written', async () => {
    const target = path.join(repo, 'data', 'copied.csv');
    const attempts = [
      `COPY (SELECT 1 AS x) TO '${target}'`,
      'CREATE TABLE t AS SELECT 1 AS x',
      'SELECT 1 AS x; DROP TABLE t',
      'SET enable_external_access = true',
    ];
    for (const sql of attempts) {
      const error = await store.getHistoricalFeatures(request({ entityDfSql: sql }), callContext()).catch((e: Error) => e);
      expect(error, sql).to.be.instanceOf(InvalidArgumentError);
      expect((error as Error).message, sql).to.match(/^entity_df_sql must be (a read-only|exactly one) SELECT statement/);
    }
    expect(existsSync(target)).to.equal(false);
  });

  it('refuses entity_df_sql that reads outside the repo and data roots', async () => {
    const error = await store
      .getHistoricalFeatures(request({ entityDfSql: "SELECT * FROM read_csv('/etc/passwd')" }), callContext())
      .catch((e: Error) => e);
    expect(error).to.be.instanceOf(InvalidArgumentError);
    expect((error as Error).message).to.match(/entity_df_sql failed: .*\/etc\/passwd/);
  });

  it('interrupts a running query when the call is aborted, and keeps serving', async () => {
    const controller = new AbortController();
    const ctx: CallContext = { ...callContext(), signal: controller.signal };
    // A cross join large enough to run for a long time unless interrupted.
    const slow = 'SELECT a.driver_id, a.ts AS event_timestamp FROM data_big a, data_big b';
    const sql = slow.replaceAll('data_big', `'${path.join(repo, 'data', 'stats.parquet')}'`);
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('client went away')), 300);
    const error = await store.getHistoricalFeatures(request({ entityDfSql: sql }), ctx).catch((e: Error) => e);
    expect(error).to.be.instanceOf(Error);
    expect(Date.now() - started).to.be.below(10_000);
    const after = await collect(
      await store.getHistoricalFeatures(
        request({ entityDfSql: "SELECT 7::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp" }),
        callContext(),
      ),
    );
    expect(rows(after)[0]!.rate).to.equal(3.5);
  });

  it('validates its section of feature_store.yaml as Feast does, plus its own settings', () => {
    const check = (section: Record<string, unknown>) => {
      try {
        validateSection(duckdbPlugin.configSchema, section, 'feature_store.yaml', 'offline_store');
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(
      check({ type: 'duckdb', staging_location: 's3://bucket/staging', threads: 4, memory_limit: '4GB', temp_directory: 'tmp' }),
    ).to.equal('');
    expect(check({ type: 'duckdb', path: 'x.duckdb' })).to.match(/offline_store.*path/);
    expect(check({ type: 'duckdb', threads: 0 })).to.match(/offline_store\.threads/);
    expect(check({ type: 'duckdb', memory_limit: 'lots' })).to.match(/offline_store\.memory_limit/);
    expect(check({ type: 'duckdb', point_in_time_strategy: 'join' })).to.equal('');
    expect(check({ type: 'duckdb', point_in_time_strategy: 'window' })).to.match(/offline_store\.point_in_time_strategy/);
    // S3: the extension directory and the file store's s3 section.
    const s3 = { endpoint_url: 'http://minio:9000', region: 'eu-west-1', force_path_style: true, verify_tls: false };
    expect(check({ type: 'duckdb', extension_directory: 'duckdb-extensions', s3 })).to.equal('');
    expect(check({ type: 'duckdb', extension_directory: '' })).to.match(/offline_store\.extension_directory/);
    expect(check({ type: 'duckdb', s3: { endpoint_url: 'minio:9000' } })).to.match(/offline_store\.s3\.endpoint_url/);
    expect(check({ type: 'duckdb', s3: { access_key_id: 'AKIA' } })).to.match(/offline_store\.s3.*access_key_id/);
  });
});
