/**
 * withOnDemandColumns with the real ODFV worker: a store's result goes through the worker batch by
 * batch and comes out with the views' columns appended; no rows still gives the columns; later
 * batches take the first batch's types or fail saying why; and the store's stream is closed on
 * every path (done, a transformation failing on the first or a later batch, a client leaving).
 */
import { Schema, Field as ArrowField, Float32, Int64, tableFromArrays, type RecordBatch } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import { withOnDemandColumns, type OnDemandPlan } from '../../core/src/api/on-demand-views.ts';
import { ownedBatches } from '../../core/src/arrow/result-streams.ts';
import { OdfvWorker, OdfvWorkerError } from '../../core/src/odfv/odfv-worker.ts';
import { decodeRegistry } from '../../core/src/registry/decode.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import type { ResultStream } from '../../core/src/store.ts';
import { feastPython } from '../support/feast-python.ts';

const udf = (name: string, body: string) => `def ${name}(inputs):\n${body.replace(/^/gm, '    ')}\n`;

const registry = decodeRegistry(
  encodeRegistry({
    project: 'p',
    entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
    dataSources: [{ kind: 'file', name: 'stats', path: 'data/stats.parquet', timestampField: 'ts' }],
    featureViews: [{ name: 'stats', entities: ['driver'], features: [{ name: 'conv', valueType: 'FLOAT' }], source: 'stats' }],
    onDemandFeatureViews: [
      {
        name: 'doubled',
        mode: 'python',
        sources: ['stats'],
        features: [{ name: 'conv_doubled', valueType: 'DOUBLE' }],
        udfSource: udf(
          'doubled',
          'if any(c is not None and c < 0 for c in inputs["conv"]):\n    raise ValueError("negative conv")\nreturn {"conv_doubled": [None if c is None else c * 2 for c in inputs["conv"]]}',
        ),
      },
      {
        // Whole numbers come back as int64, others as double: the column's type depends on the batch.
        name: 'rounded',
        mode: 'python',
        sources: ['stats'],
        features: [{ name: 'conv_rounded', valueType: 'INT64' }],
        udfSource: udf('rounded', 'return {"conv_rounded": [int(c) if float(c).is_integer() else c for c in inputs["conv"]]}'),
      },
    ],
  }),
);
const view = (name: string) => registry.onDemandFeatureViews.find((v) => v.name === name)!;
const planFor = (name: string): OnDemandPlan => ({ odfvs: [{ view: view(name), columns: null }], featureRefs: [], featureViews: [] });

const SCHEMA = new Schema([new ArrowField('driver_id', new Int64(), true), new ArrowField('conv', new Float32(), true)]);
const batchOf = (conv: number[]): RecordBatch =>
  tableFromArrays({ driver_id: BigInt64Array.from(conv.map((_, i) => BigInt(1001 + i))), conv: Float32Array.from(conv) }).batches[0]!;

/** A store's result over `batches`, recording whether its stream was closed. */
function storeResult(batches: number[][]): { result: ResultStream; closed: () => boolean } {
  let closed = false;
  const produce = async function* () {
    for (const conv of batches) yield batchOf(conv);
  };
  return { result: { schema: SCHEMA, batches: ownedBatches(produce, () => void (closed = true)) }, closed: () => closed };
}

async function drain(result: ResultStream): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const batch of result.batches) out.push(batch);
  return out;
}

const column = (batch: RecordBatch, name: string) => [...batch.getChild(name)!].map(Number);

describe('ODFV columns on a streamed result (real worker)', function () {
  this.timeout(120_000);
  const worker = new OdfvWorker({ python: feastPython().python, repoPath: '.', logger: pino({ level: 'silent' }) });
  const signal = new AbortController().signal;
  const apply = (result: ResultStream, name: string) =>
    withOnDemandColumns(result, planFor(name), worker, { fullFeatureNames: false, signal });

  after(() => worker.close());

  it('appends the columns to every batch, one batch in, one batch out, and closes the store stream at the end', async () => {
    const store = storeResult([[0.5, 1], [2], [4, 8, 16]]);
    const result = await apply(store.result, 'doubled');
    expect(result.schema.fields.map((f) => `${f.name}: ${f.type}`)).to.deep.equal([
      'driver_id: Int64',
      'conv: Float32',
      'conv_doubled: Float64',
    ]);
    const batches = await drain(result);
    expect(batches.map((b) => column(b, 'conv_doubled'))).to.deep.equal([[1, 2], [4], [8, 16, 32]]);
    expect(batches.map((b) => column(b, 'driver_id'))).to.deep.equal([[1001, 1002], [1001], [1001, 1002, 1003]]);
    expect(store.closed()).to.equal(true);
  });

  it('still runs the transformation on no rows, for the schema, as Feast does', async () => {
    const store = storeResult([]);
    const result = await apply(store.result, 'doubled');
    expect(result.schema.fields.map((f) => f.name)).to.deep.equal(['driver_id', 'conv', 'conv_doubled']);
    expect(await drain(result)).to.deep.equal([]);
    expect(store.closed()).to.equal(true);
  });

  it("casts a later batch to the first batch's types, and fails naming both when it cannot", async () => {
    const ok = await drain(await apply(storeResult([[1, 2], [3.0], [4]]).result, 'rounded'));
    expect(ok.map((b) => String(b.schema.fields[2]!.type))).to.deep.equal(['Int64', 'Int64', 'Int64']);
    const store = storeResult([[1, 2], [2.5]]);
    const error = await drain(await apply(store.result, 'rounded')).catch((e: Error) => e);
    expect(error).to.be.instanceOf(OdfvWorkerError);
    expect((error as Error).message).to.match(
      /the transformation returned conv_rounded: double where an earlier batch returned conv_rounded: int64/,
    );
    expect(store.closed()).to.equal(true);
  });

  it('closes the store stream when a transformation fails on the first batch, or on a later one', async () => {
    const first = storeResult([[-1]]);
    const early = await apply(first.result, 'doubled').catch((e: Error) => e);
    expect((early as Error).message).to.include('ValueError: negative conv');
    expect(first.closed()).to.equal(true);
    const later = storeResult([[1], [-1], [3]]);
    const result = await apply(later.result, 'doubled');
    const seen: number[][] = [];
    const error = await (async () => {
      for await (const batch of result.batches) seen.push(column(batch, 'conv_doubled'));
    })().catch((e: Error) => e);
    expect(seen).to.deep.equal([[2]]);
    expect((error as Error).message).to.include('ValueError: negative conv');
    expect(later.closed()).to.equal(true);
  });

  it('closes the store stream when the client stops reading', async () => {
    const store = storeResult([[1], [2], [3]]);
    const result = await apply(store.result, 'doubled');
    for await (const batch of result.batches) {
      expect(column(batch, 'conv_doubled')).to.deep.equal([2]);
      break;
    }
    expect(store.closed()).to.equal(true);
  });
});
