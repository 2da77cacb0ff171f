/**
 * The two calls that carry a data source as text (`data_source_proto`, protobuf JSON) instead of
 * naming a registered one: `feast apply` uses them through a remote store to validate a source and
 * to infer its schema. READ_OFFLINE is checked on the source as sent; for the column listing, which
 * returns what the source holds, the store is also told which registered sources the caller may
 * not read, so that a source sent under another name cannot list theirs.
 */
import { Schema, Field as ArrowField, Utf8, vectorFromArray, makeData, RecordBatch, Struct } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import { parseDataSourceJson } from '../registry/data-source-json.ts';
import type { DataSource } from '../registry/model.ts';
import type { ResultStream } from '../store.ts';
import type { FeastCommand } from './commands.ts';
import type { ApiContext } from './context.ts';
import { callWithSourceAccess } from './source-access.ts';

async function sourceFromCommand(command: FeastCommand, ctx: ApiContext): Promise<DataSource> {
  const source = parseDataSourceJson(command.data_source_proto as string);
  await ctx.authorize([{ action: 'READ_OFFLINE', resource: { kind: 'dataSource', object: source } }]);
  return source;
}

export async function getTableColumnNamesAndTypes(command: FeastCommand, _upload: Table | null, ctx: ApiContext): Promise<ResultStream> {
  const source = await sourceFromCommand(command, ctx);
  const columns = await ctx.store.getTableColumnNamesAndTypes(source, await callWithSourceAccess(ctx));
  const schema = new Schema([new ArrowField('name', new Utf8(), true), new ArrowField('type', new Utf8(), true)]);
  const names = vectorFromArray(
    columns.map((c) => c.name),
    new Utf8(),
  );
  const types = vectorFromArray(
    columns.map((c) => c.type),
    new Utf8(),
  );
  const data = makeData({
    type: new Struct(schema.fields),
    length: columns.length,
    nullCount: 0,
    children: [names.data[0]!, types.data[0]!],
  });
  const batch = new RecordBatch(schema, data);
  return {
    schema,
    numRows: columns.length,
    batches: (async function* () {
      yield batch;
    })(),
  };
}

export async function validateDataSource(command: FeastCommand, _upload: Table | null, ctx: ApiContext): Promise<void> {
  // Nothing of the source comes back (Feast's validate only warns): checked by the name sent, as in Feast.
  await ctx.store.validateDataSource(await sourceFromCommand(command, ctx), ctx.call);
}
