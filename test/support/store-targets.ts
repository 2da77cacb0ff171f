/**
 * Conformance targets (@larder/core/testing) for larder's built-in stores: how each materialises
 * the kit's rows as a source of its own kind — a parquet file under the run's repo for `file` and
 * `duckdb`, a table loaded by binary COPY for `postgres`, a Hive table loaded by the store's own
 * write path for `trino`.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Table } from 'apache-arrow';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import pino from 'pino';
import type { FeatureService } from '../../core/src/registry/model.ts';
import type { LoggedFeaturesRequest, OfflineStorePlugin } from '../../core/src/store.ts';
import type { StoreConformanceTarget } from '../../core/src/testing/index.ts';
import { encodeCopyBinary } from '../../plugins/postgres/src/copy-binary-encoder.ts';
import { pgTypeForArrow } from '../../plugins/postgres/src/pg-types.ts';
import { fileSource, postgresSource, trinoSource } from './feature-views.ts';
import { writeParquetFile } from './parquet-fixtures.ts';
import type { PostgresServer } from './postgres-server.ts';
import type { TrinoServer } from './trino-server.ts';
import { trinoQuery } from './trino-statement.ts';

/** A file-based store (`file`, `duckdb`): sources are parquet files in the run's repo, datasets and logs too. */
export function parquetTarget(plugin: OfflineStorePlugin, storeConfig: Record<string, unknown>): StoreConformanceTarget {
  return {
    plugin,
    storeConfig,
    // `file` (alias `dask`) emulates Feast's file store, whose date mode is a snapshot as of end_date.
    dateRangeRule: storeConfig.type === 'file' || storeConfig.type === 'dask' ? 'end-date-snapshot' : 'distinct-key-timestamps',
    async createSource(name, table, { timestampField, createdTimestampColumn, repoPath }) {
      writeParquetFile(path.join(repoPath, 'data', `${name}.parquet`), table);
      return { ...fileSource(name, `data/${name}.parquet`, { timestampField, createdTimestampColumn }), project: 'kit' };
    },
    savedDatasetDestination(name, timestampField) {
      return { ...fileSource(name, `saved/${name}.parquet`, { timestampField, createdTimestampColumn: '' }), project: 'kit' };
    },
    loggingDestination(name) {
      return {
        loggingConfig: {
          sampleRate: 1,
          fileDestination: { path: `logs/${name}`, s3EndpointOverride: '', partitionBy: [] },
          destinationKind: 'file_destination',
        },
        source: (timestampField) => ({
          ...fileSource(name, `logs/${name}`, { timestampField, createdTimestampColumn: '' }),
          project: 'kit',
        }),
      };
    },
  };
}

/** The postgres store on a test cluster: sources are tables, created and loaded over their own connection. */
export function postgresTarget(plugin: OfflineStorePlugin, server: PostgresServer): StoreConformanceTarget {
  const tables: string[] = [];
  const withClient = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const load = (name: string, table: Table) =>
    withClient(async (client) => {
      const columns = table.schema.fields.map((f) => `"${f.name}" ${pgTypeForArrow(f.type, f.name)}`).join(', ');
      await client.query(`CREATE TABLE ${name} (${columns})`);
      tables.push(name);
      await pipeline(Readable.from(encodeCopyBinary(table)), client.query(copyFrom(`COPY ${name} FROM STDIN (FORMAT binary)`)));
    });
  return {
    plugin,
    storeConfig: server.offlineStoreConfig(),
    // By start/end date it answers as Feast's postgres store: every source row in the range.
    dateRangeRule: 'source-rows',
    async createSource(name, table, { timestampField, createdTimestampColumn }) {
      await load(name, table);
      return { ...postgresSource(name, { table: name }, { timestampField, createdTimestampColumn }), project: 'kit' };
    },
    savedDatasetDestination(name, timestampField) {
      tables.push(name);
      return { ...postgresSource(name, { table: name }, { timestampField, createdTimestampColumn: '' }), project: 'kit' };
    },
    loggingDestination(name) {
      tables.push(name);
      return {
        loggingConfig: { sampleRate: 1, destinationKind: 'custom_destination', customConfig: { table_name: name } },
        source: (timestampField) => ({
          ...postgresSource(name, { table: name }, { timestampField, createdTimestampColumn: '' }),
          project: 'kit',
        }),
      };
    },
    async cleanup() {
      await withClient(async (client) => {
        for (const table of tables) await client.query(`DROP TABLE IF EXISTS ${table}`);
      });
    },
  };
}

/**
 * The trino store on a test Trino (test/support/trino-server.ts), its tables in `hive.<schema>`.
 * Sources are loaded by the store's own write path: write_logged_features creates a table from
 * the Arrow schema and appends the rows (a large load staged and appended whole). Hive keeps
 * timestamps as `timestamp(3)` (its default precision), which loses nothing the kit holds: its
 * timestamps are whole milliseconds, read back as UTC instants. Trino keeps no stored order, which
 * the kit needs only for a full tie (equal timestamp and created), and its rows have none.
 */
export function trinoTarget(plugin: OfflineStorePlugin, server: TrinoServer, schema = 'kit'): StoreConformanceTarget {
  const tables: string[] = [];
  const qualified = (name: string) => `hive.${schema}.${name}`;
  const storeConfig = {
    type: 'trino',
    host: server.host,
    port: server.port,
    catalog: 'hive',
    user: 'larder-test',
    connector: { type: 'hive', file_format: 'parquet' },
  };
  let schemaMade: Promise<unknown> | undefined;
  const source = (name: string, timestampField: string, createdTimestampColumn: string) => ({
    ...trinoSource(name, { table: qualified(name) }, { timestampField, createdTimestampColumn }),
    project: 'kit',
  });
  return {
    plugin,
    storeConfig,
    // By start/end date it answers as larder's duckdb store (plugins/trino README).
    dateRangeRule: 'distinct-key-timestamps',
    async createSource(name, table, { timestampField, createdTimestampColumn, repoPath }) {
      schemaMade ??= trinoQuery(server.url, `CREATE SCHEMA IF NOT EXISTS hive.${schema}`);
      await schemaMade;
      const logger = pino({ level: 'silent' });
      const loader = await plugin.create(storeConfig, { repoPath, dataRoots: [], repoConfig: {}, logger });
      tables.push(qualified(name));
      try {
        await loader.writeLoggedFeatures(
          {
            featureService: {
              name: `load_${name}`,
              project: 'kit',
              features: [],
              loggingConfig: { sampleRate: 1, destinationKind: 'custom_destination', customConfig: { table_name: qualified(name) } },
            } as unknown as FeatureService,
            table,
          } as LoggedFeaturesRequest,
          { signal: AbortSignal.timeout(300_000), logger, user: null },
        );
      } finally {
        await loader.close();
      }
      return source(name, timestampField, createdTimestampColumn);
    },
    savedDatasetDestination(name, timestampField) {
      tables.push(qualified(name));
      return source(name, timestampField, '');
    },
    loggingDestination(name) {
      tables.push(qualified(name));
      return {
        loggingConfig: { sampleRate: 1, destinationKind: 'custom_destination', customConfig: { table_name: qualified(name) } },
        source: (timestampField) => source(name, timestampField, ''),
      };
    },
    async cleanup() {
      for (const table of tables) await trinoQuery(server.url, `DROP TABLE IF EXISTS ${table}`);
      if (schemaMade) await trinoQuery(server.url, `DROP SCHEMA IF EXISTS hive.${schema}`);
    },
  };
}
