/**
 * A throwaway S3-compatible server for tests: S3Proxy (org.gaul:s3proxy) with jclouds' `filesystem`
 * backend, so buckets are directories and objects are files under a temporary directory. It listens
 * on a free port of 127.0.0.1, checks AWS Signature V4 against a random access key and secret, and
 * is stopped by killing its process and deleting the directory.
 *
 * The jar and a Java >= 17 come from scripts/ensure-s3proxy.sh (S3Proxy 4.1.0 from Maven Central,
 * cached in `~/.cache/larder`); `npm test` runs that script first. `LARDER_S3PROXY_JAR` with
 * `LARDER_S3PROXY_JAVA` override both (the script is then not run).
 *
 * Clients: `s3Client(server)` gives an AWS SDK v3 client with path-style addressing (S3Proxy, like
 * MinIO, serves buckets as the first path segment, not as host names).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './larder-process.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';
/** How many characters of the server's output are kept for error messages. */
const LOG_KEEP = 64 * 1024;

export interface S3ServerOptions {
  /** Start-up deadline in milliseconds (default 60 000). */
  readonly startTimeoutMs?: number;
  /** The JVM's maximum heap (default `256m`). */
  readonly maxHeap?: string;
}

export interface S3Server {
  /** `http://127.0.0.1:<port>`: the S3 endpoint (path-style addressing). */
  readonly endpoint: string;
  readonly port: number;
  /** The only access key the server accepts. */
  readonly accessKeyId: string;
  /** Its secret. */
  readonly secretAccessKey: string;
  /** The region clients sign for (S3Proxy accepts any; this is the one the helpers use). */
  readonly region: string;
  /** The JVM's process id. */
  readonly pid: number;
  /** The temporary directory holding the properties file and the buckets (`<dir>/data/<bucket>/<key>`). */
  readonly dir: string;
  /** The last `lines` (default 60) lines of the server's output. */
  logTail(lines?: number): string;
  /** Kills the server, waits for it to exit, and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The S3Proxy jar and the java that runs it. */
export interface S3ProxyInstall {
  readonly jar: string;
  readonly java: string;
}

let cachedInstall: S3ProxyInstall | undefined;

/** Finds (downloading on first use, via scripts/ensure-s3proxy.sh) the S3Proxy jar and a Java >= 17. */
export function s3proxyInstall(): S3ProxyInstall {
  if (cachedInstall) return cachedInstall;
  const { LARDER_S3PROXY_JAR: envJar, LARDER_S3PROXY_JAVA: envJava } = process.env;
  if (envJar && envJava) {
    cachedInstall = { jar: envJar, java: envJava };
    return cachedInstall;
  }
  let out: string;
  try {
    out = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'ensure-s3proxy.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(
      `scripts/ensure-s3proxy.sh failed; run it by hand to see why, or set LARDER_S3PROXY_JAR and LARDER_S3PROXY_JAVA:\n${stderr}`,
    );
  }
  const [jar, java] = out.trim().split('\n');
  if (!jar || !java) throw new Error(`scripts/ensure-s3proxy.sh printed ${JSON.stringify(out)}, expected two lines (jar, java)`);
  cachedInstall = { jar, java };
  return cachedInstall;
}

/** Resolves when the server answers HTTP at all (an unsigned `GET /` is refused with 403 once it is up). */
async function waitUntilAnswering(endpoint: string, child: ChildProcess, logTail: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`S3Proxy exited (${child.exitCode ?? child.signalCode}) while starting; its output ends:\n${logTail()}`);
    }
    try {
      const response = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`S3Proxy did not answer within ${timeoutMs} ms (last: ${last}); its output ends:\n${logTail()}`);
}

/**
 * Starts S3Proxy on a free port of 127.0.0.1 with the filesystem backend in a new temporary
 * directory and a random key pair, and waits until it answers (~2-4 s here). Always `stop()` it.
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const { jar, java } = s3proxyInstall();
  const dir = mkdtempSync(path.join(tmpdir(), 'larder-s3-'));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const stop = async () => {
    try {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    const port = await freePort();
    const endpoint = `http://${HOST}:${port}`;
    const accessKeyId = `LARDER${randomBytes(7).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64url');
    const data = path.join(dir, 'data');
    mkdirSync(data);
    const properties = path.join(dir, 's3proxy.properties');
    writeFileSync(
      properties,
      `${[
        `s3proxy.endpoint=${endpoint}`,
        // V4 signatures only: the SDKs sign V4, and a server that also took V2 would hide a client bug.
        's3proxy.authorization=aws-v4',
        `s3proxy.identity=${accessKeyId}`,
        `s3proxy.credential=${secretAccessKey}`,
        'jclouds.provider=filesystem',
        `jclouds.filesystem.basedir=${data}`,
        // The tests create buckets through the API; no CORS, no virtual hosts.
        `jclouds.identity=${accessKeyId}`,
        `jclouds.credential=${secretAccessKey}`,
      ].join('\n')}\n`,
    );
    let log = '';
    child = spawn(
      java,
      [`-Xmx${options.maxHeap ?? '256m'}`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-jar', jar, '--properties', properties],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-LOG_KEEP);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const started = child;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${java} -jar ${jar}`);
    const logTail = (lines = 60) => log.split('\n').slice(-lines).join('\n');
    await waitUntilAnswering(endpoint, child, logTail, options.startTimeoutMs ?? 60_000);
    return { endpoint, port, accessKeyId, secretAccessKey, region: 'us-east-1', pid, dir, logTail, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** What an AWS SDK client needs to reach `server` (override any part, e.g. a wrong secret). */
export interface S3ClientSettings {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** An AWS SDK v3 client for `server`, path-style, with its key pair (or `overrides`). `destroy()` it when done. */
export function s3Client(server: S3ClientSettings, overrides: Partial<S3ClientSettings> = {}): S3Client {
  const settings = { ...server, ...overrides };
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    // The tests want the server's first answer, not the SDK's retries of it.
    maxAttempts: 1,
  });
}

/** Creates `bucket` on the server. */
export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** Writes `body` as `s3://bucket/key`; returns the object's ETag (quoted, as S3 sends it). */
export async function putObject(client: S3Client, bucket: string, key: string, body: Uint8Array | string): Promise<string> {
  const result = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return result.ETag ?? '';
}

/** Reads `s3://bucket/key` whole. */
export async function getObject(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const result = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!result.Body) throw new Error(`s3://${bucket}/${key} came back without a body`);
  return result.Body.transformToByteArray();
}
