/**
 * Where a FileSource's data lives. Feast's FileSource rules (`get_uri_for_file_path`): a URI with
 * both a scheme and a host (`s3://bucket/…`) is used as is — this pure-JS store reads local files
 * only, so such a URI is refused with a clear error; a relative path resolves against the feature
 * repo; an absolute path is used as is. `file://` is accepted as a courtesy (Feast mishandles it).
 */
import path from 'node:path';
import { InvalidArgumentError, type DataSource } from '@larder/core';

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
    throw new InvalidArgumentError(`The file store reads local files only; "${uri}" (${remote[1]}://) is not supported`);
  }
  return path.resolve(repoPath, uri);
}

/** The absolute path of a source's data, as Feast's file store resolves it. */
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
