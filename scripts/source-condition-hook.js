// A module resolution hook (node:module register) that adds the `larder-source` export condition,
// so that inside this repository @larder/* packages resolve to their TypeScript sources.
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes('larder-source') ? context.conditions : [...context.conditions, 'larder-source'];
  return nextResolve(specifier, { ...context, conditions });
}
