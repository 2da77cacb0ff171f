/**
 * The AWS credentials DuckDB signs its S3 requests with, asked for before each call that reads
 * S3, so that expiring credentials (session tokens, web identity) are renewed as they change.
 * They come from the AWS SDK's default chain (`fromNodeProviderChain`): the environment, shared
 * config and credentials files, web identity tokens (EKS IRSA and the like), container and
 * instance metadata — as the file store and every AWS tool find them. DuckDB's own lookup is off
 * (s3-access.ts), so there is one answer to "which credentials".
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';

/** One set of AWS credentials. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A source of credentials; `undefined` means none: requests go unsigned (public buckets). */
export type CredentialSource = () => Promise<AwsCredentials | undefined>;

/**
 * A credentials source over a new default chain (it caches what it found and refreshes expiring
 * credentials itself). No credentials anywhere means unsigned requests, as for a public bucket.
 */
export function awsCredentialChain(): CredentialSource {
  const chain = fromNodeProviderChain();
  return async () => {
    try {
      const { accessKeyId, secretAccessKey, sessionToken } = await chain();
      return { accessKeyId, secretAccessKey, sessionToken };
    } catch (error) {
      if ((error as Error).name === 'CredentialsProviderError') return undefined;
      throw error;
    }
  };
}

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
