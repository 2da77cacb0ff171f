/**
 * scripts/ensure-trino.sh against a local Maven-layout HTTP server (LARDER_MAVEN_REPO) serving a
 * tiny stand-in tarball: it installs only a download whose sha1 matches, never trusts what an
 * interrupted run left behind, and is a no-op (no request at all) once installed.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'ensure-trino.sh');
const VERSION = '999-test';
const TARBALL = `/io/trino/trino-server/${VERSION}/trino-server-${VERSION}.tar.gz`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('bash', [SCRIPT], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('scripts/ensure-trino.sh', function () {
  this.timeout(60_000);
  let dir: string;
  let cache: string;
  let tarball: Buffer;
  let server: Server;
  let repo: string;
  /** How the server answers the tarball: whole, cut off half-way, or with a wrong published sha1. */
  let mode: 'ok' | 'cut' | 'bad-sha1' = 'ok';
  let requests: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-ensure-trino-'));
    const src = path.join(dir, 'src', `trino-server-${VERSION}`);
    mkdirSync(path.join(src, 'bin'), { recursive: true });
    writeFileSync(path.join(src, 'bin', 'launcher'), '#!/bin/sh\necho stand-in\n');
    chmodSync(path.join(src, 'bin', 'launcher'), 0o755);
    // Incompressible filler, so a cut-off download is a truncated (invalid) gzip stream.
    writeFileSync(path.join(src, 'filler'), createHash('sha512').update('x').digest().toString('hex').repeat(4000));
    execFileSync('tar', ['-czf', path.join(dir, 'trino.tar.gz'), '-C', path.join(dir, 'src'), `trino-server-${VERSION}`]);
    tarball = readFileSync(path.join(dir, 'trino.tar.gz'));
    const sha1 = createHash('sha1').update(tarball).digest('hex');

    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === `${TARBALL}.sha1`) {
        res.end(mode === 'bad-sha1' ? '0'.repeat(40) : sha1);
      } else if (req.url === TARBALL) {
        res.writeHead(200, { 'content-length': tarball.length });
        if (mode === 'cut') {
          res.write(tarball.subarray(0, tarball.length >> 1));
          setTimeout(() => res.socket?.destroy(), 50);
        } else {
          res.end(tarball);
        }
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    repo = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    cache = mkdtempSync(path.join(dir, 'cache-'));
    requests = [];
    mode = 'ok';
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ LARDER_CACHE: cache, LARDER_MAVEN_REPO: repo, LARDER_TRINO_VERSION: VERSION });
  const home = () => path.join(cache, `trino-server-${VERSION}`);
  /** What a failed run may leave in the cache: at most the lock file. */
  const leftovers = () => readdirSync(cache).filter((name) => !name.endsWith('.lock'));

  it('installs a verified download and prints the install dir and a JAVA_HOME with java >= 24', async () => {
    const run = await runScript(env());
    expect(run.code, run.stderr).to.equal(0);
    const [installDir, javaHome, ...rest] = run.stdout.trim().split('\n');
    expect(installDir).to.equal(home());
    expect(rest).to.deep.equal([]);
    expect(readFileSync(path.join(home(), 'bin', 'launcher'), 'utf8')).to.contain('stand-in');
    const java = spawnSync(path.join(javaHome ?? '', 'bin', 'java'), ['-version'], { encoding: 'utf8' });
    const major = Number(/version "(\d+)/.exec(java.stderr)?.[1]);
    expect(major, java.stderr).to.be.at.least(24);
    expect(leftovers()).to.deep.equal([`trino-server-${VERSION}`]);
  });

  it('is a no-op once installed: no request reaches the repository', async () => {
    expect((await runScript(env())).code).to.equal(0);
    expect(requests).to.have.length(2);
    requests = [];
    const again = await runScript(env());
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout.split('\n')[0]).to.equal(home());
    expect(requests).to.deep.equal([]);
  });

  it('refuses a download whose sha1 does not match the published one, leaving nothing installed', async () => {
    mode = 'bad-sha1';
    const run = await runScript(env());
    expect(run.code).to.not.equal(0);
    expect(run.stderr).to.match(/sha1 of .* but .*\.sha1 says 0{40}; not installing/);
    expect(run.stdout).to.equal('');
    expect(leftovers()).to.deep.equal([]);
  });

  it('leaves nothing a later run trusts when the download is cut off, and the next run installs', async () => {
    mode = 'cut';
    const cut = await runScript(env());
    expect(cut.code).to.not.equal(0);
    expect(cut.stderr).to.contain('download of');
    expect(leftovers()).to.deep.equal([]);
    mode = 'ok';
    const next = await runScript(env());
    expect(next.code, next.stderr).to.equal(0);
    expect(existsSync(path.join(home(), 'bin', 'launcher'))).to.equal(true);
  });

  it('reinstalls an install dir that has no stamp (a run stopped between moving it and stamping it)', async () => {
    expect((await runScript(env())).code).to.equal(0);
    unlinkSync(path.join(home(), '.larder-trino.sha1'));
    writeFileSync(path.join(home(), 'half-written'), '');
    requests = [];
    const run = await runScript(env());
    expect(run.code, run.stderr).to.equal(0);
    expect(requests).to.include(TARBALL);
    expect(existsSync(path.join(home(), 'half-written'))).to.equal(false);
    expect(existsSync(path.join(home(), '.larder-trino.sha1'))).to.equal(true);
  });

  it('refuses a LARDER_TRINO_JAVA_HOME older than Java 24, saying so, before downloading anything', async () => {
    const java17 = '/usr/lib/jvm/java-17-openjdk-amd64';
    expect(existsSync(path.join(java17, 'bin', 'java')), `${java17} on this machine`).to.equal(true);
    const run = await runScript({ ...env(), LARDER_TRINO_JAVA_HOME: java17 });
    expect(run.code).to.not.equal(0);
    expect(run.stderr).to.contain(`LARDER_TRINO_JAVA_HOME=${java17} has no java >= 24`);
    expect(requests).to.deep.equal([]);
    expect(leftovers()).to.deep.equal([]);
  });
});
