/**
 * The reference for larder's trino store: Feast's own TrinoOfflineStore (`feast[trino]`), served
 * by the real `feast serve_offline` over a real Trino 476 (test/support/feast-trino.ts), answers
 * the unchanged Feast client. The rows are small and hand-made, so every expected value is known:
 * point-in-time joins (entity dataframe and entity_df_sql) with a created-timestamp tie and entity
 * rows before any feature row, and the latest row per key of a pull. The differential test of
 * larder's trino store asks larder the same requests over the same repo and compares with these
 * answers (the same repo serves larder: `startLarder({ repoPath: repo.serverRepo })`).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { feastPython } from '../support/feast-python.ts';
import { type FeastTrinoAnswer, type FeastTrinoRepo, buildFeastTrinoRepo } from '../support/feast-trino.ts';
import type { ServerProcess } from '../support/larder-process.ts';
import { startTrino, type TrinoServer } from '../support/trino-server.ts';
import { trinoQuery } from '../support/trino-statement.ts';

const run = promisify(execFile);

const DEFINITIONS = `
from datetime import timedelta
from feast import Entity, FeatureView, Field, ValueType
from feast.infra.offline_stores.contrib.trino_offline_store.trino_source import TrinoSource
from feast.types import Float64, Int64

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
source = TrinoSource(
    name="driver_stats",
    table="hive.feast_data.driver_stats",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)
driver_stats = FeatureView(
    name="driver_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[Field(name="conv_rate", dtype=Float64), Field(name="trips", dtype=Int64)],
    source=source,
    online=False,
)
`;

/** `hours` after 2024-01-01T00:00Z as Trino's timestamp literal text. */
const at = (hours: number): string => new Date(Date.UTC(2024, 0, 1) + hours * 3_600_000).toISOString().replace('T', ' ').replace('Z', '');
/** The same instant as the client prints it (UTC ISO with offset). */
const iso = (hours: number): string => new Date(Date.UTC(2024, 0, 1) + hours * 3_600_000).toISOString().replace('.000Z', '+00:00');

/**
 * Driver 1: hours 1 and 2, and two rows at hour 3 with the same event time whose later `created`
 * (0.35) must win; driver 2: hour 1 only; driver 3: hour 5 only (after every entity row but one).
 */
const ROWS: [driver: number, hour: number, createdHour: number, conv: number, trips: number][] = [
  [1, 1, 1, 0.1, 10],
  [1, 2, 2, 0.2, 20],
  [1, 3, 3.5, 0.35, 35],
  [1, 3, 3, 0.3, 30],
  [2, 1, 1, 0.5, 50],
  [3, 5, 5, 0.9, 90],
];

function rows(answer: FeastTrinoAnswer): { columns: string[]; rows: unknown[][] } {
  if ('error' in answer) throw new Error(`the Feast client failed: ${answer.error.class}: ${answer.error.message}`);
  return answer;
}

describe("Feast's TrinoOfflineStore behind feast serve_offline (real Trino 476, the Feast client)", function () {
  this.timeout(300_000);
  let trino: TrinoServer | undefined;
  let repo: FeastTrinoRepo | undefined;
  let feast: ServerProcess | undefined;
  let client: string;

  before(async () => {
    trino = await startTrino();
    await trinoQuery(trino.url, 'CREATE SCHEMA hive.feast_data');
    await trinoQuery(
      trino.url,
      "CREATE TABLE hive.feast_data.driver_stats (driver_id bigint, event_timestamp timestamp(3), created timestamp(3), conv_rate double, trips bigint) WITH (format = 'PARQUET')",
    );
    const values = ROWS.map(([d, h, c, conv, trips]) => `(${d}, TIMESTAMP '${at(h)}', TIMESTAMP '${at(c)}', ${conv}, ${trips})`);
    await trinoQuery(trino.url, `INSERT INTO hive.feast_data.driver_stats VALUES ${values.join(', ')}`);
    await trinoQuery(
      trino.url,
      `CREATE TABLE hive.feast_data.entities AS SELECT * FROM (VALUES (1, TIMESTAMP '${at(2.5)}'), (1, TIMESTAMP '${at(4)}'), (3, TIMESTAMP '${at(6)}')) AS t (driver_id, event_timestamp)`,
    );
    repo = await buildFeastTrinoRepo(trino, DEFINITIONS);
    feast = await repo.serveFeast({ logLevel: 'warning' });
    client = repo.writeClient(feast.port);
  });

  after(async () => {
    await feast?.stop();
    repo?.cleanup();
    await trino?.stop();
  });

  it("runs Feast's TrinoOfflineStoreConfig, and feast apply registered the TrinoSource with its table", async () => {
    expect(repo!.offlineStore).to.deep.include({
      type: 'trino',
      host: trino!.host,
      port: trino!.port,
      catalog: 'memory',
      dataset: 'feast',
    });
    expect(repo!.offlineStore.connector).to.deep.equal({ type: 'memory' });
    const { stdout } = await run(
      feastPython().python,
      [
        '-c',
        'import sys; from feast import FeatureStore; s = FeatureStore(repo_path=sys.argv[1]).get_data_source("driver_stats"); print(type(s).__name__, s.table)',
        client,
      ],
      { env: repo!.env, cwd: client },
    );
    expect(stdout.trim()).to.equal('TrinoSource hive.feast_data.driver_stats');
  });

  it('answers get_historical_features with an entity dataframe: the point-in-time rule, the later created winning a tie', async () => {
    const answer = rows(
      await repo!.ask(client, {
        call: 'historical',
        features: ['driver_stats:conv_rate', 'driver_stats:trips'],
        entities: {
          driver_id: [1, 1, 2, 3, 2],
          event_timestamp: [iso(2.5), iso(4), iso(3), iso(4), iso(0)],
        },
      }),
    );
    expect(answer.columns).to.deep.equal(['driver_id', 'event_timestamp', 'conv_rate', 'trips']);
    expect(answer.rows).to.deep.equal([
      [1, iso(2.5), 0.2, 20],
      [1, iso(4), 0.35, 35],
      [2, iso(0), null, null],
      [2, iso(3), 0.5, 50],
      [3, iso(4), null, null],
    ]);
  });

  it('answers get_historical_features with entity_df_sql over a hive table', async () => {
    const answer = rows(
      await repo!.ask(client, {
        call: 'historical',
        features: ['driver_stats:conv_rate'],
        entity_sql: 'SELECT driver_id, event_timestamp FROM hive.feast_data.entities',
      }),
    );
    expect(answer.columns).to.deep.equal(['driver_id', 'event_timestamp', 'conv_rate']);
    expect(answer.rows).to.deep.equal([
      [1, iso(2.5), 0.2],
      [1, iso(4), 0.35],
      [3, iso(6), 0.9],
    ]);
  });

  it('answers pull_latest_from_table_or_query with the latest row per driver inside the range', async () => {
    const answer = rows(
      await repo!.ask(client, {
        call: 'pull_latest',
        source: 'driver_stats',
        join_keys: ['driver_id'],
        features: ['conv_rate', 'trips'],
        timestamp_field: 'event_timestamp',
        created: 'created',
        start: iso(0),
        end: iso(4),
      }),
    );
    expect(answer.columns).to.deep.equal(['driver_id', 'conv_rate', 'trips', 'event_timestamp', 'created']);
    expect(answer.rows).to.deep.equal([
      [1, 0.35, 35, iso(3), iso(3.5)],
      [2, 0.5, 50, iso(1), iso(1)],
    ]);
  });
});
