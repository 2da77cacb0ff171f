/**
 * A registry source for backends that load the whole registry at once (a database, a registry
 * server): it keeps the last good copy, refreshes it as Feast's `cache_ttl_seconds` and
 * `cache_mode` say, and never lets a failing backend fail a call once the server has started.
 *
 * - The registry is read once when the source opens; failing that is a RegistryUnavailableError,
 *   so the server does not start on a registry it cannot read.
 * - `sync` mode: the first call after the TTL expires checks the backend (the call waits for it);
 *   `thread` mode: a timer checks every TTL and calls never wait. A TTL of 0 never expires, as in
 *   Feast.
 * - A check first asks the loader for a cheap stamp (when it has one) and reloads only if it
 *   changed, so a long-lived server costs the backend one small query per TTL.
 * - A failed check keeps the last good copy, logs one warning per distinct failure, marks the
 *   source `stale` (the health service reports it), and is retried after `retryMs` rather than a
 *   whole TTL.
 * - `refresh()` answers from a check that starts after it is called (a lookup that missed must see
 *   what was applied before its call began). At most one check runs at a time and at most one
 *   waits behind it, so a client asking for unknown names costs the backend back-to-back stamp
 *   queries at worst.
 */
import type { Logger } from 'pino';
import type { DecodedRegistry } from './decode.ts';
import type { RegistrySnapshot, RegistrySource, RegistryStatus } from './model.ts';
import { RegistryUnavailableError, type RegistryCachePolicy } from './plugin.ts';
import { DecodedRegistrySnapshot } from './snapshot.ts';

/** What a backend provides: a way to read the registry, and optionally to tell it changed. */
export interface RegistryLoader {
  /** Names the registry in logs and errors (never with a password). */
  readonly describe: string;
  /** A cheap value that changes whenever the registry does; without it every check reloads. */
  stamp?(): Promise<string>;
  /** Reads the whole registry. Must time out by itself rather than hang. */
  load(): Promise<DecodedRegistry>;
  close?(): Promise<void>;
}

export interface CachedRegistryOptions {
  readonly policy: RegistryCachePolicy;
  readonly logger: Logger;
  /** Pause before retrying a failed check (capped by the TTL). Default 5 s. */
  readonly retryMs?: number;
  readonly now?: () => number;
}

/** Reads the registry once (or throws RegistryUnavailableError), then serves it as described above. */
export async function openCachedRegistry(loader: RegistryLoader, options: CachedRegistryOptions): Promise<RegistrySource> {
  const now = options.now ?? Date.now;
  let first: { stamp: string | null; decoded: DecodedRegistry };
  try {
    const stamp = loader.stamp ? await loader.stamp() : null;
    first = { stamp, decoded: await loader.load() };
  } catch (error) {
    await loader.close?.().catch(() => {});
    throw new RegistryUnavailableError(`Cannot read the registry (${loader.describe}): ${(error as Error).message}`, { cause: error });
  }
  return new CachedRegistry(loader, options, now, first.stamp, first.decoded);
}

class CachedRegistry implements RegistrySource {
  private stampOfCurrent: string | null;
  private current: RegistrySnapshot;
  private loadedAt: number;
  private checkAfter: number;
  private failure: string | null = null;
  private inFlight: Promise<RegistrySnapshot> | null = null;
  /** The check that starts once `inFlight` ends, shared by every refresh() that came meanwhile. */
  private queued: Promise<RegistrySnapshot> | null = null;
  private closed = false;
  private readonly timer: NodeJS.Timeout | null = null;
  private readonly ttlMs: number;

  constructor(
    private readonly loader: RegistryLoader,
    private readonly options: CachedRegistryOptions,
    private readonly now: () => number,
    stamp: string | null,
    decoded: DecodedRegistry,
  ) {
    this.ttlMs = options.policy.ttlSeconds * 1000;
    this.stampOfCurrent = stamp;
    this.current = new DecodedRegistrySnapshot(decoded);
    this.loadedAt = now();
    this.checkAfter = this.loadedAt + this.ttlMs;
    if (options.policy.mode === 'thread' && this.ttlMs > 0) {
      this.timer = setInterval(() => void this.check(), this.ttlMs);
      this.timer.unref();
    }
  }

  snapshot(): Promise<RegistrySnapshot> {
    if (this.closed) return Promise.reject(new Error('The registry has been closed'));
    if (this.options.policy.mode === 'sync' && this.ttlMs > 0 && this.now() >= this.checkAfter) return this.check();
    return Promise.resolve(this.current);
  }

  refresh(): Promise<RegistrySnapshot> {
    if (this.closed) return Promise.reject(new Error('The registry has been closed'));
    if (!this.inFlight) return this.check();
    this.queued ??= this.inFlight.then(() => {
      this.queued = null;
      return this.check();
    });
    return this.queued;
  }

  status(): RegistryStatus {
    const loadedAt = new Date(this.loadedAt);
    return this.failure === null ? { state: 'fresh', loadedAt } : { state: 'stale', loadedAt, error: this.failure };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.inFlight?.catch(() => {});
    await this.loader.close?.();
  }

  private check(): Promise<RegistrySnapshot> {
    this.inFlight ??= this.runCheck().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async runCheck(): Promise<RegistrySnapshot> {
    const { logger } = this.options;
    try {
      const stamp = this.loader.stamp ? await this.loader.stamp() : null;
      if (stamp === null || stamp !== this.stampOfCurrent) {
        const decoded = await this.loader.load();
        this.current = new DecodedRegistrySnapshot(decoded);
        this.stampOfCurrent = stamp;
        logger.debug({ registry: this.loader.describe }, 'registry reloaded');
      }
      if (this.failure !== null) logger.info({ registry: this.loader.describe }, 'registry readable again');
      this.failure = null;
      this.loadedAt = this.now();
      this.checkAfter = this.loadedAt + this.ttlMs;
    } catch (error) {
      const message = (error as Error).message;
      if (this.failure !== message) {
        logger.warn(
          { registry: this.loader.describe, err: message, servingCopyFrom: new Date(this.loadedAt).toISOString() },
          'registry could not be read; still serving the last good copy',
        );
      }
      this.failure = message;
      this.checkAfter = this.now() + Math.min(this.ttlMs || Infinity, this.options.retryMs ?? 5_000);
    }
    return this.current;
  }
}
