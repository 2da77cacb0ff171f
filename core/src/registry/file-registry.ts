/**
 * A Feast file registry on the local disk (Feast's FileRegistryStore).
 *
 * Python's offline server re-reads the registry on every lookup. We get the same freshness for a
 * fraction of the cost: `snapshot()` stats the file and re-reads it only when its identity
 * (inode, size, mtime, ctime) changed. `feast apply` rewrites the file in place, non-atomically,
 * so a reader can catch it empty or half-written; such a read never replaces the last good
 * snapshot (it is retried on the next call).
 *
 * Protobuf has no end marker: a file cut exactly between two top-level fields parses, its later
 * fields (views, sources, permissions, …) missing. Feast writes fields in number order, so such a
 * file ends at a lower field number than the registry before it; it is served only once it has
 * stayed unchanged for `settleMs` (a user may really have deleted every object of the last kind).
 *
 * A file that does not exist yet is an empty registry, as in Feast (its Registry catches the
 * store's FileNotFoundError and starts empty): Feast's own harness starts the offline server before
 * `feast apply`. Feast then commits that empty registry to disk; larder does not, because the
 * registry is Feast's to write (the file may be on a read-only mount here) and `feast apply`
 * creates it just the same. The first stat that finds the file loads it.
 */
import { open, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import { decodeRegistry, type DecodedRegistry } from './decode.ts';
import { highestFieldNumber } from './raw-fields.ts';
import type { RegistrySnapshot, RegistrySource, RegistryStatus } from './model.ts';
import { DecodedRegistrySnapshot } from './snapshot.ts';

export interface FileRegistryOptions {
  /** Registry path as configured: absolute, or relative to `repoPath`. */
  readonly path: string;
  /** The feature repo directory (`--chdir` or the cwd), as in Feast. */
  readonly repoPath: string;
  readonly logger: Logger;
  /** First-load attempts while the file is unreadable (e.g. mid-`feast apply`). Default 5. */
  readonly initialAttempts?: number;
  /** Pause between first-load attempts, in ms. Default 100. */
  readonly retryDelayMs?: number;
  /** How long a file that ends early must stay unchanged before it is served. Default 2000. */
  readonly settleMs?: number;
}

/**
 * Feast's error for a registry file that does not exist, with its message. openFileRegistry no
 * longer throws it (a missing file is an empty registry, as in Feast's server); kept for plugins
 * that read registry files of their own.
 */
export class RegistryNotFoundError extends Error {
  constructor(readonly path: string) {
    super(`Registry not found at path "${path}". Have you run "feast apply"?`);
    this.name = 'RegistryNotFoundError';
  }
}

/** A registry location larder cannot read (yet): another scheme or registry type. */
export class UnsupportedRegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedRegistryError';
  }
}

const REMOTE_SCHEMES = new Set(['s3', 'gs', 'hdfs']);

/**
 * Feast's choice of registry store from the path (`urlparse(path).scheme`), then
 * FileRegistryStore's resolution: absolute paths as they are, others under `repoPath`.
 * A `file://` prefix is stripped as a courtesy (Python would mangle it).
 */
export function resolveRegistryPath(path: string, repoPath: string): string {
  let local = path;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(path)?.[1]?.toLowerCase() ?? '';
  const windowsDrive = scheme.length === 1 && (path.slice(1, 3) === ':\\' || path.slice(1, 3) === ':/');
  if (scheme === 'file') {
    local = path.replace(/^file:(\/\/)?/i, '');
  } else if (scheme !== '' && !windowsDrive) {
    if (REMOTE_SCHEMES.has(scheme)) {
      throw new UnsupportedRegistryError(
        `Registry path ${path} uses the ${scheme}:// scheme, which larder does not support yet; use a local file registry.`,
      );
    }
    // Feast's own message for a scheme it does not know.
    throw new UnsupportedRegistryError(
      `Registry path ${path} has unsupported scheme ${scheme}. Supported schemes are file, s3, gs and hdfs.`,
    );
  }
  if (local === '')
    throw new UnsupportedRegistryError('The registry path is empty; set registry (or registry.path) in feature_store.yaml.');
  return isAbsolute(local) ? local : join(repoPath, local);
}

