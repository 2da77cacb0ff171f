/**
 * Checks feature_store.yaml.example against larder's own config validation, so the file cannot
 * drift from the code. The file holds one active configuration plus commented-out parts:
 *
 * - variants: blocks between `# --- variant: <title> ---` and `# --- end variant ---`, every line
 *   commented with `# `; uncommented, a variant's top-level sections replace the active ones;
 * - optional keys: a line `<indent># key: value` inside a section (indented, so prose comments at
 *   the top level never count); uncommented, it sets that key.
 *
 * Every configuration the file can produce this way (the active one, each variant, each with one
 * optional key set) is validated exactly as `startServer` does before the port opens: loadRepoConfig
 * (core's schema, the `larder:` section included), then each section against the configSchema of
 * the plugin its `type:` resolves to. And the keys the file documents must be exactly the keys
 * those schemas declare, per built-in type: a key missing from the file, or one no schema knows
 * (even where a schema lets unknown keys through), is a problem.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadRepoConfig } from '../../core/src/config/load.ts';
import { repoConfigSchema } from '../../core/src/config/schema.ts';
import { validateSection } from '../../core/src/config/validate.ts';
import { createHooks, type LarderHooks } from '../../core/src/hooks.ts';
import { BUILTIN_TYPE_NAMES, NO_AUTH } from '../../core/src/plugins/builtin.ts';
import { type PluginKind, resolvePlugin } from '../../core/src/plugins/resolve.ts';
import { tapDefaultResolvers } from '../../core/src/plugins/resolve.ts';

type Mapping = Record<string, unknown>;
type Schema = { readonly properties?: Readonly<Record<string, Schema>> };

/** One configuration the example yields, before validation. */
export interface ExampleConfig {
  /** e.g. `active`, `variant "offline_store postgres"`, `variant "auth oidc" + optional audience`. */
  readonly name: string;
  readonly config: Mapping;
}

export interface ExampleReport {
  /** The configurations validated, by name. */
  readonly checked: readonly string[];
  /** Everything wrong; empty when the example is right. */
  readonly problems: readonly string[];
}

const VARIANT_START = /^# --- variant: (.+) ---$/;
const VARIANT_END = '# --- end variant ---';
const OPTIONAL_KEY = /^(\s+)# ([a-z][a-z0-9_-]*:(?:\s.*)?)$/;

/** Splits the example into its active text (variants removed) and each variant's uncommented text. */
export function splitExample(text: string): { active: string; variants: { title: string; text: string }[]; problems: string[] } {
  const active: string[] = [];
  const variants: { title: string; text: string }[] = [];
  const problems: string[] = [];
  let open: { title: string; lines: string[] } | null = null;
  text.split('\n').forEach((line, index) => {
    const start = VARIANT_START.exec(line);
    if (start) {
      if (open) problems.push(`line ${index + 1}: variant "${start[1]}" starts inside variant "${open.title}"`);
      open = { title: start[1]!, lines: [] };
    } else if (line === VARIANT_END) {
      if (!open) problems.push(`line ${index + 1}: "${VARIANT_END}" without a variant`);
      else variants.push({ title: open.title, text: open.lines.join('\n') });
      open = null;
    } else if (!open) {
      active.push(line);
    } else if (line === '#' || line.startsWith('# ')) {
      open.lines.push(line.slice(2));
    } else {
      problems.push(`line ${index + 1}: inside variant "${open.title}" but not commented with "# ": ${line}`);
    }
  });
  if (open) problems.push(`variant "${(open as { title: string }).title}" has no "${VARIANT_END}"`);
  return { active: active.join('\n'), variants, problems };
}

/** The text once with nothing changed, then once per optional-key line with that line uncommented. */
function withEachOptionalKey(text: string): { optional: string | null; text: string }[] {
  const lines = text.split('\n');
  const out: { optional: string | null; text: string }[] = [{ optional: null, text }];
  lines.forEach((line, i) => {
    const m = OPTIONAL_KEY.exec(line);
    if (!m) return;
    const changed = [...lines];
    changed[i] = `${m[1]}${m[2]}`;
    out.push({ optional: m[2]!.split(':')[0]!, text: changed.join('\n') });
  });
  return out;
}

