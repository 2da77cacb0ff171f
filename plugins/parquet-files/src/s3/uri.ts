/**
 * `s3://bucket/key` URIs as Feast's FileSource writes them. A URI names one object (a parquet
 * file) or, read as a prefix, a "directory" of objects; which one is decided by looking (HEAD,
 * then a listing), as pyarrow does, not by the URI's shape.
 */
import { InvalidArgumentError } from '@larder/core';

/** One bucket and a key (or key prefix) in it. */
export interface S3Ref {
  readonly bucket: string;
  /** The key without a leading `/`; may be empty (the whole bucket) or end with `/`. */
  readonly key: string;
}

/** True for `s3://…` (the only object-store scheme the file store reads; case-insensitive as Feast's). */
export function isS3Uri(uri: string): boolean {
  return /^s3:\/\//i.test(uri);
}

/** Splits `s3://bucket/key`; refuses a URI without a bucket. */
export function parseS3Uri(uri: string): S3Ref {
  const match = /^s3:\/\/([^/?#]+)\/*(.*)$/i.exec(uri);
  if (!match) throw new InvalidArgumentError(`"${uri}" is not an s3:// URI of the form s3://bucket/key`);
  return { bucket: match[1]!, key: match[2]! };
}

/** The URI of an object, for messages and for comparing locations. */
export function s3UriOf(ref: S3Ref): string {
  return `s3://${ref.bucket}/${ref.key}`;
}

/** The key prefix under which a "directory" key's objects are: the key with exactly one trailing `/` (empty for the bucket). */
export function directoryPrefix(key: string): string {
  const trimmed = key.replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/**
 * True when `inner` is `root` or lies under it at a `/` boundary: root `s3://b/data` holds
 * `s3://b/data/x.parquet` and `s3://b/data`, not `s3://b/database`.
 */
export function s3RefInside(inner: S3Ref, root: S3Ref): boolean {
  if (inner.bucket !== root.bucket) return false;
  const prefix = directoryPrefix(root.key);
  if (prefix === '') return true;
  const key = inner.key.replace(/\/+$/, '');
  return key === prefix.slice(0, -1) || key.startsWith(prefix);
}
