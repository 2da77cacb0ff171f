/**
 * Importing a plugin module that is known to exist. Whatever goes wrong from here on is the
 * module's own failure (a dependency it imports that is not installed, a syntax error, a throw at
 * import time), so it is reported as "failed to load" with the module's own error, never as missing.
 */
import { pathToFileURL } from 'node:url';
import { PluginResolutionError } from './errors.ts';

/** Imports `file` (ESM or CommonJS: `import()` loads both); `what` names it in the error. */
export async function importPluginModule(file: string, what: string): Promise<unknown> {
  try {
    return await import(pathToFileURL(file).href);
  } catch (error) {
    throw new PluginResolutionError(`${what} failed to load: ${describeError(error)}`, { cause: error });
  }
}

/**
 * The plugin object of a module namespace: the ESM default export; for CommonJS, `module.exports`
 * (which `import()` presents as the default) or, for transpiled code, `exports.default`.
 */
export function pluginExport(namespace: unknown): unknown {
  const ns = namespace as { default?: { default?: unknown } } | null | undefined;
  const candidates = [ns?.default, ns?.default?.default, ns];
  return candidates.find((c) => c !== null && typeof c === 'object' && 'kind' in c) ?? ns?.default ?? ns;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  // A CommonJS syntax error's stack starts with the file and line; an ESM one's carries none in Node.
  const firstLine = error.stack?.split('\n', 1)[0] ?? '';
  const at = error instanceof SyntaxError && /:\d+$/.test(firstLine) ? ` (at ${firstLine})` : '';
  return `${error.name}${code && !error.name.includes(code) ? ` [${code}]` : ''}: ${error.message}${at}`;
}
