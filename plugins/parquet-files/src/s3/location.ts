/**
 * Where an s3:// FileSource's data is: one object, or the objects under a prefix. The reading
 * code (../parquet-read.ts) takes either a local path or one of these.
 */
import { DataSourceNotFoundException } from '@larder/core';
import type { FileRanges } from '../file-ranges.ts';
import type { S3Access } from './connector.ts';
import { listObjects } from './list.ts';
import { headObject, openObjectRanges, type S3ObjectVersion } from './object-ranges.ts';
import { type S3Ref, s3UriOf } from './uri.ts';

export class S3Location {
  /** The listing, made once: a call reads the schema and the rows of the same objects. */
  private listing?: Promise<S3Location[]>;

  /**
   * @param ref the bucket and key (or prefix)
   * @param access the client for the source's endpoint
   * @param sourceName the data source's name, for error messages
   * @param version for an object found by a listing or HEAD: the version to read (no HEAD again)
   */
  constructor(
    readonly ref: S3Ref,
    readonly access: S3Access,
    readonly sourceName: string,
    readonly version?: S3ObjectVersion,
  ) {}

  /** `s3://bucket/key`. */
  get uri(): string {
    return s3UriOf(this.ref);
  }

  toString(): string {
    return this.uri;
  }

  /**
   * The parquet objects to read: the object itself when the key names one, else the objects under
   * it as a directory (list.ts); DataSourceNotFoundException when there are none. Listed once
   * per location (a location lives for one call).
   */
  files(): Promise<S3Location[]> {
    this.listing ??= this.list();
    return this.listing;
  }

  private async list(): Promise<S3Location[]> {
    if (this.version) return [this];
    const { ref, access, sourceName } = this;
    if (ref.key !== '' && !ref.key.endsWith('/')) {
      try {
        return [new S3Location(ref, access, sourceName, await headObject(access, ref, sourceName))];
      } catch (error) {
        // No object of that name: perhaps a directory.
        if (!(error instanceof DataSourceNotFoundException)) throw error;
      }
    }
    const listed = await listObjects(access, ref, sourceName);
    if (listed.length === 0) throw new DataSourceNotFoundException(this.uri);
    return listed.map((o) => new S3Location({ bucket: ref.bucket, key: o.key }, access, sourceName, o));
  }

  /** Ranged reads of this object (of the version a listing saw, when it came from one); `signal` aborts its requests. */
  open(signal?: AbortSignal): Promise<FileRanges> {
    return openObjectRanges(this.access, this.ref, this.sourceName, this.version, signal);
  }
}
