#!/usr/bin/env node
// `node bin/larder.js …` in a checkout runs the built CLI, as an installed `larder` does
// (`npm ci` builds it; `npm run build` after editing sources). scripts/larder-dev.js runs the sources.
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../core/dist/cli.js', import.meta.url))) {
  process.stderr.write('larder: this checkout is not built; run `npm run build` (or `node scripts/larder-dev.js` to run the sources)\n');
  process.exit(2);
}
await import('../cli/bin/larder.js');
