/**
 * Where a write may land. Every write of the parquet stores (offline_write_batch, persist,
 * write_logged_features) goes under the feature repo or a `larder.data_roots` directory, checked
 * three times, because a path is only a promise about a file:
 *
 * 1. the lexical path (after resolving `..`) must be under a root;
 * 2. its directory, with every symbolic link resolved (realpath), must be under a root's real
 *    path, and the final component must not be a symbolic link — the write then uses that real
 *    directory, never the path it was given;
 * 3. a file opened for the write must still be the one found at that real path once it is open
 *    (same device and inode, and the directory still resolves to itself): a symbolic link swapped
 *    into the path between the check and the open is caught before a single byte is written.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { FeastPermissionError } from '@larder/core';
import { fileWriteError } from './write-errors.ts';

/** A checked destination: `dir` is real (no symbolic links) and inside a root. */
export interface WriteTarget {
  readonly dir: string;
  readonly name: string;
  /** `dir/name`. */
  readonly path: string;
}

const outside = (file: string) =>
  new FeastPermissionError(`larder writes only under the feature repo and larder.data_roots; ${file} is outside them`);

function isInside(file: string, root: string): boolean {
  const relative = path.relative(root, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The roots' real paths (a configured root that does not exist holds nothing to write to). */
async function realRoots(roots: readonly string[]): Promise<string[]> {
  const real = await Promise.all(roots.map((root) => realpath(root).catch(() => null)));
  return real.filter((r): r is string => r !== null);
}

/**
 * Checks `file` (absolute) for a write and creates its missing directories. Directories are
 * created one level at a time below the nearest existing real ancestor, so a link can never lead
 * mkdir outside.
 */
export async function writeTarget(file: string, roots: readonly string[]): Promise<WriteTarget> {
  const lexical = path.resolve(file);
  if (!roots.some((root) => isInside(lexical, path.resolve(root)))) throw outside(file);
  const real = await realRoots(roots);
  const missing: string[] = [];
  let ancestor = path.dirname(lexical);
  let dir: string | null = null;
  while (dir === null) {
    try {
      dir = await realpath(ancestor);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(ancestor) === ancestor) throw fileWriteError(error, ancestor);
      missing.unshift(path.basename(ancestor));
      ancestor = path.dirname(ancestor);
    }
  }
  for (const part of missing) {
    if (!real.some((root) => isInside(dir!, root))) throw outside(file);
    const next = path.join(dir, part);
    await mkdir(next).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw fileWriteError(error, next);
    });
    dir = await realpath(next).catch((error: unknown) => {
      throw fileWriteError(error, next);
    });
  }
  if (!real.some((root) => isInside(dir!, root))) throw outside(file);
  const name = path.basename(lexical);
  const target = { dir, name, path: path.join(dir, name) };
  const existing = await lstat(target.path).catch(() => null);
  if (existing?.isSymbolicLink()) {
    throw new FeastPermissionError(`larder does not write through symbolic links; ${file} is one`);
  }
  return target;
}

/**
 * Opens `name` inside the target's directory and proves it is the file found there by that name,
 * in that (still real) directory. `O_NOFOLLOW` refuses a link in the final component outright.
 */
export async function openInTarget(target: WriteTarget, name: string, flags: number, mode = 0o644): Promise<FileHandle> {
  const file = path.join(target.dir, name);
  const handle = await open(file, flags | constants.O_NOFOLLOW, mode).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP')
      throw new FeastPermissionError(`larder does not write through symbolic links; ${file} is one`);
    throw fileWriteError(error, file);
  });
  try {
    await assertStillAt(handle, target, name);
    return handle;
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

/** Throws unless `handle` is the file at `target.dir/name` and `target.dir` still resolves to itself. */
export async function assertStillAt(handle: FileHandle, target: WriteTarget, name: string): Promise<void> {
  const file = path.join(target.dir, name);
  const [held, found, dir] = await Promise.all([
    handle.stat({ bigint: true }),
    lstat(file, { bigint: true }).catch(() => null),
    realpath(target.dir).catch(() => null),
  ]);
  if (!found || found.ino !== held.ino || found.dev !== held.dev || dir !== target.dir) {
    throw new FeastPermissionError(
      `${file} changed while larder was writing it (a directory replaced by a symbolic link?); nothing was written there`,
    );
  }
}
