/**
 * The trino store's `offline_store` section: Feast 0.67's TrinoOfflineStoreConfig keys (with its
 * pydantic aliases `http-scheme`, `ssl-verify`, `x-trino-extra-credential-header`) and larder's
 * `session_properties` pass the schema; what Feast would refuse is refused with the key named;
 * authentication methods the store cannot use yet are refused at start-up (ConfigError naming the key).
 */
import { expect } from 'chai';
import pino from 'pino';
import { ConfigError } from '../../core/src/config/errors.ts';
import { validateSection } from '../../core/src/config/validate.ts';
import { connectionOf, stagingOf, type TrinoStoreConfig } from '../../plugins/trino/src/config.ts';
import trinoPlugin from '../../plugins/trino/src/index.ts';

const base = { type: 'trino', host: 'trino.internal', port: 8080, catalog: 'hive', user: 'feast', connector: { type: 'hive' } };
const check = (section: Record<string, unknown>) => () =>
  validateSection(trinoPlugin.configSchema, section, 'feature_store.yaml', 'offline_store');
const env = { repoPath: '/repo', dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) };

/** The ConfigError `create` throws for a section that passed the schema. */
function startupRefusal(section: Record<string, unknown>): ConfigError {
  check(section)();
  try {
    trinoPlugin.create(section, env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('trino store config', () => {
  it("accepts every field of Feast's TrinoOfflineStoreConfig, with its alias spellings", () => {
    expect(
      check({
        ...base,
        source: 'feast',
        'http-scheme': 'https',
        'ssl-verify': false,
        'x-trino-extra-credential-header': 'user1=pwd1, user2=pwd2',
        connector: { type: 'hive', file_format: 'parquet' },
        dataset: 'feast_tmp',
        auth: { type: 'basic', config: { username: 'u', password: 'p' } },
        session_properties: { query_max_run_time: '1h', 'hive.parquet_use_column_names': true, task_concurrency: 4 },
      }),
    ).to.not.throw();
    expect(check({ ...base, auth: { type: 'oauth2', config: null } })).to.not.throw();
  });

  it('refuses what Feast refuses, naming the key', () => {
    expect(check({ ...base, catalog: undefined })).to.throw(ConfigError, /catalog/);
    expect(check({ ...base, connector: undefined })).to.throw(ConfigError, /connector/);
    expect(check({ ...base, connector: {} })).to.throw(ConfigError, /offline_store\.connector/);
    // Feast's key is the alias `http-scheme`; pydantic (extra=forbid) refuses `http_scheme`.
    expect(check({ ...base, http_scheme: 'https' })).to.throw(ConfigError, /http_scheme/);
    expect(check({ ...base, 'http-scheme': 'ftp' })).to.throw(ConfigError, /http-scheme/);
    expect(check({ ...base, port: '8080' })).to.throw(ConfigError, /port/);
    expect(check({ ...base, auth: { type: 'ldap', config: {} } })).to.throw(ConfigError, /auth\.type/);
    expect(check({ ...base, session_properties: { 'bad name': 'x' } })).to.throw(ConfigError, /session_properties/);
  });

  it('refuses at start-up the Feast authentication methods it cannot use yet, and malformed basic credentials', () => {
    for (const type of ['kerberos', 'jwt', 'oauth2', 'certificate']) {
      const refused = startupRefusal({ ...base, auth: { type, config: type === 'oauth2' ? null : { token: 't' } } });
      expect(refused.keyPath).to.equal('offline_store.auth.type');
      expect(refused.message).to.equal(
        `/repo/feature_store.yaml: offline_store.auth.type: '${type}' is a Trino authentication Feast supports that larder's trino store does not yet; use 'basic' (over https), or none`,
      );
    }
    expect(startupRefusal({ ...base, auth: { type: 'basic', config: { username: 'u' } } }).keyPath).to.equal('offline_store.auth.config');
    expect(startupRefusal({ ...base, auth: { type: 'basic', config: { username: 'u', password: 'p', x: 1 } } }).keyPath).to.equal(
      'offline_store.auth.config.x',
    );
    expect(startupRefusal({ ...base, 'x-trino-extra-credential-header': 'no-equals-sign' }).keyPath).to.equal(
      'offline_store.x-trino-extra-credential-header',
    );
  });

  it("resolves the connection with Feast's defaults: http, certificate verified, source trino-python-client", () => {
    expect(connectionOf(base as TrinoStoreConfig, '/repo')).to.deep.equal({
      server: 'http://trino.internal:8080',
      catalog: 'hive',
      user: 'feast',
      source: 'trino-python-client',
      rejectUnauthorized: true,
      extraCredential: {},
      session: {},
    });
    const full = connectionOf(
      {
        ...base,
        host: '::1',
        'http-scheme': 'https',
        'ssl-verify': false,
        'x-trino-extra-credential-header': 'a=1, b=x=y',
        auth: { type: 'basic', config: { username: 'u', password: 'p' } },
        session_properties: { task_concurrency: 4, spill_enabled: true },
      } as TrinoStoreConfig,
      '/repo',
    );
    expect(full).to.deep.include({
      server: 'https://[::1]:8080',
      rejectUnauthorized: false,
      basicAuth: { username: 'u', password: 'p' },
      extraCredential: { a: '1', b: 'x=y' },
      session: { task_concurrency: '4', spill_enabled: 'true' },
    });
  });

  it('entity_staging: a local directory or file:// URL, with the name the catalog gives it; s3:// refused for now, naming the key', () => {
    const staging = { catalog: 'hive', schema: 'staging', location: 'staging' };
    expect(check({ ...base, entity_staging: staging })).to.not.throw();
    expect(check({ ...base, entity_staging: { ...staging, schema: undefined } })).to.throw(ConfigError, /entity_staging/);
    expect(check({ ...base, entity_staging: { ...staging, bucket: 'x' } })).to.throw(ConfigError, /entity_staging/);
    expect(stagingOf(base as TrinoStoreConfig, '/repo')).to.equal(null);
    expect(stagingOf({ ...base, entity_staging: staging } as TrinoStoreConfig, '/repo')).to.deep.equal({
      catalog: 'hive',
      schema: 'staging',
      dir: '/repo/staging',
      trinoLocation: 'file:///repo/staging',
    });
    expect(
      stagingOf(
        { ...base, entity_staging: { ...staging, location: 'file:///srv/st/', trino_location: 'local:///st/' } } as TrinoStoreConfig,
        '/repo',
      ),
    ).to.deep.include({ dir: '/srv/st/', trinoLocation: 'local:///st' });
    const s3 = startupRefusal({ ...base, entity_staging: { ...staging, location: 's3://bucket/staging' } });
    expect(s3.message).to.contain('offline_store.entity_staging.location').and.contain('s3://');
  });
});
