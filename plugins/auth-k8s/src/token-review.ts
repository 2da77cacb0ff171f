/**
 * Asking the API server who a token belongs to (authentication.k8s.io/v1 TokenReview). This is the
 * only thing that makes a token trustworthy: its signature, expiry and revocation are checked by
 * Kubernetes, whatever the token's own claims say.
 */
import { UnauthenticatedError } from '@larder/core';
import type { KubeApi } from './kube-api.ts';

export interface ReviewedUser {
  /** As Kubernetes names the caller, e.g. `system:serviceaccount:<ns>:<name>` or a user's name. */
  readonly username: string;
  readonly groups: readonly string[];
}

interface TokenReviewStatus {
  readonly authenticated?: boolean;
  readonly user?: { readonly username?: string; readonly groups?: readonly string[] };
  readonly error?: string;
}

export async function reviewToken(api: KubeApi, token: string): Promise<ReviewedUser> {
  const review = await api.post<{ status?: TokenReviewStatus }>('/apis/authentication.k8s.io/v1/tokenreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token },
  });
  const status = review.status ?? {};
  if (status.authenticated !== true) {
    // The API server's reason ("token has expired", "invalid bearer token", ...) helps the caller; it reveals nothing about others.
    const why = status.error ? `: ${status.error}` : '';
    throw new UnauthenticatedError(`Invalid token: the Kubernetes API server did not authenticate it (TokenReview${why})`);
  }
  const username = status.user?.username;
  if (!username) throw new UnauthenticatedError('Invalid token: the Kubernetes TokenReview authenticated it but named no user');
  return { username, groups: (status.user?.groups ?? []).filter((g): g is string => typeof g === 'string') };
}
