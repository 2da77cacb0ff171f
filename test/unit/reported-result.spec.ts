/**
 * The result stream DoGet and DoExchange send (core/src/api/reported-result.ts): the store's
 * stream — built with ownedBatches, as the duckdb and postgres stores build theirs — is released
 * and the call reported exactly once on every path, including a stream given up before its
 * first batch (a DoGet cancelled while the schema is sent), which an async generator would skip.
 */
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { expect } from 'chai';
import { ownedBatches } from '../../core/src/arrow/result-streams.ts';
import { reportedBatches } from '../../core/src/api/reported-result.ts';
import type { ResultStream } from '../../core/src/store.ts';

function storeResult(failAfter = Infinity): { result: ResultStream; closes: () => number } {
  const table = tableFromArrays({ x: Float64Array.from([1, 2, 3]) });
  let closes = 0;
  const batches = ownedBatches(
    async function* () {
      let sent = 0;
      for (const batch of [...table.batches, ...table.batches]) {
        if (sent++ === failAfter) throw new Error('the store failed');
        yield batch;
      }
    },
    () => {
      closes++;
    },
  );
  return { result: { schema: table.schema, batches }, closes: () => closes };
}

describe('reported result streams (DoGet / DoExchange output)', () => {
  const reports: Array<[string | null, number, number]> = [];
  const report = (error: Error | null, rows: number, bytes: number) => reports.push([error?.message ?? null, rows, bytes]);
  beforeEach(() => (reports.length = 0));

  it('releases the store stream and reports once when given up before the first batch', async () => {
    const { result, closes } = storeResult();
    const iterator = reportedBatches(result, report)[Symbol.asyncIterator]();
    await iterator.return!();
    await iterator.return!();
    expect(closes()).to.equal(1);
    expect(reports).to.deep.equal([[null, 0, 0]]);
  });

  it('counts rows and bytes read to the end, and releases once', async () => {
    const { result, closes } = storeResult();
    const seen: RecordBatch[] = [];
    for await (const batch of reportedBatches(result, report)) seen.push(batch);
    expect(seen.map((b) => b.numRows)).to.deep.equal([3, 3]);
    expect(closes()).to.equal(1);
    expect(reports).to.have.length(1);
    expect(reports[0]!.slice(0, 2)).to.deep.equal([null, 6]);
    expect(reports[0]![2]).to.be.greaterThan(0);
  });

  it('reports the store error with the rows sent before it, and releases', async () => {
    const { result, closes } = storeResult(1);
    const error = await (async () => {
      for await (const _ of reportedBatches(result, report)) void _;
    })().catch((e: Error) => e);
    expect((error as Error).message).to.equal('the store failed');
    expect(closes()).to.equal(1);
    expect(reports.map((r) => r.slice(0, 2))).to.deep.equal([['the store failed', 3]]);
  });

  it('releases and reports once when given up midway', async () => {
    const { result, closes } = storeResult();
    const iterator = reportedBatches(result, report)[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.return!();
    expect(closes()).to.equal(1);
    expect(reports.map((r) => r.slice(0, 2))).to.deep.equal([[null, 3]]);
  });
});
