/**
 * Choosing the connection to the API server, most explicit first: the configured kubeconfig,
 * then $KUBECONFIG, then the pod's in-cluster service account, then ~/.kube/config.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { ClusterConnection } from './cluster-connection.ts';
import { inClusterConnection } from './in-cluster.ts';
import { kubeconfigConnection } from './kubeconfig.ts';

export function locateCluster(kubeconfig: string | undefined, repoPath: string, env: NodeJS.ProcessEnv = process.env): ClusterConnection {
  if (kubeconfig) {
    const file = path.resolve(repoPath, kubeconfig);
    if (!existsSync(file)) throw new Error(`auth.kubeconfig: ${file} does not exist`);
    return kubeconfigConnection([file]);
  }
  if (env.KUBECONFIG) {
    // kubectl skips the listed files that do not exist.
    const files = env.KUBECONFIG.split(path.delimiter).filter((f) => f && existsSync(f));
    if (files.length === 0) throw new Error(`KUBECONFIG=${env.KUBECONFIG} names no existing file`);
    return kubeconfigConnection(files);
  }
  const inCluster = inClusterConnection(env);
  if (inCluster) return inCluster;
  const home = path.join(homedir(), '.kube', 'config');
  if (existsSync(home)) return kubeconfigConnection([home]);
  throw new Error(
    'auth type kubernetes needs a Kubernetes API server to verify tokens with, and none is configured: ' +
      'run in a pod (KUBERNETES_SERVICE_HOST and the service-account files), or set auth.kubeconfig or KUBECONFIG',
  );
}
