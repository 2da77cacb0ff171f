/**
 * The token this server presents when it calls another Feast service (the registry server of
 * `registry_type: remote`). Feast's offline server does not forward its caller's token there; it
 * authenticates as itself, with the token its Kubernetes client manager finds. The same sources,
 * in Feast's order:
 *
 * 1. `user_token` from the config;
 * 2. the pod's service account token file, re-read on every call (kubelet rotates it);
 * 3. the LOCAL_K8S_TOKEN environment variable (for a server run outside a cluster).
 *
 * INTRA_COMMUNICATION_BASE64, which comes before all of these in Feast, is handled by larder's
 * core before it asks this plugin.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SERVICE_ACCOUNT_DIR } from './in-cluster.ts';

export const SERVICE_ACCOUNT_TOKEN_FILE = path.join(SERVICE_ACCOUNT_DIR, 'token');

export interface KubernetesServiceTokenOptions {
  /** The `user_token` of the auth section. */
  readonly userToken?: string | null;
  /** Default: SERVICE_ACCOUNT_TOKEN_FILE. Tests point it elsewhere. */
  readonly tokenFile?: string;
  /** Where LOCAL_K8S_TOKEN is read, on every call. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

export type ServiceTokenSource = () => Promise<string>;

export function kubernetesServiceToken(options: KubernetesServiceTokenOptions = {}): ServiceTokenSource {
  const tokenFile = options.tokenFile ?? SERVICE_ACCOUNT_TOKEN_FILE;
  return async () => {
    if (options.userToken) return options.userToken;
    let fileProblem: string;
    try {
      const token = (await readFile(tokenFile, 'utf8')).trim();
      // Feast would send an empty file's empty token; the next source is the more useful answer.
      if (token) return token;
      fileProblem = 'is empty';
    } catch (error) {
      fileProblem = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    }
    const fromEnv = (options.env ?? process.env).LOCAL_K8S_TOKEN;
    if (fromEnv) return fromEnv;
    throw new Error(
      'No Kubernetes token to call other Feast services with: auth.user_token is not set, ' +
        `the service account token file ${tokenFile} ${fileProblem}, and the LOCAL_K8S_TOKEN environment variable is not set.`,
    );
  };
}
