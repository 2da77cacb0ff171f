/**
 * On-demand feature views in `get_historical_features`, computed as Feast's server computes them
 * (`RetrievalJob.to_arrow`): the store answers the regular views' point-in-time join, and each
 * requested ODFV's transformation is applied to that result, its requested output columns
 * appended after the store's, ODFV by ODFV in the order the refs first name them.
 *
 * The transformations run in the ODFV worker (the user's Python, with Feast), one store batch at
 * a time, so the result still streams: a transformation sees one batch of rows, not the whole
 * result, and every batch takes the column types the first batch came back with.
 */
import { Schema, Table, vectorFromArray, type Data, type RecordBatch } from 'apache-arrow';
import { status } from '@grpc/grpc-js';
import { feastError, OnDemandFeatureViewNotSupported } from '../errors.ts';
import { ownedBatches, recordBatch } from '../arrow/result-streams.ts';
import type { OdfvToApply, OdfvWorker } from '../odfv/odfv-worker.ts';
import { nameToUse, type FeatureView, type OnDemandFeatureView } from '../registry/model.ts';
import type { ResultStream } from '../store.ts';
import type { ApiContext } from './context.ts';

/** What a get_historical_features call with ODFV refs needs from the store and from the worker. */
export interface OnDemandPlan {
  readonly odfvs: readonly OdfvToApply[];
  /** The refs for the store: the regular ones sent, plus any ODFV source feature not sent. */
  readonly featureRefs: readonly string[];
  /** The regular views sent, plus any ODFV source view not sent. */
  readonly featureViews: readonly FeatureView[];
}

/**
 * Finds the ODFV refs among `refs`; null when there are none. Feast's client already sends each
 * ODFV's source features and views along with it; a client that does not gets them added, as
 * Feast's `_group_feature_refs` would. Refused without a worker, and when the uploaded entity
 * rows lack a request-data column an ODFV reads.
 */
export function planOnDemandViews(
  refs: readonly string[],
  views: readonly FeatureView[],
  ctx: ApiContext,
  project: string,
  options: { fullFeatureNames: boolean; entityTable: Table | null },
): OnDemandPlan | null {
  const regular = new Set(views.map((v) => nameToUse(v.projection)));
  const known = new Map(ctx.registry.listOnDemandFeatureViews(project).map((v) => [v.name, v]));
  const requested = new Map<string, { view: OnDemandFeatureView; columns: string[] }>();
  const storeRefs: string[] = [];
  for (const ref of refs) {
    const colon = ref.indexOf(':');
    const viewName = ref.slice(0, colon).replace(/@(latest|v\d+)$/, '');
    const view = regular.has(viewName) ? undefined : known.get(viewName);
    if (!view) {
      storeRefs.push(ref);
      continue;
    }
    if (!ctx.odfvWorker) throw new OnDemandFeatureViewNotSupported(view.name);
    const entry = requested.get(view.name) ?? { view, columns: [] };
    requested.set(view.name, entry);
    const feature = ref.slice(colon + 1);
    entry.columns.push(options.fullFeatureNames ? `${view.name}__${feature}` : feature);
  }
  if (requested.size === 0) return null;

  const featureViews = [...views];
  const sentRefs = new Set(storeRefs);
  for (const { view } of requested.values()) {
    for (const source of view.sources) {
      if (source.kind === 'request') {
        requireRequestColumns(
          view,
          source.schema.map((f) => f.name),
          options.entityTable,
        );
        continue;
      }
      const sourceName = source.projection.name;
      if (!featureViews.some((v) => nameToUse(v.projection) === sourceName)) {
        featureViews.push(ctx.registry.getFeatureViewByName(sourceName, null, project));
      }
      for (const feature of source.projection.features) {
        const ref = `${sourceName}:${feature.name}`;
        if (!sentRefs.has(ref)) storeRefs.push(ref);
        sentRefs.add(ref);
      }
    }
  }
  return { odfvs: [...requested.values()], featureRefs: storeRefs, featureViews };
}

/** Feast's check of the entity dataframe (the SDK makes it too, before it sends anything). */
function requireRequestColumns(view: OnDemandFeatureView, columns: readonly string[], entityTable: Table | null): void {
  if (!entityTable) return;
  for (const column of columns) {
    if (!entityTable.schema.fields.some((f) => f.name === column)) {
      throw feastError(
        'RequestDataNotFoundInEntityDfException',
        `Feature ${column} not found in the entity dataframe, but required by feature view ${view.name}`,
        status.NOT_FOUND,
      );
    }
  }
}

/**
 * The store's result with the ODFVs' columns appended, batch by batch. The first batch is
 * transformed before this returns, because its output fixes the result's schema; the store's
 * stream is closed if that fails, and on every path after. The store reads its next batch while
 * the worker transforms the current one, so at most three batches are held: the one sent, the one
 * being transformed, and the one read ahead.
 */
export async function withOnDemandColumns(
  result: ResultStream,
  plan: OnDemandPlan,
  worker: OdfvWorker,
  options: { fullFeatureNames: boolean; signal: AbortSignal },
): Promise<ResultStream> {
  const transform = (table: Table, outputSchema?: Schema) =>
    worker.transform({ odfvs: plan.odfvs, fullFeatureNames: options.fullFeatureNames, table, outputSchema, signal: options.signal });
  const batches = result.batches[Symbol.asyncIterator]();
  const readAhead = () => handled(batches.next());
  let first: IteratorResult<RecordBatch>;
  let ahead: Promise<IteratorResult<RecordBatch>> | null = null;
  let firstOut: Table;
  try {
    first = await batches.next();
    if (!first.done) ahead = readAhead();
    // No rows still runs the transformations, on an empty table, as Feast does: they give the types.
    firstOut = await transform(first.done ? new Table(result.schema) : new Table(first.value));
  } catch (error) {
    await batches.return?.();
    throw error;
  }
  const odfvSchema = firstOut.schema;
  const schema = new Schema([...result.schema.fields, ...odfvSchema.fields], result.schema.metadata);
  const merged = async function* () {
    if (first.done || !ahead) return;
    yield appendColumns(schema, first.value, firstOut);
    for (let next = await ahead; !next.done; next = await ahead) {
      const transformed = transform(new Table(next.value), odfvSchema);
      ahead = readAhead();
      yield appendColumns(schema, next.value, await transformed);
    }
  };
  return { schema, numRows: result.numRows, batches: ownedBatches(merged, async () => void (await batches.return?.())) };
}

/** The same promise, marked as handled: a read-ahead that fails after its call already failed must not go unhandled. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

function appendColumns(schema: Schema, batch: RecordBatch, odfvOutput: Table): RecordBatch {
  const columns = columnsOf(odfvOutput);
  if (columns.some((c) => c.length !== batch.numRows)) {
    throw feastError(
      'FeastError',
      `An on demand feature view transformation returned ${odfvOutput.numRows} rows for ${batch.numRows}`,
      status.INTERNAL,
    );
  }
  return recordBatch(schema, [...batch.data.children, ...columns], batch.numRows);
}

/** The worker sends its columns as one record batch, or none for zero rows. */
function columnsOf(table: Table): Data[] {
  const [batch] = table.batches;
  return batch ? [...batch.data.children] : table.schema.fields.map((field) => vectorFromArray([], field.type).data[0]!);
}
