/**
 * How larder reaches the Kubernetes API server: the URL, how it trusts the server's certificate,
 * and how it proves its own identity. Built from the in-cluster service account or a kubeconfig.
 */
import { readFile } from 'node:fs/promises';

export interface ClusterConnection {
  /** The API server's base URL, e.g. https://10.96.0.1:443. */
  readonly server: URL;
  /** CA certificates (PEM) the server's certificate must chain to; Node's defaults when absent. */
  readonly ca?: Buffer;
  /** kubeconfig's insecure-skip-tls-verify: accept any server certificate. */
  readonly insecureSkipTlsVerify: boolean;
  readonly clientCert?: Buffer;
  readonly clientKey?: Buffer;
  /** larder's own bearer token, if it authenticates with one. Read per request: token files rotate. */
  bearerToken(): Promise<string | undefined>;
  /** The namespace this connection belongs to (the pod's, or the kubeconfig context's). */
  readonly namespace?: string;
  /** Where the connection came from, for logs and error messages. */
  readonly description: string;
}

/** A bearer token that is either fixed or re-read from a file (projected tokens are rotated hourly). */
export function tokenSource(token: string | undefined, tokenFile: string | undefined): () => Promise<string | undefined> {
  if (token) return async () => token;
  if (tokenFile) return async () => (await readFile(tokenFile, 'utf8')).trim();
  return async () => undefined;
}

/** An API server address as a URL; kubeconfigs sometimes omit the scheme or carry a trailing slash. */
export function serverUrl(server: string, where: string): URL {
  try {
    return new URL(/^[a-z]+:\/\//i.test(server) ? server : `https://${server}`);
  } catch {
    throw new Error(`${where}: "${server}" is not a valid Kubernetes API server address`);
  }
}
