/**
 * Authentication and Feast's permissions end to end over a real server: a third-party auth
 * provider installed with npm (tokens mapped to users), Permission objects in the registry, and
 * the errors a Feast client parses (UNAUTHENTICATED; FeastPermissionError with Feast's text).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { tableFromArrays } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import type { PermissionDraft } from '../../core/src/registry/draft.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { feastPython } from '../support/feast-python.ts';

/**
 * The unchanged Feast client, configured with Feast's kubernetes auth and a fixed `user_token`
 * (which it sends as the bearer token), pulls the source; prints `rows N` or the error's class
 * and text.
 */
const CLIENT_PULL = `
import sys, datetime
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
try:
    job = store._get_provider().offline_store.pull_all_from_table_or_query(
        config=store.config, data_source=store.get_data_source("driver_source"), join_key_columns=["driver_id"],
        feature_name_columns=["conv_rate"], timestamp_field="ts", created_timestamp_column=None,
        start_date=datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc), end_date=datetime.datetime(2022, 1, 1, tzinfo=datetime.timezone.utc))
    print("rows", len(job.to_arrow()))
except Exception as e:
    print(type(e).__module__ + "." + type(e).__name__, str(e).replace("\\n", " | "))
`;

const execFileAsync = promisify(execFile);
const fixtures = ['larder-store-static', 'larder-auth-static'].map((f) => fileURLToPath(new URL(`../fixtures/${f}`, import.meta.url)));

const pullAll = () =>
  JSON.stringify({
    command_id: Math.random().toString(36).slice(2),
    api: 'pull_all_from_table_or_query',
    data_source_name: 'driver_source',
    join_key_columns: ['driver_id'],
    feature_name_columns: ['conv_rate'],
    timestamp_field: 'ts',
    created_timestamp_column: null,
    start_date: '2021-01-01T00:00:00',
    end_date: '2022-01-01T00:00:00+00:00',
  });
const placeholder = () => tableFromArrays({ key: ['mock_key'] });

async function failure(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: number; details: string };
  }
  throw new Error('expected the call to fail');
}

