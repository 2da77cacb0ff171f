/**
 * Third-party plugins share the server's own copies of @larder/core, @larder/flight and
 * apache-arrow.
 *
 * A plugin installed in the feature repo while larder is installed elsewhere (the image's /app,
 * a global install) finds its peer dependencies beside itself: npm installs them there, so it
 * would import second copies. Two apache-arrow copies cannot exchange record batches (the server
 * refuses a result built by another copy), and a second core is a second set of error classes
 * and registry code. A peer dependency means "the host provides it", so before the first
 * third-party plugin loads, larder installs a module resolution hook that resolves these names,
 * imported from anywhere, as the server itself resolves them.
 */
import module from 'node:module';

/** Package names (and their subpaths) that a plugin always gets from the server. */
export const SHARED_PACKAGES: readonly string[] = ['@larder/core', '@larder/flight', 'apache-arrow'];

/** Whether `specifier` names a shared package or a subpath of one. */
export function isSharedPackage(specifier: string): boolean {
  return SHARED_PACKAGES.some((name) => specifier === name || specifier.startsWith(`${name}/`));
}

type ResolveContext = { parentURL?: string; conditions?: readonly string[] };
type NextResolve = (specifier: string, context: ResolveContext) => unknown;
type RegisterHooks = (hooks: { resolve(specifier: string, context: ResolveContext, next: NextResolve): unknown }) => unknown;

// The async variant, for Node without module.registerHooks: it runs on the loader thread, so it is
// source text, and it covers `import` only (CommonJS plugins' require() keeps Node's own resolution).
const ASYNC_HOOK = `
let shared = [], parentURL;
export async function initialize(data) { shared = data.shared; parentURL = data.parentURL; }
export async function resolve(specifier, context, next) {
  const hit = shared.some((name) => specifier === name || specifier.startsWith(name + '/'));
  return next(specifier, hit ? { ...context, parentURL } : context);
}`;

let installed = false;

/** Installs the hook once per process. Resolving as this module does is resolving as core does. */
export function shareHostPackages(): void {
  if (installed) return;
  installed = true;
  const parentURL = import.meta.url;
  // Node >= 22.15: synchronous hooks on the main thread, for import and require() alike.
  const registerHooks = (module as unknown as { registerHooks?: RegisterHooks }).registerHooks;
  if (typeof registerHooks === 'function') {
    registerHooks({
      resolve: (specifier, context, next) => next(specifier, isSharedPackage(specifier) ? { ...context, parentURL } : context),
    });
    return;
  }
  module.register(`data:text/javascript,${encodeURIComponent(ASYNC_HOOK)}`, { data: { shared: SHARED_PACKAGES, parentURL } });
}
