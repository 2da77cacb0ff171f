/**
 * Where a FileSource's data lives. Feast's FileSource rules (`get_uri_for_file_path`): a URI with
 * both a scheme and a host (`s3://bucket/…`) is used as is — `s3://` is read through the AWS SDK
 * (./s3/), any other scheme is refused with a clear error; a relative path resolves against the
 * feature repo; an absolute path is used as is. `file://` is accepted as a courtesy (Feast
 * mishandles it).
 */
import path from 'node:path';
import { InvalidArgumentError, type DataSource } from '@larder/core';
import { isS3Uri, type S3Connector, S3Location, parseS3Uri } from './s3/index.ts';

export function sourceUri(source: DataSource): string {
  const uri = source.fileOptions?.uri;
  if (source.type !== 'BATCH_FILE' || !uri) {
    throw new InvalidArgumentError(
      `Data source "${source.name}" is not a FileSource with a path (type ${source.type}); the file store reads parquet FileSources only`,
    );
  }
  return uri;
}

export function resolveSourcePath(uri: string, repoPath: string): string {
  if (uri.startsWith('file://')) return path.resolve(repoPath, uri.slice('file://'.length));
  const remote = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)/i.exec(uri);
  if (remote && remote[1]!.length > 1) {
    throw new InvalidArgumentError(
      isS3Uri(uri)
        ? `"${uri}" is in S3, and this operation takes local paths only: writing to s3:// is not supported yet`
        : `"${uri}" cannot be read: ${remote[1]}:// is not supported (local paths and s3:// are)`,
    );
  }
  return path.resolve(repoPath, uri);
}

/** A source's data: a local path (a file or a directory), or an S3 object or prefix. */
export type SourceLocation = string | S3Location;

/** The location's path or s3:// URI, for messages. */
export function locationName(location: SourceLocation): string {
  return typeof location === 'string' ? location : location.uri;
}

/** Equal for two locations of the same data (same endpoint and object or prefix; same path). */
export function locationKey(location: SourceLocation): string {
  return typeof location === 'string' ? location : `${location.access.endpoint} ${location.uri}`;
}

/**
 * Resolves sources to locations for one store: relative paths against the feature repo, s3://
 * URIs to objects read through the store's S3 clients (with the source's `s3_endpoint_override`).
 */
export class SourceLocator {
  constructor(
    readonly repoPath: string,
    readonly s3?: S3Connector,
  ) {}

  locate(source: DataSource): SourceLocation {
    const uri = sourceUri(source);
    if (!isS3Uri(uri)) return resolveSourcePath(uri, this.repoPath);
    if (!this.s3) throw new InvalidArgumentError(`Data source ${source.name} is in S3 (${uri}); this store reads local files only`);
    const override = source.fileOptions?.s3EndpointOverride || undefined;
    return new S3Location(parseS3Uri(uri), this.s3.access(override), source.name);
  }
}

/** The absolute path of a source's data, as Feast's file store resolves it (local sources only). */
export function sourcePath(source: DataSource, repoPath: string): string {
  return resolveSourcePath(sourceUri(source), repoPath);
}

/**
 * A data source a client sends (validate_data_source, column listing during `feast apply`) may
 * only name files under the feature repo or a configured data root: otherwise any client could
 * probe the server's file system.
 */
export function assertInsideRoots(file: string, roots: readonly string[]): void {
  const inside = roots.some((root) => {
    const relative = path.relative(path.resolve(root), file);
    return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
  });
  if (!inside) {
    throw new InvalidArgumentError(
      `The data source path ${file} is outside the feature repo and larder.data_roots; the server does not read it`,
    );
  }
}
