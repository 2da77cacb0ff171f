/**
 * get_historical_features: each requested view is point-in-time joined to the entity rows, and
 * the result streams out in batches of entity rows, in their order, features taken on the fly.
 */
import { InvalidArgumentError, assertViewTimeColumns, batchSourceOf, entityTimestampColumn, recordBatch, requestedFeaturesByView, viewColumns, } from '@larder/core';
import { Field, Schema } from 'apache-arrow';
import { columnTypes, instantsNs, keyStrings, take } from "./arrow-columns.js";
import { pointInTimeRows } from "./point-in-time.js";
export async function historicalFeatures(entities, req, read, batchRows, signal) {
    const entityTs = instantsNs(entities.getChild(entityTimestampColumn(entities.schema)));
    const joined = [];
    for (const { view, features } of requestedFeaturesByView(req.featureViews, req.featureRefs)) {
        const { table, where } = await read(batchSourceOf(view));
        const columns = viewColumns(view, features, req.fullFeatureNames, table.schema.names, where);
        assertViewTimeColumns(view, columns, columnTypes(table.schema), where);
        const entityKeys = columns.entityKeyNames.map((name) => {
            const column = entities.getChild(name);
            if (!column)
                throw new InvalidArgumentError(`The entity dataframe has no column "${name}", the join key of feature view ${view.name}`);
            return column;
        });
        const source = {
            keys: keyStrings(columns.keyColumns.map((c) => table.getChild(c)), table.numRows, 'never-match'),
            ts: instantsNs(table.getChild(columns.timestampColumn)),
            created: columns.createdColumn ? instantsNs(table.getChild(columns.createdColumn)) : null,
        };
        joined.push({
            rows: pointInTimeRows(source, keyStrings(entityKeys, entities.numRows, 'never-match'), entityTs, view.ttlSeconds),
            features: columns.featureColumns.map((c, i) => {
                const column = table.getChild(c);
                return { column, field: new Field(columns.outputNames[i], column.type, true) };
            }),
        });
    }
    const schema = new Schema([...entities.schema.fields, ...joined.flatMap((j) => j.features.map((f) => f.field))]);
    return { schema, numRows: entities.numRows, batches: outputBatches(schema, entities, joined, batchRows, signal) };
}
async function* outputBatches(schema, entities, joined, batchRows, signal) {
    let offset = 0;
    for (const batch of entities.batches) {
        for (let start = 0; start < batch.numRows; start += batchRows) {
            signal.throwIfAborted();
            const length = Math.min(batchRows, batch.numRows - start);
            const piece = batch.slice(start, start + length);
            const columns = piece.schema.fields.map((_, i) => piece.getChildAt(i).data[0]);
            for (const { rows, features } of joined) {
                const picked = rows.subarray(offset + start, offset + start + length);
                for (const { column } of features)
                    columns.push(take(column, picked));
            }
            yield recordBatch(schema, columns, length);
        }
        offset += batch.numRows;
    }
}
//# sourceMappingURL=historical.js.map