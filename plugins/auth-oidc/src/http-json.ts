/**
 * GETting a JSON document from the identity provider (discovery document, JWKS) with Feast's TLS
 * options. node:http(s) rather than fetch, because fetch in Node 20 cannot take a CA bundle or
 * skip certificate checks per request without a separate undici dependency.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export interface HttpJsonOptions {
  /** false: no certificate or hostname checks (Feast's verify_ssl: false). */
  readonly verifySsl: boolean;
  /** PEM bundle to trust instead of the system CAs; Feast ignores a path that does not exist. */
  readonly caCertPath: string | undefined;
  readonly timeoutMs: number;
}

/** Discovery documents and key sets are a few KiB; anything far larger is not one. */
const MAX_BYTES = 1024 * 1024;

export type JsonGetter = (url: URL) => Promise<unknown>;

export function jsonGetter(options: HttpJsonOptions): JsonGetter {
  // Read once: the bundle is part of the configuration, not something to re-read per request.
  const ca = options.verifySsl && options.caCertPath && existsSync(options.caCertPath) ? readFileSync(options.caCertPath) : undefined;
  return (url) =>
    new Promise((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const request = client.get(
        url,
        {
          headers: { accept: 'application/json' },
          timeout: options.timeoutMs,
          ...(url.protocol === 'https:' ? { rejectUnauthorized: options.verifySsl, ca } : {}),
        },
        (response) => {
          const statusCode = response.statusCode ?? 0;
          if (statusCode < 200 || statusCode > 299) {
            response.resume();
            reject(new Error(`HTTP ${statusCode}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BYTES) {
              request.destroy(new Error(`response larger than ${MAX_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
            } catch {
              reject(new Error('response is not JSON'));
            }
          });
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      request.on('error', reject);
    });
}
