/**
 * Pending uploads (DoPut → GetFlightInfo → DoGet) under OIDC auth, against a real PostgreSQL
 * store: a ticket is redeemed only by the user who uploaded it — another user's DoGet is told
 * NOT_FOUND exactly as for an unknown ticket and leaves the upload alone — and a result that
 * GetFlightInfo prepared (a PostgreSQL session holding an open read-only transaction) is released
 * on every path that drops it: the owner's DoGet, a TTL expiry, an eviction by the caps, a second
 * GetFlightInfo racing the first, and shutdown. The sessions are counted in pg_stat_activity.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pg from 'pg';
import pino from 'pino';
import YAML from 'yaml';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { placeholderTable, pullAllCommand, rejection } from '../support/guarded-repo.ts';
import { startOidcProvider, type OidcTestProvider } from '../support/oidc-provider.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const CLIENT_ID = 'feast-client';
const POSTGRES_SOURCE = 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource';
const UNKNOWN_TICKET = /^Unknown ticket, or a ticket that was already used$/;

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('pending uploads: ownership and release of prepared results (OIDC, real PostgreSQL)', function () {
  this.timeout(120_000);
  let idp: OidcTestProvider;
  let postgres: PostgresServer;
  let admin: pg.Client;
  let repo: string;
  const clients: FlightTestClient[] = [];
  const servers: RunningServer[] = [];

  /** Sessions of larder's pool that hold an open transaction: one per prepared, unreleased result. */
  const heldSessions = async () =>
    Number(
      (await admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'larder' AND state = 'idle in transaction'"))
        .rows[0].n,
    );

  /** A server on the repo with these `larder:` settings (a feature_store.yaml of its own). */
  async function serve(name: string, larder: Record<string, unknown>): Promise<RunningServer> {
    const file = path.join(repo, `feature_store.${name}.yaml`);
    writeFileSync(
      file,
      YAML.stringify({
        project: 'guarded',
        registry: 'data/registry.db',
        offline_store: postgres.offlineStoreConfig({ max_conn: 8 }),
        auth: { type: 'oidc', client_id: CLIENT_ID, auth_discovery_url: idp.discoveryUrl },
        larder,
      }),
    );
    const server = await startServer({ chdir: repo, featureStoreYaml: file, port: 0, logger: pino({ level: 'silent' }) });
    servers.push(server);
    return server;
  }

  /** A Flight client for `server` presenting a token the IdP signed for `username`. */
  async function as(server: RunningServer, username: string): Promise<FlightTestClient> {
    const token = await idp.sign('rsa-1', { preferred_username: username, sub: username, azp: CLIENT_ID, aud: 'account' });
    const client = connect(`127.0.0.1:${server.port}`, { headers: { authorization: `Bearer ${token}` } });
    clients.push(client);
    return client;
  }

  /** DoPut + GetFlightInfo: the result is prepared and waits for DoGet. Returns the ticket. */
  async function prepare(client: FlightTestClient, command: string): Promise<Uint8Array> {
    await client.doPut(command, placeholderTable());
    const info = await client.getFlightInfo(command);
    expect(info.schema!.fields.map((f) => f.name)).to.deep.equal(['driver_id', 'conv_rate', 'ts']);
    return info.endpoints[0]!.ticket;
  }

  before(async () => {
    idp = await startOidcProvider();
    await idp.issuer.keys.generate('RS256', { kid: 'rsa-1' });
    postgres = await startPostgres();
    admin = new pg.Client({
      host: postgres.host,
      port: postgres.port,
      user: postgres.user,
      password: postgres.password,
      database: postgres.database,
    });
    await admin.connect();
    await admin.query(`CREATE TABLE stats AS SELECT (i % 10)::bigint AS driver_id, timestamptz '2021-06-01 00:00:00+00' + i * interval '1 hour' AS ts,
      (i / 100.0)::double precision AS conv_rate FROM generate_series(0, 99) AS i`);
    repo = mkdtempSync(path.join(tmpdir(), 'larder-pending-'));
    mkdirSync(path.join(repo, 'data'));
    writeFileSync(
      path.join(repo, 'data', 'registry.db'),
      encodeRegistry({
        project: 'guarded',
        dataSources: [
          {
            kind: 'custom',
            name: 'driver_source',
            classType: POSTGRES_SOURCE,
            timestampField: 'ts',
            configuration: { name: 'driver_source', table: 'stats', query: '' },
          },
        ],
      }),
    );
  });

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close());
    await Promise.all(servers.splice(0).map((s) => s.stop(1000)));
  });

  after(async () => {
    await admin?.end();
    await postgres?.stop();
    await idp?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it("another user's DoGet on a ticket is NOT_FOUND like an unknown ticket, and the owner's DoGet still gets the rows", async () => {
    const server = await serve('foreign', {});
    const alice = await as(server, 'alice');
    const mallory = await as(server, 'mallory');
    const command = pullAllCommand();
    const ticket = await prepare(alice, command);
    expect(await heldSessions()).to.equal(1);

    const foreign = await rejection(mallory.doGet(ticket));
    const unknown = await rejection(mallory.doGet('no-such-ticket'));
    expect(foreign.code).to.equal(status.NOT_FOUND);
    expect(foreign.details).to.match(UNKNOWN_TICKET);
    expect(foreign.details, 'a foreign ticket is answered exactly as an unknown one').to.equal(unknown.details);
    // Mallory sees nothing of Alice's upload by any other call either.
    expect(await mallory.listFlights()).to.deep.equal([]);
    expect((await rejection(mallory.getFlightInfo(command))).code).to.equal(status.NOT_FOUND);

    // Alice's upload and its prepared result are untouched.
    expect(await heldSessions()).to.equal(1);
    const table = await alice.doGet(ticket);
    expect(table.numRows).to.equal(100);
    await until('the session to be released after the owner read the result', async () => (await heldSessions()) === 0);
  });

  it('releases a prepared result when its pending upload expires (TTL)', async () => {
    const server = await serve('ttl', { pending_ttl_seconds: 1 });
    const alice = await as(server, 'alice');
    const ticket = await prepare(alice, pullAllCommand());
    // The sweeper runs on its own: no further call is needed for the session to come back.
    await until('the expired result to be released', async () => (await heldSessions()) === 0);
    expect((await rejection(alice.doGet(ticket))).code).to.equal(status.NOT_FOUND);
  });

  it('releases a prepared result evicted by pending_max_requests, and keeps the newer ones', async () => {
    const server = await serve('caps', { pending_max_requests: 2 });
    const alice = await as(server, 'alice');
    const tickets = [];
    for (let i = 0; i < 3; i++) tickets.push(await prepare(alice, pullAllCommand()));
    await until('the evicted result to be released', async () => (await heldSessions()) === 2);
    expect((await rejection(alice.doGet(tickets[0]!))).code).to.equal(status.NOT_FOUND);
    expect((await alice.doGet(tickets[1]!)).numRows).to.equal(100);
    expect((await alice.doGet(tickets[2]!)).numRows).to.equal(100);
    await until('every session to be released', async () => (await heldSessions()) === 0);
  });

  it('prepares once when GetFlightInfo is called twice at the same time, and releases it', async () => {
    const server = await serve('race', {});
    const alice = await as(server, 'alice');
    const command = pullAllCommand();
    await alice.doPut(command, placeholderTable());
    const [first, second] = await Promise.all([alice.getFlightInfo(command), alice.getFlightInfo(command)]);
    expect(Buffer.from(first.endpoints[0]!.ticket).equals(Buffer.from(second.endpoints[0]!.ticket))).to.equal(true);
    expect(await heldSessions(), 'one prepared result, not two').to.equal(1);
    expect((await alice.doGet(first.endpoints[0]!.ticket)).numRows).to.equal(100);
    await until('the session to be released', async () => (await heldSessions()) === 0);
  });

  it('releases prepared results at shutdown', async () => {
    const server = await serve('shutdown', {});
    const alice = await as(server, 'alice');
    await prepare(alice, pullAllCommand());
    await prepare(alice, pullAllCommand());
    expect(await heldSessions()).to.equal(2);
    servers.splice(servers.indexOf(server), 1);
    await server.stop(1000);
    await until('the sessions to end', async () => (await heldSessions()) === 0);
  });
});
