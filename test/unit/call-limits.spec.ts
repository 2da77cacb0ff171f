/** Admission of Flight calls: the concurrency cap, the FIFO wait for a slot, and deadlines. */
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { CallLimits } from '../../packages/flight/src/call-limits.ts';
import type { LarderError } from '../../core/src/errors.ts';
import { LARDER_SETTING_NAMES } from '../../core/src/server.ts';

/** larder's names for the settings, as core/src/server.ts gives them to the transport. */
const named = (options: ConstructorParameters<typeof CallLimits>[0]) => new CallLimits(options, LARDER_SETTING_NAMES);

const never = () => new AbortController().signal;
const settled = async (promise: Promise<unknown>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};

describe('call limits', () => {
  it('admits any number of calls without a cap', async () => {
    const limits = new CallLimits({});
    await Promise.all(Array.from({ length: 100 }, () => limits.enter(never())));
    expect(limits.active).to.equal(100);
  });

  it('hands a freed slot to the longest-waiting call, and refuses calls beyond the queue with UNAVAILABLE', async () => {
    const limits = named({ maxConcurrentCalls: 1, maxQueuedCalls: 2, queueTimeoutMs: 60_000 });
    await limits.enter(never());
    const order: string[] = [];
    const first = limits.enter(never()).then(() => order.push('first'));
    const second = limits.enter(never()).then(() => order.push('second'));
    const refused = await limits.enter(never()).catch((error: LarderError) => error);
    expect((refused as LarderError).code).to.equal(status.UNAVAILABLE);
    expect((refused as LarderError).message).to.match(/1 calls are running .* and 2 are waiting \(larder\.max_queued_calls\)/);
    expect(await settled(first)).to.equal('pending');
    limits.leave();
    await first;
    expect(await settled(second)).to.equal('pending');
    limits.leave();
    await second;
    expect(order).to.deep.equal(['first', 'second']);
    expect(limits.active).to.equal(1);
    expect(limits.queued).to.equal(0);
  });

  it('refuses a call that waited queue_timeout, and forgets a call whose client went away', async () => {
    const limits = named({ maxConcurrentCalls: 1, maxQueuedCalls: 5, queueTimeoutMs: 20 });
    await limits.enter(never());
    const timedOut = await limits.enter(never()).catch((error: LarderError) => error);
    expect((timedOut as LarderError).code).to.equal(status.UNAVAILABLE);
    expect((timedOut as LarderError).message).to.match(/no call slot came free within 0\.02 s \(larder\.queue_timeout_seconds/);
    const controller = new AbortController();
    const gone = limits.enter(controller.signal);
    controller.abort(new Error('client gone'));
    expect(await gone.catch((error: Error) => error.message)).to.equal('client gone');
    expect(limits.queued).to.equal(0);
    limits.leave();
    expect(limits.active).to.equal(0);
  });

  it('aborts a call that outlives the deadline with DEADLINE_EXCEEDED, and not once disarmed', async () => {
    const limits = named({ callTimeoutMs: 10 });
    const late = new AbortController();
    limits.armDeadline('DoGet', late);
    const early = new AbortController();
    limits.armDeadline('DoGet', early)();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect((late.signal.reason as LarderError).code).to.equal(status.DEADLINE_EXCEEDED);
    expect((late.signal.reason as LarderError).message).to.match(
      /The DoGet call ran longer than this server allows \(0\.01 s, larder\.call_timeout_seconds/,
    );
    expect(early.signal.aborted).to.equal(false);
  });

  it("names the transport's own options in refusals when the host names no settings", async () => {
    const limits = new CallLimits({ maxConcurrentCalls: 1, maxQueuedCalls: 0, callTimeoutMs: 10 });
    await limits.enter(never());
    const refused = (await limits.enter(never()).catch((error: LarderError) => error)) as LarderError;
    expect(refused.message).to.match(
      /\(the server option limits\.maxConcurrentCalls\) and 0 are waiting \(the server option limits\.maxQueuedCalls\)/,
    );
    const late = new AbortController();
    limits.armDeadline('DoGet', late);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect((late.signal.reason as LarderError).message).to.match(/\(0\.01 s, the server option limits\.callTimeoutMs\)/);
    expect(`${refused.message} ${(late.signal.reason as LarderError).message}`).not.to.include('larder');
  });

  it('caps uploads in progress separately from execution slots, with the same bounded wait', async () => {
    const limits = named({ maxConcurrentCalls: 1, maxConcurrentUploads: 2, maxQueuedCalls: 1, queueTimeoutMs: 60_000 });
    await limits.enterUpload(never());
    await limits.enterUpload(never());
    expect(limits.uploads).to.equal(2);
    // Uploads hold no execution slot: a call still gets one.
    await limits.enter(never());
    expect(limits.active).to.equal(1);
    const waiting = limits.enterUpload(never());
    expect(await settled(waiting)).to.equal('pending');
    const refused = await limits.enterUpload(never()).catch((error: LarderError) => error);
    expect((refused as LarderError).code).to.equal(status.UNAVAILABLE);
    expect((refused as LarderError).message).to.match(
      /2 uploads are in progress \(larder\.max_concurrent_uploads\) and 1 are waiting \(larder\.max_queued_calls\)/,
    );
    limits.leaveUpload();
    await waiting;
    expect(limits.uploads).to.equal(2);
  });
});
