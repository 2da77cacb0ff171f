/**
 * A complete registry plugin: the registry file that `feast apply` writes (registry.db), read
 * from an HTTP(S) URL — how a registry kept in object storage behind a URL is served. The cache,
 * the refresh rule and "keep serving the last good copy" come from openCachedRegistry.
 *
 * feature_store.yaml:
 *
 *   registry:
 *     registry_type: ./http-registry.js
 *     path: https://bucket.example/feature-repo/registry.db
 *     cache_ttl_seconds: 60
 */
import { cachePolicyOf, commonRegistryProperties, decodeRegistry, openCachedRegistry, type RegistryPlugin } from '@larder/core';

/** One request, which must answer 2xx within 10 s (a loader must never hang). */
async function fetchOk(url: string, method: 'GET' | 'HEAD'): Promise<Response> {
  const response = await fetch(url, { method, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}`);
  return response;
}

const plugin: RegistryPlugin = {
  kind: 'registry',
  name: 'http-registry',
  configSchema: {
    type: 'object',
    required: ['path'],
    additionalProperties: false,
    properties: { ...commonRegistryProperties, path: { type: 'string', pattern: '^https?://' } },
  },
  create(config, env) {
    const url = config.path as string;
    return openCachedRegistry(
      {
        describe: url,
        // The ETag changes with the object: an unchanged registry is not downloaded again.
        stamp: async () => (await fetchOk(url, 'HEAD')).headers.get('etag') ?? String(Date.now()),
        load: async () => decodeRegistry(new Uint8Array(await (await fetchOk(url, 'GET')).arrayBuffer())),
      },
      { policy: cachePolicyOf(config), logger: env.logger },
    );
  },
};

export default plugin;
