/**
 * A duckdb source with one time beyond 2262 deep inside it. The store compares times as int64
 * nanoseconds, and @duckdb/node-api ends a stream that fails midway exactly like one that is
 * done, so such a value used to cut a pull short without a word (1.7M of 3M rows, status OK).
 * The source is now refused before it is read, naming the column.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pino from 'pino';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import { FailedPreconditionError } from '../../core/src/errors.ts';
import type { OfflineStore, PullRequest } from '../../core/src/store.ts';
import { fileSource } from '../support/feature-views.ts';
import { callContext } from '../support/parquet-fixtures.ts';

describe('duckdb store: a source time beyond int64 nanoseconds', function () {
  this.timeout(120_000);
  let repo: string;
  let store: OfflineStore;
  const ROWS = 3_000_000;

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-duck-range-'));
    const db = await DuckDBInstance.create(':memory:', { threads: '2' });
    const connection = await db.connect();
    // The last row lies in the year 3000; every other row is in 2024.
    await connection.run(`COPY (SELECT i::BIGINT AS driver_id,
        CASE WHEN i = ${ROWS - 1} THEN TIMESTAMPTZ '3000-01-01 00:00:00+00' ELSE TIMESTAMPTZ '2024-01-01 00:00:00+00' END AS ts,
        1.0::DOUBLE AS rate FROM range(${ROWS}) t(i)) TO '${path.join(repo, 's.parquet')}' (FORMAT parquet)`);
    connection.disconnectSync();
    db.closeSync();
    store = await duckdbPlugin.create(
      { type: 'duckdb', threads: 2 },
      { repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) },
    );
  });

  after(async () => {
    await store?.close();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('refuses the pull naming the column, instead of returning the rows before the bad one', async () => {
    const req: PullRequest = {
      source: fileSource('s', 's.parquet', { createdTimestampColumn: '' }),
      joinKeyColumns: ['driver_id'],
      featureNameColumns: ['rate'],
      timestampField: 'ts',
      createdTimestampColumn: null,
      startDate: new Date('2023-01-01T00:00:00Z'),
      endDate: new Date('2025-01-01T00:00:00Z'),
    };
    let rows = 0;
    const error = await (async () => {
      const result = await store.pullAllFromTableOrQuery(req, callContext());
      for await (const batch of result.batches) rows += batch.numRows;
    })().catch((e: Error) => e);
    expect(error, `the pull returned ${rows} rows of ${ROWS - 1} without an error`).to.be.instanceOf(FailedPreconditionError);
    expect((error as FailedPreconditionError).code).to.equal(status.FAILED_PRECONDITION);
    expect((error as Error).message).to.match(/the timestamp_field "ts" of .*s\.parquet holds a time outside 1677-09-21 to 2262-04-11/);
  });
});
