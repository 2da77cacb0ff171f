/**
 * The `kubernetes` auth provider: a bearer token is accepted only when a TokenReview says so;
 * the reviewed identity then gets its roles and namespaces from RBAC, and the result is reused
 * for a short time. In order: the token's shape (no API call for junk), the cache (shared by
 * concurrent checks of one token), the gate (a bounded number of checks talk to the API server),
 * then review and RBAC. It also finds this server's own token for calling other Feast services
 * (service-token.ts).
 */
import type { AuthProvider, User } from '@larder/core';
import type { KubeApi } from './kube-api.ts';
import { resolveUser } from './identity.ts';
import { kubernetesServiceToken, type ServiceTokenSource } from './service-token.ts';
import { ReviewGate } from './review-gate.ts';
import { reviewToken } from './token-review.ts';
import { checkTokenShape } from './token-shape.ts';
import { tokenExpiry } from './token-expiry.ts';
import { VerifiedCache } from './verified-cache.ts';

export interface KubernetesAuthOptions {
  /** Where service accounts' RoleBindings are read. */
  readonly serverNamespace: string;
  readonly cacheTtlMs: number;
  readonly cacheMaxEntries: number;
  /** Sent as TokenReview spec.audiences and required in its status; empty: the API server's own. */
  readonly audiences?: readonly string[];
  /** Longer tokens are refused without a review. */
  readonly maxTokenBytes?: number;
  /** Token checks talking to the API server at once, checks queued behind them, and their longest wait. */
  readonly maxConcurrentReviews?: number;
  readonly maxPendingReviews?: number;
  readonly maxReviewWaitMs?: number;
}

export class KubernetesAuthProvider implements AuthProvider {
  private readonly cache: VerifiedCache<User>;
  private readonly gate: ReviewGate;

  /** `ownToken` defaults to the service account token file, then LOCAL_K8S_TOKEN (no user_token). */
  constructor(
    private readonly api: KubeApi,
    private readonly options: KubernetesAuthOptions,
    private readonly ownToken: ServiceTokenSource = kubernetesServiceToken(),
  ) {
    this.cache = new VerifiedCache(options.cacheTtlMs, options.cacheMaxEntries);
    this.gate = new ReviewGate(options.maxConcurrentReviews ?? 8, options.maxPendingReviews ?? 256, options.maxReviewWaitMs ?? 5_000);
  }

  async authenticate(token: string): Promise<User> {
    checkTokenShape(token, this.options.maxTokenBytes ?? 16 * 1024);
    return this.cache.get(token, () =>
      this.gate.run(async () => {
        // Feast decodes service-account JWTs without verifying them; here the token's claims are
        // never consulted for identity: only the API server's answer counts.
        const caller = await reviewToken(this.api, token, this.options.audiences);
        const user = await resolveUser(this.api, caller, this.options.serverNamespace);
        return { value: Object.freeze(user), notAfter: tokenExpiry(token) };
      }),
    );
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
