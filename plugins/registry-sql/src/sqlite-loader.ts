/**
 * Reading a Feast SQL registry kept in an SQLite file, with sql.js (SQLite compiled to
 * WebAssembly: no native build, so it installs anywhere Node runs).
 *
 * sql.js opens a copy of the file's bytes, not the file, so it takes none of SQLite's locks. A
 * read is therefore only trusted when it cannot have raced a writer:
 * - the file's identity (inode, size, mtime, ctime) is the same before and after the read;
 * - no rollback journal is present (one exists while `feast apply` is inside a transaction);
 * - no write-ahead log holds changes the main file does not have yet (Feast does not use WAL
 *   mode, but a user may have switched it on).
 * A read that fails these checks is an error, so the cached registry keeps its last good copy and
 * tries again later. The change stamp is the same file identity: a stat per check.
 *
 * A file that does not exist, or holds no registry tables, is an empty registry when `missing` is
 * `empty` (SQLAlchemy creates the file on connect and Feast its tables; larder creates neither).
 */
import { readFile, stat } from 'node:fs/promises';
import { decodeRegistryRows, type DecodedRegistry, type RegistryLoader } from '@larder/core';
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { type MissingTables, registryRowsQuery, registryTablesIn, toRegistryRows, type RawRegistryRow } from './registry-tables.ts';

let sqlJs: Promise<SqlJsStatic> | undefined;

export interface SqliteLoaderOptions {
  readonly file: string;
  readonly describe: string;
  readonly missing: MissingTables;
  /** Called on each load that finds no registry (no file, or no tables) and serves it empty. */
  readonly onEmpty: () => void;
}

export function sqliteRegistryLoader(options: SqliteLoaderOptions): RegistryLoader {
  // Only before the registry has been read once is its absence an empty registry; afterwards it
  // is a failure, and the last good copy is served.
  let found = false;
  const missing = (): MissingTables => (found ? 'refuse' : options.missing);
  return {
    describe: options.describe,
    stamp: () => fileStamp(options.file, missing()),
    load: async () => {
      const registry = await loadSqliteRegistry(options.file, options.describe, missing(), options.onEmpty);
      if (registry !== null) found = true;
      return registry ?? decodeRegistryRows([]);
    },
  };
}

/** The registry in `file`, or null when there is none yet (and `missing` is `empty`). */
async function loadSqliteRegistry(
  file: string,
  describe: string,
  missing: MissingTables,
  onEmpty: () => void,
): Promise<DecodedRegistry | null> {
  const before = await fileStamp(file, missing);
  if (before === NO_FILE) {
    onEmpty();
    return null;
  }
  if ((await sizeOf(`${file}-wal`)) > 0) {
    throw new Error(
      `${file} is in WAL mode with changes not yet checkpointed into it; larder reads the main file only, so checkpoint it (PRAGMA wal_checkpoint) or use SQLite's default rollback journal`,
    );
  }
  if ((await sizeOf(`${file}-journal`)) > 0)
    throw new Error(`${file} is being written (its rollback journal is present); will read it again`);
  const bytes = await readFile(file);
  if ((await fileStamp(file, missing)) !== before) throw new Error(`${file} changed while it was being read; will read it again`);

  sqlJs ??= initSqlJs();
  const db = new (await sqlJs).Database(bytes);
  try {
    const names = db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values.map((row) => String(row[0])) ?? [];
    const tables = registryTablesIn(new Set(names), describe, missing);
    if (tables === null) {
      onEmpty();
      return null;
    }
    const statement = db.prepare(registryRowsQuery(tables));
    const raw: RawRegistryRow[] = [];
    try {
      while (statement.step()) raw.push(statement.getAsObject() as unknown as RawRegistryRow);
    } finally {
      statement.free();
    }
    return decodeRegistryRows(toRegistryRows(raw));
  } finally {
    db.close();
  }
}

/** The stamp of a file that does not exist (yet): any file created later has another. */
const NO_FILE = 'no file';

async function fileStamp(file: string, missing: MissingTables): Promise<string> {
  let s;
  try {
    s = await stat(file, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && missing === 'empty') return NO_FILE;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`the SQLite registry file ${file} does not exist; run feast apply with this registry first`);
    throw error;
  }
  return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}
