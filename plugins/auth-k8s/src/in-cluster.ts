/**
 * The in-cluster configuration every pod gets: the API server's service address in the
 * environment, and the pod's service-account token, CA bundle and namespace as files.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { serverUrl, tokenSource, type ClusterConnection } from './cluster-connection.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The pod's connection, or null when not running in a pod (no KUBERNETES_SERVICE_HOST). */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): ClusterConnection | null {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (!host) return null;
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  const file = (name: string) => path.join(dir, name);
  const missing = ['token', 'ca.crt'].map(file).filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(
      `KUBERNETES_SERVICE_HOST is set but the service-account files are missing (${missing.join(', ')}); is automountServiceAccountToken off?`,
    );
  }
  // An IPv6 service address needs brackets in a URL.
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: serverUrl(`https://${hostPart}:${port}`, 'KUBERNETES_SERVICE_HOST/PORT'),
    ca: readFileSync(file('ca.crt')),
    insecureSkipTlsVerify: false,
    bearerToken: tokenSource(undefined, file('token')),
    namespace: existsSync(file('namespace')) ? readFileSync(file('namespace'), 'utf8').trim() || undefined : undefined,
    description: `in-cluster service account (${dir})`,
  };
}
