/**
 * A minimal Kubernetes API client: JSON GET and POST over node:https with the connection's CA and
 * credentials. Failures become errors a Feast client can act on: an unreachable, slow or failing
 * API server is UNAVAILABLE (the client retries), a refusal of larder's own credentials is
 * FAILED_PRECONDITION (an operator must grant RBAC; retrying will not help).
 *
 * Every request is bounded twice, because the answer decides whether a caller gets in and a
 * caller is waiting for it: in time (the whole exchange, not just silence between bytes, so an
 * API server that dribbles cannot hold a call open) and in size (the answer is read into memory).
 * Identical GETs in flight share one request: the RBAC lists are the same for every caller.
 */
import https from 'node:https';
import { FailedPreconditionError, UnavailableError } from '@larder/core';
import type { ClusterConnection } from './cluster-connection.ts';
import { cut } from './cut.ts';

/** Default bound of an answer; the RBAC lists of a large cluster are this order of size. */
export const MAX_LIST_BYTES = 64 * 1024 * 1024;

/** Raised by the request itself (not the network): already worded for the caller. */
class AnswerRefused extends Error {}

export class KubeApi {
  private readonly agent: https.Agent;
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly connection: ClusterConnection,
    private readonly timeoutMs: number,
  ) {
    // One keep-alive agent: a token check makes up to three requests in a row to the same server.
    this.agent = new https.Agent({
      keepAlive: true,
      ca: connection.ca,
      cert: connection.clientCert,
      key: connection.clientKey,
      rejectUnauthorized: !connection.insecureSkipTlsVerify,
    });
  }

  get<T>(apiPath: string, maxBytes = MAX_LIST_BYTES): Promise<T> {
    const shared = this.inFlight.get(apiPath);
    if (shared) return shared as Promise<T>;
    const request = this.request<T>('GET', apiPath, undefined, maxBytes).finally(() => this.inFlight.delete(apiPath));
    this.inFlight.set(apiPath, request);
    return request;
  }

  post<T>(apiPath: string, body: unknown, maxBytes = MAX_LIST_BYTES): Promise<T> {
    return this.request<T>('POST', apiPath, body, maxBytes);
  }

  close(): void {
    this.agent.destroy();
  }

  private async request<T>(method: string, apiPath: string, body: unknown, maxBytes: number): Promise<T> {
    // The server URL may carry a path prefix (an API proxy); API paths go under it.
    const url = new URL(this.connection.server.href.replace(/\/+$/, '') + apiPath);
    const what = `${method} ${apiPath}`;
    let token: string | undefined;
    try {
      token = await this.connection.bearerToken();
    } catch (error) {
      throw new FailedPreconditionError(
        `Cannot read larder's Kubernetes token (${this.connection.description}): ${(error as Error).message}`,
      );
    }
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (payload) headers['content-type'] = 'application/json';

    const { statusCode, text } = await this.exchange(url, method, headers, payload, what, maxBytes).catch(
      (error: NodeJS.ErrnoException) => {
        if (error instanceof AnswerRefused) throw new UnavailableError(error.message);
        const cause = error.code && !error.message.includes(error.code) ? `${error.code} ${error.message}` : error.message;
        throw new UnavailableError(
          `Cannot verify the token: the Kubernetes API server ${this.connection.server.origin} is unreachable (${what}: ${cause})`,
        );
      },
    );

    if (statusCode >= 200 && statusCode < 300) {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new UnavailableError(`The Kubernetes API server answered ${what} with something that is not JSON`);
      }
    }
    const reason = `${what} → HTTP ${statusCode}${statusMessage(text)}`;
    if (statusCode === 401 || statusCode === 403) {
      throw new FailedPreconditionError(
        `The Kubernetes API server refused larder's own credentials (${this.connection.description}): ${reason}. ` +
          'larder needs create on tokenreviews and list on rolebindings and clusterrolebindings',
      );
    }
    if (statusCode >= 500 || statusCode === 429) throw new UnavailableError(`The Kubernetes API server failed: ${reason}`);
    throw new FailedPreconditionError(`The Kubernetes API server rejected a request: ${reason}`);
  }

  /** One HTTP exchange, settled exactly once: by its end, an error, the deadline or the size bound. */
  private exchange(url: URL, method: string, headers: Record<string, string>, payload: Buffer | undefined, what: string, maxBytes: number) {
    return new Promise<{ statusCode: number; text: string }>((resolve, reject) => {
      let settled = false;
      const settle = (error: Error | null, result?: { statusCode: number; text: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          req.destroy();
          reject(error);
        } else resolve(result!);
      };
      const tooLarge = () => new AnswerRefused(`The Kubernetes API server's answer to ${what} is larger than ${maxBytes} bytes`);
      const req = https.request(url, { method, headers, agent: this.agent }, (res) => {
        if (Number(res.headers['content-length']) > maxBytes) return settle(tooLarge());
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) return settle(tooLarge());
          chunks.push(chunk);
        });
        res.on('end', () => settle(null, { statusCode: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error) => settle(error));
      });
      const timer = setTimeout(
        () => settle(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
        this.timeoutMs,
      );
      req.on('error', (error) => settle(error));
      req.end(payload);
    });
  }
}

/** The `message` of a Kubernetes Status object, when the error body is one. */
function statusMessage(text: string): string {
  try {
    const status = JSON.parse(text) as { message?: unknown };
    return typeof status.message === 'string' ? `: ${cut(status.message)}` : '';
  } catch {
    return '';
  }
}
