/**
 * larder's log lines as an operator's log pipeline (Loki, Elasticsearch, CloudWatch) reads them:
 * a real larder process with an auth provider, taken through a mix of calls — reads that succeed
 * (DoExchange; DoPut → GetFlightInfo → DoGet), a denied read, a write, calls without a token and
 * with a forged one — at `--log-level debug`, so the transport's per-call lines are there too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { tableFromArrays } from 'apache-arrow';
import { expect } from 'chai';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { fixturePackage, installPackages, placeholderTable, pullAllCommand, rejection, writeGuardedRepo } from '../support/guarded-repo.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';

/** A token no user has; it must never reach the logs. */
const FORGED_TOKEN = 'forged-token-d41d8cd98f00b204';

type LogLine = Record<string, unknown> & { level: unknown; time: unknown; msg?: string };

/** The JSON type of a value as a log index maps it (null counts as "no value", of no type). */
function jsonType(value: unknown): string | null {
  if (value === null) return null;
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

describe('logs (a larder process with an auth provider, through a mix of calls)', function () {
  this.timeout(180_000);
  let repo: string;
  let server: ServerProcess;
  let lines: LogLine[];

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-logs-'));
    installPackages(repo, [fixturePackage('larder-store-static'), fixturePackage('larder-auth-static')]);
    writeGuardedRepo(
      repo,
      [
        'auth:',
        '  type: larder-auth-static',
        '  users:',
        '    token-reader: {username: rita, roles: [reader]}',
        '    token-writer: {username: wes, roles: [reader, writer]}',
        '    token-nobody: {username: ned}',
      ],
      [
        { name: 'read_sources', types: ['DATA_SOURCE'], actions: ['READ_OFFLINE'], policy: { kind: 'role', roles: ['reader'] } },
        { name: 'write_views', types: ['FEATURE_VIEW'], actions: ['WRITE_OFFLINE'], policy: { kind: 'role', roles: ['writer'] } },
      ],
    );
    server = await startLarder({ repoPath: repo, logLevel: 'debug' });
    const clients: FlightTestClient[] = [];
    const as = (token?: string) => {
      const client = connect(`127.0.0.1:${server.port}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      clients.push(client);
      return client;
    };
    try {
      // Reads that succeed, over both of Feast's read paths.
      expect((await as('token-reader').doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(1);
      const reader = as('token-reader');
      const cmd = pullAllCommand();
      await reader.doPut(cmd, placeholderTable());
      const info = await reader.getFlightInfo(cmd);
      expect((await reader.doGet(info.endpoints[0]!.ticket)).numRows).to.equal(1);
      expect(await reader.listActions()).to.have.length(3);
      // A denied read, and a permitted write the read-only store refuses.
      expect((await rejection(as('token-nobody').doExchange(pullAllCommand(), placeholderTable()))).code).to.equal(
        status.PERMISSION_DENIED,
      );
      const write = JSON.stringify({ api: 'offline_write_batch', feature_view_names: ['driver_stats'], name_aliases: [null] });
      expect((await rejection(as('token-writer').doPut(write, tableFromArrays({ conv_rate: [0.5] })))).code).to.equal(status.UNIMPLEMENTED);
      // Refused by authentication: no token, and a token the provider does not know.
      expect((await rejection(as().doExchange(pullAllCommand(), placeholderTable()))).code).to.equal(status.UNAUTHENTICATED);
      expect((await rejection(as(FORGED_TOKEN).listFlights())).code).to.equal(status.UNAUTHENTICATED);
    } finally {
      clients.forEach((c) => c.close());
      expect(await server.stop()).to.equal(0);
    }
    // stdout carries the JSON lines; stderr may carry other text (Node's warnings).
    lines = server
      .logs()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  });

  after(() => {
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('logs the calls (a line per call, the transport debug lines, start and stop)', () => {
    const messages = new Set(lines.map((l) => l.msg));
    for (const msg of ['larder serving', 'call', 'call failed', 'DoGet sent', 'larder stopped']) expect(messages).to.include(msg);
  });

  it('names the level ("debug", "info", "warn", …) instead of pino\'s numbers', () => {
    const levels = new Set(lines.map((l) => l.level));
    for (const level of levels) expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).to.include(level);
    expect([...levels]).to.include.members(['debug', 'info', 'warn']);
  });

  it('stamps each line with ISO-8601 UTC time, to the millisecond', () => {
    for (const line of lines) {
      expect(line.time)
        .to.be.a('string')
        .and.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(new Date(line.time as string).toISOString()).to.equal(line.time);
    }
  });

  it('gives every field one JSON type across all lines (null aside)', () => {
    const types = new Map<string, Map<string, string>>();
    for (const line of lines) {
      for (const [field, value] of Object.entries(line)) {
        const type = jsonType(value);
        if (type === null) continue;
        const seen = types.get(field) ?? new Map<string, string>();
        if (!seen.has(type)) seen.set(type, `${line.msg}: ${JSON.stringify(value)}`);
        types.set(field, seen);
      }
    }
    const mixed = [...types].filter(([, seen]) => seen.size > 1).map(([field, seen]) => `${field}: ${[...seen.values()].join(' / ')}`);
    expect(mixed, 'fields with more than one type').to.deep.equal([]);
  });

  it('logs a call refused by the auth provider at warn: rpc, peer and reason, never the token', () => {
    const refused = lines.filter((l) => l.msg === 'call refused: not authenticated');
    const missing = refused.find((l) => /Missing authorization header/.test(String(l.reason)));
    const forged = refused.find((l) => /Invalid token/.test(String(l.reason)));
    expect(missing, 'a line for the call without a token').to.include({ level: 'warn', rpc: 'DoExchange' });
    expect(forged, 'a line for the call with a forged token').to.include({ level: 'warn', rpc: 'ListFlights' });
    for (const line of [missing!, forged!]) {
      expect(line.peer)
        .to.be.a('string')
        .and.match(/127\.0\.0\.1/);
      expect(line.code).to.equal(status.UNAUTHENTICATED);
    }
    expect(server.logs()).to.not.include(FORGED_TOKEN);
  });
});
