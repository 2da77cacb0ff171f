/**
 * A throwaway PostgreSQL cluster for tests: initdb into a temporary directory, start it on a free
 * port (TCP on 127.0.0.1 plus a Unix socket in the directory), stop it and delete the directory.
 *
 * The binaries come from `LARDER_PG_BIN`, else the newest `/usr/lib/postgresql/<v>/bin`, else
 * `pg_config --bindir` (scripts/ensure-postgres.sh installs them when the machine has none).
 * PostgreSQL refuses to run as root, so under root the cluster runs as the `postgres` user.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  /** With `tls`: the CA certificate that signed the server's (for sslrootcert_path). */
  readonly caFile?: string;
  /** The `offline_store` section of a feature_store.yaml pointing at this cluster. */
  offlineStoreConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Shuts the server down, keeping its data, until `resume()`: an outage. */
  pause(): Promise<void>;
  /** Kills the server as a crash would (`pg_ctl stop -m immediate`: no clean shutdown), keeping its data, until `resume()`. */
  crash(): Promise<void>;
  /** Starts it again after `pause()` or `crash()`, on the same port. */
  resume(): Promise<void>;
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

/**
 * A CA and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI; the key is
 * owned by the server's user (PostgreSQL refuses a key others can read).
 */
function makeCertificates(dir: string, owner: { uid: number; gid: number } | null): { ca: string; cert: string; key: string } {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=larder test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('san.ext'),
    '-out',
    file('server.pem'),
  );
  chmodSync(file('server.key'), 0o600);
  if (owner) chownSync(file('server.key'), owner.uid, owner.gid);
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

/**
 * Starts a fresh cluster with a password-protected superuser `larder` and database `feast`. With
 * `tls`, the server speaks TLS with a certificate for 127.0.0.1 and refuses plain TCP logins.
 */
export async function startPostgres(options: { tls?: boolean } = {}): Promise<PostgresServer> {
  const bin = binDir();
  const dir = mkdtempSync(path.join(tmpdir(), 'larder-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const run = (cmd: string, args: string[]) => {
    const full = path.join(bin, cmd);
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', full, ...args]] : [full, args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  let owner: { uid: number; gid: number } | null = null;
  if (asRoot) {
    chmodSync(dir, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    owner = { uid, gid };
  }
  const password = 'larder-test-secret';
  const pwfile = path.join(dir, 'pw');
  execFileSync('sh', ['-c', `printf %s '${password}' > '${pwfile}'`]);
  if (asRoot) execFileSync('chown', ['postgres', pwfile]);
  run('initdb', ['-D', data, '-U', 'larder', '--pwfile', pwfile, '-A', 'scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const port = await freePort();
  let serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c TimeZone=UTC`;
  let caFile: string | undefined;
  if (options.tls) {
    const certs = makeCertificates(dir, owner);
    caFile = certs.ca;
    serverOptions += ` -c ssl=on -c ssl_cert_file=${certs.cert} -c ssl_key_file=${certs.key}`;
    // TLS over TCP only; the Unix socket stays open for local administration.
    writeFileSync(
      path.join(data, 'pg_hba.conf'),
      'local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 reject\n',
    );
  }
  const start = () => run('pg_ctl', ['-D', data, '-o', serverOptions, '-l', path.join(dir, 'log'), '-w', 'start']);
  start();
  const env = { ...process.env, PGPASSWORD: password, PGSSLMODE: options.tls ? 'require' : 'disable' };
  execFileSync(
    path.join(bin, 'psql'),
    ['-h', '127.0.0.1', '-p', String(port), '-U', 'larder', '-d', 'postgres', '-qc', 'CREATE DATABASE feast'],
    { env, stdio: 'pipe' },
  );

  const server: PostgresServer = {
    host: '127.0.0.1',
    port,
    user: 'larder',
    password,
    database: 'feast',
    url: `postgresql://larder:${password}@127.0.0.1:${port}/feast`,
    caFile,
    offlineStoreConfig: (extra = {}) => ({
      type: 'postgres',
      host: '127.0.0.1',
      port,
      database: 'feast',
      db_schema: 'public',
      user: 'larder',
      password,
      sslmode: options.tls ? 'require' : 'disable',
      ...extra,
    }),
    async pause() {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    async crash() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    async resume() {
      start();
    },
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
