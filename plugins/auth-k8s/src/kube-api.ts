/**
 * A minimal Kubernetes API client: JSON GET and POST over node:https with the connection's CA and
 * credentials. Failures become errors a Feast client can act on: an unreachable or failing API
 * server is UNAVAILABLE (the client retries), a refusal of larder's own credentials is
 * FAILED_PRECONDITION (an operator must grant RBAC; retrying will not help).
 */
import https from 'node:https';
import { FailedPreconditionError, UnavailableError } from '@larder/core';
import type { ClusterConnection } from './cluster-connection.ts';

export class KubeApi {
  private readonly agent: https.Agent;

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

  get<T>(apiPath: string): Promise<T> {
    return this.request<T>('GET', apiPath);
  }

  post<T>(apiPath: string, body: unknown): Promise<T> {
    return this.request<T>('POST', apiPath, body);
  }

  close(): void {
    this.agent.destroy();
  }

  private async request<T>(method: string, apiPath: string, body?: unknown): Promise<T> {
    // The server URL may carry a path prefix (an API proxy); API paths go under it.
    const url = new URL(this.connection.server.href.replace(/\/+$/, '') + apiPath);
    const what = `${method} ${apiPath}`;
    let token: string | undefined;
    try {
      token = await this.connection.bearerToken();
    } catch (error) {
      throw new FailedPreconditionError(`Cannot read larder's Kubernetes token (${this.connection.description}): ${(error as Error).message}`);
    }
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (payload) headers['content-type'] = 'application/json';

    const { statusCode, text } = await new Promise<{ statusCode: number; text: string }>((resolve, reject) => {
      const req = https.request(url, { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(payload);
    }).catch((error: NodeJS.ErrnoException) => {
      const cause = error.code && !error.message.includes(error.code) ? `${error.code} ${error.message}` : error.message;
      throw new UnavailableError(`Cannot verify the token: the Kubernetes API server ${this.connection.server.origin} is unreachable (${what}: ${cause})`);
    });

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
}

/** The `message` of a Kubernetes Status object, when the error body is one. */
function statusMessage(text: string): string {
  try {
    const status = JSON.parse(text) as { message?: unknown };
    return typeof status.message === 'string' ? `: ${status.message}` : '';
  } catch {
    return '';
  }
}
