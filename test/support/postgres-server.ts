/**
 * A throwaway PostgreSQL cluster for tests: initdb into a temporary directory, start it on a free
 * port (TCP on 127.0.0.1 plus a Unix socket in the directory), stop it and delete the directory.
 *
 * The binaries come from `LARDER_PG_BIN`, else the newest `/usr/lib/postgresql/<v>/bin`, else
 * `pg_config --bindir` (scripts/ensure-postgres.sh installs them when the machine has none).
 * PostgreSQL refuses to run as root, so under root the cluster runs as the `postgres` user.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { freePort } from './larder-process.ts';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** A libpq-style URL for this cluster. */
  readonly url: string;
  /** The `offline_store` section of a feature_store.yaml pointing at this cluster. */
  offlineStoreConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  stop(): Promise<void>;
}

function binDir(): string {
  if (process.env.LARDER_PG_BIN) return process.env.LARDER_PG_BIN;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin', 'initdb')));
    versions.sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(base, versions[0], 'bin');
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('no PostgreSQL server binaries found: run scripts/ensure-postgres.sh or set LARDER_PG_BIN');
  }
}

/** Starts a fresh cluster with a password-protected superuser `larder` and database `feast`. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  const dir = mkdtempSync(path.join(tmpdir(), 'larder-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const run = (cmd: string, args: string[]) => {
    const full = path.join(bin, cmd);
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', full, ...args]] : [full, args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  if (asRoot) {
    chmodSync(dir, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const password = 'larder-test-secret';
  const pwfile = path.join(dir, 'pw');
  execFileSync('sh', ['-c', `printf %s '${password}' > '${pwfile}'`]);
  if (asRoot) execFileSync('chown', ['postgres', pwfile]);
  run('initdb', ['-D', data, '-U', 'larder', '--pwfile', pwfile, '-A', 'scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c TimeZone=UTC`;
  run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  const env = { ...process.env, PGPASSWORD: password };
  execFileSync(path.join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'larder', '-d', 'postgres', '-qc', 'CREATE DATABASE feast'], { env, stdio: 'pipe' });

  const server: PostgresServer = {
    host: '127.0.0.1',
    port,
    user: 'larder',
    password,
    database: 'feast',
    url: `postgresql://larder:${password}@127.0.0.1:${port}/feast`,
    offlineStoreConfig: (extra = {}) => ({
      type: 'postgres', host: '127.0.0.1', port, database: 'feast', db_schema: 'public',
      user: 'larder', password, sslmode: 'disable', ...extra,
    }),
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return server;
}
