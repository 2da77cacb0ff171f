/**
 * S3 for the store's DuckDB instance: the httpfs extension, loaded from the local
 * `extension_directory` on the first s3:// source (DuckDB never downloads one: the store turns
 * autoinstall and autoload off), and DuckDB secrets that sign its requests — one for the store's
 * endpoint, and one per source whose `s3_endpoint_override` names another, scoped to that source's
 * URI. Secrets are re-created whenever the credentials change, so expiring ones are renewed.
 */
import { FailedPreconditionError, InvalidArgumentError, type DataSource } from '@larder/core';
import type { DuckDBConnection } from '@duckdb/node-api';
import { awsCredentialChain, defaultEndpoint, defaultRegion, type AwsCredentials, type CredentialSource } from './s3-credentials.ts';
import type { S3Settings } from './s3-settings.ts';
import { str } from './sql.ts';

/** The secret for sources without an endpoint of their own. */
const STORE_SECRET = 'larder_s3';
/** Per-source secrets kept at most; the least recently used is dropped beyond this. */
const MAX_SOURCE_SECRETS = 64;

/** An S3 endpoint as DuckDB's secret takes it: host[:port], and whether to use TLS. */
interface Endpoint {
  readonly host: string;
  readonly ssl: boolean;
}

/** `http://host:port`, `https://host`, or a bare `host:port` (https, as pyarrow's endpoint_override takes it). */
export function parseEndpoint(url: string, what: string): Endpoint {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new InvalidArgumentError(`${what} "${url}" is not an endpoint URL such as http://minio:9000`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidArgumentError(`${what} "${url}" must be an http:// or https:// URL`);
  }
  if (parsed.pathname !== '/' && parsed.pathname !== '') {
    throw new InvalidArgumentError(`${what} "${url}" has a path; DuckDB's S3 endpoint is a host and port only`);
  }
  return { host: parsed.host, ssl: parsed.protocol === 'https:' };
}

export class S3Access {
  private httpfs: Promise<void> | null = null;
  /** Secret name → the statement that made it, to skip re-creating an unchanged one. */
  private readonly made = new Map<string, string>();
  /** Per-source secrets by `endpoint uri`, least recently used first. */
  private readonly sourceSecrets = new Map<string, string>();
  private counter = 0;
  /** Secret changes run one at a time (they are instance-wide). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly settings: S3Settings,
    /** The configured extension directory (absolute), for the missing-extension error. */
    private readonly extensionDirectory: string | undefined,
    private readonly credentials: CredentialSource = awsCredentialChain(),
  ) {}

  /** The httpfs extension, and the secret for `uri` of `source`, installed on `connection`'s instance. */
  async prepare(connection: DuckDBConnection, source: DataSource, uri: string): Promise<void> {
    await this.loadHttpfs(connection, source, uri);
    const run = this.queue.then(() => this.installSecret(connection, source, uri));
    this.queue = run.catch(() => {});
    await run;
  }

  private loadHttpfs(connection: DuckDBConnection, source: DataSource, uri: string): Promise<void> {
    this.httpfs ??= (async () => {
      try {
        await connection.run('LOAD httpfs');
      } catch (error) {
        throw new FailedPreconditionError(
          `Data source ${source.name} is in S3 (${uri}), which the duckdb store reads through DuckDB's httpfs extension, ` +
            `and DuckDB could not load it from ${this.extensionDirectory ?? "DuckDB's default directory (~/.duckdb/extensions)"}: ` +
            `${(error as Error).message.split('\n')[0]} Run scripts/ensure-duckdb-extensions.sh from larder's repository ` +
            '(on a machine that reaches PyPI; copy the directory it prints to this one) and set offline_store.extension_directory to it.',
        );
      }
      // TLS verification: httpfs has one switch per HTTP client (its httplib one is off by default,
      // its curl one on); both follow verify_tls.
      await connection.run(`SET GLOBAL enable_server_cert_verification = ${this.settings.verifyTls}`);
      await connection.run(`SET GLOBAL enable_curl_server_cert_verification = ${this.settings.verifyTls}`);
      await connection.run(`SET GLOBAL http_timeout = ${Math.ceil(this.settings.requestTimeoutMs / 1000)}`);
      // Credentials come from larder's secrets only (s3-credentials.ts), not from httpfs's own
      // reading of the environment: one source of truth, one seam to change.
      await connection.run('SET GLOBAL enable_global_s3_configuration = false');
    })();
    // A failed load is tried again on the next call: the extension may have been put in place since.
    this.httpfs.catch(() => {
      this.httpfs = null;
    });
    return this.httpfs;
  }

  private async installSecret(connection: DuckDBConnection, source: DataSource, uri: string): Promise<void> {
    const credentials = await this.credentials();
    const store = this.settings.endpointUrl ?? defaultEndpoint();
    const override = source.fileOptions?.s3EndpointOverride || undefined;
    await this.ensure(connection, STORE_SECRET, this.secretSql(STORE_SECRET, store, credentials));
    if (override === undefined || override === store) return;
    const key = `${override} ${uri}`;
    let name = this.sourceSecrets.get(key);
    if (name) this.sourceSecrets.delete(key);
    else name = `larder_s3_source_${++this.counter}`;
    this.sourceSecrets.set(key, name);
    await this.ensure(connection, name, this.secretSql(name, override, credentials, uri));
    if (this.sourceSecrets.size > MAX_SOURCE_SECRETS) {
      const [oldestKey, oldest] = this.sourceSecrets.entries().next().value!;
      this.sourceSecrets.delete(oldestKey);
      this.made.delete(oldest);
      await connection.run(`DROP SECRET IF EXISTS ${oldest}`);
    }
  }

  private async ensure(connection: DuckDBConnection, name: string, sql: string): Promise<void> {
    if (this.made.get(name) === sql) return;
    await connection.run(sql);
    this.made.set(name, sql);
  }

  /** `CREATE OR REPLACE SECRET` for `endpointUrl` (AWS when undefined), scoped to `scope` if given. */
  private secretSql(name: string, endpointUrl: string | undefined, credentials: AwsCredentials | undefined, scope?: string): string {
    const parts = ['TYPE s3', `REGION ${str(this.settings.region ?? defaultRegion())}`];
    if (credentials) {
      parts.push(`KEY_ID ${str(credentials.accessKeyId)}`, `SECRET ${str(credentials.secretAccessKey)}`);
      if (credentials.sessionToken) parts.push(`SESSION_TOKEN ${str(credentials.sessionToken)}`);
    }
    if (endpointUrl !== undefined) {
      const endpoint = parseEndpoint(endpointUrl, scope ? `The s3_endpoint_override of ${scope}` : 's3.endpoint_url');
      parts.push(`ENDPOINT ${str(endpoint.host)}`, `USE_SSL ${endpoint.ssl}`);
    }
    const pathStyle = this.settings.forcePathStyle ?? endpointUrl !== undefined;
    parts.push(`URL_STYLE ${str(pathStyle ? 'path' : 'vhost')}`);
    if (scope) parts.push(`SCOPE ${str(scope)}`);
    return `CREATE OR REPLACE SECRET ${name} (${parts.join(', ')})`;
  }
}
