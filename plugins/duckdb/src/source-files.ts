/**
 * Where a FileSource's parquet files are: local paths (resolved and listed as the file store does)
 * or `s3://` URIs, listed through DuckDB's httpfs so that DuckDB reads them with the same
 * credentials and endpoint. Both list the same way: one file, or every file under a directory
 * (recursively, in name order, hidden and `_`-prefixed names skipped), so a source answers the
 * same from S3 as from disk.
 */
import type { DataSource } from '@larder/core';
import { listParquetFiles, sourcePath, sourceUri } from '@larder/plugin-parquet-files/shared';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { S3Access } from './s3-access.ts';
import { s3Failure } from './s3-errors.ts';
import { str } from './sql.ts';

/** A source's location (an absolute path or an s3:// URI) and its files, in reading order. */
export interface SourceLocation {
  readonly location: string;
  readonly files: readonly string[];
  /** True when the files are in S3 (errors reading them go through s3Failure). */
  readonly remote: boolean;
}

/** True for `s3://…` (case-insensitive, as Feast's). */
export function isS3Uri(uri: string): boolean {
  return /^s3:\/\//i.test(uri);
}

/** The source's URI as written when it is in S3; `undefined` for a local source. */
export function s3UriOf(source: DataSource): string | undefined {
  const uri = source.fileOptions?.uri;
  return source.type === 'BATCH_FILE' && uri && isS3Uri(uri) ? uri : undefined;
}

export class SourceFiles {
  constructor(
    readonly repoPath: string,
    private readonly s3: S3Access,
  ) {}

  /** Where `source` is, without listing it (the path or URI a client-sent source is checked by). */
  location(source: DataSource): string {
    return s3UriOf(source) ?? sourcePath(source, this.repoPath);
  }

  /** The source's files; DataSourceNotFoundException when there are none. */
  async list(connection: DuckDBConnection, source: DataSource): Promise<SourceLocation> {
    const uri = s3UriOf(source) ?? sourceUri(source);
    if (!isS3Uri(uri)) {
      const location = sourcePath(source, this.repoPath);
      return { location, files: await listParquetFiles(location), remote: false };
    }
    await this.s3.prepare(connection, source, uri);
    return { location: uri, files: await this.listS3(connection, source, uri), remote: true };
  }

  /**
   * The objects under `uri` read as a directory, or else `uri` itself as one file (whose absence
   * the first read reports as DataSourceNotFoundException).
   */
  private async listS3(connection: DuckDBConnection, source: DataSource, uri: string): Promise<string[]> {
    const base = uri.replace(/\/+$/, '');
    let listed: string[];
    try {
      const result = await connection.runAndReadAll(`SELECT file FROM glob(${str(`${base}/**`)})`);
      listed = result.getRows().map((row) => String(row[0]));
    } catch (error) {
      throw s3Failure(error, source, uri) ?? error;
    }
    const files = listed
      .map((file) => ({ file, parts: file.slice(base.length + 1).split('/') }))
      .filter(({ parts }) => parts.every((p) => p !== '' && !p.startsWith('.') && !p.startsWith('_')))
      .sort((a, b) => compareParts(a.parts, b.parts))
      .map(({ file }) => file);
    return files.length > 0 ? files : [base];
  }
}

/** Path order of the local listing: component by component, each in localeCompare order. */
function compareParts(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = a[i]!.localeCompare(b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}
