/** The plugin's shape and its configSchema: it accepts the target's section and refuses a key it does not know. */
import { validateSection } from '../../config/validate.ts';
import type { Check } from '../check.ts';
import type { KitRun } from '../kit-run.ts';

export function configChecks(run: KitRun): Check[] {
  const { plugin, storeConfig } = run.target;
  return [
    {
      name: "plugin: an offline_store plugin whose configSchema accepts the target's offline_store section",
      async run() {
        if (plugin?.kind !== 'offline_store') throw new Error(`the plugin's kind is ${JSON.stringify(plugin?.kind)}, not "offline_store"`);
        if (typeof plugin.name !== 'string' || plugin.name.length === 0) throw new Error('the plugin has no name');
        if (typeof plugin.create !== 'function') throw new Error('the plugin has no create() function');
        if (typeof plugin.configSchema !== 'object' || plugin.configSchema === null)
          throw new Error('the plugin has no configSchema object');
        validateSection(plugin.configSchema, structuredClone(storeConfig), 'the conformance target', 'offline_store');
      },
    },
    {
      name: 'plugin: its configSchema refuses an unknown key (a typo in feature_store.yaml is reported, not ignored)',
      async run() {
        const typo = { ...structuredClone(storeConfig), larder_conformance_unknown_key: true };
        try {
          validateSection(plugin.configSchema, typo, 'the conformance target', 'offline_store');
        } catch {
          return;
        }
        throw new Error('offline_store.larder_conformance_unknown_key was accepted: set additionalProperties: false in the configSchema');
      },
    },
  ];
}
