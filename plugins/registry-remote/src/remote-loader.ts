/**
 * Loads the registry from the registry server for core's cached registry, which decides when
 * (cache_ttl_seconds, cache_mode) and keeps the last good copy when a load fails. The server has
 * no cheap "has it changed" call, so every check is a full read.
 *
 * larder authenticates to the registry server as itself, never with the token of the Flight call
 * that triggered a refresh: that is what Feast's offline server does, and a refresh serves every
 * later caller. The token is asked for on each load, so an expiring token is renewed by whoever
 * issues it (core's service-token source). One deadline covers all the calls of a load.
 */
import { decodeRegistryRows, type DecodedRegistry, type RegistryEnvironment, type RegistryLoader } from '@larder/core';
import { listRegistryRows } from './list-registry.ts';
import type { RegistryServerClient } from './registry-server-client.ts';

export class RemoteRegistryLoader implements RegistryLoader {
  readonly describe: string;
  /** Whether the last load found anything in the configured project (null before the first). */
  private projectFound: boolean | null = null;

  constructor(
    private readonly client: RegistryServerClient,
    tls: boolean,
    private readonly timeoutMs: number,
    private readonly env: RegistryEnvironment,
  ) {
    this.describe = `remote registry at ${client.target}${tls ? ' over TLS' : ''}`;
  }

  async load(): Promise<DecodedRegistry> {
    const token = await this.token();
    const rows = await listRegistryRows(this.client, { project: this.env.project, deadline: Date.now() + this.timeoutMs, token });
    let decoded: DecodedRegistry;
    try {
      decoded = decodeRegistryRows(rows);
    } catch (error) {
      throw new Error(
        `the objects registry server ${this.client.target} listed do not decode as Feast registry objects: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.noteProject(decoded);
    return decoded;
  }

  async close(): Promise<void> {
    this.client.close();
  }

  private async token(): Promise<string | null> {
    try {
      return await this.env.serviceToken();
    } catch (error) {
      throw new Error(`no bearer token to present to registry server ${this.client.target}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * With auth on, the registry server lists only what the caller may DESCRIBE, so an identity
   * without permissions reads an empty registry rather than an error. Said once per change, since
   * every call for the project then fails with "not found".
   */
  private noteProject(decoded: DecodedRegistry): void {
    const { project } = this.env;
    const inProject = (items: readonly { project: string }[]) => items.some((item) => item.project === project);
    const found =
      inProject(decoded.featureViews) ||
      inProject(decoded.dataSources) ||
      inProject(decoded.entities) ||
      inProject(decoded.streamFeatureViews);
    if (!found && found !== this.projectFound) {
      this.env.logger.warn(
        { registry: this.describe, project },
        "the registry server lists no entities, data sources or feature views in this project (with auth enabled, it lists only what larder's identity may describe)",
      );
    }
    this.projectFound = found;
  }
}
