/** Readiness as the health service reports it: lifecycle, dependency checks, reuse and timeouts. */
import { expect } from 'chai';
import { ServerHealth, type ServingStatus } from '../../core/src/health/server-health.ts';

describe('server health', () => {
  it('is NOT_SERVING until marked serving, follows the dependency check, and is NOT_SERVING once draining', async () => {
    let up = true;
    let now = 0;
    const health = new ServerHealth({
      check: async () => {
        if (!up) throw new Error('down');
      },
      recheckMs: 1000,
      now: () => now,
    });
    expect(await health.readiness()).to.equal('NOT_SERVING');
    await health.markServing();
    expect(await health.readiness()).to.equal('SERVING');
    up = false;
    expect(await health.readiness()).to.equal('SERVING'); // the last check is reused for recheckMs
    now = 1000;
    expect(await health.readiness()).to.equal('NOT_SERVING');
    up = true;
    now = 2000;
    expect(await health.readiness()).to.equal('SERVING');
    health.markDraining();
    expect(await health.readiness()).to.equal('NOT_SERVING');
    expect(health.liveness()).to.equal('SERVING');
  });

  it('counts a check slower than checkTimeoutMs as failed, and shares one check between concurrent probes', async () => {
    let calls = 0;
    let delayMs = 50;
    let now = 0;
    const health = new ServerHealth({
      check: () => {
        calls++;
        return new Promise((resolve) => setTimeout(resolve, delayMs));
      },
      checkTimeoutMs: 20,
      recheckMs: 10,
      now: () => now,
    });
    await health.markServing();
    expect(await health.readiness()).to.equal('NOT_SERVING');
    delayMs = 0;
    now = 100;
    const answers = await Promise.all([health.readiness(), health.readiness(), health.readiness()]);
    expect(answers).to.deep.equal(['SERVING', 'SERVING', 'SERVING']);
    expect(calls).to.equal(2);
  });

  it('tells subscribers of each change, once', async () => {
    let up = true;
    let now = 0;
    const health = new ServerHealth({
      check: async () => {
        if (!up) throw new Error('down');
      },
      recheckMs: 1,
      now: () => now,
    });
    const seen: ServingStatus[] = [];
    const unsubscribe = health.subscribe((status) => seen.push(status));
    await health.markServing();
    now = 5;
    await health.readiness();
    up = false;
    now = 10;
    await health.readiness();
    health.markDraining();
    unsubscribe();
    expect(seen).to.deep.equal(['SERVING', 'NOT_SERVING']);
  });
});
