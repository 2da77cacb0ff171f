/**
 * The IdP's signing keys (JWKS), reused for a lifespan and refetched early when a token names a
 * key the cached set lacks — the IdP has rotated keys. The caller asks for that refetch at most
 * once per token (so a bogus key id costs one fetch, as in Feast); concurrent refetches share one
 * request, and a set that another token already refreshed is reused instead of fetched again.
 */
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { JsonGetter } from './http-json.ts';

export type KeySet = ReturnType<typeof createLocalJWKSet>;

interface Fetched {
  readonly keys: KeySet;
  readonly at: number;
}

export class JwksCache {
  private fetched: Fetched | undefined;
  private pending: Promise<Fetched> | undefined;

  constructor(
    readonly url: URL,
    private readonly getJson: JsonGetter,
    private readonly lifespanMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached set while it is younger than the lifespan, else a fresh one. */
  async current(): Promise<KeySet> {
    const fetched = this.fetched;
    if (fetched && this.now() - fetched.at < this.lifespanMs) return fetched.keys;
    return (await this.fetch()).keys;
  }

  /**
   * A set newer than `seen` (the one that lacked the token's key): the one another token already
   * fetched, or a new fetch.
   */
  async refreshAfter(seen: KeySet): Promise<KeySet> {
    if (this.fetched && this.fetched.keys !== seen) return this.fetched.keys;
    return (await this.fetch()).keys;
  }

  private fetch(): Promise<Fetched> {
    this.pending ??= this.load().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async load(): Promise<Fetched> {
    const body = await this.getJson(this.url);
    let keys: KeySet;
    try {
      keys = createLocalJWKSet(body as JSONWebKeySet);
    } catch {
      throw new Error('the response is not a JSON Web Key Set');
    }
    this.fetched = { keys, at: this.now() };
    return this.fetched;
  }
}
