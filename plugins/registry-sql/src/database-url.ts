/**
 * The `registry.path` of a Feast SQL registry: an SQLAlchemy URL, `dialect[+driver]://…`.
 *
 * - `postgresql[+driver]://user:password@host:port/database?sslmode=…&options=…` (Feast rewrites a
 *   bare `postgresql://` to `postgresql+psycopg://`; the driver part means nothing to us).
 * - `sqlite:///relative/path.db` or `sqlite:////absolute/path.db`. SQLAlchemy opens a relative
 *   path from the process's working directory; `feast apply` runs from the repo directory, so
 *   larder resolves it against the feature repo, which is the same file however larder is started.
 *
 * Other dialects (mysql, …) are refused with an error that names them: larder has no reader yet.
 */
import path from 'node:path';
import { parse } from 'pg-connection-string';

export type DatabaseUrl =
  | { readonly dialect: 'postgresql'; readonly connection: PostgresConnection; readonly describe: string }
  | { readonly dialect: 'sqlite'; readonly file: string; readonly describe: string };

export interface PostgresConnection {
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  /** libpq's `options` (e.g. `-csearch_path=registry`). */
  readonly options?: string;
  /** libpq's sslmode; absent means libpq's default, `prefer`. */
  readonly sslmode: string;
  readonly sslrootcert?: string;
  readonly sslcert?: string;
  readonly sslkey?: string;
}

/** A registry URL larder cannot use, with what was wrong. */
export class DatabaseUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUrlError';
  }
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

export function parseDatabaseUrl(url: string, repoPath: string): DatabaseUrl {
  const match = /^([A-Za-z][A-Za-z0-9]*)(?:\+([A-Za-z0-9_]+))?:\/\/(.*)$/s.exec(url);
  if (!match) {
    throw new DatabaseUrlError(
      `registry.path "${redact(url)}" is not an SQLAlchemy URL; a sql registry needs e.g. postgresql+psycopg://user:password@host:5432/db or sqlite:///data/registry.db`,
    );
  }
  const dialect = match[1]!.toLowerCase();
  const rest = match[3]!;
  if (dialect === 'sqlite') return sqliteUrl(rest, repoPath, url);
  if (dialect === 'postgresql') return postgresUrl(rest, url);
  throw new DatabaseUrlError(
    `registry.path uses the ${dialect} dialect, which larder's sql registry cannot read; it reads PostgreSQL (postgresql://) and SQLite (sqlite:///) registries`,
  );
}

function sqliteUrl(rest: string, repoPath: string, url: string): DatabaseUrl {
  // sqlite://<nothing>/<path>: the host part is always empty.
  const file = rest.startsWith('/') ? rest.slice(1).replace(/\?.*$/, '') : '';
  if (file === '' || file === ':memory:') {
    throw new DatabaseUrlError(
      `registry.path "${url}" is an in-memory SQLite database; larder can only read a registry that feast apply wrote to a file`,
    );
  }
  const resolved = path.isAbsolute(file) ? file : path.resolve(repoPath, file);
  return { dialect: 'sqlite', file: resolved, describe: `sqlite:///${resolved}` };
}

function postgresUrl(rest: string, url: string): DatabaseUrl {
  const parsed = parse(`postgresql://${rest}`) as Record<string, string | undefined | boolean | null>;
  const str = (key: string) => (typeof parsed[key] === 'string' && parsed[key] !== '' ? (parsed[key] as string) : undefined);
  const sslmode = str('sslmode') ?? 'prefer';
  if (!SSL_MODES.includes(sslmode)) {
    throw new DatabaseUrlError(`registry.path has sslmode=${sslmode}; libpq's modes are ${SSL_MODES.join(', ')}`);
  }
  const port = str('port');
  return {
    dialect: 'postgresql',
    connection: {
      host: str('host'),
      port: port === undefined ? undefined : Number(port),
      user: str('user'),
      password: str('password'),
      database: str('database'),
      options: str('options'),
      sslmode,
      sslrootcert: str('sslrootcert'),
      sslcert: str('sslcert'),
      sslkey: str('sslkey'),
    },
    describe: redact(url),
  };
}

/** The URL without its password, for logs and errors. */
export function redact(url: string): string {
  return url.replace(/^([^:]+:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}
