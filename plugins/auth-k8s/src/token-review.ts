/**
 * Asking the API server who a token belongs to (authentication.k8s.io/v1 TokenReview). This is the
 * only thing that makes a token trustworthy: its signature, expiry and revocation are checked by
 * Kubernetes, whatever the token's own claims say.
 *
 * Audiences: without configured `audiences` larder sends none, so the API server checks the token
 * against its own audience (what Feast does, and what a pod's default service-account token is
 * for). With `audiences`, they go in `spec.audiences`, and the review must name one of them in
 * `status.audiences`: Kubernetes asks clients to check this, because a reviewer that ignores
 * audiences answers without it, and then a token minted for some other service would get in.
 */
import { UnauthenticatedError } from '@larder/core';
import { cut } from './cut.ts';
import type { KubeApi } from './kube-api.ts';

export interface ReviewedUser {
  /** As Kubernetes names the caller, e.g. `system:serviceaccount:<ns>:<name>` or a user's name. */
  readonly username: string;
  readonly groups: readonly string[];
}

/** A TokenReview answer is small (it echoes the token, at most a few KiB, and names one user). */
const MAX_REVIEW_BYTES = 1024 * 1024;

interface TokenReviewStatus {
  readonly authenticated?: unknown;
  readonly user?: { readonly username?: unknown; readonly groups?: unknown };
  readonly audiences?: unknown;
  readonly error?: unknown;
}

export async function reviewToken(api: KubeApi, token: string, audiences: readonly string[] = []): Promise<ReviewedUser> {
  const review = await api.post<{ status?: TokenReviewStatus } | null>(
    '/apis/authentication.k8s.io/v1/tokenreviews',
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: audiences.length > 0 ? { token, audiences } : { token } },
    MAX_REVIEW_BYTES,
  );
  const status: TokenReviewStatus = (typeof review === 'object' && review?.status) || {};
  if (status.authenticated !== true) {
    // The API server's reason ("token has expired", "invalid bearer token", ...) helps the caller; it reveals nothing about others.
    const why = typeof status.error === 'string' && status.error ? `: ${cut(status.error)}` : '';
    throw new UnauthenticatedError(`Invalid token: the Kubernetes API server did not authenticate it (TokenReview${why})`);
  }
  if (audiences.length > 0) {
    const confirmed = Array.isArray(status.audiences) && status.audiences.some((a) => audiences.includes(a as string));
    if (!confirmed) {
      throw new UnauthenticatedError(
        `Invalid token: the Kubernetes TokenReview did not confirm the token is meant for ${JSON.stringify(audiences)} ` +
          `(status.audiences: ${cut(JSON.stringify(status.audiences ?? null))})`,
      );
    }
  }
  const username = status.user?.username;
  if (typeof username !== 'string' || !username)
    throw new UnauthenticatedError('Invalid token: the Kubernetes TokenReview authenticated it but named no user');
  const groups = Array.isArray(status.user?.groups) ? status.user.groups : [];
  return { username, groups: groups.filter((g): g is string => typeof g === 'string') };
}
