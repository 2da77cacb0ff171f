/**
 * The postgres store's sslmode, as libpq reads it, against a real TLS-only PostgreSQL server (a
 * throwaway cluster with a certificate for 127.0.0.1 signed by a throwaway CA) and a plain one.
 */
import { expect } from 'chai';
import pino from 'pino';
import postgresPlugin from '../../plugins/postgres/src/index.ts';
import type { OfflineStore, PullRequest } from '../../core/src/store.ts';
import { postgresSource } from '../support/feature-views.ts';
import { callContext, collect } from '../support/parquet-fixtures.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const env = { repoPath: '/', dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) };
const pull: PullRequest = {
  source: postgresSource('one', { query: 'SELECT 1::bigint AS id, now() AS ts' }, { createdTimestampColumn: '' }),
  joinKeyColumns: ['id'],
  featureNameColumns: [],
  timestampField: 'ts',
  createdTimestampColumn: null,
  startDate: null,
  endDate: null,
};

async function answers(config: Record<string, unknown>): Promise<number> {
  const store: OfflineStore = await postgresPlugin.create(config, env);
  try {
    return (await collect(await store.pullAllFromTableOrQuery(pull, callContext()))).numRows;
  } finally {
    await store.close();
  }
}

async function refusal(config: Record<string, unknown>): Promise<string> {
  try {
    await answers(config);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the connection to fail');
}

describe('postgres store: sslmode against real TLS and plain servers', function () {
  this.timeout(60_000);
  let tls: PostgresServer;
  let plain: PostgresServer;

  before(async () => {
    [tls, plain] = [await startPostgres({ tls: true }), await startPostgres()];
  });

  after(async () => {
    await tls?.stop();
    await plain?.stop();
  });

  it("require (Feast's default) encrypts without verifying the certificate", async () => {
    expect(await answers(tls.offlineStoreConfig({ sslmode: 'require' }))).to.equal(1);
  });

  it('verify-full checks the chain against sslrootcert_path and the host name', async () => {
    expect(await answers(tls.offlineStoreConfig({ sslmode: 'verify-full', sslrootcert_path: tls.caFile }))).to.equal(1);
    expect(await refusal(tls.offlineStoreConfig({ sslmode: 'verify-full' }))).to.match(/PostgreSQL.*certificate/);
  });

  it('disable: a TLS-only server refuses the login, and the error says so', async () => {
    expect(await refusal(tls.offlineStoreConfig({ sslmode: 'disable' }))).to.match(
      /PostgreSQL refused the connection larder@127\.0\.0\.1:\d+\/feast: .*no encryption/,
    );
  });

  it('prefer uses TLS when offered and falls back to plain text when not', async () => {
    expect(await answers(tls.offlineStoreConfig({ sslmode: 'prefer' }))).to.equal(1);
    expect(await answers(plain.offlineStoreConfig({ sslmode: 'prefer' }))).to.equal(1);
  });
});
