#!/usr/bin/env node
// `feast` inside larder's container image (the Dockerfile links it as /usr/local/bin/feast).
//
// Feast's operator and its `feast-feature-server` Helm chart do not use an image's entrypoint: they
// set the container's command to Feast's own command line, e.g. the operator's
//   feast [--log-level LEVEL] serve_offline -h 0.0.0.0 [--key PATH --cert PATH] -p 8815|8816
// This entry accepts exactly `serve_offline` and hands the whole command line, unchanged, to
// larder's CLI, whose flags are Feast's. Every other Feast subcommand is refused with exit code 2:
// larder cannot `feast apply`, serve the online store or the registry, and a pod that silently
// ran something else would be worse than one that fails with a clear message.
//
// It is deliberately not an npm `bin` of the `larder` package: installed on a user's machine, a
// `feast` command would shadow Python Feast's.
import module from 'node:module';

const SERVED = 'serve_offline';
// Feast 0.67's global options (the click group in feast/cli/cli.py) that take a value.
const GLOBALS_WITH_VALUE = new Set(['-c', '--chdir', '-f', '--feature-store-yaml', '--log-level']);

/** The subcommand: the first word that is neither a global option nor an option's value. */
function subcommand(argv) {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-')) return arg;
    if (GLOBALS_WITH_VALUE.has(arg)) i++;
  }
  return undefined;
}

const argv = process.argv.slice(2);
const command = subcommand(argv);
if (command === SERVED) {
  module.enableCompileCache?.();
  const { run } = await import('@larder/core/cli');
  // Usage messages then name `feast`, as the operator's and the chart's logs would show them.
  // Feast's server computes on-demand feature views in its own Python: this entry lets larder's
  // ODFV worker use the Python on PATH when none is configured (the image has none, so there
  // they stay refused with advice).
  process.exitCode = await run(argv, { prog: 'feast', odfvPythonFromPath: true });
} else {
  const asked = command === undefined ? 'feast with no subcommand' : `feast ${command}`;
  process.stderr.write(
    `feast: this image is larder, a Feast-compatible offline feature server; it only serves \`feast ${SERVED}\` (asked: \`${asked}\`).\n` +
      `Run other Feast commands (apply, serve, serve_registry, ui, …) with Feast's own image, e.g. quay.io/feastdev/feature-server,\n` +
      `and use larder's image only for the offline server (the operator's offlineStore.server.image).\n`,
  );
  process.exitCode = 2;
}
