/**
 * The file store against an HTTPS S3 endpoint with a self-signed certificate (S3Proxy with a
 * secure endpoint): by default the certificate is verified, and the call fails with
 * FAILED_PRECONDITION saying how to trust it (not UNAVAILABLE: a retry cannot help); with
 * `s3.verify_tls: false` the same source is read.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pino from 'pino';
import type { OfflineStore } from '../../core/src/store.ts';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import { fileSource } from '../support/feature-views.ts';
import { cityRows, random } from '../support/generated-data.ts';
import { callContext, collect, writeParquetFile } from '../support/parquet-fixtures.ts';
import { createBucket, putObject, type S3Server, s3Client, startS3Server } from '../support/s3-server.ts';

describe('file store: an s3:// source behind HTTPS with a self-signed certificate', function () {
  this.timeout(120_000);
  let s3: S3Server | undefined;
  let dir = '';
  const saved = { ...process.env };
  const source = fileSource('cities', 's3://tls-bucket/cities.parquet', { createdTimestampColumn: '' });
  const pullCities = (store: OfflineStore) =>
    store
      .pullAllFromTableOrQuery(
        {
          source,
          joinKeyColumns: ['city'],
          featureNameColumns: ['population'],
          timestampField: 'ts',
          createdTimestampColumn: '',
          startDate: null,
          endDate: null,
        },
        callContext(),
      )
      .then(collect);
  const storeWith = (s3Settings: Record<string, unknown>) =>
    parquetFilesPlugin.create(
      { type: 'file', s3: { endpoint_url: s3!.endpoint, region: s3!.region, ...s3Settings } },
      { repoPath: dir, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) },
    );

  before(async () => {
    s3 = await startS3Server({ tls: true });
    dir = mkdtempSync(path.join(tmpdir(), 'larder-s3-tls-'));
    writeParquetFile(path.join(dir, 'cities.parquet'), cityRows(random(5), 50));
    const client = s3Client(s3);
    try {
      await createBucket(client, 'tls-bucket');
      await putObject(client, 'tls-bucket', 'cities.parquet', readFileSync(path.join(dir, 'cities.parquet')));
    } finally {
      client.destroy();
    }
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });

  after(async () => {
    for (const key of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_CONFIG_FILE',
      'AWS_SHARED_CREDENTIALS_FILE',
      'AWS_EC2_METADATA_DISABLED',
    ]) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    await s3?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the certificate by default: FAILED_PRECONDITION naming the endpoint and the way out', async () => {
    const store = await storeWith({});
    try {
      let failure: (Error & { code?: number }) | undefined;
      await pullCities(store).catch((error: Error) => {
        failure = error;
      });
      expect(failure, 'the self-signed certificate was accepted').to.not.equal(undefined);
      expect(failure!.code).to.equal(status.FAILED_PRECONDITION);
      expect(failure!.message).to.include(s3!.endpoint).and.include('verify_tls').and.include('data source cities');
    } finally {
      await store.close();
    }
  });

  it('reads the source with verify_tls: false', async () => {
    const store = await storeWith({ verify_tls: false });
    try {
      expect((await pullCities(store)).numRows).to.equal(50);
    } finally {
      await store.close();
    }
  });
});
