/**
 * Authentication and Feast's permissions end to end over a real server: a third-party auth
 * provider installed with npm (tokens mapped to users), Permission objects in the registry, and
 * the errors a Feast client parses (UNAUTHENTICATED; FeastPermissionError with Feast's text).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { tableFromArrays } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import type { PermissionDraft } from '../../core/src/registry/draft.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import {
  feastClientPull,
  fixturePackage,
  installPackages,
  placeholderTable,
  pullAllCommand,
  rejection,
  writeGuardedRegistry,
  writeGuardedRepo,
} from '../support/guarded-repo.ts';

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
  const writeRegistry = (permissions: PermissionDraft[]) => writeGuardedRegistry(repo, permissions);

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-permissions-'));
    installPackages(repo, [fixturePackage('larder-store-static'), fixturePackage('larder-auth-static')]);
    writeGuardedRepo(
      repo,
      [
        'auth:',
        '  type: larder-auth-static',
        '  users:',
        '    token-reader: {username: rita, roles: [reader]}',
        '    token-nobody: {username: ned}',
        '    token-team: {username: tom, groups: [team-a], namespaces: [ns-1]}',
      ],
      [
        { name: 'read_sources', types: ['DATA_SOURCE'], actions: ['READ_OFFLINE'], policy: { kind: 'role', roles: ['reader'] } },
        {
          name: 'team_sources',
          types: ['DATA_SOURCE'],
          namePatterns: ['driver_.*'],
          actions: ['READ_OFFLINE'],
          policy: { kind: 'group', groups: ['team-a'] },
        },
        { name: 'write_views', types: ['FEATURE_VIEW'], actions: ['WRITE_OFFLINE'], policy: { kind: 'role', roles: ['writer'] } },
      ],
    );
    server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
  });

  after(async () => {
    clients.forEach((c) => c.close());
    await server?.stop(1000);
    rmSync(repo, { recursive: true, force: true });
  });

  it('a call without a token, or with an unknown one, is UNAUTHENTICATED and says which', async () => {
    const missing = await rejection(as().doExchange(pullAllCommand(), placeholderTable()));
    expect(missing.code).to.equal(status.UNAUTHENTICATED);
    expect(missing.details).to.match(/Missing authorization header/);
    const unknown = await rejection(as('token-forged').doExchange(pullAllCommand(), placeholderTable()));
    expect(unknown.code).to.equal(status.UNAUTHENTICATED);
    expect(unknown.details).to.match(/Invalid token/);
  });

  it('a permitted user reads, by role or by group (the first granting permission wins)', async () => {
    expect((await as('token-reader').doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(1);
    expect((await as('token-team').doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(1);
  });

  it('a denied user gets FeastPermissionError with every explanation, as the Feast client parses it', async () => {
    const denied = await rejection(as('token-nobody').doExchange(pullAllCommand(), placeholderTable()));
    expect(denied.code).to.equal(status.PERMISSION_DENIED);
    const detail = JSON.parse(denied.details.slice(denied.details.indexOf('{')));
    expect(detail).to.deep.equal({
      module: 'feast.errors',
      class: 'FeastPermissionError',
      message:
        "Permission error:\nPermission read_sources denied execution of ['READ_OFFLINE'] to FileSource:driver_source: Requires roles ['reader']," +
        "Permission team_sources denied execution of ['READ_OFFLINE'] to FileSource:driver_source: User is not added into the permitted groups",
    });
  });

  it('a write checks WRITE_OFFLINE on the feature view before anything is written', async () => {
    const write = JSON.stringify({ api: 'offline_write_batch', feature_view_names: ['driver_stats'], name_aliases: [null] });
    const denied = await rejection(as('token-reader').doPut(write, tableFromArrays({ conv_rate: [0.5] })));
    expect(denied.code).to.equal(status.PERMISSION_DENIED);
    expect(JSON.parse(denied.details.slice(denied.details.indexOf('{'))).message).to.equal(
      "Permission error:\nPermission write_views denied execution of ['WRITE_OFFLINE'] to FeatureView:driver_stats: Requires roles ['writer']",
    );
  });

  it('ListFlights shows each user only their own pending requests', async () => {
    const rita = as('token-reader');
    await rita.doPut(pullAllCommand(), placeholderTable());
    expect((await rita.listFlights()).length).to.equal(1);
    expect(await as('token-team').listFlights()).to.deep.equal([]);
    const anonymous = await rejection(as().listFlights());
    expect(anonymous.code).to.equal(status.UNAUTHENTICATED);
  });

  it('the Feast client re-raises FeastPermissionError, and reads when permitted', async function () {
    this.timeout(120_000);
    // Feast's kubernetes client auth sends a fixed `user_token` as the bearer token.
    const run = (token: string) => feastClientPull(repo, server.port, ['auth:', '  type: kubernetes', `  user_token: ${token}`]);
    expect(await run('token-reader')).to.equal('rows 1');
    expect(await run('token-nobody')).to.equal(
      "feast.errors.FeastPermissionError Permission error: | Permission read_sources denied execution of ['READ_OFFLINE'] to FileSource:driver_source: Requires roles ['reader']," +
        "Permission team_sources denied execution of ['READ_OFFLINE'] to FileSource:driver_source: User is not added into the permitted groups",
    );
  });

  it('permissions are re-read when the registry changes; none at all lets any authenticated user in', async () => {
    writeRegistry([
      { name: 'writers_only', types: ['DATA_SOURCE'], actions: ['WRITE_OFFLINE'], policy: { kind: 'role', roles: ['writer'] } },
    ]);
    const none = await rejection(as('token-reader').doExchange(pullAllCommand(), placeholderTable()));
    expect(JSON.parse(none.details.slice(none.details.indexOf('{'))).message).to.equal(
      "Permission error:\nNo permissions defined to manage [<AuthzedAction.READ_OFFLINE: 'read_offline'>] on <class 'feast.infra.offline_stores.file_source.FileSource'>/driver_source.",
    );
    writeRegistry([]);
    expect((await as('token-nobody').doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(1);
  });
});
