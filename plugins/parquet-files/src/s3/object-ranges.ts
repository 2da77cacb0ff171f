/**
 * An S3 object read by byte range, as the local path reads a file through an open handle
 * (../file-ranges.ts): the size and ETag are fixed when the object is opened (by a HEAD, or from
 * the listing that found it), and every ranged GET carries `If-Match: <etag>`, so an object
 * replaced while a call reads it fails the read (412 → UNAVAILABLE, the client retries) instead
 * of mixing bytes of two versions.
 */
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { BlobLike, FileRanges } from '../file-ranges.ts';
import type { S3Access } from './connector.ts';
import { s3Error } from './errors.ts';
import { RangeCache } from './range-cache.ts';
import { type S3Ref, s3UriOf } from './uri.ts';

/** What is known of one object's version. */
export interface S3ObjectVersion {
  readonly size: number;
  /** The ETag, quoted as S3 sends it. */
  readonly etag: string;
}

/** HEAD: the object's size and ETag (404 → DataSourceNotFoundException, 403 → permission error). */
export async function headObject(access: S3Access, ref: S3Ref, sourceName: string, signal?: AbortSignal): Promise<S3ObjectVersion> {
  const uri = s3UriOf(ref);
  try {
    const head = await access.limiter.run(() =>
      access.client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }), { abortSignal: signal }),
    );
    return { size: head.ContentLength ?? 0, etag: head.ETag ?? '' };
  } catch (error) {
    throw s3Error(error, { sourceName, uri, endpoint: access.endpoint, action: 's3:GetObject' });
  }
}

/**
 * Ranged reads of one version of `ref` (HEADed here unless `version` is given). `signal` (the
 * call's) aborts the requests in flight, so an abandoned call does not wait out a slow GET.
 */
export async function openObjectRanges(
  access: S3Access,
  ref: S3Ref,
  sourceName: string,
  version?: S3ObjectVersion,
  signal?: AbortSignal,
): Promise<FileRanges> {
  const { size, etag } = version ?? (await headObject(access, ref, sourceName, signal));
  const uri = s3UriOf(ref);
  /** Where the footer (metadata + length + `PAR1`) begins, once a read of the tail has told. */
  let footerFrom: number | undefined;
  /** A read that ends at the object's end ends with the footer's length (4 bytes LE) and `PAR1`. */
  const learnFooter = (bytes: Buffer, end: number) => {
    if (end === size && bytes.length >= 8) footerFrom = size - 8 - bytes.readUInt32LE(bytes.length - 8);
  };

  async function read(start: number, end: number): Promise<Buffer> {
    const last = Math.min(end, size);
    const length = Math.max(0, last - start);
    // allocUnsafeSlow: handed over as a whole ArrayBuffer (see file-ranges.ts), so not pooled.
    const out = Buffer.allocUnsafeSlow(length);
    if (length === 0) return out;
    const footerLike = RangeCache.footerLike(start, last, size, footerFrom);
    // Only with an ETag: without one, a replaced object could not be told apart.
    const cacheKey = access.cache && etag && footerLike ? RangeCache.key(access.endpoint, uri, etag, start, last) : undefined;
    const cached = cacheKey ? access.cache!.get(cacheKey) : undefined;
    if (cached) {
      cached.copy(out);
      learnFooter(out, last);
      return out;
    }
    try {
      const bytes = await access.limiter.run(async () => {
        const response = await access.client.send(
          new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, Range: `bytes=${start}-${last - 1}`, IfMatch: etag || undefined }),
          { abortSignal: signal },
        );
        if (!response.Body) throw new Error(`S3 sent no body for bytes ${start}-${last - 1} of ${uri}`);
        return response.Body.transformToByteArray();
      });
      if (bytes.byteLength !== length) {
        throw new Error(`S3 sent ${bytes.byteLength} bytes for bytes ${start}-${last - 1} of ${uri} (${length} expected)`);
      }
      out.set(bytes);
      if (cacheKey) access.cache!.set(cacheKey, Buffer.from(out));
      learnFooter(out, last);
      return out;
    } catch (error) {
      throw s3Error(error, { sourceName, uri, endpoint: access.endpoint, action: 's3:GetObject' });
    }
  }

  return {
    size,
    read,
    asBlob(): BlobLike {
      return {
        size,
        slice(start = 0, end = size) {
          return {
            size: Math.max(0, Math.min(end, size) - start),
            arrayBuffer: async () => (await read(start, end)).buffer as ArrayBuffer,
          };
        },
      };
    },
    // Nothing is held open between requests: the client's sockets belong to the connector.
    async close() {},
  };
}
