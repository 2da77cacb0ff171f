/**
 * get_historical_features without an entity table (start_date/end_date) on the postgres store:
 * the same requests, by the unchanged Feast client, through Feast 0.67's own postgres store
 * in-process and through larder (`offline_store: postgres`, `remote` on the client), over the same
 * tables of a real PostgreSQL (test/fixtures/date-range/: definitions.py, frames.py).
 *
 * - Where Feast's answer is determinate, larder's frame is Feast's: column names, order and
 *   types, and the rows (compared sorted where Feast has no ORDER BY, in order where it has one).
 * - Where it is not (docs/date-range-retrieval.md), larder's
 *   answer is the documented one and Feast's differs exactly in the documented cells: a tie on
 *   (key, timestamp) that Feast's DISTINCT ON settles arbitrarily, and a point-in-time match
 *   before start_date that Feast never sees.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pg from 'pg';
import YAML from 'yaml';
import { feastEnv } from '../support/feast-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { REPO_ROOT, startLarder, type ServerProcess } from '../support/larder-process.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const run = promisify(execFile);
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'date-range');

/** The sources' rows (2025-01-01, UTC); what each row is for is said in definitions.py. */
const DATA = `
CREATE TABLE stats (driver_id bigint, ts timestamptz, created timestamptz, rate double precision, rank bigint);
INSERT INTO stats VALUES
  (1, '2025-01-01 10:00Z', '2025-01-01 10:00Z', 1.0, 10),
  (1, '2025-01-01 11:00Z', '2025-01-01 11:00Z', 1.1, 11),
  (1, '2025-01-01 13:00Z', '2025-01-01 13:30Z', 1.3, 13),
  (1, '2025-01-01 13:00Z', '2025-01-01 13:10Z', 1.25, 12),
  (2, '2025-01-01 12:00Z', '2025-01-01 12:00Z', 2.2, 22),
  (3, '2025-01-01 09:00Z', '2025-01-01 09:00Z', 3.0, 30),
  (3, '2025-01-01 15:00Z', '2025-01-01 15:00Z', 3.5, 35),
  (5, '2025-01-01 13:00Z', '2025-01-01 13:00Z', 5.0, 50),
  (NULL, '2025-01-01 12:00Z', '2025-01-01 12:00Z', 9.9, 99);
CREATE TABLE trips (driver_id bigint, ts timestamptz, n bigint);
INSERT INTO trips VALUES
  (1, '2025-01-01 10:30Z', 100),
  (2, '2025-01-01 11:30Z', 210),
  (4, '2025-01-01 11:30Z', 400),
  (4, '2025-01-01 12:45Z', 401),
  (4, '2025-01-01 12:45Z', 402),
  (5, '2025-01-01 12:30Z', 500);
CREATE TABLE totals (ts timestamptz, total bigint);
INSERT INTO totals VALUES ('2025-01-01 09:00Z', 1), ('2025-01-01 11:00Z', 2), ('2025-01-01 11:00Z', 3);
CREATE TABLE mapped (id bigint, event_time timestamptz, raw_rate double precision);
INSERT INTO mapped VALUES (1, '2025-01-01 11:00Z', 7.0), (2, '2025-01-01 14:00Z', 8.0);
CREATE TABLE cities (city text, ts timestamptz, pop bigint);
INSERT INTO cities VALUES ('a', '2025-01-01 11:00Z', 5);
`;

type Cell = string | number | null;
type Frame = { columns: string[]; types: string[]; rows: Cell[][] } | { error: string };
type Frames = Record<string, Frame>;

function frame(f: Frame | undefined, what: string): { columns: string[]; types: string[]; rows: Cell[][] } {
  expect(f, what).to.not.equal(undefined);
  if ('error' in f!) throw new Error(`${what} failed: ${f.error}`);
  return f!;
}

