#!/usr/bin/env node
// larder runs its TypeScript sources directly through tsx (no build step): see README.
import { register } from 'tsx/esm/api';

register();
let argv = process.argv.slice(2);
if (argv[0] === 'example') {
  // `larder example [DIR] [serve options]`: write the bundled example repo, then serve it.
  const { writeExampleRepo } = await import('../example/write-example-repo.ts');
  const hasDir = argv[1] !== undefined && !argv[1].startsWith('-');
  const dir = await writeExampleRepo(hasDir ? argv[1] : 'larder-example');
  process.stderr.write(`larder: example feature repo written to ${dir}\n`);
  argv = ['-c', dir, 'serve_offline', ...argv.slice(hasDir ? 2 : 1)];
}
const { main } = await import('../core/src/cli.ts');
process.exitCode = await main(argv);
