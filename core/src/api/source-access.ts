/**
 * The caller's access to the project's data sources, for the calls whose SQL or data source the
 * client wrote (see CallContext.sourceAccess): core knows the permissions, the store knows what a
 * source's SQL or files reach.
 */
import type { DataSource, RegistrySnapshot } from '../registry/model.ts';
import type { CallContext } from '../store.ts';
import type { ApiContext } from './context.ts';

/** `ctx.call`, carrying the caller's source access when permissions are enforced. */
export async function callWithSourceAccess(ctx: ApiContext): Promise<CallContext> {
  const candidates = projectSources(ctx.registry, ctx.project);
  const readable = await ctx.readableSources(candidates);
  if (readable === null) return ctx.call;
  return { ...ctx.call, sourceAccess: { readable, denied: candidates.filter((s) => !readable.includes(s)) } };
}

/** Every data source of the project: the registered ones, and those the views carry. */
function projectSources(registry: RegistrySnapshot, project: string): DataSource[] {
  const views = [...registry.listFeatureViews(project), ...registry.listStreamFeatureViews(project)];
  const carried = views.flatMap((v) => [v.batchSource, v.streamSource]).filter((s): s is DataSource => s !== undefined);
  return [...new Set([...registry.listDataSources(project), ...carried])];
}
