/**
 * HTTP calls to the identity provider with Feast's TLS options: GETting a JSON document
 * (discovery document, JWKS) and POSTing a form (the token request of this server's own
 * credentials). node:http(s) rather than fetch, because fetch in Node 20 cannot take a CA bundle
 * or skip certificate checks per request without a separate undici dependency.
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

/** Discovery documents, key sets and token responses are a few KiB; anything far larger is not one. */
const MAX_BYTES = 1024 * 1024;

export type JsonGetter = (url: URL) => Promise<unknown>;

/** A response whatever its status: the caller decides what a non-2xx means (and may quote its body). */
export interface FormResponse {
  readonly status: number;
  readonly text: string;
}

/** POSTs `fields` as application/x-www-form-urlencoded (fields whose value is undefined are left out). */
export type FormPoster = (url: URL, fields: Readonly<Record<string, string | undefined>>) => Promise<FormResponse>;

export function jsonGetter(options: HttpJsonOptions): JsonGetter {
  const send = sender(options);
  return async (url) => {
    const { status, body } = await send(url, { method: 'GET', headers: { accept: 'application/json' } });
    if (status < 200 || status > 299) throw new Error(`HTTP ${status}`);
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new Error('response is not JSON');
    }
  };
}

export function formPoster(options: HttpJsonOptions): FormPoster {
  const send = sender(options);
  return async (url, fields) => {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, value);
    const { status, body } = await send(url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    return { status, text: body.toString('utf8') };
  };
}

interface Request {
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

type Sender = (url: URL, request: Request) => Promise<{ status: number; body: Buffer }>;

function sender(options: HttpJsonOptions): Sender {
  // Read once: the bundle is part of the configuration, not something to re-read per request.
  const ca = options.verifySsl && options.caCertPath && existsSync(options.caCertPath) ? readFileSync(options.caCertPath) : undefined;
  return (url, { method, headers, body }) =>
    new Promise((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const request = client.request(
        url,
        {
          method,
          headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          timeout: options.timeoutMs,
          ...(url.protocol === 'https:' ? { rejectUnauthorized: options.verifySsl, ca } : {}),
        },
        (response) => {
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
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      request.on('error', reject);
      request.end(body);
    });
}
