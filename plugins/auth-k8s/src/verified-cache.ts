/**
 * Remembering verified tokens for a short time, so that one Feast retrieval (DoPut, GetFlightInfo,
 * DoGet: three checks of the same token) costs one round of API calls, not three. Bounded in size;
 * failures are never remembered, and concurrent checks of one token share a single verification
 * (also with a TTL of 0, which only stops reuse after the check has finished).
 * Tokens are keyed by their SHA-256, so the cache holds no usable credential.
 */
import { createHash } from 'node:crypto';

export interface Verified<T> {
  readonly value: T;
  /** An absolute time (ms) after which the value must not be used, e.g. the token's own expiry. */
  readonly notAfter?: number;
}

interface Entry<T> {
  expiresAt: number;
  promise: Promise<T>;
}

export class VerifiedCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(token: string, verify: () => Promise<Verified<T>>): Promise<T> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.promise;
    this.entries.delete(key);

    let entry: Entry<T>;
    const promise = verify().then(
      ({ value, notAfter }) => {
        // With a TTL of 0 the entry lived only while the check ran (sharing it); now it goes.
        if (this.ttlMs <= 0) {
          if (this.entries.get(key) === entry) this.entries.delete(key);
        } else if (notAfter !== undefined) entry.expiresAt = Math.min(entry.expiresAt, notAfter);
        return value;
      },
      (error: unknown) => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        throw error;
      },
    );
    // While the check runs, every caller with the same token shares it, whatever the TTL.
    entry = { expiresAt: this.ttlMs > 0 ? now + this.ttlMs : Number.POSITIVE_INFINITY, promise };
    this.entries.set(key, entry);
    // A Map iterates in insertion order: the first key is the oldest entry.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return entry.promise;
  }

  clear(): void {
    this.entries.clear();
  }
}
