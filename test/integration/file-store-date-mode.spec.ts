/**
 * The start/end-date mode (get_historical_features without an entity dataframe) of the `file`
 * store, differentially: the same requests answered by Feast 0.67's own file store in-process and
 * by larder through the unchanged Feast client (`offline_store: remote`), one Python process per
 * side (test/support/feast_date_mode.py, which also writes the data and applies the views).
 *
 * Where Feast's answer is coherent, larder's frame must equal it: schema, values and row order.
 * Where it is a bug (views sharing join keys are paired arbitrarily; null keys and null timestamps
 * become entities), larder's documented answer is asserted, and Feast's measured answer too, so a
 * Feast that fixes its bug shows up here. See plugins/parquet-files/README.md, "The start/end-date mode".
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { feastPython } from '../support/feast-python.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../support/feast_date_mode.py', import.meta.url));
const PROJECT = 'date_mode_file';

/** A request: features, and start/end in hours after 2024-01-01T00:00Z (omitted: not sent). */
interface Case {
  readonly id: string;
  readonly features: readonly string[];
  readonly start?: number;
  readonly end?: number;
  readonly full?: boolean;
}

type Row = Array<string | number | null>;
type Answer =
  | { ok: true; schema: string[]; rows: Row[]; before: string; after: string }
  | { ok: false; error: string; message: string; before: string; after: string };

const at = (hours: number) => new Date(Date.UTC(2024, 0, 1) + hours * 3_600_000).toISOString().replace('.000Z', '+00:00');

const CASES: readonly Case[] = [
  { id: 'ttl', features: ['drivers:rate'], start: 1, end: 4 },
  { id: 'no ttl', features: ['drivers_forever:rate'], start: 1, end: 4 },
  { id: 'late start', features: ['drivers:rate'], start: 3.8, end: 4 },
  { id: 'no start', features: ['drivers:rate'], end: 4 },
  { id: 'ttl bound', features: ['drivers:rate'], start: 1, end: 5.5 },
  { id: 'end on a row', features: ['drivers:rate'], start: 1, end: 3.5 },
  { id: 'empty window', features: ['drivers:rate'], start: 10, end: 11 },
  { id: 'full names', features: ['drivers:rate'], start: 1, end: 4, full: true },
  { id: 'odfv', features: ['drivers:rate', 'doubled:rate_doubled'], start: 1, end: 4 },
  { id: 'disjoint keys', features: ['drivers_forever:rate', 'cities:population'], start: 1, end: 4 },
  { id: 'disjoint keys, one empty', features: ['drivers_forever:rate', 'cities:population'], start: 0, end: 0.9 },
  { id: 'entityless', features: ['totals:total'], start: 1, end: 4 },
  { id: 'entityless and keyed', features: ['drivers:rate', 'totals:total'], start: 1, end: 4 },
  { id: 'entityless empty', features: ['drivers_forever:rate', 'totals:total'], start: 0, end: 0.9 },
  { id: 'no end', features: ['drivers_forever:rate'], start: 1 },
  { id: 'same keys', features: ['drivers_forever:rate', 'trips:trips'], start: 1, end: 4 },
  { id: 'same source twice', features: ['drivers:rate', 'drivers_forever:rate'], start: 1, end: 4, full: true },
  { id: 'overlapping keys', features: ['drivers_forever:rate', 'pairs:score'], start: 1, end: 4 },
  { id: 'null key and null timestamp', features: ['odd:rate'], start: 1, end: 4 },
];

