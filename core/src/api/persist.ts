/**
 * `persist` (create_saved_dataset through a remote store): re-run the retrieval the command
 * describes, then write its stream to the registered data source named `data_source_name`
 * (WRITE_OFFLINE on that source; READ_OFFLINE checks of the retrieval apply too).
 */
import type { Table } from 'apache-arrow';
import type { FeastCommand } from './commands.ts';
import type { ApiContext, ReadHandler } from './context.ts';
import { releaseResult } from './release-result.ts';
import { notImplemented } from './writes.ts';

export function makePersist(reads: Readonly<Record<string, ReadHandler>>) {
  return async function persist(command: FeastCommand, upload: Table | null, ctx: ApiContext): Promise<void> {
    const destination = ctx.registry.getDataSource(command.data_source_name as string, ctx.project);
    const retrieve = reads[command.retrieve_func as string]!;
    // The retrieval's own READ_OFFLINE checks come first, then WRITE_OFFLINE on the destination,
    // in Feast's order (so a caller denied both sees the same denial as from Feast).
    const result = await retrieve(command, upload, ctx);
    try {
      await ctx.authorize([{ action: 'WRITE_OFFLINE', resource: { kind: 'dataSource', object: destination } }]);
      if (typeof ctx.store.persist !== 'function') throw notImplemented('persist');
      await ctx.store.persist({ result, destination, allowOverwrite: command.allow_overwrite === true }, ctx.call);
    } finally {
      // A store that refuses (an existing destination, a bad table) may never read the result:
      // end it here, so what it holds (a connection, a query) is freed either way.
      await releaseResult(result);
    }
  };
}
