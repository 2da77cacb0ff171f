/**
 * The fuzz suite of the test command: property-based fuzzing (fast-check) of a running larder
 * process — Feast commands, descriptors and tickets, Arrow IPC uploads, bearer tokens. Every case
 * must be answered within a deadline with a status a client mistake may get (never INTERNAL,
 * UNKNOWN or a hang); after each run the server's RSS stays within a bound and its health service
 * still says SERVING.
 *
 * About a minute in total with a fixed seed; LARDER_FUZZ_SEED, LARDER_FUZZ_RUNS and
 * LARDER_FUZZ_SECONDS vary it (runner.ts), and bench/fuzz-soak.ts runs it for longer.
 */
import { expect } from 'chai';
import { commandProperty, descriptorProperty, fatalInput, ipcProperty, tokenProperty } from './properties.ts';
import { runProperty, settingsFromEnv, type PropertyRun } from './runner.ts';
import { startFuzzTarget, type FuzzTarget } from './target.ts';

/** RSS the server may reach after the runs (it starts near 150 MiB). */
const RSS_BOUND_MIB = Number(process.env.LARDER_FUZZ_RSS_MIB ?? 768);

const settings = settingsFromEnv();

/** The input during which the server died, for the failure report. */
const deathNote = (target: FuzzTarget) => {
  const input = fatalInput(target);
  return input ? `the server died during this case: ${input}` : undefined;
};

async function expectHealthy(target: FuzzTarget, run: PropertyRun): Promise<void> {
  expect(target.dead(), 'the server process').to.equal(null);
  expect(await target.health(), 'health after the run').to.equal('SERVING');
  const rss = target.rssKiB()!;
  // One line per property in the test log, to see the margins the bounds leave.
  console.log(
    `      fuzz: ${run.numRuns} cases${run.interrupted ? ' (time budget reached)' : ''}, RSS ${Math.round(rss / 1024)} MiB, peak ${Math.round(target.peakRssKiB() / 1024)} MiB`,
  );
  expect(rss / 1024, `RSS after ${run.numRuns} runs (MiB)`).to.be.below(RSS_BOUND_MIB);
  expect(target.peakRssKiB() / 1024, 'peak RSS during the runs (MiB)').to.be.below(RSS_BOUND_MIB * 1.5);
  // Enough cases ran for the property to mean something, even on a busy machine.
  expect(run.numRuns, 'cases run').to.be.at.least(Math.min(10, settings.runs ?? 10));
}

describe(`fuzz: a running larder under hostile input (seed ${settings.seed})`, function () {
  this.timeout(180_000);

  describe('without auth', () => {
    let target: FuzzTarget;
    before(async () => {
      target = await startFuzzTarget();
    });
    after(async () => {
      await target?.stop();
    });

    it('answers fuzzed Feast commands (structure and values) with client-error statuses', async () => {
      const { property, close } = commandProperty(target);
      try {
        await expectHealthy(target, await runProperty('commands', property, { runs: 300, seconds: 15 }, settings, () => deathNote(target)));
      } finally {
        close();
      }
    });

    it('answers fuzzed descriptors, tickets, actions and non-protobuf FlightData', async () => {
      const { property, close } = descriptorProperty(target);
      try {
        await expectHealthy(
          target,
          await runProperty('descriptors', property, { runs: 1500, seconds: 10 }, settings, () => deathNote(target)),
        );
      } finally {
        close();
      }
    });

    it('answers mutated Arrow IPC schema and record-batch messages without allocating beyond their size', async () => {
      const { property, close } = ipcProperty(target);
      try {
        await expectHealthy(target, await runProperty('ipc', property, { runs: 3000, seconds: 15 }, settings, () => deathNote(target)));
      } finally {
        close();
      }
    });
  });

  describe('with OIDC auth', () => {
    let target: FuzzTarget;
    before(async () => {
      target = await startFuzzTarget({ auth: true });
    });
    after(async () => {
      await target?.stop();
    });

    it('answers fuzzed Feast commands of an authenticated reader, permission checks included', async () => {
      const { property, close } = commandProperty(target);
      try {
        await expectHealthy(
          target,
          await runProperty('commands-auth', property, { runs: 150, seconds: 8 }, settings, () => deathNote(target)),
        );
      } finally {
        close();
      }
    });

    it('refuses every forged, tampered or garbage bearer token, and never with INTERNAL', async () => {
      const { property, close } = tokenProperty(target);
      try {
        const jwksBefore = target.idp!.requests('/jwks');
        const run = await runProperty('tokens', property, { runs: 1500, seconds: 10 }, settings, () => deathNote(target));
        await expectHealthy(target, run);
        // Unknown kids must not make the server hammer the identity provider.
        expect(target.idp!.requests('/jwks') - jwksBefore, 'JWKS fetches during the run').to.be.at.most(10);
      } finally {
        close();
      }
    });
  });
});
