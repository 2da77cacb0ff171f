/**
 * `get_historical_features`: resolve the views as Feast's server does (aliases through feature
 * service projections, stream-view fallback, dummy entity removed), check READ_OFFLINE on each
 * view, hand the point-in-time join to the store, and compute any on-demand feature views on its
 * result (on-demand-views.ts).
 */
import type { Table } from 'apache-arrow';
import type { FeatureView } from '../registry/model.ts';
import type { ResultStream } from '../store.ts';
import type { FeastCommand } from './commands.ts';
import type { ApiContext } from './context.ts';
import { parseIsoDate } from './dates.ts';
import { withEntityMetadata } from './entity-metadata.ts';
import { checkEntityTable } from './entity-table.ts';
import { withNullKeyColumnsSettled } from './null-key-columns.ts';
import { planOnDemandViews, withOnDemandColumns } from './on-demand-views.ts';
import { callWithSourceAccess } from './source-access.ts';

export async function getHistoricalFeatures(command: FeastCommand, upload: Table | null, ctx: ApiContext): Promise<ResultStream> {
  const project = command.project as string;
  const fullFeatureNames = command.full_feature_names as boolean;
  const requestedViews = resolveFeatureViews(command, ctx, project);
  const requestedRefs = command.feature_refs as string[];
  const onDemand = planOnDemandViews(requestedRefs, requestedViews, ctx, project, { fullFeatureNames, entityTable: upload });
  const featureViews = onDemand?.featureViews ?? requestedViews;
  const featureRefs = onDemand?.featureRefs ?? requestedRefs;
  // As in Feast, READ_OFFLINE is checked on the regular views, which include every ODFV's sources.
  await ctx.authorize(featureViews.map((fv) => ({ action: 'READ_OFFLINE', resource: { kind: 'featureView', object: fv } })));
  if (upload) checkEntityTable(upload);
  const startDate = parseIsoDate(command.start_date, 'start_date') ?? undefined;
  const endDate = parseIsoDate(command.end_date, 'end_date') ?? undefined;
  const entityDfSql = upload === null && typeof command.entity_df_sql === 'string' ? command.entity_df_sql : undefined;
  // Client SQL may read only the sources the caller may read: the store is told which.
  const call = entityDfSql === undefined ? ctx.call : await callWithSourceAccess(ctx);
  const retrieve = (entityTable: Table | undefined) =>
    ctx.store.getHistoricalFeatures(
      { featureViews, featureRefs, project, fullFeatureNames, entityTable, entityDfSql, startDate, endDate },
      call,
    );
  // An empty dataframe's string keys arrive null-typed: settled here, alike for every store.
  const stored = upload ? await withNullKeyColumnsSettled(upload, featureViews, retrieve) : await retrieve(undefined);
  // The upload's pandas metadata restores dtypes such as Int64 on the client (entity-metadata.ts).
  const result = upload ? withEntityMetadata(stored, upload) : stored;
  return onDemand ? withOnDemandColumns(result, onDemand, ctx.odfvWorker!, { fullFeatureNames, signal: ctx.call.signal }) : result;
}

/** Feast's `list_feature_views_by_name`: names and aliases are read in parallel. */
export function resolveFeatureViews(command: FeastCommand, ctx: ApiContext, project: string): FeatureView[] {
  const names = command.feature_view_names as string[];
  const aliases = (command.name_aliases as Array<string | null> | undefined) ?? [];
  return names.map((name, i) => ctx.registry.getFeatureViewByName(name, aliases[i] ?? null, project));
}