/**
 * The local registry file named by the `registry:` key of feature_store.yaml, in any of its three
 * forms (spec §1.1): a path string, a mapping without `registry_type`, or a mapping with
 * `registry_type: file` (the registry plugin resolver has already picked the file registry).
 * Registry stores other than the local file are rejected with a clear error.
 */
export function registryPathFromConfig(registryConfig: string | Readonly<Record<string, unknown>>, repoPath: string): string {
  if (typeof registryConfig === 'string') return resolveRegistryPath(registryConfig, repoPath);
  const path = registryConfig.path ?? '';
  if (typeof path !== 'string') throw new UnsupportedRegistryError('registry.path must be a string.');
  const store = registryConfig.registry_store_type;
  if (store !== undefined && store !== null) {
    // An explicit store overrides the scheme; only the local-file store is available.
    if (typeof store !== 'string' || !/(^|\.)FileRegistryStore$/.test(store)) {
      throw new UnsupportedRegistryError(`registry_store_type "${String(store)}" is not supported by larder yet; use FileRegistryStore.`);
    }
    const local = path.replace(/^file:(\/\/)?/i, '');
    if (local === '') throw new UnsupportedRegistryError('The registry path is empty; set registry.path in feature_store.yaml.');
    return isAbsolute(local) ? local : join(repoPath, local);
  }
  return resolveRegistryPath(path, repoPath);
}

/**
 * Opens the registry file, failing now if it is unreadable. A missing file is served as an empty
 * registry (with a warning naming the path) until `feast apply` writes it.
 */
export async function openFileRegistry(options: FileRegistryOptions): Promise<RegistrySource> {
  const registry = new FileRegistry(resolveRegistryPath(options.path, options.repoPath), options.logger, options.settleMs ?? 2000);
  await registry.load(options.initialAttempts ?? 5, options.retryDelayMs ?? 100);
  return registry;
}

interface Loaded {
  readonly stamp: string;
  /** The file's highest top-level field number: a later file ending below it may be cut short. */
  readonly lastField: number;
  readonly decoded: DecodedRegistry;
  readonly snapshot: RegistrySnapshot;
}

/** The stamp of "no file": differs from every real file's stamp, so the first file is loaded. */
const NO_FILE = 'no file';

/** What is served while the file does not exist: Feast's empty registry. */
function emptyRegistry(): Loaded {
  const decoded = decodeRegistry(new Uint8Array(0));
  return { stamp: NO_FILE, lastField: 0, decoded, snapshot: new DecodedRegistrySnapshot(decoded) };
}

/** What one read of the file gave: a registry, or why it cannot be used. */
type ReadResult = { ok: true; loaded: Loaded } | { ok: false; stamp: string | null; error: Error };

