/**
 * The rules for a data source a client sends (column listing and validate_data_source during
 * `feast apply`), which the server did not define and must not trust:
 * - it may only name files under the feature repo or `larder.data_roots`, or any client could
 *   probe the server's file system;
 * - under an auth provider (`ctx.sourceAccess`), it may not name the files of a source the caller
 *   lacks READ_OFFLINE on (unless a source the caller may read holds them too): READ_OFFLINE is
 *   checked on the name the client chose, not on the files it points at.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { FeastPermissionError, InvalidArgumentError, type CallContext, type DataSource, type StoreEnvironment } from '@larder/core';
import { parquetFiles, sourceLocation } from './parquet-source.ts';

/** The location of a client-sent source, once both rules hold. */
export async function clientSourceLocation(source: DataSource, env: StoreEnvironment, ctx: CallContext): Promise<string> {
  const location = sourceLocation(source, env.repoPath);
  const roots = [env.repoPath, ...env.dataRoots].map((root) => path.resolve(root));
  const inside = roots.some((root) => {
    const relative = path.relative(root, location);
    return !relative.startsWith('..') && !path.isAbsolute(relative);
  });
  if (!inside) {
    throw new InvalidArgumentError(
      `The data source path ${location} is outside the feature repo and larder.data_roots; the server does not read it`,
    );
  }
  const access = ctx.sourceAccess;
  if (!access) return location;
  const wanted = await realFiles(location);
  const readable = new Set((await Promise.all(access.readable.map((s) => filesOf(s, env.repoPath)))).flat());
  for (const denied of access.denied) {
    const deniedFiles = new Set(await filesOf(denied, env.repoPath));
    const hit = wanted.find((file) => deniedFiles.has(file) && !readable.has(file));
    if (hit) {
      throw new FeastPermissionError(
        `Data source ${source.name} names ${hit}, which holds the data of data source ${denied.name}; you may not read it (READ_OFFLINE)`,
      );
    }
  }
  return location;
}

/** A registered source's files with symbolic links and `..` resolved; none when it has no local files. */
async function filesOf(source: DataSource, repoPath: string): Promise<string[]> {
  try {
    return await realFiles(sourceLocation(source, repoPath));
  } catch {
    return [];
  }
}

async function realFiles(location: string): Promise<string[]> {
  const files = await parquetFiles(location).catch(() => []);
  return Promise.all(files.map((file) => realpath(file).catch(() => file)));
}
