/**
 * S3 failures as the errors a Feast client understands: the semantically right gRPC status and
 * a message that names the data source, the object and what to do.
 *
 * - 403 → FeastPermissionError (PERMISSION_DENIED) naming the S3 permission the server's identity lacks;
 * - 404 (no such key or bucket) → DataSourceNotFoundException (NOT_FOUND), Feast's class for it;
 * - 412 on a read → UNAVAILABLE: the object was replaced while it was being read (the Feast
 *   client retries UNAVAILABLE, and the retry reads the new version whole);
 * - connection refused or reset, DNS failure, timeouts, 5xx → UNAVAILABLE (transient);
 * - an endpoint certificate that does not verify → FAILED_PRECONDITION (a configuration problem:
 *   retrying cannot help, so not UNAVAILABLE, which the Feast client retries).
 * Anything else is passed on as it is (an internal error).
 */
import {
  DataSourceNotFoundException,
  FailedPreconditionError,
  FeastPermissionError,
  InvalidArgumentError,
  UnavailableError,
} from '@larder/core';

/** What was being done when S3 failed, for the message. */
export interface S3Attempt {
  /** The data source's name (as registered, or as the client sent it). */
  readonly sourceName: string;
  /** The object or prefix, as an s3:// URI. */
  readonly uri: string;
  /** The endpoint the request went to (`default` for the SDK's own). */
  readonly endpoint: string;
  /** The IAM action the request needs, e.g. `s3:GetObject`, `s3:ListBucket`. */
  readonly action: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
]);
/** Node's codes for a certificate that does not verify. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
  errors?: unknown[];
}

/** The first code of `codes` on an error or on one it wraps (AggregateError, `cause`). */
function codeIn(codes: ReadonlySet<string>, error: SdkError | undefined, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 4) return undefined;
  if (error.code && codes.has(error.code)) return error.code;
  for (const inner of [error.cause, ...(error.errors ?? [])]) {
    const code = codeIn(codes, inner as SdkError, depth + 1);
    if (code) return code;
  }
  return undefined;
}

/** The larder error for an S3 failure during `attempt`. */
export function s3Error(error: unknown, attempt: S3Attempt): Error {
  const e = (error ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const where = `data source ${attempt.sourceName} (${attempt.uri} at endpoint ${attempt.endpoint})`;
  const code = e.name && e.name !== 'Error' ? ` ${e.name}` : '';
  if (status === 403) {
    return new FeastPermissionError(
      `S3 refused ${attempt.action} on ${where} with 403${code}: the AWS identity larder runs as (from its environment, ` +
        `shared config/credentials files or web identity token) needs ${attempt.action} on it, or its credentials are wrong`,
    );
  }
  if (status === 404 || e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.name === 'NotFound') {
    return new DataSourceNotFoundException(attempt.uri);
  }
  if (status === 412) {
    return new UnavailableError(`${attempt.uri} (data source ${attempt.sourceName}) was replaced while it was being read; try again`);
  }
  if (status === 400 && e.name === 'InvalidBucketName') {
    return new InvalidArgumentError(`The bucket of ${attempt.uri} (data source ${attempt.sourceName}) is not a valid bucket name`);
  }
  const tls = codeIn(TLS_CODES, e);
  if (tls) {
    return new FailedPreconditionError(
      `The TLS certificate of S3 endpoint ${attempt.endpoint} does not verify (${tls}) reading ${where}: trust its CA ` +
        `(NODE_EXTRA_CA_CERTS in larder's environment), or for a test endpoint set offline_store.s3.verify_tls: false`,
    );
  }
  const network = codeIn(NETWORK_CODES, e);
  if (network || TIMEOUT_NAMES.has(e.name ?? '') || (status !== undefined && status >= 500)) {
    const why = network ?? (status !== undefined && status >= 500 ? `HTTP ${status}${code}` : (e.name ?? 'timeout'));
    return new UnavailableError(
      `The S3 endpoint ${attempt.endpoint} did not answer ${attempt.action} on ${where}: ${why}; try again later`,
    );
  }
  if (e.message?.includes('Region is missing')) {
    return new InvalidArgumentError(
      `No AWS region for reading ${where}: set offline_store.s3.region in feature_store.yaml or AWS_REGION in larder's environment`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
