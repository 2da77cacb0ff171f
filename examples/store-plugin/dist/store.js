/**
 * The OfflineStore: one instance per server, shared by concurrent calls. Each call reads the
 * sources it needs whole (once per call, however many views share one), so a call always sees
 * the files as they are now; results stream out in batches of `batch_rows` rows.
 */
import { InvalidArgumentError, UnimplementedError, dateRange, pyarrowColumns, requestedFeaturesByView, } from '@larder/core';
import { clientSourceLocation } from "./client-sources.js";
import { entitiesInRange } from "./date-range.js";
import { historicalFeatures } from "./historical.js";
import { parquetFiles, readSource, readSourceSchema, sourceLocation } from "./parquet-source.js";
import { pullAll, pullLatest } from "./pulls.js";
export class ExampleParquetStore {
    env;
    settings;
    constructor(env, settings) {
        this.env = env;
        this.settings = settings;
    }
    async getHistoricalFeatures(req, ctx) {
        if (req.entityDfSql !== undefined) {
            throw new InvalidArgumentError('larder-store-example cannot run entity_df SQL: send the entity rows as a pandas DataFrame');
        }
        const read = this.readerForCall(ctx);
        let entities = req.entityTable;
        if (!entities) {
            const views = requestedFeaturesByView(req.featureViews, req.featureRefs).map((r) => r.view);
            const { start, end } = dateRange(views, req.startDate, req.endDate);
            entities = await entitiesInRange(views, start, end, read);
        }
        return historicalFeatures(entities, req, read, this.settings.batchRows, ctx.signal);
    }
    async pullLatestFromTableOrQuery(req, ctx) {
        return pullLatest(req, await this.readerForCall(ctx)(req.source), this.settings.batchRows, ctx.signal);
    }
    async pullAllFromTableOrQuery(req, ctx) {
        return pullAll(req, await this.readerForCall(ctx)(req.source), this.settings.batchRows, ctx.signal);
    }
    async getTableColumnNamesAndTypes(source, ctx) {
        const schema = await readSourceSchema(await clientSourceLocation(source, this.env, ctx));
        // Type names exactly as pyarrow prints them: the Feast client maps them to Feast types by name.
        return pyarrowColumns(schema, { parquetRead: true });
    }
    /** Like Feast's FileSource.validate: a source with no data yet only earns a warning. */
    async validateDataSource(source, ctx) {
        const location = await clientSourceLocation(source, this.env, ctx);
        await parquetFiles(location).catch((error) => ctx.logger.warn({ source: source.name, err: error.message }, 'data source has no parquet files yet'));
    }
    async offlineWriteBatch() {
        throw readOnly('offline_write_batch (push sources, materialization writes)');
    }
    async writeLoggedFeatures() {
        throw readOnly('write_logged_features');
    }
    async persist() {
        throw readOnly('persist (saved datasets)');
    }
    async close() { }
    /** A reader that reads each source at most once during one call. */
    readerForCall(ctx) {
        const loaded = new Map();
        return (source) => {
            const location = sourceLocation(source, this.env.repoPath);
            let entry = loaded.get(location);
            if (!entry) {
                entry = readSource(location, this.settings.maxSourceBytes, ctx.signal).then((table) => ({ table, where: source.fileOptions?.uri ?? location }));
                loaded.set(location, entry);
            }
            return entry;
        };
    }
}
function readOnly(call) {
    return new UnimplementedError(`larder-store-example is read-only: it does not implement ${call}; use the built-in \`file\` store to write parquet`);
}
//# sourceMappingURL=store.js.map