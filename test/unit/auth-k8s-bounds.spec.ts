/**
 * The bounds of the kubernetes auth plugin that need no API server: the gate on concurrent token
 * checks, the verified-token cache's sharing of checks in flight, the token shape check, and the
 * cutting of reasons that reach a caller.
 */
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { cut } from '../../plugins/auth-k8s/src/cut.ts';
import { ReviewGate } from '../../plugins/auth-k8s/src/review-gate.ts';
import { checkTokenShape } from '../../plugins/auth-k8s/src/token-shape.ts';
import { VerifiedCache } from '../../plugins/auth-k8s/src/verified-cache.ts';
import { rejection } from '../support/guarded-repo.ts';

/** A promise and its resolver, to hold a task open. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('kubernetes auth: bounds (@larder/plugin-auth-k8s)', () => {
  describe('ReviewGate', () => {
    it('runs at most maxRunning tasks, queues maxWaiting in order, refuses the rest at once', async () => {
      const gate = new ReviewGate(2, 2, 60_000);
      const holds = [deferred(), deferred(), deferred(), deferred()];
      const started: number[] = [];
      const runs = holds.map((h, i) => gate.run(async () => (started.push(i), h.promise)));
      const refused = await rejection(gate.run(async () => 'never'));
      expect(refused.code).to.equal(status.UNAVAILABLE);
      expect(refused.message).to.equal('Too many Kubernetes token checks waiting (2 running, 2 waiting): try again shortly');
      await tick();
      expect(started).to.deep.equal([0, 1]);
      holds[1]!.resolve();
      await tick();
      expect(started).to.deep.equal([0, 1, 2]);
      holds[0]!.resolve();
      holds[2]!.resolve();
      holds[3]!.resolve();
      await Promise.all(runs);
      expect(started).to.deep.equal([0, 1, 2, 3]);
      // All slots free again: two run at once without waiting.
      expect(await Promise.all([gate.run(async () => 'a'), gate.run(async () => 'b')])).to.deep.equal(['a', 'b']);
    });

    it('a waiter gives up after maxWaitMs (UNAVAILABLE) and leaves the queue; a failing task frees its slot', async () => {
      const gate = new ReviewGate(1, 5, 50);
      const hold = deferred();
      const first = gate.run(() => hold.promise);
      const waited = await rejection(gate.run(async () => 'late'));
      expect(waited.code).to.equal(status.UNAVAILABLE);
      expect(waited.message).to.equal('No Kubernetes token check could start within 50 ms (1 running): try again shortly');
      hold.resolve();
      await first;
      expect((await rejection(gate.run(async () => Promise.reject(new Error('boom'))))).message).to.equal('boom');
      expect(await gate.run(async () => 'free')).to.equal('free');
    });
  });

  describe('VerifiedCache', () => {
    it('with a TTL of 0, concurrent checks of one token share one verification, and a later one verifies again', async () => {
      const cache = new VerifiedCache<string>(0, 10);
      let verifications = 0;
      const hold = deferred();
      const verify = async () => {
        verifications += 1;
        await hold.promise;
        return { value: 'alice' };
      };
      const checks = [cache.get('t', verify), cache.get('t', verify), cache.get('t', verify)];
      hold.resolve();
      expect(await Promise.all(checks)).to.deep.equal(['alice', 'alice', 'alice']);
      expect(verifications).to.equal(1);
      await cache.get('t', verify);
      expect(verifications).to.equal(2);
    });

    it("never reuses a value past its notAfter (the token's exp), whatever the TTL", async () => {
      let now = 1_000;
      const cache = new VerifiedCache<string>(60_000, 10, () => now);
      let verifications = 0;
      const verify = async () => ({ value: `v${++verifications}`, notAfter: 1_500 });
      expect(await cache.get('t', verify)).to.equal('v1');
      now = 1_499;
      expect(await cache.get('t', verify)).to.equal('v1');
      now = 1_500;
      expect(await cache.get('t', verify)).to.equal('v2');
    });
  });

  describe('checkTokenShape and cut', () => {
    it('refuses empty, over-long, non-ASCII and control-character tokens; accepts JWTs and opaque tokens', () => {
      const refuse = (token: string) => {
        try {
          checkTokenShape(token, 16_384);
        } catch (error) {
          return (error as Error & { code: number }).code === status.UNAUTHENTICATED
            ? (error as Error).message
            : `wrong code: ${(error as Error).message}`;
        }
        return null;
      };
      expect(refuse('')).to.equal('Invalid token: empty');
      expect(refuse('a'.repeat(16_385))).to.equal('Invalid token: longer than 16384 bytes');
      expect(refuse('€'.repeat(6_000))).to.equal('Invalid token: only printable ASCII characters are allowed');
      for (const bad of ['tok en', 'tok\ten', 'tok\u007fen', 'tök'])
        expect(refuse(bad), JSON.stringify(bad)).to.equal('Invalid token: only printable ASCII characters are allowed');
      for (const good of ['a'.repeat(16_384), 'eyJhbGciOi.eyJzdWIi.c2ln', 'abcdef.0123456789abcdef', '...', 'x~+/=_-'])
        expect(refuse(good), good.slice(0, 20)).to.equal(null);
    });

    it('cut keeps short text and marks where long text was cut', () => {
      expect(cut('short')).to.equal('short');
      expect(cut('x'.repeat(301))).to.equal(`${'x'.repeat(300)}… (cut)`);
    });
  });
});
