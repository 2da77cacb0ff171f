/**
 * Data files replaced while a call streams from them (issue 16): a source file renamed over, or
 * a file of a directory source deleted, while a DoGet streams it. The call completes with the
 * data as it was when it began, or fails with a clear status (never INTERNAL, never a mix of old
 * and new rows), the server keeps serving, and the next call sees the new file. For the file and
 * the duckdb store.
 */
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pino from 'pino';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { placeholderTable } from '../support/guarded-repo.ts';
import { writeParquetFile } from '../support/parquet-fixtures.ts';
import { statsRows, writeWriteRepo } from '../support/write-repo.ts';

const ROWS = 300_000;

function pullCommand(): string {
  return JSON.stringify({
    command_id: Math.random().toString(36).slice(2),
    api: 'pull_all_from_table_or_query',
    data_source_name: 'stats_source',
    join_key_columns: ['driver_id'],
    feature_name_columns: ['rate'],
    timestamp_field: 'ts',
    created_timestamp_column: null,
    start_date: '2000-01-01T00:00:00+00:00',
    end_date: '2100-01-01T00:00:00+00:00',
  });
}

/**
 * Streams a pull, running `midway` after the first batch (or, with `beforeGet`, between
 * GetFlightInfo, which prepares the result, and DoGet); the ids read, or the error it ended with.
 */
async function pullWith(
  client: FlightTestClient,
  midway: () => void,
  beforeGet = false,
): Promise<{ ids: number[]; error: (Error & { code?: number; details?: string }) | null }> {
  const cmd = pullCommand();
  await client.doPut(cmd, placeholderTable());
  const info = await client.getFlightInfo(cmd);
  if (beforeGet) midway();
  const stream = client.doGetStream(info.endpoints[0]!.ticket);
  const ids: number[] = [];
  let first = true;
  try {
    for await (const batch of stream.batches) {
      for (const id of batch.getChild('driver_id')!.toArray() as BigInt64Array) ids.push(Number(id));
      if (first && !beforeGet) {
        first = false;
        midway();
      }
    }
    return { ids, error: null };
  } catch (error) {
    return { ids, error: error as Error };
  }
}

for (const store of ['file', 'duckdb']) {
  describe(`a data file replaced while a call streams from it (${store} store)`, function () {
    this.timeout(180_000);
    let repo: string;
    let server: RunningServer;
    let client: FlightTestClient;
    const data = () => path.join(repo, 'data');

    beforeEach(async () => {
      repo = mkdtempSync(path.join(tmpdir(), 'larder-replaced-'));
      writeWriteRepo(repo, { offlineStore: [`  type: ${store}`], seedFile: null });
      writeParquetFile(path.join(data(), 'stats.parquet'), statsRows(0, ROWS));
      server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
      client = connect(`127.0.0.1:${server.port}`);
    });

    afterEach(async () => {
      client.close();
      await server.stop(1000);
      rmSync(repo, { recursive: true, force: true });
    });

    it('renamed over midway: the old rows, all of them, or a clear error; the next call reads the new file', async () => {
      const { ids, error } = await pullWith(client, () => {
        writeParquetFile(path.join(data(), 'next.parquet'), statsRows(900_000, 10));
        renameSync(path.join(data(), 'next.parquet'), path.join(data(), 'stats.parquet'));
      });
      expect(
        ids.every((id) => id < ROWS),
        'no row of the new file in the old stream',
      ).to.equal(true);
      if (error) expect(error.code).to.be.oneOf([status.UNAVAILABLE, status.NOT_FOUND, status.ABORTED], error.details);
      else expect([...ids].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: ROWS }, (_, i) => i));
      const next = await pullWith(client, () => {});
      expect(next.error).to.equal(null);
      expect([...next.ids].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 10 }, (_, i) => 900_000 + i));
    });

    for (const when of ['midway', 'between GetFlightInfo and DoGet'] as const) {
      it(`a file of a directory source deleted ${when}: the rows read are the old ones, and the end is a clear status`, async () => {
        // The view's source becomes a directory of two files.
        rmSync(path.join(data(), 'stats.parquet'));
        writeWriteRepo(repo, { offlineStore: [`  type: ${store}`], statsPath: 'data/stats', seedFile: null });
        writeParquetFile(path.join(data(), 'stats', 'a.parquet'), statsRows(0, ROWS));
        writeParquetFile(path.join(data(), 'stats', 'b.parquet'), statsRows(ROWS, ROWS));
        const { ids, error } = await pullWith(client, () => rmSync(path.join(data(), 'stats', 'b.parquet')), when !== 'midway');
        if (error) {
          expect(error.code).to.be.oneOf([status.UNAVAILABLE, status.NOT_FOUND, status.ABORTED], error.details);
          expect(error.details).to.contain('b.parquet');
        } else {
          expect(ids.length === ROWS || ids.length === 2 * ROWS).to.equal(true, `rows: ${ids.length}`);
        }
        expect((await client.listActions()).length).to.equal(3);
      });
    }
  });
}
