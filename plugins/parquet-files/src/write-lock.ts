/**
 * One writer at a time per destination file, across every larder replica on shared storage.
 *
 * offline_write_batch reads a file, adds rows and renames a rewrite over it; two writers doing
 * that at once each rename their own rewrite, and the rows of one are lost although both were
 * acknowledged. So a writer holds the destination's lock from before it reads until after its
 * rename:
 *
 * - inside one process, writers to one destination queue behind each other (a promise chain per
 *   destination), so a process never contends with itself;
 * - across processes, proper-lockfile's lock directory `.<name>.lock` beside the file (mkdir is
 *   atomic on local and network file systems). The holder refreshes its mtime every `stale / 4`;
 *   a lock not refreshed for `stale` (its holder was killed) is taken over by the next writer.
 *   A holder that finds its lock taken over (compromised: proper-lockfile says so, or the lock
 *   directory is no longer the one it created) gives its write up before the rename.
 *
 * Waiting ends with the call (its deadline or cancellation), or after a bounded time with
 * UNAVAILABLE, which the Feast client retries.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '@larder/core';
import { fileWriteError } from './write-errors.ts';
import type { WriteTarget } from './write-target.ts';

export interface LockSettings {
  /** A lock not refreshed for this long belongs to a dead writer. */
  readonly staleMs: number;
}

export const DEFAULT_LOCK_SETTINGS: LockSettings = { staleMs: 20_000 };

/** The `larder.write_lock_stale_seconds` of feature_store.yaml, or the default. */
export function lockSettingsFrom(repoConfig: Readonly<Record<string, unknown>>): LockSettings {
  const larder = repoConfig.larder as { write_lock_stale_seconds?: number } | undefined;
  const seconds = larder?.write_lock_stale_seconds;
  return seconds === undefined ? DEFAULT_LOCK_SETTINGS : { staleMs: seconds * 1000 };
}

/** Lets the locked work check, just before it commits, that the lock is still its own. */
export type AssertHeld = () => Promise<void>;

const queues = new Map<string, Promise<void>>();

/** Runs `work` holding `target`'s lock, in this process and across processes. */
export async function withWriteLock<T>(
  target: WriteTarget,
  settings: LockSettings,
  signal: AbortSignal,
  work: (assertHeld: AssertHeld) => Promise<T>,
): Promise<T> {
  const previous = queues.get(target.path) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  const tail = previous.then(() => mine);
  queues.set(target.path, tail);
  try {
    await untilAborted(previous, signal);
    return await withFileLock(target, settings, signal, work);
  } finally {
    done();
    if (queues.get(target.path) === tail) queues.delete(target.path);
  }
}

async function withFileLock<T>(
  target: WriteTarget,
  settings: LockSettings,
  signal: AbortSignal,
  work: (assertHeld: AssertHeld) => Promise<T>,
): Promise<T> {
  const lockPath = path.join(target.dir, `.${target.name}.lock`);
  let compromised: Error | null = null;
  const options = {
    realpath: false,
    lockfilePath: lockPath,
    stale: settings.staleMs,
    update: Math.max(1000, Math.floor(settings.staleMs / 4)),
    retries: 0,
    // The default throws from a timer, which would take the whole server down.
    onCompromised: (error: Error) => {
      compromised = error;
    },
  };
  const giveUpAt = Date.now() + Math.max(60_000, 3 * settings.staleMs);
  let release: () => Promise<void>;
  // Imported by the first write, not when the plugin loads: proper-lockfile and graceful-fs cost
  // ~10-20 ms of a server's start-up, and most servers never write.
  const { default: lockfile } = await import('proper-lockfile');
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    try {
      release = await lockfile.lock(target.path, options);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw fileWriteError(error, lockPath);
      if (Date.now() > giveUpAt) {
        throw new UnavailableError(`${target.path} is being written by another writer (lock ${lockPath}); try again`);
      }
      // Jittered, growing pauses: replicas waiting for one lock do not retry in step.
      await sleep(Math.min(500, 20 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()), undefined, { signal }).catch(() => {});
    }
  }
  try {
    // The lock directory we created: a writer that wrongly judged it stale and replaced it
    // leaves another directory there (inode numbers are reused at once, birth times are not).
    const identity = (s: { dev: bigint; ino: bigint; birthtimeNs: bigint }) => `${s.dev}:${s.ino}:${s.birthtimeNs}`;
    const mine = identity(await stat(lockPath, { bigint: true }));
    return await work(async () => {
      const now = await stat(lockPath, { bigint: true }).catch(() => null);
      const lost = compromised?.message ?? (now && identity(now) === mine ? null : 'the lock directory was replaced');
      if (lost) throw new UnavailableError(`lost the write lock on ${target.path} (${lost}); nothing was written, try again`);
    });
  } finally {
    await release().catch(() => {});
  }
}

/** Resolves when `promise` does, or rejects when `signal` aborts first. */
function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
