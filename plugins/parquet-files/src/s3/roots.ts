/**
 * Confinement of client-sent s3:// sources (validate_data_source, column listing during `feast
 * apply`): like a local path, such a source may only name objects under a configured data root,
 * here an `s3://bucket/prefix` entry of `larder.data_roots`; and it may not send the server's
 * credentials-signed requests to an endpoint of its choosing (`s3_endpoint_override`).
 */
import { InvalidArgumentError } from '@larder/core';
import { isS3Uri, parseS3Uri, type S3Ref, s3RefInside, s3UriOf } from './uri.ts';

/** The `s3://` entries of `larder.data_roots`, parsed. */
export function s3Roots(dataRoots: readonly string[]): S3Ref[] {
  return dataRoots.filter(isS3Uri).map((root) => {
    try {
      return parseS3Uri(root);
    } catch {
      throw new InvalidArgumentError(`larder.data_roots entry "${root}" names no bucket; write s3://bucket or s3://bucket/prefix`);
    }
  });
}

/** Refuses `ref` unless it lies under one of `roots` (at a `/` boundary). */
export function assertS3InsideRoots(ref: S3Ref, roots: readonly S3Ref[], sourceName: string): void {
  // S3 keys are literal, but a proxy or S3-compatible server in between may normalise `..` in the
  // request path: such a key could leave the root it appears to be under.
  if (ref.key.split('/').some((segment) => segment === '..' || segment === '.')) {
    throw new InvalidArgumentError(
      `Data source ${sourceName} names ${s3UriOf(ref)}, whose key has a "." or ".." segment; the server does not read it`,
    );
  }
  if (roots.some((root) => s3RefInside(ref, root))) return;
  const allowed = roots.length ? roots.map(s3UriOf).join(', ') : 'none configured';
  throw new InvalidArgumentError(
    `Data source ${sourceName} names ${s3UriOf(ref)}, which is under no s3:// entry of larder.data_roots (${allowed}); ` +
      `the server does not read it. Add its bucket/prefix to larder.data_roots to allow it.`,
  );
}

/**
 * Refuses a client-sent source whose `s3_endpoint_override` differs from the store's endpoint:
 * otherwise a client could make the server send signed requests to any host it names.
 */
export function assertEndpointAllowed(endpointOverride: string | undefined, storeEndpoint: string | undefined, sourceName: string): void {
  if (!endpointOverride || endpointOverride === storeEndpoint) return;
  throw new InvalidArgumentError(
    `Data source ${sourceName} sets s3_endpoint_override ${endpointOverride}, but this server reads client-sent sources ` +
      `only from its own S3 endpoint (${storeEndpoint ?? "the AWS SDK's default"}); register the source with feast apply, ` +
      `or set offline_store.s3.endpoint_url to that endpoint`,
  );
}
