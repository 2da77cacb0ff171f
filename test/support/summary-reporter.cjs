// Mocha's spec reporter, plus the closing line CI reads: "N passed, N failed".
// (CI does not read mocha's own "N passing" summary.)
'use strict';
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      // Printed after the spec reporter's epilogue so it is the last line.
      process.nextTick(() => {
        const skipped = pending > 0 ? `, ${pending} skipped` : '';
        console.log(`${passes} passed, ${failures} failed${skipped}`);
      });
    });
  }
}
module.exports = SummaryReporter;
