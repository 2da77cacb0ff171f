#!/usr/bin/env node
// Runs larder from its TypeScript sources, for tests and development: tsx transpiles on the fly,
// and the `larder-source` export condition makes every @larder/* package resolve to its src/
// rather than its built dist/. Users and the image run the built CLI (cli/bin/larder.js).
//   node --conditions=larder-source scripts/larder-dev.js [larder arguments]
// The flag also covers require() (CommonJS plugins requiring @larder/core); without it, the hook
// below still covers import.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./source-condition-hook.js', import.meta.url);
const { run } = await import('../core/src/cli.ts');
process.exitCode = await run(process.argv.slice(2));
