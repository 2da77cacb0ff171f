/**
 * The pure parts of the file store's S3 access (plugins/parquet-files/src/s3/): s3:// URIs, the
 * prefix a "directory" key is listed under, and the confinement of client-sent sources to the
 * `s3://` entries of larder.data_roots at a `/` boundary.
 */
import { expect } from 'chai';
import {
  assertEndpointAllowed,
  assertS3InsideRoots,
  directoryPrefix,
  isS3Uri,
  parseS3Uri,
  s3RefInside,
  s3Roots,
  s3SettingsFromConfig,
} from '../../plugins/parquet-files/src/s3/index.ts';

describe('parquet-files: s3:// URIs and data roots', () => {
  it('parses s3://bucket/key (extra slashes after the bucket dropped) and refuses a URI without a bucket', () => {
    expect(parseS3Uri('s3://b/dir/file.parquet')).to.deep.equal({ bucket: 'b', key: 'dir/file.parquet' });
    expect(parseS3Uri('S3://b//dir/')).to.deep.equal({ bucket: 'b', key: 'dir/' });
    expect(parseS3Uri('s3://b')).to.deep.equal({ bucket: 'b', key: '' });
    expect(() => parseS3Uri('s3:///key')).to.throw('s3://bucket/key');
    expect(isS3Uri('s3://b/k')).to.equal(true);
    expect(isS3Uri('gs://b/k')).to.equal(false);
    expect(isS3Uri('data/s3://x')).to.equal(false);
  });

  it('lists a directory key under exactly one trailing slash; the bucket under the empty prefix', () => {
    expect(directoryPrefix('dir')).to.equal('dir/');
    expect(directoryPrefix('dir//')).to.equal('dir/');
    expect(directoryPrefix('')).to.equal('');
  });

  it('a root holds its own key and keys below it, not siblings sharing its first letters', () => {
    const root = parseS3Uri('s3://b/data');
    expect(s3RefInside(parseS3Uri('s3://b/data'), root)).to.equal(true);
    expect(s3RefInside(parseS3Uri('s3://b/data/'), root)).to.equal(true);
    expect(s3RefInside(parseS3Uri('s3://b/data/x/y.parquet'), root)).to.equal(true);
    expect(s3RefInside(parseS3Uri('s3://b/database/y.parquet'), root)).to.equal(false);
    expect(s3RefInside(parseS3Uri('s3://c/data/y.parquet'), root)).to.equal(false);
    expect(s3RefInside(parseS3Uri('s3://b/anything'), parseS3Uri('s3://b'))).to.equal(true);
  });

  it('takes the s3:// entries of larder.data_roots, refusing one without a bucket by name', () => {
    expect(s3Roots(['/srv/data', 's3://b/p'])).to.deep.equal([{ bucket: 'b', key: 'p' }]);
    expect(() => s3Roots(['s3://'])).to.throw('larder.data_roots entry "s3://" names no bucket');
  });

  it('refuses a source outside the roots, and an endpoint override other than the store endpoint', () => {
    const roots = s3Roots(['s3://b/p']);
    expect(() => assertS3InsideRoots(parseS3Uri('s3://b/p/x'), roots, 'ok')).not.to.throw();
    expect(() => assertS3InsideRoots(parseS3Uri('s3://b/q/x'), roots, 'src')).to.throw('Data source src names s3://b/q/x');
    expect(() => assertS3InsideRoots(parseS3Uri('s3://b/p/../q/x'), roots, 'src')).to.throw('".." segment');
    expect(() => assertEndpointAllowed(undefined, 'http://minio:9000', 's')).not.to.throw();
    expect(() => assertEndpointAllowed('http://minio:9000', 'http://minio:9000', 's')).not.to.throw();
    expect(() => assertEndpointAllowed('http://evil:80', 'http://minio:9000', 's')).to.throw('s3_endpoint_override http://evil:80');
  });

  it('fills the s3 settings defaults', () => {
    expect(s3SettingsFromConfig(undefined)).to.deep.equal({
      endpointUrl: undefined,
      region: undefined,
      forcePathStyle: undefined,
      verifyTls: true,
      readConcurrency: 8,
      requestTimeoutMs: 30_000,
      footerCacheBytes: 32 * 1024 * 1024,
    });
    expect(s3SettingsFromConfig({ verify_tls: false, request_timeout_seconds: 2 })).to.include({
      verifyTls: false,
      requestTimeoutMs: 2000,
    });
  });
});