class FileRegistry implements RegistrySource {
  private current: Loaded | null = null;
  /** The reload in flight; concurrent callers share it. */
  private pending: Promise<RegistrySnapshot> | null = null;
  /** Stamp of the last bad file we warned about, so a broken file is reported once, not per call. */
  private warnedStamp: string | null = null;
  /** Why the last read failed, while the last good snapshot is being served. */
  private failure: string | null = null;
  private loadedAt = new Date();
  private closed = false;
  /** A file that ends early, and since when it has been unchanged. */
  private endsEarly: { stamp: string; since: number } | null = null;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
    private readonly settleMs: number,
  ) {}

  async load(attempts: number, delayMs: number): Promise<void> {
    let last: ReadResult | undefined;
    for (let attempt = 1; attempt <= Math.max(1, attempts); attempt++) {
      last = await this.read();
      if (last.ok) {
        this.current = last.loaded;
        return;
      }
      if (isMissing(last.error)) {
        this.current = emptyRegistry();
        this.logger.warn({ path: this.path }, 'registry file does not exist yet; serving an empty registry until feast apply writes it');
        return;
      }
      if (attempt < attempts) await sleep(delayMs);
    }
    const error = (last as { error: Error }).error;
    throw new Error(`Cannot read the registry at "${this.path}": ${error.message}`, { cause: error });
  }

  snapshot(): Promise<RegistrySnapshot> {
    if (this.closed) return Promise.reject(new Error('The registry has been closed'));
    this.pending ??= this.reread().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  status(): RegistryStatus {
    return this.failure === null
      ? { state: 'fresh', loadedAt: this.loadedAt }
      : { state: 'stale', loadedAt: this.loadedAt, error: this.failure };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async reread(): Promise<RegistrySnapshot> {
    const current = this.current!;
    let stamp: string;
    try {
      stamp = stampOf(await stat(this.path, { bigint: true }));
    } catch (error) {
      // Still no file since start: the empty registry is what Feast serves too, not a failure.
      if (current.stamp === NO_FILE && isMissing(asError(error))) return this.confirmed(current.snapshot);
      return this.keepLastGood(null, asError(error));
    }
    if (stamp === current.stamp) return this.confirmed(current.snapshot);
    const result = await this.read();
    if (!result.ok) return this.keepLastGood(result.stamp, result.error);
    this.current = result.loaded;
    this.warnedStamp = null;
    this.confirmed(result.loaded.snapshot);
    this.logger.info({ path: this.path, versionId: result.loaded.decoded.versionId }, 'registry reloaded');
    return result.loaded.snapshot;
  }

  private confirmed(snapshot: RegistrySnapshot): RegistrySnapshot {
    this.failure = null;
    this.loadedAt = new Date();
    return snapshot;
  }

  private keepLastGood(stamp: string | null, error: Error): RegistrySnapshot {
    this.failure = error.message;
    const key = stamp ?? `error:${error.message}`;
    if (this.warnedStamp !== key) {
      this.warnedStamp = key;
      this.logger.warn({ path: this.path, err: error }, 'registry file could not be read; still serving the previous registry');
    }
    return this.current!.snapshot;
  }

  /**
   * Reads and decodes the file. The stamp is taken before reading: if a writer changes the file
   * during or after the read, the next stat differs from it and the file is read again.
   */
  private async read(): Promise<ReadResult> {
    let stamp: string | null = null;
    try {
      const handle = await open(this.path, 'r');
      let bytes: Uint8Array;
      try {
        stamp = stampOf(await handle.stat({ bigint: true }));
        bytes = await handle.readFile();
      } finally {
        await handle.close();
      }
      const decoded = decodeRegistry(bytes);
      const lastField = highestFieldNumber(bytes);
      const suspicion = this.looksIncomplete(bytes, decoded) ?? this.endsTooEarly(stamp, lastField);
      if (suspicion) return { ok: false, stamp, error: new Error(suspicion) };
      return { ok: true, loaded: { stamp, lastField, decoded, snapshot: new DecodedRegistrySnapshot(decoded) } };
    } catch (error) {
      return { ok: false, stamp, error: asError(error) };
    }
  }

  /**
   * A file that parses can still be a torn write: `feast apply` truncates the file before writing
   * it. Feast never writes an empty registry and always sets registry_schema_version (serialized
   * right after the entities), so losing either compared to the last good registry means the
   * file is still being written.
   */
  private looksIncomplete(bytes: Uint8Array, decoded: DecodedRegistry): string | null {
    const previous = this.current?.decoded;
    // Before the first file (or at start) an empty file is just an empty registry, as in Python.
    if (!previous || this.current?.stamp === NO_FILE) return null;
    if (bytes.length === 0) return 'the registry file is empty (probably being rewritten by feast apply)';
    if (previous.registrySchemaVersion !== '' && decoded.registrySchemaVersion === '') {
      return 'the registry file has no registry_schema_version (probably truncated while feast apply writes it)';
    }
    return null;
  }

  /**
   * A file whose fields stop below the previous registry's last field may be cut short by a
   * writer; it is suspected until the same file has been seen unchanged for `settleMs`.
   */
  private endsTooEarly(stamp: string, lastField: number): string | null {
    const previous = this.current;
    if (!previous || lastField >= previous.lastField) return null;
    const now = Date.now();
    if (this.endsEarly?.stamp !== stamp) this.endsEarly = { stamp, since: now };
    if (now - this.endsEarly.since >= this.settleMs) return null;
    return `the registry file ends at field ${lastField}, before field ${previous.lastField} of the previous registry (probably being rewritten by feast apply)`;
  }
}

function stampOf(s: { ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

function isMissing(error: Error): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
