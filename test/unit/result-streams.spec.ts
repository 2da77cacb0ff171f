/** ownedBatches: the store's resources are released exactly once on every path a consumer takes. */
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { expect } from 'chai';
import { ownedBatches } from '../../core/src/arrow/result-streams.ts';

const batch = (n: number): RecordBatch => tableFromArrays({ x: Int32Array.from([n]) }).batches[0]!;

function counted(count: number, fail = false) {
  let closes = 0;
  const produce = async function* () {
    for (let i = 0; i < count; i++) yield batch(i);
    if (fail) throw new Error('store failed');
  };
  return { iterable: ownedBatches(produce, () => void closes++), closes: () => closes };
}

describe('ownedBatches', () => {
  it('closes once at the end', async () => {
    const s = counted(2);
    let seen = 0;
    for await (const _ of s.iterable) seen++;
    expect([seen, s.closes()]).to.deep.equal([2, 1]);
  });

  it('closes once when the consumer stops early, or never starts', async () => {
    const early = counted(3);
    for await (const _ of early.iterable) break;
    expect(early.closes()).to.equal(1);
    const never = counted(3);
    await never.iterable[Symbol.asyncIterator]().return!();
    expect(never.closes()).to.equal(1);
  });

  it('closes once when the store fails', async () => {
    const s = counted(1, true);
    const error = await (async () => {
      for await (const _ of s.iterable);
    })().catch((e: Error) => e);
    expect((error as Error).message).to.equal('store failed');
    expect(s.closes()).to.equal(1);
  });

  it('closes once when a consumer that read ahead saw the end and then returns', async () => {
    const s = counted(1);
    const it = s.iterable[Symbol.asyncIterator]();
    await it.next();
    const ahead = it.next();
    await it.return!();
    expect((await ahead).done).to.equal(true);
    expect(s.closes()).to.equal(1);
  });
});
