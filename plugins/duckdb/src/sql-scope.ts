/**
 * The files a confined `entity_df_sql` may read: those of the data sources the caller has
 * READ_OFFLINE on, resolved as the store resolves FileSource paths (a file, or a directory and
 * everything under it). Sources that are not local FileSources, or whose data does not exist
 * yet, add nothing.
 */
import { stat } from 'node:fs/promises';
import type { DataSource } from '@larder/core';
import { sourcePath } from '@larder/plugin-parquet-files/shared';
import type { FileScope } from './database.ts';

export async function readableScope(sources: readonly DataSource[], repoPath: string): Promise<FileScope> {
  const paths = new Set<string>();
  const directories = new Set<string>();
  for (const source of sources) {
    let location: string;
    try {
      location = sourcePath(source, repoPath);
    } catch {
      continue; // not a local FileSource: it has no files here
    }
    const info = await stat(location).catch(() => null);
    if (info?.isFile()) paths.add(location);
    else if (info?.isDirectory()) directories.add(location);
  }
  return { paths: [...paths], directories: [...directories] };
}
