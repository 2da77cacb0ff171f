/**
 * The `kubernetes` auth provider: a bearer token is accepted only when a TokenReview says so;
 * the reviewed identity then gets its roles and namespaces from RBAC, and the result is reused
 * for a short time. It also finds this server's own token for calling other Feast services
 * (service-token.ts).
 */
import type { AuthProvider, User } from '@larder/core';
import type { KubeApi } from './kube-api.ts';
import { resolveUser } from './identity.ts';
import { kubernetesServiceToken, type ServiceTokenSource } from './service-token.ts';
import { reviewToken } from './token-review.ts';
import { tokenExpiry } from './token-expiry.ts';
import { VerifiedCache } from './verified-cache.ts';

export interface KubernetesAuthOptions {
  /** Where service accounts' RoleBindings are read. */
  readonly serverNamespace: string;
  readonly cacheTtlMs: number;
  readonly cacheMaxEntries: number;
}

export class KubernetesAuthProvider implements AuthProvider {
  private readonly cache: VerifiedCache<User>;

  /** `ownToken` defaults to the service account token file, then LOCAL_K8S_TOKEN (no user_token). */
  constructor(
    private readonly api: KubeApi,
    private readonly options: KubernetesAuthOptions,
    private readonly ownToken: ServiceTokenSource = kubernetesServiceToken(),
  ) {
    this.cache = new VerifiedCache(options.cacheTtlMs, options.cacheMaxEntries);
  }

  authenticate(token: string): Promise<User> {
    return this.cache.get(token, async () => {
      // Feast decodes service-account JWTs without verifying them; here the token's claims are
      // never consulted for identity: only the API server's answer counts.
      const caller = await reviewToken(this.api, token);
      const user = await resolveUser(this.api, caller, this.options.serverNamespace);
      return { value: Object.freeze(user), notAfter: tokenExpiry(token) };
    });
  }

  /** The token this server presents to other Feast services (a remote registry). */
  serviceToken(): Promise<string> {
    return this.ownToken();
  }

  async close(): Promise<void> {
    this.cache.clear();
    this.api.close();
  }
}
