/**
 * The files a confined `entity_df_sql` may read: exactly the files of the data sources the
 * caller has READ_OFFLINE on, listed as the store lists them (one file, or every data file under
 * a directory, hidden and `_` files excepted). Directories themselves are not opened up, so a
 * glob over a source's directory is refused: a file dropped beside the data, or one the store
 * skips, stays unreadable. Sources that are not local FileSources, or whose data does not exist
 * yet, add nothing.
 */
import type { DataSource } from '@larder/core';
import { listParquetFiles, sourcePath } from '@larder/plugin-parquet-files/shared';
import type { FileScope } from './database.ts';

export async function readableScope(sources: readonly DataSource[], repoPath: string): Promise<FileScope> {
  const paths = new Set<string>();
  for (const source of sources) {
    let location: string;
    try {
      location = sourcePath(source, repoPath);
    } catch {
      continue; // not a local FileSource: it has no files here
    }
    const files = await listParquetFiles(location).catch(() => []);
    for (const file of files) paths.add(file);
  }
  return { paths: [...paths], directories: [] };
}
