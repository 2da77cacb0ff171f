/**
 * DuckDB's httpfs errors as the errors a Feast client should see. httpfs reports an S3 answer as
 * `HTTP Error: HTTP GET error reading '<url>' … (HTTP 403 Forbidden)` followed by S3's error code,
 * and a failure to reach the endpoint as `IO Error: Could not connect to server error for HTTP …`
 * (or `Could not resolve hostname`, or a timeout).
 */
import {
  DataSourceNotFoundException,
  FailedPreconditionError,
  FeastPermissionError,
  UnavailableError,
  type DataSource,
} from '@larder/core';

const STATUS = /\(HTTP (\d{3})\b[^)]*\)/;
/** S3's error code, the line httpfs copies from the response body (`AccessDenied: …`). */
const S3_CODE = /^([A-Z][A-Za-z]+): /m;
const UNTRUSTED = /SSL peer certificate|SSL certificate problem|certificate verify failed/i;
const UNREACHABLE =
  /Could not (connect to server|resolve hostname|establish connection)|Connection (refused|reset|timed out)|Timeout was reached|timed out/i;

/**
 * The Feast error for a failed read of `location` (an s3:// URI) of `source`, or `undefined`
 * when `error` is not an S3 access failure (a corrupt file, a type error: the caller's own mapping).
 */
export function s3Failure(error: unknown, source: DataSource, location: string): Error | undefined {
  const message = (error as Error)?.message ?? String(error);
  const status = STATUS.exec(message)?.[1];
  const code = S3_CODE.exec(message)?.[1];
  if (status === '404') return new DataSourceNotFoundException(location);
  if (status === '403' || status === '401') {
    return new FeastPermissionError(
      `S3 refused to let larder read data source ${source.name} at ${location} (HTTP ${status}${code ? ` ${code}` : ''}): ` +
        'the credentials larder runs with need s3:GetObject on its objects and s3:ListBucket on its bucket',
    );
  }
  // Not transient: retrying cannot make the certificate trusted.
  if (UNTRUSTED.test(message)) {
    return new FailedPreconditionError(
      `Data source ${source.name}: the TLS certificate of the S3 endpoint for ${location} is not trusted (${message.split('\n')[0]}): ` +
        'add its CA to the system trust store, or for a test endpoint set offline_store.s3.verify_tls: false',
    );
  }
  if (UNREACHABLE.test(message) || (status !== undefined && /^5\d\d$/.test(status))) {
    const first = message.split('\n')[0];
    return new UnavailableError(`Data source ${source.name}: the S3 endpoint for ${location} is unavailable (${first}); try again`);
  }
  return undefined;
}
