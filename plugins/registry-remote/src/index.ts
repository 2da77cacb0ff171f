/**
 * larder's `remote` registry type (also Feast's class path feast.infra.registry.remote.RemoteRegistry):
 * the registry read from Feast's registry server (`feast serve_registry`) over gRPC, with
 * Feast's RemoteRegistryConfig. The registry is read once at start (a server that cannot be read
 * stops larder with a message naming it), then refreshed every cache_ttl_seconds; when the
 * registry server fails later, larder keeps answering from the last good copy and its health
 * service reports `registry` NOT_SERVING until a check succeeds again.
 *
 * An example of a registry plugin: it imports only @larder/core's public API.
 */
import { cachePolicyOf, openCachedRegistry, type RegistryPlugin } from '@larder/core';
import { channelSetup } from './channel.ts';
import { configSchema, remoteSettingsFrom, type RemoteRegistryConfig } from './config.ts';
import { RegistryServerClient } from './registry-server-client.ts';
import { RemoteRegistryLoader } from './remote-loader.ts';

const plugin: RegistryPlugin = {
  kind: 'registry',
  name: 'remote',
  configSchema,
  async create(config, env) {
    const settings = remoteSettingsFrom(config as unknown as RemoteRegistryConfig, env.repoPath);
    for (const warning of settings.warnings) env.logger.warn(warning);
    const client = new RegistryServerClient(settings.target, await channelSetup(settings), settings.timeoutMs);
    const loader = new RemoteRegistryLoader(client, settings.tls !== null, settings.timeoutMs, env);
    return openCachedRegistry(loader, { policy: cachePolicyOf(config), logger: env.logger });
  },
};

export default plugin;
