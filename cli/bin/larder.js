#!/usr/bin/env node
// The `larder` command: Feast's `feast serve_offline`, as an Arrow Flight server with plugins.
import module from 'node:module';

// Node 22.1+ keeps compiled code between starts (under os.tmpdir(), or NODE_COMPILE_CACHE): about
// half of larder's start-up is compiling its dependencies' modules. Older Node lacks the function.
module.enableCompileCache?.();
const { run } = await import('@larder/core/cli');
process.exitCode = await run(process.argv.slice(2));
