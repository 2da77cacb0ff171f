/**
 * larder's trino store against Feast's own TrinoOfflineStore (`feast[trino]`), differentially: one
 * real Trino 476, one repo applied by the real `feast apply` (TrinoSources over hive tables and a
 * query), served at once by `feast serve_offline` and by larder — on its default route (the entity
 * table inline in the query) and on its staged route (`entity_staging`: a parquet file under an
 * external hive table) — and the SAME requests made through the unchanged Feast client to each.
 *
 * Where Feast follows the point-in-time rule (shared/DESIGN.md) the three answers must be equal:
 * columns, rows, values and the pandas dtypes the client's `to_df()` gives. Where it does not
 * (plugins/trino/README.md, "Differences from Feast's Trino store"), Feast's actual answer and
 * larder's rule-following one are each asserted, so a change on either side shows here.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import YAML from 'yaml';
import { type FeastTrinoAnswer, type FeastTrinoRepo, type FeastTrinoRequest, buildFeastTrinoRepo } from '../support/feast-trino.ts';
import { type ServerProcess, startLarder } from '../support/larder-process.ts';
import { startTrino, type TrinoServer } from '../support/trino-server.ts';
import { trinoQuery } from '../support/trino-statement.ts';

/**
 * Four views: `driver_stats` (a table; TTL 1 day; a created column; `trips_raw` mapped to
 * `trips`), `driver_ratings` (a query source; TTL 2 hours; no created column), `pair_stats` (two
 * join keys) and `odd_stats` (a table; no TTL; null created values and a full tie). The last two
 * are where Feast departs from the rule.
 */
const DEFINITIONS = `
from datetime import timedelta
from feast import Entity, FeatureView, Field, ValueType
from feast.infra.offline_stores.contrib.trino_offline_store.trino_source import TrinoSource
from feast.types import Float64, Int64

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)

driver_stats = FeatureView(
    name="driver_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[Field(name="conv_rate", dtype=Float64), Field(name="trips", dtype=Int64)],
    source=TrinoSource(
        name="driver_stats",
        table="hive.feast_data.driver_stats",
        timestamp_field="event_timestamp",
        created_timestamp_column="created",
        field_mapping={"trips_raw": "trips"},
    ),
    online=False,
)

driver_ratings = FeatureView(
    name="driver_ratings",
    entities=[driver],
    ttl=timedelta(hours=2),
    schema=[Field(name="rating", dtype=Float64)],
    source=TrinoSource(
        name="driver_ratings",
        query="SELECT driver_id, ts, rating FROM hive.feast_data.driver_ratings WHERE rating >= 0",
        timestamp_field="ts",
    ),
    online=False,
)

left = Entity(name="left", join_keys=["a"], value_type=ValueType.INT64)
right = Entity(name="right", join_keys=["b"], value_type=ValueType.INT64)

pair_stats = FeatureView(
    name="pair_stats",
    entities=[left, right],
    schema=[Field(name="pair_value", dtype=Float64)],
    source=TrinoSource(name="pair_stats", table="hive.feast_data.pair_stats", timestamp_field="event_timestamp"),
    online=False,
)

odd_stats = FeatureView(
    name="odd_stats",
    entities=[driver],
    schema=[Field(name="score", dtype=Float64)],
    source=TrinoSource(
        name="odd_stats",
        table="hive.feast_data.odd_stats",
        timestamp_field="event_timestamp",
        created_timestamp_column="created",
    ),
    online=False,
)
`;

/** `hours` after 2024-01-01T00:00Z as Trino's timestamp literal text. */
const at = (hours: number): string => new Date(Date.UTC(2024, 0, 1) + hours * 3_600_000).toISOString().replace('T', ' ').replace('Z', '');
/** The same instant as the client prints it (UTC ISO with offset). */
const iso = (hours: number): string => {
  const text = new Date(Date.UTC(2024, 0, 1) + hours * 3_600_000).toISOString();
  return text.endsWith('.000Z') ? text.replace('.000Z', '+00:00') : text.replace('Z', '+00:00');
};
const ts = (hours: number | null): string => (hours === null ? 'CAST(NULL AS timestamp(3))' : `TIMESTAMP '${at(hours)}'`);

