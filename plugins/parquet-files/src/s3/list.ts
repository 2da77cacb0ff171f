/**
 * The objects of an S3 "directory" (a key prefix), as the local path lists a directory
 * (listParquetFiles in ../parquet-read.ts, after pyarrow's dataset discovery): every object
 * below it at any depth (so hive partitions such as `date=2024-01-01/part-0.parquet` are found),
 * in name order path segment by path segment, skipping any whose path below the prefix has a
 * segment starting with `.` or `_` (`_SUCCESS`, `_delta_log/`, `.hidden`), and skipping the
 * zero-byte "folder" markers some tools write (keys ending in `/`).
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Access } from './connector.ts';
import { s3Error } from './errors.ts';
import type { S3ObjectVersion } from './object-ranges.ts';
import { directoryPrefix, type S3Ref, s3UriOf } from './uri.ts';

/** One listed object: its key and the version the listing saw. */
export interface S3ListedObject extends S3ObjectVersion {
  readonly key: string;
}

/** Compares paths segment by segment, as a recursive walk of sorted directories visits them. */
function bySegments(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = a[i]!.localeCompare(b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/** The data objects under `ref` taken as a directory, in reading order (empty when there are none). */
export async function listObjects(access: S3Access, ref: S3Ref, sourceName: string): Promise<S3ListedObject[]> {
  const prefix = directoryPrefix(ref.key);
  const found: Array<{ object: S3ListedObject; segments: string[] }> = [];
  let token: string | undefined;
  try {
    do {
      const page = await access.limiter.run(() =>
        access.client.send(new ListObjectsV2Command({ Bucket: ref.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const entry of page.Contents ?? []) {
        const key = entry.Key;
        if (!key || key.endsWith('/')) continue;
        const segments = key.slice(prefix.length).split('/');
        if (segments.some((s) => s.startsWith('.') || s.startsWith('_') || s === '')) continue;
        found.push({ object: { key, size: entry.Size ?? 0, etag: entry.ETag ?? '' }, segments });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    throw s3Error(error, {
      sourceName,
      uri: s3UriOf({ bucket: ref.bucket, key: prefix }),
      endpoint: access.endpoint,
      action: 's3:ListBucket',
    });
  }
  return found.sort((a, b) => bySegments(a.segments, b.segments)).map((f) => f.object);
}
