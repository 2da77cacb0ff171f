/**
 * A complete offline-store plugin: sources are Arrow IPC files (`.arrow`) in the feature repo.
 * It answers get_historical_features with an entity table, both pulls and column listing, and
 * is read-only (its writes throw UnimplementedError). It passes @larder/core/testing's checks
 * (see arrow-file-store.conformance.ts); copy it as the skeleton of your own store.
 *
 * feature_store.yaml:
 *
 *   offline_store:
 *     type: ./arrow-file-store.js        # or the npm package name it is published under
 *     batch_rows: 65536                  # optional: the most rows in one result batch
 *
 * To stay short it reads a whole source file into memory (tableFromIPC); a production store reads
 * sources incrementally and pushes the join down to its engine. The result, however, streams in
 * bounded batches as the rules require.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Field, type RecordBatch, Schema, type Table, tableFromIPC, vectorFromArray, type DataType } from 'apache-arrow';
import {
  InvalidArgumentError,
  UnimplementedError,
  batchSourceOf,
  entityTimestampColumn,
  pullColumns,
  recordBatch,
  requestedFeaturesByView,
  viewColumns,
  type CallContext,
  type ColumnInfo,
  type DataSource,
  type HistoricalFeaturesRequest,
  type OfflineStore,
  type OfflineStorePlugin,
  type PullRequest,
  type ResultStream,
  type StoreEnvironment,
} from '@larder/core';

interface ArrowStoreConfig {
  readonly type: string;
  readonly batch_rows?: number;
}

/** One source row's place, and the instants that order it. */
interface SourceRow {
  readonly row: number;
  readonly ts: number;
  readonly created: number | null;
}

/** A key's string form: values of any integer width compare equal; null never matches. */
function keyOf(table: Table, columns: readonly string[], row: number): string | null {
  const parts: string[] = [];
  for (const column of columns) {
    const value: unknown = table.getChild(column)!.get(row);
    if (value === null || value === undefined) return null;
    parts.push(String(value));
  }
  return JSON.stringify(parts);
}

/** Epoch milliseconds of a timestamp or date cell (apache-arrow reads both as ms). */
function instant(table: Table, column: string, row: number): number | null {
  const value: unknown = table.getChild(column)!.get(row);
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.getTime() : Number(value);
}

/** Whether `a` is later than `b`: timestamp, then created (a null created is oldest), then file order. */
function later(a: SourceRow, b: SourceRow): boolean {
  if (a.ts !== b.ts) return a.ts > b.ts;
  if (a.created !== b.created) return b.created === null || (a.created !== null && a.created > b.created);
  return a.row > b.row;
}

/** A column of `type` from cells read with `get()` (null where there is no value). */
function column(type: DataType, values: unknown[]) {
  return vectorFromArray(values as never[], type as never).data[0]!;
}

class ArrowFileStore implements OfflineStore {
  constructor(
    private readonly env: StoreEnvironment,
    private readonly batchRows: number,
  ) {}

  /**
   * A source's file. Clients send sources too (column listing, validation), so the file must lie
   * in the feature repo or a configured data root: otherwise any client could probe the disk.
   */
  private location(source: DataSource): string {
    const uri = source.fileOptions?.uri;
    if (!uri) throw new InvalidArgumentError(`Data source ${source.name} is not a file source: the arrow-file store reads FileSources`);
    const file = path.resolve(this.env.repoPath, uri);
    const roots = [this.env.repoPath, ...this.env.dataRoots].map((r) => path.resolve(this.env.repoPath, r));
    if (!roots.some((root) => file === root || file.startsWith(root + path.sep))) {
      throw new InvalidArgumentError(
        `The data source path ${file} is outside the feature repo and larder.data_roots; the server does not read it`,
      );
    }
    return file;
  }

  private async read(source: DataSource, ctx: CallContext, file = this.location(source)): Promise<Table> {
    ctx.signal.throwIfAborted();
    return tableFromIPC(await readFile(file, { signal: ctx.signal }));
  }

  /**
   * A result of `count` rows whose cells `cell(column, row)` gives, built and sent `batchRows` at a
   * time: a batch is built only when the consumer asks for it, and not at all once the call aborts.
   * (Cells pass through `get()`, so nanosecond timestamps keep microsecond precision here.)
   */
  private stream(schema: Schema, count: number, cell: (column: number, row: number) => unknown, ctx: CallContext): ResultStream {
    const batchRows = this.batchRows;
    async function* batches(): AsyncGenerator<RecordBatch> {
      for (let start = 0; start < count; start += batchRows) {
        ctx.signal.throwIfAborted();
        const end = Math.min(count, start + batchRows);
        const columns = schema.fields.map((field, c) => {
          const values: unknown[] = [];
          for (let row = start; row < end; row++) values.push(cell(c, row));
          return column(field.type, values);
        });
        yield recordBatch(schema, columns, end - start);
      }
    }
    return { schema, numRows: count, batches: batches() };
  }

