/**
 * The built-in `file` registry type: a Feast registry.db on the local disk (file-registry.ts).
 * Its freshness rule is the file's identity, checked on every call, rather than the TTL: a stat
 * costs microseconds and gives Python's offline server's behaviour (it re-reads on every lookup).
 */
import { openFileRegistry, registryPathFromConfig } from './file-registry.ts';
import { commonRegistryProperties, type RegistryPlugin } from './plugin.ts';

const fileRegistryPlugin: RegistryPlugin = {
  kind: 'registry',
  name: 'file',
  configSchema: {
    type: 'object',
    properties: { ...commonRegistryProperties, registry_store_type: { type: ['string', 'null'] } },
  },
  create(config, env) {
    const path = registryPathFromConfig(config, env.repoPath);
    return openFileRegistry({ path, repoPath: env.repoPath, logger: env.logger });
  },
};

export default fileRegistryPlugin;
