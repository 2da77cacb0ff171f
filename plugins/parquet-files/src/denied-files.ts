/**
 * A data source a client sends (column listing, validate_data_source) carries a name of its own
 * choosing, and READ_OFFLINE is checked on that name: a source called `driver_probe` could point
 * at the file of a source the caller may not read and list its columns. Under an auth provider
 * (`ctx.sourceAccess`), such a source may not name a file that holds a denied source's data —
 * unless a source the caller may read holds it too. Paths are compared after `..` and symbolic
 * links are resolved; S3 objects are compared by bucket and key, whatever the endpoint (a stricter
 * rule than needed, never a looser one). A file no registered source names (a source being
 * applied) is allowed.
 */
import { realpath } from 'node:fs/promises';
import { FeastPermissionError, type DataSource, type SourceAccess } from '@larder/core';
import { listSourceFiles } from './parquet-read.ts';
import { type SourceLocation, SourceLocator } from './source-paths.ts';

/**
 * @param places the store's SourceLocator, or the feature repo's path (then registered s3:// sources are not checked)
 */
export async function assertNotDeniedFiles(
  source: DataSource,
  location: SourceLocation,
  access: SourceAccess,
  places: string | SourceLocator,
): Promise<void> {
  const locator = typeof places === 'string' ? new SourceLocator(places) : places;
  const wanted = await realFiles(location);
  if (wanted.length === 0) return;
  const readable = new Set((await Promise.all(access.readable.map((s) => filesOfSource(s, locator)))).flat());
  for (const denied of access.denied) {
    const files = new Set(await filesOfSource(denied, locator));
    const hit = wanted.find((file) => files.has(file) && !readable.has(file));
    if (hit) {
      throw new FeastPermissionError(
        `Data source ${source.name} names ${hit}, which holds the data of data source ${denied.name}; you may not read it (READ_OFFLINE)`,
      );
    }
  }
}

/** A registered source's files, resolved; none for a source that is not a local FileSource or has no data yet. */
async function filesOfSource(source: DataSource, locator: SourceLocator): Promise<string[]> {
  let location: SourceLocation;
  try {
    location = locator.locate(source);
  } catch {
    return [];
  }
  return realFiles(location);
}

async function realFiles(location: SourceLocation): Promise<string[]> {
  const files = await listSourceFiles(location).catch(() => []);
  return Promise.all(files.map((f) => (typeof f === 'string' ? realpath(f).catch(() => f) : f.uri)));
}