  async getHistoricalFeatures(req: HistoricalFeaturesRequest, ctx: CallContext): Promise<ResultStream> {
    const entities = req.entityTable;
    if (!entities)
      throw new UnimplementedError('The arrow-file store needs an entity table: entity_df_sql and the date mode are not supported');
    const timestamp = entityTimestampColumn(entities.schema);
    const entityTimes = Array.from({ length: entities.numRows }, (_, r) => instant(entities, timestamp, r));
    const outputs: Array<{ field: Field; values: (entityRow: number) => unknown }> = [];
    for (const { view, features } of requestedFeaturesByView(req.featureViews, req.featureRefs)) {
      const source = batchSourceOf(view);
      const data = await this.read(source, ctx);
      const names = data.schema.fields.map((f) => f.name);
      const columns = viewColumns(view, features, req.fullFeatureNames, names, source.fileOptions!.uri);
      // Every source row, by key: the latest one at or before T (and within the ttl) wins.
      const byKey = new Map<string, SourceRow[]>();
      for (let row = 0; row < data.numRows; row++) {
        const key = keyOf(data, columns.keyColumns, row);
        const ts = instant(data, columns.timestampColumn, row);
        if (key === null || ts === null) continue;
        const created = columns.createdColumn ? instant(data, columns.createdColumn, row) : null;
        byKey.set(key, [...(byKey.get(key) ?? []), { row, ts, created }]);
      }
      const ttlMs = view.ttlSeconds * 1000;
      const match = Array.from({ length: entities.numRows }, (_, r) => {
        const t = entityTimes[r];
        const key = keyOf(entities, columns.entityKeyNames, r);
        if (t === null || t === undefined || key === null) return null;
        let best: SourceRow | null = null;
        for (const candidate of byKey.get(key) ?? []) {
          if (candidate.ts > t || (ttlMs > 0 && candidate.ts < t - ttlMs)) continue;
          if (!best || later(candidate, best)) best = candidate;
        }
        return best;
      });
      columns.featureColumns.forEach((raw, i) => {
        const vector = data.getChild(raw)!;
        outputs.push({
          field: new Field(columns.outputNames[i]!, vector.type, true),
          values: (entityRow) => {
            const m = match[entityRow];
            return m ? vector.get(m.row) : null;
          },
        });
      });
    }
    const schema = new Schema([...entities.schema.fields, ...outputs.map((o) => o.field)]);
    const entityColumns = entities.schema.fields.length;
    const cell = (c: number, row: number) =>
      c < entityColumns ? entities.getChildAt(c)!.get(row) : outputs[c - entityColumns]!.values(row);
    return this.stream(schema, entities.numRows, cell, ctx);
  }

  /** The rows of a pull's columns within [start, end], both included. */
  private async pullRows(req: PullRequest, ctx: CallContext) {
    const data = await this.read(req.source, ctx);
    const columns = pullColumns(
      req,
      data.schema.fields.map((f) => f.name),
      req.source.fileOptions?.uri ?? req.source.name,
    );
    const start = req.startDate?.getTime() ?? -Infinity;
    const end = req.endDate?.getTime() ?? Infinity;
    const rows: SourceRow[] = [];
    for (let row = 0; row < data.numRows; row++) {
      const ts = instant(data, req.timestampField, row);
      if (ts === null || ts < start || ts > end) continue;
      rows.push({ row, ts, created: req.createdTimestampColumn ? instant(data, req.createdTimestampColumn, row) : null });
    }
    const schema = new Schema(columns.map((c) => data.schema.fields.find((f) => f.name === c)!));
    return { data, rows, schema };
  }

  async pullAllFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    const { data, rows, schema } = await this.pullRows(req, ctx);
    return this.stream(schema, rows.length, (c, i) => data.getChild(schema.fields[c]!.name)!.get(rows[i]!.row), ctx);
  }

  async pullLatestFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    const { data, rows, schema } = await this.pullRows(req, ctx);
    const latest = new Map<string, SourceRow>();
    for (const row of rows) {
      // A null key part is a key of its own here, as in Feast's pull_latest.
      const key = JSON.stringify(req.joinKeyColumns.map((c) => String(data.getChild(c)!.get(row.row))));
      const current = latest.get(key);
      if (!current || later(row, current)) latest.set(key, row);
    }
    const winners = [...latest.values()];
    return this.stream(schema, winners.length, (c, i) => data.getChild(schema.fields[c]!.name)!.get(winners[i]!.row), ctx);
  }

  async getTableColumnNamesAndTypes(source: DataSource, ctx: CallContext): Promise<readonly ColumnInfo[]> {
    const data = await this.read(source, ctx);
    return data.schema.fields.map((f) => ({ name: f.name, type: String(f.type) }));
  }

  /** Like Feast's FileSource.validate: a source that cannot be read yet is only logged. */
  async validateDataSource(source: DataSource, ctx: CallContext): Promise<void> {
    const file = this.location(source);
    await this.read(source, ctx, file).catch((error: Error) => {
      ctx.logger.warn({ source: source.name, file, err: error.message }, 'data source is not readable yet');
    });
  }

  async offlineWriteBatch(): Promise<void> {
    throw new UnimplementedError('The arrow-file store is read-only: offline_write_batch is not supported');
  }

  async writeLoggedFeatures(): Promise<void> {
    throw new UnimplementedError('The arrow-file store is read-only: write_logged_features is not supported');
  }

  async persist(): Promise<void> {
    throw new UnimplementedError('The arrow-file store is read-only: persist is not supported');
  }

  async close(): Promise<void> {}
}

const plugin: OfflineStorePlugin = {
  kind: 'offline_store',
  name: 'arrow-file',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: { type: 'string' },
      batch_rows: { type: 'integer', minimum: 1, default: 65_536 },
    },
  },
  create(config, env) {
    const { batch_rows } = config as unknown as ArrowStoreConfig;
    return new ArrowFileStore(env, batch_rows ?? 65_536);
  },
};

export default plugin;
