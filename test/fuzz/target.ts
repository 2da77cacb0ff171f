/**
 * The larder process the fuzz properties attack: the example feature repo (driver statistics,
 * `type: file`, written without Python) served by a real `larder serve_offline` child process,
 * optionally behind OIDC auth with a real OpenID provider.
 *
 * The process runs with a 1 GiB V8 heap (NODE_OPTIONS), and a watchdog polls its RSS: if a hostile
 * message makes it allocate past `rssKillMiB`, the watchdog kills it, so a defect costs the fuzz run
 * one process rather than the machine's memory. The watchdog's verdict is part of the target's
 * state and every property checks it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exampleRegistry, writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';
import { connectHealth, type WireStatus } from '../support/health-client.ts';
import { startOidcProvider, type OidcTestProvider } from '../support/oidc-provider.ts';

export const OIDC_CLIENT_ID = 'feast-client';
/** The OIDC user whose role may read everything (see the permission below). */
export const READER = 'rita';

export interface FuzzTargetOptions {
  /** Serve behind `auth: type: oidc` with a permission that lets role `reader` read. */
  readonly auth?: boolean;
  /** The watchdog kills the process above this RSS (default 1536 MiB). */
  readonly rssKillMiB?: number;
}

export interface FuzzTarget {
  /** host:port of the Flight (and health) service. */
  readonly address: string;
  readonly pid: number;
  readonly repo: string;
  /** With `auth`: the identity provider and a valid token of a reader. */
  readonly idp: OidcTestProvider | null;
  readonly readerToken: string | null;
  /** VmRSS of the larder process in KiB, or null once it is gone. */
  rssKiB(): number | null;
  /** The highest RSS the watchdog saw, in KiB. */
  peakRssKiB(): number;
  /** Why the process is no longer usable (killed by the watchdog, exited), or null. */
  dead(): string | null;
  /** The gRPC health service's answer for the whole server. */
  health(): Promise<WireStatus>;
  /** The server's logs so far (last 256 KiB). */
  logs(): string;
  stop(): Promise<void>;
}

/** VmRSS of a process in KiB (Linux /proc), or null when the process is gone. */
export function readRssKiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export async function startFuzzTarget(options: FuzzTargetOptions = {}): Promise<FuzzTarget> {
  const dir = mkdtempSync(path.join(tmpdir(), 'larder-fuzz-'));
  let idp: OidcTestProvider | null = null;
  let server: ServerProcess | null = null;
  try {
    const repo = await writeExampleRepo(path.join(dir, 'repo'));
    // A deadline on every call, so a stuck call is an answer (DEADLINE_EXCEEDED) the fuzzer sees
    // as a failure rather than a hang of the suite.
    appendFileSync(path.join(repo, 'feature_store.yaml'), 'larder:\n  call_timeout_seconds: 30\n');
    let readerToken: string | null = null;
    if (options.auth) {
      idp = await startOidcProvider();
      await idp.issuer.keys.generate('RS256', { kid: 'rsa-1' });
      appendFileSync(
        path.join(repo, 'feature_store.yaml'),
        ['auth:', '  type: oidc', `  client_id: ${OIDC_CLIENT_ID}`, `  auth_discovery_url: ${idp.discoveryUrl}`, ''].join('\n'),
      );
      writeFileSync(
        path.join(repo, 'data', 'registry.db'),
        encodeRegistry({
          ...exampleRegistry,
          permissions: [{ name: 'readers_read', actions: ['READ_OFFLINE', 'DESCRIBE'], policy: { kind: 'role', roles: ['reader'] } }],
        }),
      );
      readerToken = await idp.sign('rsa-1', {
        preferred_username: READER,
        azp: OIDC_CLIENT_ID,
        aud: 'account',
        resource_access: { [OIDC_CLIENT_ID]: { roles: ['reader'] } },
        // Valid for the whole run, soak included.
        exp: Math.floor(Date.now() / 1000) + 24 * 3600,
      });
    }
    server = await startLarder({
      repoPath: repo,
      logLevel: 'error',
      // A runaway allocation on the V8 heap kills only this process, well before the machine.
      env: { NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', '--max-old-space-size=1024'].join(' ').trim() },
    });
    const pid = server.pid;
    const address = `127.0.0.1:${server.port}`;
    const killAt = (options.rssKillMiB ?? 1536) * 1024;
    let peak = readRssKiB(pid) ?? 0;
    let deadReason: string | null = null;
    const watchdog = setInterval(() => {
      const rss = readRssKiB(pid);
      if (rss === null) {
        deadReason ??= `the larder process exited:\n${server!.logs().slice(-4000)}`;
        return;
      }
      peak = Math.max(peak, rss);
      if (rss > killAt && !deadReason) {
        deadReason = `the watchdog killed the larder process at RSS ${Math.round(rss / 1024)} MiB (limit ${killAt / 1024} MiB)`;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }, 200);
    watchdog.unref();
    const healthClient = connectHealth(address);
    const running = server;
    return {
      address,
      pid,
      repo,
      idp,
      readerToken,
      rssKiB: () => readRssKiB(pid),
      peakRssKiB: () => peak,
      dead: () => deadReason ?? (readRssKiB(pid) === null ? 'the larder process is gone' : null),
      health: () => healthClient.check(''),
      logs: () => running.logs(),
      async stop() {
        clearInterval(watchdog);
        healthClient.close();
        await running.stop(5_000);
        await idp?.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server?.stop(2_000);
    await idp?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
