/**
 * The file a package directory offers for a subpath, read from its package.json the way Node reads
 * it: `exports` (strings, fallback arrays, nested condition objects, subpath maps and `*` patterns)
 * when present, else `main` with Node's legacy fallbacks (`main.js`, `main/index.js`, `index.js`).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PluginResolutionError } from './errors.ts';

/** The parts of package.json that decide which file a package offers. */
export interface PackageManifest {
  readonly name?: string;
  readonly main?: string;
  readonly exports?: unknown;
}

/** Reads `<dir>/package.json`; a directory without one is a package with no manifest (Node's view too). */
export function readManifest(dir: string): PackageManifest {
  const file = path.join(dir, 'package.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  try {
    const manifest = JSON.parse(text) as unknown;
    return manifest !== null && typeof manifest === 'object' ? (manifest as PackageManifest) : {};
  } catch (error) {
    throw new PluginResolutionError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The absolute file that `subpath` (`.` or `./x`) of the package in `dir` resolves to, trying each
 * condition set in turn, or undefined when the package offers no existing file for it.
 */
export function packageEntry(
  dir: string,
  manifest: PackageManifest,
  subpath: string,
  conditionSets: ReadonlyArray<ReadonlySet<string>>,
): string | undefined {
  if (manifest.exports !== undefined && manifest.exports !== null) {
    for (const conditions of conditionSets) {
      const target = exportsTarget(manifest.exports, subpath, conditions);
      if (target === undefined) continue;
      const file = path.resolve(dir, target);
      if (isInside(dir, file) && isFile(file)) return file;
    }
    return undefined;
  }
  const base = subpath === '.' ? manifest.main : subpath;
  const candidates = base ? [base, `${base}.js`, `${base}.mjs`, `${base}.cjs`, path.join(base, 'index.js')] : [];
  if (subpath === '.') candidates.push('index.js');
  return candidates.map((c) => path.resolve(dir, c)).find((file) => isInside(dir, file) && isFile(file));
}

function exportsTarget(exports: unknown, subpath: string, conditions: ReadonlySet<string>): string | undefined {
  const isSubpathMap =
    exports !== null && typeof exports === 'object' && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith('.'));
  const map = (isSubpathMap ? exports : { '.': exports }) as Record<string, unknown>;
  if (Object.hasOwn(map, subpath) && !subpath.includes('*')) return conditionalTarget(map[subpath], conditions, undefined);
  // Subpath patterns: the matching key with the longest part before its `*` wins, as in Node.
  let best: { key: string; star: string } | undefined;
  for (const key of Object.keys(map)) {
    const star = key.indexOf('*');
    if (star < 0 || key.indexOf('*', star + 1) >= 0) continue;
    const prefix = key.slice(0, star);
    const suffix = key.slice(star + 1);
    if (
      subpath.length >= key.length - 1 &&
      subpath.startsWith(prefix) &&
      subpath.endsWith(suffix) &&
      (!best || prefix.length > best.key.indexOf('*'))
    ) {
      best = { key, star: subpath.slice(prefix.length, subpath.length - suffix.length) };
    }
  }
  return best ? conditionalTarget(map[best.key], conditions, best.star) : undefined;
}

function conditionalTarget(target: unknown, conditions: ReadonlySet<string>, star: string | undefined): string | undefined {
  if (typeof target === 'string') {
    if (!target.startsWith('./')) return undefined;
    return star === undefined ? target : target.replaceAll('*', star);
  }
  if (Array.isArray(target)) {
    for (const fallback of target) {
      const resolved = conditionalTarget(fallback, conditions, star);
      if (resolved !== undefined) return resolved;
    }
    return undefined;
  }
  if (target !== null && typeof target === 'object') {
    for (const [condition, value] of Object.entries(target)) {
      if (condition !== 'default' && !conditions.has(condition)) continue;
      const resolved = conditionalTarget(value, conditions, star);
      if (resolved !== undefined) return resolved;
    }
  }
  return undefined;
}

function isInside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

export function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
