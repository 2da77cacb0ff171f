/**
 * The test S3 server (test/support/s3-server.ts, S3Proxy with the filesystem backend) is a real,
 * working S3 endpoint for the AWS SDK: it checks V4 signatures, serves ranged GETs, lists, and
 * answers conditional writes (If-None-Match / If-Match on PUT) the way S3 does, which the write
 * paths of the file and duckdb stores rely on; and stop() leaves nothing running or on disk.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createBucket, getObject, putObject, type S3Server, s3Client, startS3Server } from '../support/s3-server.ts';

/** Resolves true when something accepts a TCP connection on the port. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The HTTP status of the S3 error `promise` rejects with (fails the test when it resolves). */
async function failureStatus(promise: Promise<unknown>): Promise<{ status: number | undefined; name: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3ServiceException) return { status: error.$metadata.httpStatusCode, name: error.name };
    throw error;
  }
  throw new Error('expected the request to fail, it succeeded');
}

describe('test S3 server (S3Proxy, filesystem backend)', function () {
  this.timeout(90_000);
  let s3: S3Server | undefined;
  const server = () => {
    if (!s3) throw new Error('S3Proxy did not start (see the before hook)');
    return s3;
  };
  const bucket = 'larder-test';

  before(async () => {
    s3 = await startS3Server();
    const client = s3Client(s3);
    try {
      await createBucket(client, bucket);
    } finally {
      client.destroy();
    }
  });
  after(async () => {
    await s3?.stop();
  });

  it('stores an object and gives it back whole, with its ETag and size from HEAD', async () => {
    const client = s3Client(server());
    try {
      const etag = await putObject(client, bucket, 'dir/hello.txt', 'hello, object storage');
      expect(etag).to.match(/^"[0-9a-f]{32}"$/);
      expect(Buffer.from(await getObject(client, bucket, 'dir/hello.txt')).toString()).to.equal('hello, object storage');
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/hello.txt' }));
      expect(head.ContentLength).to.equal(21);
      expect(head.ETag).to.equal(etag);
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'dir/' }));
      expect(listed.Contents?.map((o) => o.Key)).to.deep.equal(['dir/hello.txt']);
    } finally {
      client.destroy();
    }
  });

  it('serves a ranged GET (206, only the bytes asked for) and honours If-Match on a GET', async () => {
    const client = s3Client(server());
    try {
      const body = Buffer.from('0123456789abcdefghij');
      const etag = await putObject(client, bucket, 'ranged.bin', body);
      const part = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', Range: 'bytes=5-9' }));
      expect(part.$metadata.httpStatusCode).to.equal(206);
      expect(part.ContentRange).to.equal('bytes 5-9/20');
      expect(Buffer.from(await part.Body!.transformToByteArray()).toString()).to.equal('56789');
      const matching = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', Range: 'bytes=0-1', IfMatch: etag }));
      expect(Buffer.from(await matching.Body!.transformToByteArray()).toString()).to.equal('01');
      const stale = await failureStatus(
        client.send(
          new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', Range: 'bytes=0-1', IfMatch: '"00000000000000000000000000000000"' }),
        ),
      );
      expect(stale.status).to.equal(412);
    } finally {
      client.destroy();
    }
  });

  it('refuses a conditional PUT with 412: If-None-Match: * on an existing key, If-Match with a wrong ETag', async () => {
    const client = s3Client(server());
    try {
      const etag = await putObject(client, bucket, 'conditional.txt', 'first');
      const exists = await failureStatus(
        client.send(new PutObjectCommand({ Bucket: bucket, Key: 'conditional.txt', Body: 'second', IfNoneMatch: '*' })),
      );
      expect(exists.status, 'If-None-Match: * on an existing key').to.equal(412);
      const wrong = await failureStatus(
        client.send(
          new PutObjectCommand({ Bucket: bucket, Key: 'conditional.txt', Body: 'third', IfMatch: '"00000000000000000000000000000000"' }),
        ),
      );
      expect(wrong.status, 'If-Match with a wrong ETag').to.equal(412);
      expect(Buffer.from(await getObject(client, bucket, 'conditional.txt')).toString(), 'neither refused PUT wrote').to.equal('first');
      // And the successful forms: a new key under If-None-Match: *, a replacement under the right If-Match.
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'conditional-new.txt', Body: 'new', IfNoneMatch: '*' }));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'conditional.txt', Body: 'fourth', IfMatch: etag }));
      expect(Buffer.from(await getObject(client, bucket, 'conditional.txt')).toString()).to.equal('fourth');
      expect(Buffer.from(await getObject(client, bucket, 'conditional-new.txt')).toString()).to.equal('new');
    } finally {
      client.destroy();
    }
  });

  it('refuses a request signed with the wrong secret (403) and names a missing key (404)', async () => {
    const wrongSecret = s3Client(server(), { secretAccessKey: 'not-the-secret' });
    const client = s3Client(server());
    try {
      const denied = await failureStatus(wrongSecret.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ranged.bin' })));
      expect(denied.status).to.equal(403);
      const missing = await failureStatus(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'no/such/key' })));
      expect(missing.status).to.equal(404);
      expect(missing.name).to.equal('NoSuchKey');
    } finally {
      wrongSecret.destroy();
      client.destroy();
    }
  });

  it('stop() kills the server and removes its directory', async () => {
    const other = await startS3Server();
    expect(await portOpen(other.port)).to.equal(true);
    await other.stop();
    expect(await portOpen(other.port)).to.equal(false);
    expect(existsSync(other.dir)).to.equal(false);
  });
});
