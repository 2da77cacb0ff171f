/**
 * scripts/ensure-s3proxy.sh against a local Maven-layout HTTP server (LARDER_MAVEN_REPO) serving a
 * stand-in jar: it installs only a download whose sha1 matches Maven's published one, re-fetches
 * a jar that no longer matches its stamp, is a no-op (no request at all) once installed, and prints
 * the jar and a Java >= 17.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'ensure-s3proxy.sh');
const VERSION = '999-test';
const JAR = `/org/gaul/s3proxy/${VERSION}/s3proxy-${VERSION}-jar-with-dependencies.jar`;

function runScript(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
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

describe('scripts/ensure-s3proxy.sh', function () {
  this.timeout(60_000);
  let cache: string;
  let server: Server;
  let env: Record<string, string>;
  const jar = randomBytes(64 * 1024);
  const sha1 = createHash('sha1').update(jar).digest('hex');
  let publishedSha1 = sha1;
  let requests: string[] = [];
  const installed = () => path.join(cache, `s3proxy-${VERSION}`, `s3proxy-${VERSION}-jar-with-dependencies.jar`);

  before(async () => {
    cache = mkdtempSync(path.join(tmpdir(), 'larder-ensure-s3proxy-'));
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === JAR) res.end(jar);
      else if (req.url === `${JAR}.sha1`) res.end(`${publishedSha1}\n`);
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const repo = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    env = { LARDER_CACHE: cache, LARDER_MAVEN_REPO: repo, LARDER_S3PROXY_VERSION: VERSION };
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(cache, { recursive: true, force: true });
  });

  beforeEach(() => {
    requests = [];
    publishedSha1 = sha1;
  });

  it('refuses a download whose sha1 is not the published one, leaving nothing installed', async () => {
    publishedSha1 = '0'.repeat(40);
    const run = await runScript(env);
    expect(run.code).to.not.equal(0);
    expect(run.stderr).to.include('not installing');
    expect(existsSync(installed())).to.equal(false);
    expect(readdirSync(path.join(cache, `s3proxy-${VERSION}`)).filter((f) => !f.startsWith('.'))).to.deep.equal([]);
  });

  it('installs a download whose sha1 matches and prints the jar and a Java >= 17', async () => {
    const run = await runScript(env);
    expect(run.code, run.stderr).to.equal(0);
    const [jarPath, java, ...rest] = run.stdout.trim().split('\n');
    expect(jarPath).to.equal(installed());
    expect(rest).to.deep.equal([]);
    expect(readFileSync(installed()).equals(jar)).to.equal(true);
    expect(requests).to.deep.equal([`${JAR}.sha1`, JAR]);
    const version = await new Promise<string>((resolve) => {
      const child = spawn(java!, ['-version'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let text = '';
      child.stderr.on('data', (c: Buffer) => {
        text += c;
      });
      child.on('close', () => resolve(text));
    });
    expect(Number(/version "(\d+)/.exec(version)?.[1])).to.be.at.least(17);
  });

  it('is a no-op once installed: no request at all', async () => {
    const run = await runScript(env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.split('\n')[0]).to.equal(installed());
    expect(requests).to.deep.equal([]);
  });

  it('fetches again a jar that no longer matches its stamp (a damaged cache)', async () => {
    writeFileSync(installed(), 'truncated');
    const run = await runScript(env);
    expect(run.code, run.stderr).to.equal(0);
    expect(requests).to.deep.equal([`${JAR}.sha1`, JAR]);
    expect(readFileSync(installed()).equals(jar)).to.equal(true);
  });
});
