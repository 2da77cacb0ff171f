/**
 * `get_historical_features`: resolve the views as Feast's server does (aliases through feature
 * service projections, stream-view fallback, dummy entity removed), refuse on-demand feature
 * views, check READ_OFFLINE on each view, then hand the point-in-time join to the store.
 */
import type { Table } from 'apache-arrow';
import { OnDemandFeatureViewNotSupported } from '../errors.ts';
import { nameToUse, type FeatureView } from '../registry/model.ts';
import type { ResultStream } from '../store.ts';
import type { FeastCommand } from './commands.ts';
import type { ApiContext } from './context.ts';
import { parseIsoDate } from './dates.ts';

export async function getHistoricalFeatures(command: FeastCommand, upload: Table | null, ctx: ApiContext): Promise<ResultStream> {
  const project = command.project as string;
  const featureViews = resolveFeatureViews(command, ctx, project);
  const featureRefs = command.feature_refs as string[];
  refuseOnDemandViews(featureRefs, featureViews, ctx, project);
  await ctx.authorize(featureViews.map((fv) => ({ action: 'READ_OFFLINE', resource: { kind: 'featureView', object: fv } })));
  const startDate = parseIsoDate(command.start_date, 'start_date') ?? undefined;
  const endDate = parseIsoDate(command.end_date, 'end_date') ?? undefined;
  const entityDfSql = upload === null && typeof command.entity_df_sql === 'string' ? command.entity_df_sql : undefined;
  return ctx.store.getHistoricalFeatures(
    {
      featureViews,
      featureRefs,
      project,
      fullFeatureNames: command.full_feature_names as boolean,
      entityTable: upload ?? undefined,
      entityDfSql,
      startDate,
      endDate,
    },
    ctx.call,
  );
}

/** Feast's `list_feature_views_by_name`: names and aliases are read in parallel. */
export function resolveFeatureViews(command: FeastCommand, ctx: ApiContext, project: string): FeatureView[] {
  const names = command.feature_view_names as string[];
  const aliases = (command.name_aliases as Array<string | null> | undefined) ?? [];
  return names.map((name, i) => ctx.registry.getFeatureViewByName(name, aliases[i] ?? null, project));
}

/**
 * The client sends ODFV refs (`odfv:feature`) among the refs but only regular views in
 * feature_view_names; Feast's server would run the Python UDF. larder cannot, so such a ref is
 * refused with an error naming the view rather than silently dropped.
 */
function refuseOnDemandViews(refs: readonly string[], views: readonly FeatureView[], ctx: ApiContext, project: string): void {
  const regular = new Set(views.map((v) => nameToUse(v.projection)));
  const odfvs = new Set(ctx.registry.listOnDemandFeatureViews(project).map((v) => v.name));
  for (const ref of refs) {
    const viewName = ref.slice(0, ref.indexOf(':')).replace(/@(latest|v\d+)$/, '');
    if (!regular.has(viewName) && odfvs.has(viewName)) throw new OnDemandFeatureViewNotSupported(viewName);
  }
}