/**
 * driver_stats: driver 1 at hours 1, 2, and twice at 3 with different `created` (3.5 must win);
 * driver 2 at 1; driver 3 at 5 (after most entity rows).
 */
const STATS: [driver: number, hour: number, created: number, conv: number, trips: number][] = [
  [1, 1, 1, 0.1, 10],
  [1, 2, 2, 0.2, 20],
  [1, 3, 3.5, 0.35, 35],
  [1, 3, 3, 0.3, 30],
  [2, 1, 1, 0.5, 50],
  [3, 5, 5, 0.9, 90],
];
/** driver_ratings (TTL 2 h): driver 2's only rating at 0.5 is in range at 2.5 (exactly 2 h) but not at 3. A negative rating is filtered by the source's query. */
const RATINGS: [driver: number, hour: number, rating: number][] = [
  [1, 1, 4],
  [1, 3.9, 4.5],
  [2, 0.5, 3],
  [3, 5.5, 5],
  [3, 3, -1],
];
/**
 * odd_stats: driver 1's latest row (hour 2) has a null created; driver 2 has two rows equal in
 * timestamp and created (a full tie); driver 3's only row has a null created.
 */
const ODD: [driver: number, hour: number, created: number | null, score: number][] = [
  [1, 1, 1, 1],
  [1, 2, null, 2],
  [2, 1, 1, 10],
  [2, 1, 1, 11],
  [3, 1, null, 30],
];

/** The entity dataframe: a duplicate row (1 at 2.5), entity rows before any data (2 at 0), and the TTL edge (2 at 2.5). */
const ENTITIES = {
  driver_id: [1, 1, 2, 3, 2, 1, 2],
  event_timestamp: [iso(2.5), iso(4), iso(3), iso(4), iso(0), iso(2.5), iso(2.5)],
};

/** Every request of the spec, by name; each is made once per server (in one client process per server). */
const REQUESTS = {
  frame: {
    call: 'historical',
    features: ['driver_stats:conv_rate', 'driver_stats:trips', 'driver_ratings:rating'],
    entities: ENTITIES,
  },
  entitySql: {
    call: 'historical',
    features: ['driver_stats:conv_rate', 'driver_ratings:rating'],
    entity_sql: 'SELECT driver_id, event_timestamp FROM hive.feast_data.entities',
  },
  odd: { call: 'historical', features: ['odd_stats:score'], entities: ENTITIES },
  /** Two-key entity rows (1, 23) and (12, 3) at one time: their keys concatenate alike. */
  pairs: {
    call: 'historical',
    features: ['pair_stats:pair_value'],
    entity_sql: `SELECT * FROM (VALUES (1, 23, ${ts(2)}), (12, 3, ${ts(2)})) AS t (a, b, event_timestamp)`,
  },
  dates: { call: 'historical', features: ['driver_stats:conv_rate'], start: iso(0), end: iso(4) },
  latestStats: {
    call: 'pull_latest',
    source: 'driver_stats',
    join_keys: ['driver_id'],
    features: ['conv_rate', 'trips_raw'],
    timestamp_field: 'event_timestamp',
    created: 'created',
    start: iso(0),
    end: iso(4),
  },
  allStats: {
    call: 'pull_all',
    source: 'driver_stats',
    join_keys: ['driver_id'],
    features: ['conv_rate', 'trips_raw'],
    timestamp_field: 'event_timestamp',
    created: 'created',
    start: iso(1),
    end: iso(3),
  },
  latestRatings: {
    call: 'pull_latest',
    source: 'driver_ratings',
    join_keys: ['driver_id'],
    features: ['rating'],
    timestamp_field: 'ts',
    start: iso(0),
    end: iso(6),
  },
  allRatings: {
    call: 'pull_all',
    source: 'driver_ratings',
    join_keys: ['driver_id'],
    features: ['rating'],
    timestamp_field: 'ts',
    start: iso(0),
    end: iso(6),
  },
  latestOdd: {
    call: 'pull_latest',
    source: 'odd_stats',
    join_keys: ['driver_id'],
    features: ['score'],
    timestamp_field: 'event_timestamp',
    created: 'created',
    start: iso(0),
    end: iso(6),
  },
} satisfies Record<string, FeastTrinoRequest>;
type RequestName = keyof typeof REQUESTS;
type Server = 'feast' | 'larder' | 'staged';
const SERVERS: readonly Server[] = ['feast', 'larder', 'staged'];