describe("the file store's start/end-date mode answers as Feast's file store (Feast 0.67 in-process vs larder through the Feast client)", function () {
  this.timeout(300_000);
  let dir: string;
  let larder: ServerProcess | undefined;
  let feast: Map<string, Answer>;
  let ours: Map<string, Answer>;

  /** Runs every case through the repo at `repo` (Feast's file store, or the remote client), TZ=UTC. */
  const ask = async (repo: string): Promise<Map<string, Answer>> => {
    const { stdout } = await run(feastPython().python, [script, 'query', repo, JSON.stringify(CASES)], {
      env: { ...feastEnv(), TZ: 'UTC' },
      timeout: 180_000,
      maxBuffer: 16 << 20,
    });
    const answers = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Answer & { id: string });
    return new Map(answers.map((a) => [a.id, a]));
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-date-mode-'));
    const server = path.join(dir, 'server');
    mkdirSync(path.join(server, 'data'), { recursive: true });
    const yaml = (offlineStore: string[], registry: string, extra: string[] = []) =>
      [
        `project: ${PROJECT}`,
        `registry: ${registry}`,
        'provider: local',
        'offline_store:',
        ...offlineStore.map((line) => `  ${line}`),
        'entity_key_serialization_version: 3',
        ...extra,
        '',
      ].join('\n');
    writeFileSync(
      path.join(server, 'feature_store.yaml'),
      yaml(['type: file'], 'data/registry.db', ['online_store:', '  type: sqlite', '  path: data/online.db']),
    );
    await run(feastPython().python, [script, 'setup', server], { env: feastEnv(), timeout: 180_000 });
    // larder computes the on-demand view with the same Python; Feast ignores the `larder:` section.
    writeFileSync(
      path.join(server, 'feature_store.yaml'),
      yaml(['type: file'], 'data/registry.db', ['larder:', `  odfv_python: ${feastPython().python}`]),
    );
    larder = await startLarder({ repoPath: server });
    const client = path.join(dir, 'client');
    mkdirSync(client);
    writeFileSync(
      path.join(client, 'feature_store.yaml'),
      yaml(['type: remote', 'host: 127.0.0.1', `port: ${larder.port}`], path.join(server, 'data', 'registry.db')),
    );
    feast = await ask(server);
    ours = await ask(client);
  });

  after(async () => {
    await larder?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const frame = (answers: Map<string, Answer>, id: string) => {
    const answer = answers.get(id);
    if (!answer?.ok) throw new Error(`case "${id}" failed: ${answer ? `${answer.error}: ${answer.message}` : 'no answer'}`);
    return answer;
  };
  /** larder's frame equals Feast's: schema, values, row order. */
  const sameAsFeast = (id: string) => {
    const theirs = frame(feast, id);
    const mine = frame(ours, id);
    expect(mine.schema, `${id}: schema`).to.deep.equal(theirs.schema);
    expect(mine.rows, `${id}: rows`).to.deep.equal(theirs.rows);
    return mine;
  };

  describe('where Feast is coherent, the same frame', () => {
    it("one view with a ttl: each key's latest row in [end − ttl, end], a created tie to the later created, stamped end_date", () => {
      const { schema, rows } = sameAsFeast('ttl');
      expect(schema).to.deep.equal(['event_timestamp: timestamp[ns, tz=UTC]', 'driver_id: int64', 'rate: double']);
      // Driver 2 (only at 0.5h) is past the 2h ttl; driver 1's row at 5h is after end_date.
      expect(rows).to.deep.equal([
        [at(4), 1, 3.1],
        [at(4), 3, 33],
      ]);
    });

    it('start_date filters nothing: without a ttl a key whose rows all precede it still comes back', () => {
      expect(sameAsFeast('no ttl').rows).to.deep.include([at(4), 2, 20]);
      expect(sameAsFeast('late start').rows).to.deep.equal(frame(ours, 'ttl').rows);
      expect(sameAsFeast('no start').rows).to.deep.equal(frame(ours, 'ttl').rows);
    });

    it('both ends of the window are inclusive (a row exactly at end − ttl, a row exactly at end_date)', () => {
      expect(sameAsFeast('ttl bound').rows).to.deep.equal([
        [at(5.5), 3, 33],
        [at(5.5), 1, 5],
      ]);
      expect(sameAsFeast('end on a row').rows).to.deep.include([at(3.5), 3, 33]);
    });

    it('nothing in the window: an empty frame with the columns', () => {
      expect(sameAsFeast('empty window').rows).to.deep.equal([]);
    });

    it('full feature names, and an on-demand view computed on the snapshot', () => {
      expect(sameAsFeast('full names').schema).to.include('drivers__rate: double');
      const { schema, rows } = sameAsFeast('odfv');
      expect(schema.at(-1)).to.equal('rate_doubled: double');
      expect(rows[0]!.at(-1)).to.equal(6.2);
    });

    it("views with disjoint join keys: every combination of their keys, each view's keys before its features", () => {
      const { schema, rows } = sameAsFeast('disjoint keys');
      expect(schema.map((s) => s.split(':')[0])).to.deep.equal(['event_timestamp', 'driver_id', 'rate', 'city', 'population']);
      expect(rows).to.have.length(6);
    });

    it('views without join keys: one row when alone, on every key beside keyed views, none when their window is empty', () => {
      expect(sameAsFeast('entityless').rows).to.deep.equal([[at(4), 8]]);
      expect(sameAsFeast('entityless and keyed').rows).to.deep.equal([
        [at(4), 1, 3.1, 8],
        [at(4), 3, 33, 8],
      ]);
      expect(sameAsFeast('entityless empty').rows).to.deep.equal([]);
    });

    it("a view with nothing in its window empties the combination (Feast's frame types the empty key column null, larder the source's type)", () => {
      const theirs = frame(feast, 'disjoint keys, one empty');
      const mine = frame(ours, 'disjoint keys, one empty');
      expect(mine.rows).to.deep.equal([]).and.to.deep.equal(theirs.rows);
      expect(theirs.schema).to.include('city: null');
      expect(mine.schema).to.include('city: string');
    });

    it("without end_date, the client's now() (millisecond precision in larder, as every date larder reads)", () => {
      const theirs = frame(feast, 'no end');
      const mine = frame(ours, 'no end');
      const values = (rows: Row[]) => rows.map((row) => row.slice(1));
      expect(values(mine.rows)).to.deep.equal(values(theirs.rows)).and.to.have.length(3);
      const stamps = new Set(mine.rows.map((row) => Date.parse(row[0] as string)));
      expect(stamps.size).to.equal(1);
      const stamp = [...stamps][0]!;
      expect(stamp).to.be.within(Math.floor(Date.parse(mine.before)), Date.parse(mine.after));
    });
  });

  describe("where Feast's answer is a bug, larder's documented answer", () => {
    it("views with the same join keys: each view joined on its key, over the union of their keys (Feast pairs every key with one row of the second view, in a 'driver_id__' column)", () => {
      const theirs = frame(feast, 'same keys');
      expect(theirs.schema).to.include('driver_id__: int64');
      expect(new Set(theirs.rows.map((row) => row.at(-1)))).to.deep.equal(new Set([31]));
      const mine = frame(ours, 'same keys');
      expect(mine.schema).to.deep.equal(['event_timestamp: timestamp[ns, tz=UTC]', 'driver_id: int64', 'rate: double', 'trips: int64']);
      // Ordered by each key's latest row in its window; driver 5 has trips only.
      expect(mine.rows).to.deep.equal([
        [at(4), 2, 20, 20],
        [at(4), 5, null, 50],
        [at(4), 1, 3.1, 10],
        [at(4), 3, 33, 31],
      ]);
    });

    it('one source through two views with different ttls: each view its own ttl on the same keys', () => {
      expect(frame(feast, 'same source twice').schema).to.include('driver_id__: int64');
      const mine = frame(ours, 'same source twice');
      expect(mine.schema.map((s) => s.split(':')[0])).to.deep.equal([
        'event_timestamp',
        'driver_id',
        'drivers__rate',
        'drivers_forever__rate',
      ]);
      expect(mine.rows).to.deep.equal([
        [at(4), 2, null, 20],
        [at(4), 1, 3.1, 3.1],
        [at(4), 3, 33, 33],
      ]);
    });

    it('views whose join keys overlap without being equal: refused with advice (Feast pairs them arbitrarily)', () => {
      expect(frame(feast, 'overlapping keys').schema).to.include('driver_id__: int64');
      const mine = ours.get('overlapping keys')!;
      expect(mine.ok).to.equal(false);
      if (mine.ok) return;
      expect(mine.error).to.equal('pyarrow.lib.ArrowInvalid');
      expect(mine.message).to.include(
        'feature views "drivers_forever" and "pairs" share the join key(s) driver_id but not all their join keys',
      );
      expect(mine.message).to.include('request them separately or pass an entity_df');
    });

    it('a row with a null join key or a null event timestamp is no entity (Feast returns both, the key column turned float)', () => {
      const theirs = frame(feast, 'null key and null timestamp');
      expect(theirs.schema).to.include('driver_id: double');
      expect(theirs.rows).to.have.length(3);
      const mine = frame(ours, 'null key and null timestamp');
      expect(mine.schema).to.include('driver_id: int64');
      expect(mine.rows).to.deep.equal([[at(4), 1, 1.5]]);
    });
  });
});
