import { expect } from 'chai';
import { parseDatabaseUrl, redact } from '../../plugins/registry-sql/src/database-url.ts';

describe('sql registry: SQLAlchemy URLs', () => {
  it('reads PostgreSQL URLs with any driver, libpq query options and percent-encoded passwords', () => {
    const url = parseDatabaseUrl(
      'postgresql+psycopg://feast:p%40ss@db.example:6543/registry?sslmode=verify-full&options=-csearch_path%3Dfeast',
      '/repo',
    );
    expect(url).to.deep.equal({
      dialect: 'postgresql',
      connection: {
        host: 'db.example',
        port: 6543,
        user: 'feast',
        password: 'p@ss',
        database: 'registry',
        options: '-csearch_path=feast',
        sslmode: 'verify-full',
        sslrootcert: undefined,
        sslcert: undefined,
        sslkey: undefined,
      },
      describe: 'postgresql+psycopg://feast:***@db.example:6543/registry?sslmode=verify-full&options=-csearch_path%3Dfeast',
    });
    const bare = parseDatabaseUrl('postgresql://db/registry', '/repo');
    expect(bare.dialect === 'postgresql' && bare.connection.sslmode, "libpq's default").to.equal('prefer');
  });

  it('resolves relative SQLite paths against the feature repo and keeps absolute ones', () => {
    expect(parseDatabaseUrl('sqlite:///data/registry.db', '/repo')).to.deep.equal({
      dialect: 'sqlite',
      file: '/repo/data/registry.db',
      describe: 'sqlite:////repo/data/registry.db',
    });
    expect(parseDatabaseUrl('sqlite:////var/feast/registry.db', '/repo')).to.deep.include({ file: '/var/feast/registry.db' });
  });

  it('refuses what it cannot read, saying what is wrong', () => {
    expect(() => parseDatabaseUrl('postgresql://db/r?sslmode=sometimes', '/repo')).to.throw('registry.path has sslmode=sometimes');
    expect(() => parseDatabaseUrl('mysql://u:pw@db/r', '/repo')).to.throw('uses the mysql dialect');
    expect(() => parseDatabaseUrl('sqlite:///:memory:', '/repo')).to.throw('in-memory SQLite database');
    expect(() => parseDatabaseUrl('/data/registry.db', '/repo')).to.throw('is not an SQLAlchemy URL');
  });

  it('never shows a password', () => {
    expect(redact('postgresql+psycopg://u:secret@h/db')).to.equal('postgresql+psycopg://u:***@h/db');
    expect(redact('postgresql://h/db')).to.equal('postgresql://h/db');
  });
});