/** Every configuration the example yields (see the module comment), or problems parsing it. */
export function exampleConfigs(text: string): { configs: ExampleConfig[]; problems: string[] } {
  const { active, variants, problems } = splitExample(text);
  const configs: ExampleConfig[] = [];
  const parse = (name: string, yaml: string): Mapping | null => {
    try {
      const value = parseYaml(yaml) as unknown;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Mapping;
      problems.push(`${name}: is not a YAML mapping`);
    } catch (error) {
      problems.push(`${name}: is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    }
    return null;
  };
  const suffix = (optional: string | null) => (optional ? ` + optional ${optional}` : '');
  const base = parse('active', active);
  if (!base) return { configs, problems };
  for (const { optional, text: t } of withEachOptionalKey(active)) {
    const config = parse(`active${suffix(optional)}`, t);
    if (config) configs.push({ name: `active${suffix(optional)}`, config });
  }
  for (const variant of variants) {
    for (const { optional, text: t } of withEachOptionalKey(variant.text)) {
      const name = `variant "${variant.title}"${suffix(optional)}`;
      const sections = parse(name, t);
      if (sections) configs.push({ name, config: { ...base, ...sections } });
    }
  }
  return { configs, problems };
}

/** The dotted key paths a schema declares (nested object schemas with `properties` included). */
function schemaPaths(schema: Schema, prefix = ''): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, sub]) => [
    prefix + key,
    ...(sub.properties ? schemaPaths(sub, `${prefix}${key}.`) : []),
  ]);
}

/** The dotted key paths a section sets, descending where its schema describes a nested object. */
function configPaths(value: Mapping, schema: Schema | undefined, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, sub]) => {
    const subSchema = schema?.properties?.[key];
    const nested = subSchema?.properties && isMapping(sub) ? configPaths(sub, subSchema, `${prefix}${key}.`) : [];
    return [prefix + key, ...nested];
  });
}

function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Where a section's keys are counted: one bucket per plugin (so `file` and `dask` share one). */
interface Bucket {
  label: string;
  readonly schema: Schema;
  /** Top-level keys only (the top level's sections have buckets of their own). */
  readonly shallow?: boolean;
  readonly documented: Set<string>;
}

/**
 * Validates every configuration of the example and compares the keys it documents with the keys
 * larder's schemas declare: core's top level, its `larder:` section, and each built-in plugin.
 */
export async function checkExample(text: string): Promise<ExampleReport> {
  const { configs, problems } = exampleConfigs(text);
  const dir = mkdtempSync(path.join(tmpdir(), 'larder-yaml-example-'));
  const hooks = createHooks();
  tapDefaultResolvers(hooks);
  const buckets = new Map<object, Bucket>();
  const bucketOf = (schema: Schema, label: string, shallow = false): Bucket => {
    let bucket = buckets.get(schema);
    if (!bucket) buckets.set(schema, (bucket = { label, schema, shallow, documented: new Set() }));
    return bucket;
  };
  const top = bucketOf(repoConfigSchema as Schema, 'the top level (core/src/config/schema.ts)', true);
  const larder = bucketOf(repoConfigSchema.properties.larder as Schema, 'larder (core/src/config/schema.ts)');
  const authTypes = new Set<string>();
  try {
    // Each built-in type's bucket exists before any config is read, so a type no config uses shows.
    for (const kind of ['offline_store', 'auth', 'registry'] as const) {
      for (const type of BUILTIN_TYPE_NAMES[kind].filter((t) => t !== NO_AUTH)) {
        const plugin = await resolvePlugin(hooks, kind, type, { repoPath: dir });
        const label = `${kind} ${type}`;
        const bucket = bucketOf(plugin.configSchema as Schema, label);
        // Aliases of one plugin (file and dask) share its bucket.
        if (bucket.label !== label) bucket.label = `${bucket.label}/${type}`;
      }
    }
    for (const { name, config } of configs) {
      // Keys are counted before validation: ajv's useDefaults writes defaults into what it checks.
      for (const p of Object.keys(config)) top.documented.add(p);
      if (isMapping(config.larder)) for (const p of configPaths(config.larder, larder.schema)) larder.documented.add(p);
      const problem = await validateConfig(name, config, dir, hooks, (kind, schema, section) => {
        for (const p of configPaths(section, schema)) buckets.get(schema)?.documented.add(p);
        if (kind === 'auth') authTypes.add(String(section.type));
      });
      if (problem) problems.push(problem);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!authTypes.has(NO_AUTH)) {
    problems.push(`auth ${NO_AUTH}: no configuration of the example uses it`);
  }
  for (const bucket of buckets.values()) {
    const declared = new Set(bucket.shallow ? Object.keys(bucket.schema.properties ?? {}) : schemaPaths(bucket.schema));
    for (const key of declared) {
      if (!bucket.documented.has(key)) problems.push(`${bucket.label}: key ${key} is declared in its schema but missing from the example`);
    }
    for (const key of bucket.documented) {
      if (!declared.has(key)) problems.push(`${bucket.label}: key ${key} is in the example but its schema does not declare it`);
    }
  }
  return { checked: configs.map((c) => c.name), problems };
}

/**
 * One configuration through startServer's checks: written out and loaded by loadRepoConfig, then
 * offline_store, auth (unless no_auth) and registry against their plugins' configSchemas.
 * `seen` gets each section before it is validated. Returns the problem, or null.
 */
async function validateConfig(
  name: string,
  config: Mapping,
  dir: string,
  hooks: LarderHooks,
  seen: (kind: PluginKind, schema: Schema, section: Mapping) => void,
): Promise<string | null> {
  try {
    writeFileSync(path.join(dir, 'feature_store.yaml'), stringifyYaml(config));
    const loaded = await loadRepoConfig({ chdir: dir, env: {} });
    const registry = typeof loaded.registry === 'string' ? { registry_type: 'file', path: loaded.registry } : { ...loaded.registry };
    const sections: [PluginKind, Mapping][] = [
      ['offline_store', { ...loaded.offlineStore }],
      ['registry', registry],
    ];
    if (loaded.auth.type !== NO_AUTH) sections.push(['auth', { ...loaded.auth }]);
    else seen('auth', {}, { ...loaded.auth });
    for (const [kind, section] of sections) {
      const type = kind === 'registry' ? ((section.registry_type as string | undefined) ?? 'file') : String(section.type);
      const plugin = await resolvePlugin(hooks, kind, type, { repoPath: dir });
      seen(kind, plugin.configSchema as Schema, section);
      validateSection(plugin.configSchema, structuredClone(section), 'feature_store.yaml.example', kind);
    }
    return null;
  } catch (error) {
    return `${name}: ${(error as Error).message.replaceAll(dir, '<repo>')}`;
  }
}
