/**
 * The `larder` process as an orchestrator runs it: `--metrics-port`, the health service on the
 * Flight port, SIGTERM draining to exit 0, and clear usage errors for bad operational flags.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { connectHealth } from '../support/health-client.ts';
import { freePort, startLarder, LARDER_DEV } from '../support/larder-process.ts';

const run = promisify(execFile);
const LARDER = LARDER_DEV;

describe('larder process: metrics port, health, SIGTERM', function () {
  this.timeout(60_000);
  let dir: string;
  let repo: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-cli-ops-'));
    repo = await writeExampleRepo(path.join(dir, 'repo'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves metrics and health while running, and exits 0 on SIGTERM', async () => {
    const metricsPort = await freePort();
    const server = await startLarder({ repoPath: repo, args: ['--metrics-port', String(metricsPort)] });
    const health = connectHealth(`127.0.0.1:${server.port}`);
    try {
      let text = '';
      for (let i = 0; i < 50 && !text; i++) {
        text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
          (r) => r.text(),
          () => '',
        );
        if (!text) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(text).to.match(/^larder_flight_calls_in_flight 0$/m);
      expect(await health.check('')).to.equal('SERVING');
    } finally {
      health.close();
      expect(await server.stop()).to.equal(0);
    }
    expect(server.logs()).to.include('metrics at /metrics');
  });

  it('prints the usage for --help and exits 0', async () => {
    const { stderr } = await run(process.execPath, [...LARDER, '--help']);
    expect(stderr).to.include('--metrics-port PORT');
  });

  for (const [args, message] of [
    [['--metrics-port', 'nine'], '--metrics-port must be a port number, not "nine"'],
    [['-p', '9100', '--metrics-port', '9100'], '--metrics-port must differ from --port'],
  ] as const) {
    it(`refuses ${args.join(' ')} with exit code 2 and says why`, async () => {
      const error = (await run(process.execPath, [...LARDER, '-c', repo, 'serve_offline', ...args]).catch((e) => e)) as {
        code: number;
        stderr: string;
      };
      expect(error.code).to.equal(2);
      expect(error.stderr).to.include(message);
    });
  }
});