const sorted = (rows: Cell[][]) => [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/** Rows as objects by column name, for looking up cells. */
const records = (f: { columns: string[]; rows: Cell[][] }) => f.rows.map((r) => Object.fromEntries(f.columns.map((c, i) => [c, r[i]])));

describe('start/end-date retrieval on postgres: larder answers as Feast 0.67 postgres store', function () {
  this.timeout(300_000);
  let dir: string;
  let server: PostgresServer;
  let larder: ServerProcess | undefined;
  let feast: Frames;
  let ours: Frames;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-date-range-'));
    server = await startPostgres();
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await client.query(DATA);
    } finally {
      await client.end();
    }
    const { python, feast: feastCli } = feastPython();
    const env = feastEnv(dir);
    const repo = path.join(dir, 'repo');
    mkdirSync(repo);
    copyFileSync(path.join(FIXTURES, 'definitions.py'), path.join(repo, 'definitions.py'));
    const registry = path.join(repo, 'registry.db');
    const common = { project: 'dates', registry, provider: 'local', entity_key_serialization_version: 3 };
    const offlineStore = server.offlineStoreConfig();
    // Feast's own postgres store: `feast apply` here, and the in-process answer.
    writeFileSync(path.join(repo, 'feature_store.yaml'), YAML.stringify({ ...common, offline_store: offlineStore }));
    await run(feastCli, ['-c', repo, 'apply'], { cwd: repo, env, timeout: 120_000 });
    // larder over the same registry and cluster, with an ODFV worker; the client reaches it by `remote`.
    const serverRepo = path.join(dir, 'server');
    mkdirSync(serverRepo);
    writeFileSync(
      path.join(serverRepo, 'feature_store.yaml'),
      YAML.stringify({ ...common, offline_store: offlineStore, larder: { odfv_python: python } }),
    );
    larder = await startLarder({ repoPath: serverRepo });
    const clientRepo = path.join(dir, 'client');
    mkdirSync(clientRepo);
    writeFileSync(
      path.join(clientRepo, 'feature_store.yaml'),
      YAML.stringify({ ...common, offline_store: { type: 'remote', host: '127.0.0.1', port: larder.port } }),
    );
    const frames = async (repoPath: string) => {
      const { stdout } = await run(python, [path.join(FIXTURES, 'frames.py'), repoPath], { env, timeout: 180_000, maxBuffer: 16 << 20 });
      return JSON.parse(stdout.trim().split('\n').pop()!) as Frames;
    };
    [feast, ours] = await Promise.all([frames(repo), frames(clientRepo)]);
  });

  after(async () => {
    await larder?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Feast's frame and larder's: the same columns, types and rows (in order when `ordered`). */
  function same(name: string, ordered: boolean) {
    const want = frame(feast[name], `Feast's ${name}`);
    const got = frame(ours[name], `larder's ${name}`);
    expect(got.columns, `${name}: columns`).to.deep.equal(want.columns);
    expect(got.types, `${name}: types`).to.deep.equal(want.types);
    expect(ordered ? got.rows : sorted(got.rows), `${name}: rows`).to.deep.equal(ordered ? want.rows : sorted(want.rows));
    return got;
  }

  it('one view: every source row in range as stored, ties and null keys included, with created_timestamp', () => {
    const got = same('one_view', false);
    expect(got.columns).to.deep.equal(['event_timestamp', 'created_timestamp', 'driver_id', 'rate', 'rank']);
    // Both rows of the (driver 1, 13:00) tie, the null-key row; not 09:00 (before) nor 15:00 (after).
    expect(sorted(got.rows.map((r) => [r[2]!, r[3]!]))).to.deep.equal(
      sorted([
        [1, 1.0],
        [1, 1.1],
        [1, 1.25],
        [1, 1.3],
        [2, 2.2],
        [5, 5.0],
        [null, 9.9],
      ]),
    );
  });

  it('one view: full feature names, no created column, naive dates (UTC), the default start (end - ttl)', () => {
    expect(same('one_view_full_names', false).columns).to.deep.equal(['event_timestamp', 'created_timestamp', 'driver_id', 'stats__rate']);
    const noCreated = same('one_view_no_created', false);
    expect(noCreated.columns).to.deep.equal(['event_timestamp', 'driver_id', 'n']);
    expect(noCreated.rows).to.have.length(5);
    same('one_view_naive_dates', false);
    // trips' ttl is 2 h: from 10:00 to 12:00.
    expect(
      same('one_view_default_start', false)
        .rows.map((r) => r[2])
        .sort(),
    ).to.deep.equal([100, 210, 400]);
  });

  it('one entityless view: its rows in range, ties included', () => {
    expect(same('entityless_view', false).rows).to.deep.equal([
      ['2025-01-01T11:00:00', 2],
      ['2025-01-01T11:00:00', 3],
    ]);
  });

  it("one view with an on-demand view: the same rows and values (columns as a set: the client's own ref order is a Python set's)", () => {
    const want = frame(feast.one_view_odfv, "Feast's one_view_odfv");
    const got = frame(ours.one_view_odfv, "larder's one_view_odfv");
    expect(got.columns).to.have.members(want.columns);
    expect(got.columns.slice(-1)).to.deep.equal(['rate2']);
    const byName = (f: typeof want) => sorted(records(f).map((r) => want.columns.map((c) => r[c] ?? null)));
    expect(byName(got)).to.deep.equal(byName(want));
  });

  it('two views: the distinct (event_timestamp, keys) of both in range, point-in-time joined, ordered by event_timestamp', () => {
    const got = same('two_views', false);
    expect(got.columns).to.deep.equal(['event_timestamp', 'driver_id', 'rate', 'n']);
    // Feast orders by event_timestamp only; larder by event_timestamp then keys, which is one of its orders.
    const times = (rows: Cell[][]) => rows.map((r) => r[0] as string);
    expect(times(got.rows)).to.deep.equal(times(frame(feast.two_views, 'two_views').rows));
    expect(records(got).find((r) => r.event_timestamp === '2025-01-01T12:00:00' && r.driver_id === 2)).to.deep.equal({
      event_timestamp: '2025-01-01T12:00:00',
      driver_id: 2,
      rate: 2.2,
      n: 210,
    });
    same('two_views_full_names', false);
  });

  it('two views, where Feast is wrong: ties go to the later created (else the row stored last), and a match before start_date counts', () => {
    const want = frame(feast.two_views_ties_and_lookback, "Feast's answer");
    const got = frame(ours.two_views_ties_and_lookback, "larder's answer");
    expect(got.columns).to.deep.equal(want.columns);
    const key = (r: Record<string, Cell>) => `${r.event_timestamp}/${r.driver_id}`;
    const theirs = new Map(records(want).map((r) => [key(r), r]));
    const mine = new Map(records(got).map((r) => [key(r), r]));
    // The same rows (Feast's base rows are right); the values differ only in the documented cells.
    expect([...mine.keys()].sort()).to.deep.equal([...theirs.keys()].sort());
    const cell = (m: typeof mine, k: string) => m.get(k)!;
    // (driver 1, 13:00): rows tied on (key, ts); created 13:30 (rate 1.3) is the latest. Feast's DISTINCT ON takes either.
    expect(cell(mine, '2025-01-01T13:00:00/1').rate).to.equal(1.3);
    expect([1.3, 1.25]).to.include(cell(theirs, '2025-01-01T13:00:00/1').rate);
    // (driver 4, 12:45): a full tie without a created column: larder takes the row stored last.
    expect(cell(mine, '2025-01-01T12:45:00/4').n).to.equal(402);
    expect([401, 402]).to.include(cell(theirs, '2025-01-01T12:45:00/4').n);
    // (driver 5, 13:00): trips' 12:30 row is within its 2 h ttl but before start_date (12:40): Feast drops it.
    expect(cell(mine, '2025-01-01T13:00:00/5').n).to.equal(500);
    expect(cell(theirs, '2025-01-01T13:00:00/5').n).to.equal(null);
    expect(cell(mine, '2025-01-01T13:00:00/5').rate).to.equal(cell(theirs, '2025-01-01T13:00:00/5').rate);
  });

  it("one view whose join key's source column is renamed by field_mapping: Feast selects a column the table lacks, larder answers", () => {
    // Feast's template selects the join key by its entity name ("driver_id"), not the source column ("id").
    expect((feast.one_view_key_field_mapping as { error?: string }).error).to.match(
      /^psycopg\.errors\.UndefinedColumn: column "driver_id" does not exist/,
    );
    expect(frame(ours.one_view_key_field_mapping, "larder's one_view_key_field_mapping")).to.deep.equal({
      columns: ['event_timestamp', 'driver_id', 'rate'],
      types: ['timestamp[us]', 'int64', 'double'],
      rows: [['2025-01-01T11:00:00', 1, 7.0]],
    });
  });

  it('views with different join keys (or entityless with keyed) fail in both; larder says why instead of a SQL error', () => {
    for (const name of ['two_views_other_keys', 'entityless_and_keyed']) {
      expect((feast[name] as { error?: string }).error, `Feast's ${name}`).to.match(/^psycopg\.errors\./);
      expect((ours[name] as { error?: string }).error, `larder's ${name}`).to.include('needs feature views with the same join keys');
    }
  });
});