describe('authentication and permissions (third-party auth provider installed with npm)', function () {
  this.timeout(120_000);
  let repo: string;
  let server: RunningServer;
  const clients: FlightTestClient[] = [];
  const as = (token?: string) => {
    const client = connect(`127.0.0.1:${server.port}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    clients.push(client);
    return client;
  };
  const writeRegistry = (permissions: PermissionDraft[]) =>
    writeFileSync(
      path.join(repo, 'data', 'registry.db'),
      encodeRegistry({
        project: 'guarded',
        dataSources: [{ kind: 'file', name: 'driver_source', path: 'x.parquet', timestampField: 'ts' }],
        featureViews: [{ name: 'driver_stats', source: 'driver_source', features: [{ name: 'conv_rate', valueType: 'DOUBLE' }] }],
        permissions,
      }),
    );

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-permissions-'));
    writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'feature-repo', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...fixtures], { cwd: repo, stdio: 'pipe' });
    writeFileSync(
      path.join(repo, 'feature_store.yaml'),
      [
        'project: guarded',
        'registry: data/registry.db',
        'offline_store:',
        '  type: larder-store-static',
        '  rows: [{driver_id: 1, conv_rate: 0.5}]',
        'auth:',
        '  type: larder-auth-static',
        '  users:',
        '    token-reader: {username: rita, roles: [reader]}',
        '    token-nobody: {username: ned}',
        '    token-team: {username: tom, groups: [team-a], namespaces: [ns-1]}',
        '',
      ].join('\n'),
    );
    mkdirSync(path.join(repo, 'data'));
    writeRegistry([
      { name: 'read_sources', types: ['DATA_SOURCE'], actions: ['READ_OFFLINE'], policy: { kind: 'role', roles: ['reader'] } },
      { name: 'team_sources', types: ['DATA_SOURCE'], namePatterns: ['driver_.*'], actions: ['READ_OFFLINE'], policy: { kind: 'group', groups: ['team-a'] } },
      { name: 'write_views', types: ['FEATURE_VIEW'], actions: ['WRITE_OFFLINE'], policy: { kind: 'role', roles: ['writer'] } },
    ]);
    server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
  });

  after(async () => {
    clients.forEach((c) => c.close());
    await server?.stop(1000);
    rmSync(repo, { recursive: true, force: true });
  });

  it('a call without a token, or with an unknown one, is UNAUTHENTICATED and says which', async () => {
    const missing = await failure(as().doExchange(pullAll(), placeholder()));
    expect(missing.code).to.equal(status.UNAUTHENTICATED);
    expect(missing.details).to.match(/Missing authorization header/);
    const unknown = await failure(as('token-forged').doExchange(pullAll(), placeholder()));
    expect(unknown.code).to.equal(status.UNAUTHENTICATED);
    expect(unknown.details).to.match(/Invalid token/);
  });

  it('a permitted user reads, by role or by group (the first granting permission wins)', async () => {
    expect((await as('token-reader').doExchange(pullAll(), placeholder())).numRows).to.equal(1);
    expect((await as('token-team').doExchange(pullAll(), placeholder())).numRows).to.equal(1);
  });

  it('a denied user gets FeastPermissionError with every explanation, as the Feast client parses it', async () => {
    const denied = await failure(as('token-nobody').doExchange(pullAll(), placeholder()));
    expect(denied.code).to.equal(status.PERMISSION_DENIED);
    const detail = JSON.parse(denied.details.slice(denied.details.indexOf('{')));
    expect(detail).to.deep.equal({
      module: 'feast.errors',
      class: 'FeastPermissionError',
      message:
        "Permission error:\nPermission read_sources denied execution of ['READ_OFFLINE'] to FileSource:driver_source: Requires roles ['reader']," +
        'Permission team_sources denied execution of [\'READ_OFFLINE\'] to FileSource:driver_source: User is not added into the permitted groups',
    });
  });

  it('a write checks WRITE_OFFLINE on the feature view before anything is written', async () => {
    const write = JSON.stringify({ api: 'offline_write_batch', feature_view_names: ['driver_stats'], name_aliases: [null] });
    const denied = await failure(as('token-reader').doPut(write, tableFromArrays({ conv_rate: [0.5] })));
    expect(denied.code).to.equal(status.PERMISSION_DENIED);
    expect(JSON.parse(denied.details.slice(denied.details.indexOf('{'))).message).to.equal(
      "Permission error:\nPermission write_views denied execution of ['WRITE_OFFLINE'] to FeatureView:driver_stats: Requires roles ['writer']",
    );
  });

  it('ListFlights shows each user only their own pending requests', async () => {
    const rita = as('token-reader');
    await rita.doPut(pullAll(), placeholder());
    expect((await rita.listFlights()).length).to.equal(1);
    expect(await as('token-team').listFlights()).to.deep.equal([]);
    const anonymous = await failure(as().listFlights());
    expect(anonymous.code).to.equal(status.UNAUTHENTICATED);
  });

  it('the Feast client re-raises FeastPermissionError, and reads when permitted', async function () {
    this.timeout(120_000);
    const { python } = feastPython();
    // Asynchronously: the server runs in this process and must keep answering meanwhile.
    const run = async (token: string) => {
      const client = mkdtempSync(path.join(repo, 'client-'));
      writeFileSync(
        path.join(client, 'feature_store.yaml'),
        [
          'project: guarded',
          `registry: ${path.join(repo, 'data', 'registry.db')}`,
          'provider: local',
          'offline_store:',
          '  type: remote',
          '  host: 127.0.0.1',
          `  port: ${server.port}`,
          'auth:',
          '  type: kubernetes',
          `  user_token: ${token}`,
          'entity_key_serialization_version: 3',
          '',
        ].join('\n'),
      );
      const { stdout } = await execFileAsync(python, ['-c', CLIENT_PULL, client], { env: feastEnv(), encoding: 'utf8', timeout: 120_000 });
      return stdout.trim().split('\n').pop();
    };
    expect(await run('token-reader')).to.equal('rows 1');
    expect(await run('token-nobody')).to.equal(
      "feast.errors.FeastPermissionError Permission error: | Permission read_sources denied execution of ['READ_OFFLINE'] to FileSource:driver_source: Requires roles ['reader']," +
        "Permission team_sources denied execution of ['READ_OFFLINE'] to FileSource:driver_source: User is not added into the permitted groups",
    );
  });

  it('permissions are re-read when the registry changes; none at all lets any authenticated user in', async () => {
    writeRegistry([{ name: 'writers_only', types: ['DATA_SOURCE'], actions: ['WRITE_OFFLINE'], policy: { kind: 'role', roles: ['writer'] } }]);
    const none = await failure(as('token-reader').doExchange(pullAll(), placeholder()));
    expect(JSON.parse(none.details.slice(none.details.indexOf('{'))).message).to.equal(
      "Permission error:\nNo permissions defined to manage [<AuthzedAction.READ_OFFLINE: 'read_offline'>] on <class 'feast.infra.offline_stores.file_source.FileSource'>/driver_source.",
    );
    writeRegistry([]);
    expect((await as('token-nobody').doExchange(pullAll(), placeholder())).numRows).to.equal(1);
  });
});