type Rows = { columns: string[]; rows: unknown[][]; dtypes: Record<string, string> };
function ok(answer: FeastTrinoAnswer | undefined, who: string): Rows {
  if (!answer) throw new Error(`${who}: no answer`);
  if ('error' in answer) throw new Error(`${who}: the Feast client failed: ${answer.error.class}: ${answer.error.message}`);
  return answer;
}

describe("larder's trino store against Feast's TrinoOfflineStore: the same repo and requests through the Feast client", function () {
  this.timeout(600_000);
  let trino: TrinoServer | undefined;
  let repo: FeastTrinoRepo | undefined;
  const servers: ServerProcess[] = [];
  /** Each server's answer to each request (Feast's server; larder, entity table inline; larder, entity table staged). */
  const answers = {} as Record<Server, Record<RequestName, FeastTrinoAnswer>>;

  const answer = (server: Server, name: RequestName): Rows => ok(answers[server][name], `${server} ${name}`);
  /** Asserts the two larder routes gave Feast's answer (columns, rows, dtypes); returns it. */
  function same(name: RequestName): Rows {
    const feast = answer('feast', name);
    expect(answer('larder', name), `${name}: larder (entity table inline) vs Feast`).to.deep.equal(feast);
    expect(answer('staged', name), `${name}: larder (entity table staged) vs Feast`).to.deep.equal(feast);
    return feast;
  }
  /** Asserts the two larder routes agree with each other; returns larder's answer. */
  function larder(name: RequestName): Rows {
    const inline = answer('larder', name);
    expect(answer('staged', name), `${name}: larder staged vs inline`).to.deep.equal(inline);
    return inline;
  }
  /** The error the client raised for Feast's server. */
  function feastError(name: RequestName): { class: string; message: string } {
    const a = answers.feast[name];
    if (!('error' in a)) throw new Error(`${name}: Feast answered ${JSON.stringify(a)}; the spec expected it to fail`);
    return a.error;
  }
  /** A rows' answer without its dtypes, for comparing values where the dtypes differ. */
  const values = ({ columns, rows }: Rows) => ({ columns, rows });

  before(async () => {
    trino = await startTrino();
    const q = (sql: string) => trinoQuery(trino!.url, sql);
    await q('CREATE SCHEMA hive.feast_data');
    await q('CREATE SCHEMA hive.staging');
    await q(
      "CREATE TABLE hive.feast_data.driver_stats (driver_id bigint, event_timestamp timestamp(3), created timestamp(3), conv_rate double, trips_raw bigint) WITH (format = 'PARQUET')",
    );
    await q(
      `INSERT INTO hive.feast_data.driver_stats VALUES ${STATS.map(([d, h, c, v, t]) => `(${d}, ${ts(h)}, ${ts(c)}, ${v}, ${t})`).join(', ')}`,
    );
    await q("CREATE TABLE hive.feast_data.driver_ratings (driver_id bigint, ts timestamp(3), rating double) WITH (format = 'PARQUET')");
    await q(`INSERT INTO hive.feast_data.driver_ratings VALUES ${RATINGS.map(([d, h, r]) => `(${d}, ${ts(h)}, ${r})`).join(', ')}`);
    await q(
      "CREATE TABLE hive.feast_data.odd_stats (driver_id bigint, event_timestamp timestamp(3), created timestamp(3), score double) WITH (format = 'PARQUET')",
    );
    await q(`INSERT INTO hive.feast_data.odd_stats VALUES ${ODD.map(([d, h, c, s]) => `(${d}, ${ts(h)}, ${ts(c)}, ${s})`).join(', ')}`);
    await q(
      "CREATE TABLE hive.feast_data.pair_stats (a bigint, b bigint, event_timestamp timestamp(3), pair_value double) WITH (format = 'PARQUET')",
    );
    await q(`INSERT INTO hive.feast_data.pair_stats VALUES (1, 23, ${ts(1)}, 1.0), (12, 3, ${ts(1)}, 2.0)`);
    // `integer` driver ids (Trino's type of the literal 1): what the client sees of entity_df_sql's own columns.
    await q(
      `CREATE TABLE hive.feast_data.entities AS SELECT * FROM (VALUES (1, ${ts(2.5)}), (1, ${ts(4)}), (3, ${ts(6)}), (2, ${ts(0)})) AS t (driver_id, event_timestamp)`,
    );

    repo = await buildFeastTrinoRepo(trino, DEFINITIONS);
    // larder's staged route: its own copy of the repo (Feast refuses the unknown key), same registry file.
    const stagedRepo = path.join(repo.root, 'larder-staged');
    mkdirSync(stagedRepo);
    cpSync(path.join(repo.serverRepo, 'definitions.py'), path.join(stagedRepo, 'definitions.py'));
    const yaml = YAML.parse(readFileSync(path.join(repo.serverRepo, 'feature_store.yaml'), 'utf8'));
    const stagingDir = path.join(trino.warehouse, 'staging-files');
    mkdirSync(stagingDir);
    yaml.registry = repo.registryPath;
    yaml.online_store.path = path.join(stagedRepo, 'online_store.db');
    yaml.offline_store.entity_staging = {
      catalog: 'hive',
      schema: 'staging',
      location: stagingDir,
      trino_location: 'local:///staging-files',
    };
    writeFileSync(path.join(stagedRepo, 'feature_store.yaml'), YAML.stringify(yaml));

    const started = await Promise.allSettled([
      repo.serveFeast({ logLevel: 'warning' }),
      startLarder({ repoPath: repo.serverRepo, logLevel: 'warning' }),
      startLarder({ repoPath: stagedRepo, logLevel: 'warning' }),
    ]);
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const names = Object.keys(REQUESTS) as RequestName[];
    const requests = names.map((n) => REQUESTS[n] as FeastTrinoRequest);
    await Promise.all(
      SERVERS.map(async (server, i) => {
        const client = repo!.writeClient(servers[i]!.port, '127.0.0.1', `client-${server}`);
        const got = await repo!.askMany(client, requests);
        answers[server] = Object.fromEntries(names.map((n, j) => [n, got[j]!])) as Record<RequestName, FeastTrinoAnswer>;
      }),
    );
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    repo?.cleanup();
    await trino?.stop();
  });

  it('get_historical_features with an entity dataframe over three views (TTLs, a created tie, field_mapping, a query source): equal', () => {
    const feast = same('frame');
    expect(feast.columns).to.deep.equal(['driver_id', 'event_timestamp', 'conv_rate', 'trips', 'rating']);
    // Sorted rows: the duplicate entity row kept twice; driver 1 at 4 h takes the later created
    // (0.35); driver 2 at 0 h is before any row; its rating (0.5 h, TTL 2 h) is in range at
    // exactly 2.5 h and not at 3 h; driver 3's only rows are after 4 h.
    expect(feast.rows).to.deep.equal([
      [1, iso(2.5), 0.2, 20, 4],
      [1, iso(2.5), 0.2, 20, 4],
      [1, iso(4), 0.35, 35, 4.5],
      [2, iso(0), null, null, null],
      [2, iso(2.5), 0.5, 50, 3],
      [2, iso(3), 0.5, 50, null],
      [3, iso(4), null, null, null],
    ]);
    expect(feast.dtypes).to.deep.equal({
      driver_id: 'int64',
      event_timestamp: 'datetime64[ns, UTC]',
      conv_rate: 'float64',
      trips: 'float64',
      rating: 'float64',
    });
  });

  it('get_historical_features with entity_df_sql: equal values; the entity columns keep their Trino types in larder', () => {
    const feast = answer('feast', 'entitySql');
    const ours = larder('entitySql');
    expect(values(ours)).to.deep.equal(values(feast));
    expect(feast.rows).to.deep.equal([
      [1, iso(2.5), 0.2, 4],
      [1, iso(4), 0.35, 4.5],
      [2, iso(0), null, null],
      [3, iso(6), 0.9, 5],
    ]);
    // Difference: Feast's store builds its answer through pandas from Python objects (integer → int64,
    // naive timestamp(3) → ns); larder's Arrow carries the columns' own types (integer → int32,
    // timestamp(3) → us).
    expect(feast.dtypes).to.deep.equal({ driver_id: 'int64', event_timestamp: 'datetime64[ns]', conv_rate: 'float64', rating: 'float64' });
    expect(ours.dtypes).to.deep.equal({ driver_id: 'int32', event_timestamp: 'datetime64[us]', conv_rate: 'float64', rating: 'float64' });
  });

  it('pull_latest and pull_all over a table (created column, raw field names): equal values; naive timestamps in us, not ns', () => {
    for (const name of ['latestStats', 'allStats'] as const) {
      const feast = answer('feast', name);
      const ours = larder(name);
      expect(values(ours), name).to.deep.equal(values(feast));
      expect(feast.columns).to.deep.equal(['driver_id', 'conv_rate', 'trips_raw', 'event_timestamp', 'created']);
      const timestamps = (unit: string) => ({
        driver_id: 'int64',
        conv_rate: 'float64',
        trips_raw: 'int64',
        event_timestamp: unit,
        created: unit,
      });
      expect(feast.dtypes, name).to.deep.equal(timestamps('datetime64[ns]'));
      expect(ours.dtypes, name).to.deep.equal(timestamps('datetime64[us]'));
    }
    expect(answer('feast', 'latestStats').rows).to.deep.equal([
      [1, 0.35, 35, iso(3), iso(3.5)],
      [2, 0.5, 50, iso(1), iso(1)],
    ]);
    // Both bounds inclusive: 1 h and 3 h rows are in; driver 3's 5 h row is not.
    expect(answer('feast', 'allStats').rows).to.deep.equal([
      [1, 0.1, 10, iso(1), iso(1)],
      [1, 0.2, 20, iso(2), iso(2)],
      [1, 0.3, 30, iso(3), iso(3)],
      [1, 0.35, 35, iso(3), iso(3.5)],
      [2, 0.5, 50, iso(1), iso(1)],
    ]);
  });

  it('pull_all over a query source: equal values; pull_latest over it: a syntax error in Feast, the latest rows in larder', () => {
    const feast = answer('feast', 'allRatings');
    expect(values(larder('allRatings'))).to.deep.equal(values(feast));
    // The source's WHERE drops driver 3's negative rating.
    expect(feast.rows).to.deep.equal([
      [1, 4, iso(1)],
      [1, 4.5, iso(3.9)],
      [2, 3, iso(0.5)],
      [3, 5, iso(5.5)],
    ]);
    // Difference: Feast's pull_latest writes `FROM <query>` unparenthesised.
    const error = feastError('latestRatings');
    expect(error.class).to.equal('pyarrow._flight.FlightServerError');
    expect(error.message).to.contain('SYNTAX_ERROR');
    expect(larder('latestRatings')).to.deep.equal({
      columns: ['driver_id', 'rating', 'ts'],
      rows: [
        [1, 4.5, iso(3.9)],
        [2, 3, iso(0.5)],
        [3, 5, iso(5.5)],
      ],
      dtypes: { driver_id: 'int64', rating: 'float64', ts: 'datetime64[us]' },
    });
  });

  it('null created timestamps and full ties: Feast drops null-created rows and repeats tied entity rows; larder follows the rule', () => {
    const feast = answer('feast', 'odd');
    // Feast: its dedup joins back USING (created_timestamp), and NULL = NULL never matches, so a
    // row with a null created never wins (driver 1 gets its older 1.0, driver 3 nothing); two rows
    // equal in timestamp and created both survive, so driver 2's entity rows come out twice.
    expect(feast.rows).to.deep.equal([
      [1, iso(2.5), 1],
      [1, iso(2.5), 1],
      [1, iso(4), 1],
      [2, iso(0), null],
      [2, iso(2.5), 10],
      [2, iso(2.5), 11],
      [2, iso(3), 10],
      [2, iso(3), 11],
      [3, iso(4), null],
    ]);
    // larder: the greatest timestamp wins whatever its created (nulls lowest only among equal
    // timestamps); one row per entity row; a full tie gives one of the tied rows.
    const ours = larder('odd');
    expect(ours.columns).to.deep.equal(feast.columns);
    expect(ours.dtypes).to.deep.equal(feast.dtypes);
    const tie = ours.rows.find((r) => r[0] === 2 && r[1] === iso(2.5))?.[2];
    expect(tie).to.be.oneOf([10, 11]);
    expect(ours.rows).to.deep.equal([
      [1, iso(2.5), 2],
      [1, iso(2.5), 2],
      [1, iso(4), 2],
      [2, iso(0), null],
      [2, iso(2.5), tie],
      [2, iso(3), tie],
      [3, iso(4), 30],
    ]);
  });

  it('pull_latest with null created values and a full tie: equal but for which tied row comes out', () => {
    const feast = answer('feast', 'latestOdd');
    const ours = larder('latestOdd');
    const tied = (a: Rows) => a.rows.find((r) => r[0] === 2)?.[1];
    expect(tied(feast)).to.be.oneOf([10, 11]);
    expect(tied(ours)).to.be.oneOf([10, 11]);
    const untied = (a: Rows) => ({ ...values(a), rows: a.rows.filter((r) => r[0] !== 2) });
    expect(untied(ours)).to.deep.equal(untied(feast));
    expect(untied(feast).rows).to.deep.equal([
      [1, 2, iso(2), null],
      [3, 30, iso(1), null],
    ]);
  });

  it("entity rows whose keys concatenate alike, (1, 23) and (12, 3): Feast gives each both rows' features; larder each its own", () => {
    // Feast's entity_row_unique_id is CONCAT('1', '23', ts) = CONCAT('12', '3', ts): both source
    // rows join back to both entity rows, so each entity row comes out twice.
    expect(answer('feast', 'pairs').rows).to.deep.equal([
      [1, 23, iso(2), 1],
      [1, 23, iso(2), 2],
      [12, 3, iso(2), 1],
      [12, 3, iso(2), 2],
    ]);
    const ours = larder('pairs');
    expect(ours.columns).to.deep.equal(['a', 'b', 'event_timestamp', 'pair_value']);
    expect(ours.rows).to.deep.equal([
      [1, 23, iso(2), 1],
      [12, 3, iso(2), 2],
    ]);
  });

  it("the start/end-date mode: Feast's store raises TypeError (no start_date parameter); larder answers by the rule", () => {
    const error = feastError('dates');
    expect(error.class).to.equal('pyarrow._flight.FlightServerError');
    expect(error.message).to.contain("unexpected keyword argument 'start_date'");
    // One row per distinct (timestamp, driver) in [0 h, 4 h], each joined point-in-time: at 3 h the later created wins.
    expect(larder('dates')).to.deep.equal({
      columns: ['event_timestamp', 'driver_id', 'conv_rate'],
      rows: [
        [iso(1), 1, 0.1],
        [iso(1), 2, 0.5],
        [iso(2), 1, 0.2],
        [iso(3), 1, 0.35],
      ],
      dtypes: { event_timestamp: 'datetime64[us]', driver_id: 'int64', conv_rate: 'float64' },
    });
  });
});
