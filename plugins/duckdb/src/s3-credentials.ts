/**
 * The AWS credentials DuckDB signs its S3 requests with, asked for before each call that reads
 * S3, so that expiring credentials (session tokens, web identity) are renewed as they change.
 *
 * THE SEAM: this reads the standard environment variables only (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). The full AWS chain — environment, shared config and
 * credentials files, web identity tokens (EKS IRSA), container and instance metadata — is
 * `fromNodeProviderChain()` of `@aws-sdk/credential-providers`, which plugins/parquet-files brings
 * in; switching to it is replacing the body of `awsCredentials` with a memoised
 * `fromNodeProviderChain()` call (it caches and refreshes on its own) and mapping
 * CredentialsProviderError ("Could not load credentials from any providers") to `undefined`.
 */

/** One set of AWS credentials. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A source of credentials; `undefined` means none: requests go unsigned (public buckets). */
export type CredentialSource = () => Promise<AwsCredentials | undefined>;

/** The credentials of the standard AWS environment variables, read when called. */
export const awsCredentials: CredentialSource = async () => {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = process.env.AWS_SESSION_TOKEN || undefined;
  return { accessKeyId, secretAccessKey, sessionToken };
};

/** The region the AWS SDK would sign for when the store names none (its environment variables). */
export function defaultRegion(): string {
  return process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
}

/**
 * The endpoint the AWS SDK would use when the store names none: `AWS_ENDPOINT_URL_S3`, else
 * `AWS_ENDPOINT_URL`; `undefined` for AWS's own.
 */
export function defaultEndpoint(): string | undefined {
  return process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
}
