/**
 * The write calls, which Feast runs inside DoPut: `offline_write_batch` (WRITE_OFFLINE on the
 * view), `write_logged_features` (WRITE_OFFLINE on the feature service). Both use the project of
 * feature_store.yaml, as Feast's server does.
 */
import type { Table } from 'apache-arrow';
import { InvalidArgumentError, UnimplementedError, feastError } from '../errors.ts';
import type { FeastCommand } from './commands.ts';
import type { ApiContext } from './context.ts';

export async function offlineWriteBatch(command: FeastCommand, upload: Table | null, ctx: ApiContext): Promise<void> {
  const [name] = command.feature_view_names as string[];
  const [alias] = (command.name_aliases as Array<string | null> | undefined) ?? [null];
  const featureView = ctx.registry.getFeatureViewByName(name!, alias ?? null, ctx.project);
  await ctx.authorize([{ action: 'WRITE_OFFLINE', resource: { kind: 'featureView', object: featureView } }]);
  if (!upload) throw new InvalidArgumentError('offline_write_batch needs the table to write as the uploaded data');
  if (typeof ctx.store.offlineWriteBatch !== 'function') throw notImplemented('offline_write_batch');
  await ctx.store.offlineWriteBatch({ featureView, table: upload }, ctx.call);
}

export async function writeLoggedFeatures(command: FeastCommand, upload: Table | null, ctx: ApiContext): Promise<void> {
  const featureService = ctx.registry.getFeatureService(command.feature_service_name as string, ctx.project);
  await ctx.authorize([{ action: 'WRITE_OFFLINE', resource: { kind: 'featureService', object: featureService } }]);
  if (!featureService.loggingConfig) {
    // Python Feast fails here with an AssertionError of this text.
    throw feastError('FeastError', 'feature service must have logging_config set');
  }
  if (!upload) throw new InvalidArgumentError('write_logged_features needs the logged rows as the uploaded data');
  if (typeof ctx.store.writeLoggedFeatures !== 'function') throw notImplemented('write_logged_features');
  await ctx.store.writeLoggedFeatures({ featureService, table: upload }, ctx.call);
}

/** The answer to a write that a (JavaScript) store plugin leaves out. */
export function notImplemented(api: string): UnimplementedError {
  return new UnimplementedError(`This server's offline store does not implement ${api}: it is read-only`);
}
