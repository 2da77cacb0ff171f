/**
 * Times the two routes an uploaded entity table takes into Trino (plugins/trino/src/entity-upload.ts):
 * `staged` (one parquet file + an external Hive table) and `values` (a table filled by INSERT …
 * VALUES statements of at most 900 000 characters), at 10k, 100k and 1M entity rows of
 * (driver_id bigint, event_timestamp timestamp[us, UTC], label double). Each run uploads, then
 * reads the relation back (`count(*)`, `max(__ts)`) so the rows are known to be there, then drops
 * it. Against a Trino it starts itself (single node, test/support/trino-server.ts), or `--url`.
 *
 * With `--pit-source-rows N`, it also times the whole get_historical_features (staged upload, the
 * one point-in-time query over a source of N rows of 10 000 drivers, every batch read) per size.
 *
 *   npx tsx --conditions=larder-source bench/trino-entity-upload.ts [--sizes 10000,100000,1000000] [--runs 1]
 *     [--routes staged,values] [--pit-source-rows 10000000] [--url http://127.0.0.1:8080 --warehouse /dir]
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Float64, Int64, type Table } from 'apache-arrow';
import { TrinoClient } from '../plugins/trino/src/client.ts';
import { type UploadOptions, type UploadRoute, uploadEntities } from '../plugins/trino/src/entity-upload.ts';
import { historicalFromEntityTable } from '../plugins/trino/src/historical-retrieval.ts';
import { featureView, trinoSource } from '../test/support/feature-views.ts';
import { arrowTable, callContext } from '../test/support/parquet-fixtures.ts';
import { startTrino, type TrinoServer } from '../test/support/trino-server.ts';
import { tsUtc } from '../test/support/generated-data.ts';
import { trinoQuery } from '../test/support/trino-statement.ts';

/** The source table of the retrieval timing: `rows` rows of 10 000 drivers, one per second from 2024-01-01. */
async function createSource(url: string, rows: number): Promise<void> {
  await trinoQuery(url, 'DROP TABLE IF EXISTS hive.bench_values.driver_stats');
  await trinoQuery(
    url,
    `CREATE TABLE hive.bench_values.driver_stats WITH (format = 'PARQUET') AS
     SELECT n % 10000 AS driver_id, CAST(TIMESTAMP '2024-01-01 00:00:00' + n * INTERVAL '1' SECOND AS timestamp(3)) AS event_timestamp,
            CAST(TIMESTAMP '2024-01-01 00:00:00' + n * INTERVAL '1' SECOND AS timestamp(3)) AS created,
            rand() AS conv_rate, CAST(n % 97 AS bigint) AS trips
     FROM (SELECT a * 10000 + b AS n FROM UNNEST(sequence(0, ${Math.ceil(rows / 10000) - 1})) AS x(a) CROSS JOIN UNNEST(sequence(0, 9999)) AS y(b))
     WHERE n < ${rows}`,
    { timeoutMs: 600_000 },
  );
}

async function timeRetrieval(client: TrinoClient, entities: Table, upload: UploadOptions, n: number): Promise<void> {
  const source = trinoSource('driver_stats', { table: 'hive.bench_values.driver_stats' }, { createdTimestampColumn: 'created' });
  const view = featureView('driver_stats', source, ['driver_id'], ['conv_rate', 'trips'], 86_400);
  const start = performance.now();
  const stream = await historicalFromEntityTable(
    { client, upload },
    entities,
    { featureViews: [view], featureRefs: ['driver_stats:conv_rate', 'driver_stats:trips'], project: 'p', fullFeatureNames: false },
    callContext(),
  );
  let rows = 0;
  for await (const batch of stream.batches) rows += batch.numRows;
  if (rows !== n) throw new Error(`get_historical_features returned ${rows} rows for ${n} entity rows`);
  console.log(`${n}\tget_historical_features (staged, ${sourceRows} source rows)\t${((performance.now() - start) / 1000).toFixed(2)} s`);
}

const { values: options } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    runs: { type: 'string', default: '1' },
    url: { type: 'string' },
    warehouse: { type: 'string' },
    routes: { type: 'string', default: 'staged,values' },
    'pit-source-rows': { type: 'string', default: '0' },
  },
});
const routes = options.routes.split(',') as UploadRoute[];
const sourceRows = Number(options['pit-source-rows']);
const sizes = options.sizes.split(',').map(Number);
const runs = Number(options.runs);

let server: TrinoServer | undefined;
let url = options.url;
let warehouse = options.warehouse;
if (!url) {
  server = await startTrino({ maxHeap: '2G', config: { 'query.max-memory': '1GB', 'query.max-memory-per-node': '1GB' } });
  url = server.url;
  warehouse = server.warehouse;
}
if (!warehouse) throw new Error('--url needs --warehouse (the hive catalog local.location)');
try {
  await trinoQuery(url, 'CREATE SCHEMA IF NOT EXISTS hive.bench_staging');
  await trinoQuery(url, 'CREATE SCHEMA IF NOT EXISTS hive.bench_values');
  const stagingDir = path.join(warehouse, 'bench-staging');
  mkdirSync(stagingDir, { recursive: true });
  const { hostname, port } = new URL(url);
  const client = new TrinoClient({
    server: url,
    catalog: 'hive',
    user: 'larder-bench',
    source: 'larder-bench',
    rejectUnauthorized: true,
    extraCredential: {},
    session: {},
  });
  const upload = (route: UploadRoute) => ({
    staging: { catalog: 'hive', schema: 'bench_staging', dir: stagingDir, trinoLocation: 'local:///bench-staging' },
    values: { catalog: 'hive', schema: 'bench_values', withClause: "WITH (format = 'PARQUET')" },
    route,
  });
  console.log(`Trino ${hostname}:${port}; entity rows of (bigint, timestamp[us, UTC], double)`);
  if (sourceRows > 0) await createSource(url, sourceRows);
  console.log('rows\troute\tupload s\tread-back s\trows read');
  const t0 = BigInt(Date.UTC(2024, 0, 1)) * 1000n;
  for (const n of sizes) {
    const entities = arrowTable([
      ['driver_id', new Int64(), Array.from({ length: n }, (_, i) => BigInt(i % 10_000))],
      ['event_timestamp', tsUtc, Array.from({ length: n }, (_, i) => t0 + BigInt(i) * 1_000_000n)],
      ['label', new Float64(), Array.from({ length: n }, (_, i) => i / 7)],
    ]);
    for (const route of routes) {
      for (let run = 0; run < runs; run++) {
        const start = performance.now();
        const staged = await uploadEntities(client, entities, 'event_timestamp', ['driver_id'], upload(route));
        const uploaded = performance.now();
        try {
          const statement = await client.start(`SELECT count(*), max(__ts) FROM ${staged.relation} AS r`, 'read-back');
          let count = 0;
          for await (const page of statement.pages()) count = Number((page[0] as unknown[])[0]);
          const read = performance.now();
          if (count !== n) throw new Error(`${route}: read ${count} rows back, uploaded ${n}`);
          console.log(`${n}\t${route}\t${((uploaded - start) / 1000).toFixed(2)}\t${((read - uploaded) / 1000).toFixed(2)}\t${count}`);
        } finally {
          await staged.drop();
        }
      }
    }
    if (sourceRows > 0) await timeRetrieval(client, entities, upload('staged'), n);
  }
} finally {
  await server?.stop();
}
