/**
 * The conformance kit under mocha, one test per check (a check that the store does not
 * implement is skipped):  npx mocha docs/examples/conformance.mocha.ts
 */
import { isNotImplemented, storeConformanceChecks } from '@larder/core/testing';
import target from './arrow-file-store.conformance.ts';

describe('arrow-file store: larder conformance', function () {
  this.timeout(60_000);
  const suite = storeConformanceChecks(target);
  after(() => suite.dispose());
  for (const check of suite.checks) {
    it(check.name, async function () {
      await check.run().catch((error: unknown) => (isNotImplemented(error) ? this.skip() : Promise.reject(error)));
    });
  }
});
