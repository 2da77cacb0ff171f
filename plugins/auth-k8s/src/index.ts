/**
 * larder's `kubernetes` auth provider (Feast's `auth: {type: kubernetes}`): every bearer token is
 * verified by the Kubernetes API server with a TokenReview; roles come from the RoleBindings and
 * ClusterRoleBindings that name the caller or its groups. When larder calls another Feast service
 * it presents `user_token` or its own service account token, as Feast's Kubernetes client does.
 */
import type { AuthPlugin } from '@larder/core';
import { KubernetesAuthProvider } from './authenticator.ts';
import { configSchema, KNOWN_KEYS, type KubernetesAuthConfig } from './config.ts';
import { KubeApi } from './kube-api.ts';
import { locateCluster } from './locate-cluster.ts';
import { kubernetesServiceToken } from './service-token.ts';

const plugin: AuthPlugin = {
  kind: 'auth',
  name: 'kubernetes',
  configSchema,
  create(rawConfig, env) {
    const config = rawConfig as unknown as KubernetesAuthConfig;
    const unknown = Object.keys(config).filter((k) => !KNOWN_KEYS.includes(k));
    if (unknown.length > 0) env.logger.warn({ keys: unknown }, 'auth (kubernetes): ignoring unknown keys, as Feast does');

    const connection = locateCluster(config.kubeconfig, env.repoPath);
    const serverNamespace = config.namespace ?? connection.namespace ?? 'default';
    env.logger.info(
      { apiServer: connection.server.origin, via: connection.description, serverNamespace, audiences: config.audiences ?? null },
      'auth (kubernetes): verifying tokens with TokenReview',
    );
    return new KubernetesAuthProvider(
      new KubeApi(connection, config.request_timeout_seconds * 1000),
      {
        serverNamespace,
        cacheTtlMs: config.cache_ttl_seconds * 1000,
        cacheMaxEntries: config.cache_max_entries,
        audiences: config.audiences,
        maxTokenBytes: config.max_token_bytes,
        maxConcurrentReviews: config.max_concurrent_reviews,
        maxPendingReviews: config.max_pending_reviews,
        maxReviewWaitMs: config.request_timeout_seconds * 1000,
      },
      kubernetesServiceToken({ userToken: config.user_token }),
    );
  },
};

export default plugin;
