/**
 * The `larder` process as an orchestrator runs it: `--metrics-port`, the health service on the
 * Flight port, SIGTERM draining to exit 0, and clear usage errors for bad operational flags.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { driverStatsTable } from '../../core/src/example/driver-stats.ts';
import { EXAMPLE_PROJECT, writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { FlightDataEncoder, toFlightData } from '../../packages/flight/src/ipc.ts';
import { historicalCommand } from '../support/feast-commands.ts';
import { selfSignedCert } from '../support/self-signed-cert.ts';
import { connect } from '../support/flight-client.ts';
import { connectHealth } from '../support/health-client.ts';
import { freePort, launch, startLarder, LARDER_DEV } from '../support/larder-process.ts';

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

  it('exits 0 on SIGTERM after a write (the file lock hooks signals too)', async () => {
    // proper-lockfile, loaded on the first write, brings signal-exit, which re-raises a signal it
    // sees no other listener for: larder's own handler must still be there while it drains.
    const server = await startLarder({ repoPath: repo });
    const client = connect(`127.0.0.1:${server.port}`);
    try {
      const write = JSON.stringify({
        api: 'offline_write_batch',
        feature_view_names: ['driver_hourly_stats'],
        name_aliases: [null],
        project: EXAMPLE_PROJECT,
      });
      await client.doPut(write, driverStatsTable().slice(0, 2));
    } finally {
      client.close();
    }
    expect(await server.stop(), server.logs()).to.equal(0);
    expect(server.logs()).to.include('larder stopped');
  });

  it('a second signal while draining stops at once, saying so', async () => {
    const server = await startLarder({ repoPath: repo });
    const client = connect(`127.0.0.1:${server.port}`);
    try {
      // An upload left open is a call in flight: the drain would wait for it (up to 30 s).
      const command = historicalCommand(EXAMPLE_PROJECT, ['driver_hourly_stats:conv_rate']);
      const schema = driverStatsTable().select(['driver_id', 'event_timestamp']).schema;
      const upload = client.openUpload('DoExchange', [
        toFlightData(new FlightDataEncoder(schema).schemaMessage(), { type: 'CMD', cmd: Buffer.from(command), path: [] }),
      ]);
      await new Promise((r) => setTimeout(r, 1_000)); // the upload reaches the server
      const started = Date.now();
      const exited = server.stop(60_000);
      for (let i = 0; i < 100 && !server.logs().includes('draining in-flight calls'); i++) await new Promise((r) => setTimeout(r, 50));
      process.kill(server.pid, 'SIGTERM');
      expect(await exited).to.equal(143);
      expect(Date.now() - started, 'did not wait for the open upload').to.be.below(20_000);
      expect(server.logs()).to.include('second signal while draining: stopping without waiting for in-flight calls');
      await upload.ended;
    } finally {
      client.close();
    }
  });

  it('a SIGTERM after the port opens but before start-up ends stops larder cleanly (exit 0)', async () => {
    // A store whose first readiness check is slow keeps start-up going after the port has opened,
    // which is when an orchestrator's TCP probe passes and a stop may come.
    const slowRepo = path.join(dir, 'slow-start');
    cpSync(repo, slowRepo, { recursive: true });
    writeFileSync(
      path.join(slowRepo, 'slow-ping-store.mjs'),
      "export default { kind: 'offline_store', name: 'slow-ping', configSchema: { type: 'object' }, create() {\n" +
        '  return { ping: () => new Promise((r) => setTimeout(r, 3000)), close: async () => {} };\n} };\n',
    );
    const yaml = readFileSync(path.join(slowRepo, 'feature_store.yaml'), 'utf8');
    writeFileSync(
      path.join(slowRepo, 'feature_store.yaml'),
      yaml.replace(/offline_store:\n {2}type: file\n/, 'offline_store:\n  type: ./slow-ping-store.mjs\n'),
    );
    const port = await freePort();
    const child = spawn(process.execPath, [...LARDER, '-c', slowRepo, 'serve_offline', '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    child.stdout.on('data', (c: Buffer) => (logs += c));
    child.stderr.on('data', (c: Buffer) => (logs += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ? 128 + 15 : code)));
    for (let i = 0; i < 400 && !logs.includes('Flight server listening'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(logs, 'the port opened').to.include('Flight server listening');
    expect(logs, 'start-up still running').to.not.include('larder serving');
    child.kill('SIGTERM');
    expect(await exited, logs).to.equal(0);
    expect(logs).to.include('larder stopped');
  });

  it('prints serve_offline --help on stdout and exits 0', async () => {
    const { stdout } = await run(process.execPath, [...LARDER, 'serve_offline', '--help']);
    expect(stdout).to.include('--metrics-port INTEGER');
    expect(stdout).to.include('-c, --cert TEXT');
  });

  for (const [args, message] of [
    [['--metrics-port', 'nine'], "Invalid value for '--metrics-port': 'nine' is not a valid integer."],
    [['-p', '9100', '--metrics-port', '9100'], "Invalid value for '--metrics-port': 9100 must differ from --port."],
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

  describe("Feast's option spellings start a TLS server (the operator's and Feast's docs' command lines)", () => {
    let tlsDir: string;
    let tlsKey: string;
    let tlsCert: string;
    before(() => {
      tlsDir = mkdtempSync(path.join(tmpdir(), 'larder-cli-tls-'));
      ({ keyPath: tlsKey, certPath: tlsCert } = selfSignedCert(tlsDir));
    });
    after(() => rmSync(tlsDir, { recursive: true, force: true }));

    const spellings: ((repo: string, port: number, key: string, cert: string) => string[])[] = [
      // every short form: -c is --chdir before the command and --cert after it
      (repo, port, key, cert) => [
        '-c',
        repo,
        '--log-level',
        'DEBUG',
        'serve_offline',
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-k',
        key,
        '-c',
        cert,
      ],
      // every long form, values with `=` and as the next word; -f names the yaml (relative to the cwd)
      (repo, port, key, cert) => [
        '--chdir',
        repo,
        '--feature-store-yaml=feature_store.yaml',
        '--log-level=info',
        'serve_offline',
        '--host=127.0.0.1',
        `--port=${port}`,
        '--key',
        key,
        '--cert',
        cert,
      ],
      // short options with their values attached, and -f
      (repo, port, key, cert) => [
        `-c${repo}`,
        '-f',
        path.join(repo, 'feature_store.yaml'),
        'serve_offline',
        '-h127.0.0.1',
        `-p${port}`,
        `-k${key}`,
        `-c${cert}`,
      ],
    ];
    spellings.forEach((spell, i) => {
      it(`spelling ${i + 1}: serves TLS with the given certificate`, async () => {
        const port = await freePort();
        const argv = spell(repo, port, tlsKey, tlsCert);
        const server = await launch(process.execPath, [...LARDER, ...argv], port, { repoPath: repo }, 'larder');
        try {
          const peer = await new Promise<string>((resolve, reject) => {
            const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(tlsCert), ALPNProtocols: ['h2'] }, () => {
              resolve(String(socket.getPeerCertificate().subject.CN));
              socket.end();
            });
            socket.on('error', reject);
          });
          expect(peer, server.logs()).to.equal('localhost');
        } finally {
          expect(await server.stop()).to.equal(0);
        }
      });
    });
  });
});
