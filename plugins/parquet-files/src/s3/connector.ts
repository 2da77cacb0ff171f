/**
 * The S3 clients of one store: one AWS SDK v3 client per endpoint (the store-level endpoint and
 * each source's `s3_endpoint_override`), all sharing the store's credentials chain, settings and
 * request limit, built on first use and destroyed by `close()`.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Limiter } from './limiter.ts';
import { RangeCache } from './range-cache.ts';
import type { S3Settings } from './settings.ts';

/** One endpoint's client with what every request through it needs. */
export interface S3Access {
  readonly client: S3Client;
  /** Bounds the store's S3 requests in flight (shared by all its endpoints). */
  readonly limiter: Limiter;
  /** The endpoint, for messages (`the SDK's default endpoint` when none is configured). */
  readonly endpoint: string;
  /** Footer ranges by ETag (shared by all its endpoints; see range-cache.ts); absent: no caching. */
  readonly cache?: RangeCache;
}

/** The AWS SDK's label for "no endpoint configured": AWS itself or `AWS_ENDPOINT_URL_S3`. */
export const DEFAULT_ENDPOINT = "the AWS SDK's default endpoint";

export class S3Connector {
  private readonly clients = new Map<string, S3Access>();
  private readonly limiter: Limiter;
  private readonly cache: RangeCache;
  /** One chain for all clients: its cache (and a web identity token's refresh) is shared. */
  private readonly credentials = fromNodeProviderChain();

  constructor(readonly settings: S3Settings) {
    this.limiter = new Limiter(settings.readConcurrency);
    this.cache = new RangeCache(settings.footerCacheBytes);
  }

  /** The client for a source's `s3_endpoint_override` (empty or absent: the store's endpoint). */
  access(endpointOverride?: string): S3Access {
    const endpoint = endpointOverride || this.settings.endpointUrl;
    const key = endpoint ?? '';
    let access = this.clients.get(key);
    if (!access) {
      const agentOptions = { keepAlive: true, maxSockets: this.settings.readConcurrency };
      const client = new S3Client({
        endpoint,
        region: this.settings.region,
        forcePathStyle: this.settings.forcePathStyle ?? endpoint !== undefined,
        credentials: this.credentials,
        // Timeouts bound every phase; the SDK's standard retries (3 attempts, backoff) cover
        // transient failures, which are then reported as UNAVAILABLE for the client to retry.
        requestHandler: {
          connectionTimeout: Math.min(this.settings.requestTimeoutMs, 10_000),
          requestTimeout: this.settings.requestTimeoutMs,
          httpAgent: new HttpAgent(agentOptions),
          httpsAgent: new HttpsAgent({ ...agentOptions, rejectUnauthorized: this.settings.verifyTls }),
        },
      });
      access = { client, limiter: this.limiter, endpoint: endpoint ?? DEFAULT_ENDPOINT, cache: this.cache };
      this.clients.set(key, access);
    }
    return access;
  }

  /** Destroys every client (their sockets close); later calls build new ones. */
  close(): void {
    for (const access of this.clients.values()) access.client.destroy();
    this.clients.clear();
  }
}
