/**
 * Finding an npm package named in `type:` the way Node would from each search tier: the first
 * node_modules directory holding the package decides, and its package.json says which file to
 * load. Done by hand because `createRequire().resolve()` only knows `require` conditions (an
 * ESM-only package, exporting only `import`, looks missing to it) and `import.meta.resolve` only
 * resolves from larder's own location.
 */
import path from 'node:path';
import { PluginResolutionError } from './errors.ts';
import { isDirectory, packageEntry, readManifest } from './package-entry.ts';
import type { SearchTier } from './search-paths.ts';

/** A bare specifier split into the package name and the subpath inside it (`.` for the package itself). */
export interface PackageSpecifier {
  readonly name: string;
  readonly subpath: string;
}

/** A package found in a tier, with the file it offers for the specifier's subpath. */
export interface LocatedPackage {
  readonly file: string;
  readonly packageDir: string;
  readonly tier: SearchTier;
}

/** `pkg`, `pkg/sub/path`, `@scope/pkg`, `@scope/pkg/sub`; undefined for anything npm would not accept as a name. */
export function parsePackageSpecifier(type: string): PackageSpecifier | undefined {
  const match = /^((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*)((?:\/[\w.@-]+)*)$/i.exec(type);
  if (!match) return undefined;
  const rest = match[2];
  if (rest.split('/').some((segment) => segment === '..' || segment === '.')) return undefined;
  return { name: match[1], subpath: rest ? `.${rest}` : '.' };
}

/**
 * The package in the first tier directory that holds it, or undefined when none does. A package
 * that is found but offers no file for the subpath is an error: Node stops at the first match too,
 * and the user needs to know that the package is there but unusable.
 */
export function locatePackage(
  spec: PackageSpecifier,
  tiers: readonly SearchTier[],
  conditionSets: ReadonlyArray<ReadonlySet<string>>,
): LocatedPackage | undefined {
  for (const tier of tiers) {
    for (const modules of tier.dirs) {
      const packageDir = path.join(modules, spec.name);
      if (!isDirectory(packageDir)) continue;
      const manifest = readManifest(packageDir);
      const file = packageEntry(packageDir, manifest, spec.subpath, conditionSets);
      if (!file) {
        const how =
          manifest.exports !== undefined
            ? 'its package.json "exports"'
            : `its package.json "main" (${manifest.main ?? 'unset, so index.js'})`;
        throw new PluginResolutionError(
          `package ${spec.name}, found at ${packageDir} (${tier.label}), exports no entry for "${spec.subpath}" that exists: ${how} names no file for the conditions ${describeConditions(conditionSets)}`,
        );
      }
      return { file, packageDir, tier };
    }
  }
  return undefined;
}

/** `larder-source, node, import, require, default`: every condition tried, once, in order. */
function describeConditions(conditionSets: ReadonlyArray<ReadonlySet<string>>): string {
  return [...new Set(conditionSets.flatMap((set) => [...set]))].join(', ');
}
