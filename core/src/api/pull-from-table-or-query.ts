/**
 * `pull_latest_from_table_or_query` and `pull_all_from_table_or_query`: the data source is looked
 * up by name in the configured project and checked for READ_OFFLINE; column names are raw source
 * names (the client has already reverse-mapped them).
 */
import type { Table } from 'apache-arrow';
import type { PullRequest, ResultStream } from '../store.ts';
import type { FeastCommand } from './commands.ts';
import type { ApiContext } from './context.ts';
import { parseIsoDate } from './dates.ts';

async function pullRequest(command: FeastCommand, ctx: ApiContext): Promise<PullRequest> {
  const source = ctx.registry.getDataSource(command.data_source_name as string, ctx.project);
  await ctx.authorize([{ action: 'READ_OFFLINE', resource: { kind: 'dataSource', object: source } }]);
  return {
    source,
    joinKeyColumns: command.join_key_columns as string[],
    featureNameColumns: command.feature_name_columns as string[],
    timestampField: command.timestamp_field as string,
    createdTimestampColumn: (command.created_timestamp_column as string | null | undefined) || null,
    startDate: parseIsoDate(command.start_date, 'start_date'),
    endDate: parseIsoDate(command.end_date, 'end_date'),
  };
}

export async function pullLatestFromTableOrQuery(command: FeastCommand, _upload: Table | null, ctx: ApiContext): Promise<ResultStream> {
  return ctx.store.pullLatestFromTableOrQuery(await pullRequest(command, ctx), ctx.call);
}

export async function pullAllFromTableOrQuery(command: FeastCommand, _upload: Table | null, ctx: ApiContext): Promise<ResultStream> {
  return ctx.store.pullAllFromTableOrQuery(await pullRequest(command, ctx), ctx.call);
}
