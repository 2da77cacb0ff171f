/**
 * The package.json `exports` conditions larder resolves a plugin package with. Node applies them
 * when it resolves an import itself; larder has to apply them by hand when it looks a package up
 * in a directory Node's resolver would not search from (the feature repo, the global install).
 */

/** Custom conditions the process runs with (`--conditions=x`, `-C x`, in execArgv or NODE_OPTIONS). */
export function userConditions(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const args = [...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)];
  const conditions: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const inline = /^(?:--conditions|-C)=(.+)$/.exec(arg);
    if (inline) conditions.push(inline[1]);
    else if ((arg === '--conditions' || arg === '-C') && args[i + 1]) conditions.push(args[++i]);
  }
  return conditions;
}

/**
 * Condition sets to try, in order: as an `import()` would (so ESM-only packages resolve), then as a
 * `require()` would (so a package exporting only `require` still loads: `import()` of CommonJS
 * works). A set matches a conditions object's keys in the object's own order, as Node does.
 */
export function pluginConditionSets(custom: readonly string[] = userConditions()): ReadonlyArray<ReadonlySet<string>> {
  return [new Set([...custom, 'node', 'import', 'default']), new Set([...custom, 'node', 'require', 'default'])];
}
