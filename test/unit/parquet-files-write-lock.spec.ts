/**
 * The per-destination write lock of the parquet stores (write-lock.ts): writers queue inside a
 * process, a lock left by a dead process is taken over once stale (not before), a holder whose
 * lock was taken over gives its write up, and a waiter's call can end its wait.
 */
import { mkdirSync, mkdtempSync, rmSync, rmdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { UnavailableError } from '../../core/src/errors.ts';
import { withWriteLock } from '../../plugins/parquet-files/src/write-lock.ts';
import { writeTarget, type WriteTarget } from '../../plugins/parquet-files/src/write-target.ts';

describe('parquet-files: the per-destination write lock', function () {
  this.timeout(60_000);
  let dir: string;
  let target: WriteTarget;
  const settings = { staleMs: 2000 };
  const signal = () => new AbortController().signal;
  const lockDir = () => path.join(target.dir, `.${target.name}.lock`);

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-lock-'));
    target = await writeTarget(path.join(dir, 'stats.parquet'), [dir]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writers in one process run one after the other, and the lock is gone afterwards', async () => {
    const events: string[] = [];
    const writer = (name: string) =>
      withWriteLock(target, settings, signal(), async () => {
        events.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 30));
        events.push(`${name} out`);
      });
    await Promise.all([writer('a'), writer('b'), writer('c')]);
    expect(events).to.deep.equal(['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
    expect(() => rmdirSync(lockDir())).to.throw(/ENOENT/);
  });

  it('a lock left by a dead writer is taken over only once stale', async () => {
    mkdirSync(lockDir());
    const started = Date.now();
    await withWriteLock(target, settings, signal(), async () => {});
    expect(Date.now() - started).to.be.at.least(1000);
    mkdirSync(lockDir());
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockDir(), old, old);
    await withWriteLock(target, settings, signal(), async () => {});
  });

  it('a holder whose lock directory was replaced gives its write up', async () => {
    const error = await withWriteLock(target, settings, signal(), async (assertHeld) => {
      await assertHeld();
      rmdirSync(lockDir());
      mkdirSync(lockDir());
      await assertHeld();
    }).catch((e: Error) => e);
    expect(error).to.be.instanceOf(UnavailableError);
    expect((error as Error).message)
      .to.contain('lost the write lock')
      .and.to.contain(target.path);
  });

  it("a waiter's call can end the wait, and the next writer is not held up by it", async () => {
    const controller = new AbortController();
    let release!: () => void;
    let holds!: () => void;
    const held = new Promise<void>((r) => (holds = r));
    const holding = withWriteLock(target, settings, signal(), () => {
      holds();
      return new Promise<void>((r) => (release = r));
    });
    await held;
    const waiter = withWriteLock(target, settings, controller.signal, async () => {
      throw new Error('the aborted waiter ran');
    });
    controller.abort(new Error('deadline'));
    expect(((await waiter.catch((e: Error) => e)) as Error).message).to.equal('deadline');
    const next = withWriteLock(target, settings, signal(), async () => 'ran');
    release();
    await holding;
    expect(await next).to.equal('ran');
  });
});
