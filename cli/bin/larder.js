#!/usr/bin/env node
// The `larder` command: Feast's `feast serve_offline`, as an Arrow Flight server with plugins.
import { run } from '@larder/core/cli';

process.exitCode = await run(process.argv.slice(2));
