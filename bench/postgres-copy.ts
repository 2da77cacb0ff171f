/**
 * Times PostgreSQL binary COPY → Arrow (plugins/postgres/src/copy-binary-decoder.ts) on a table
 * of 1M rows × 8 columns (bigint, text, timestamptz, 4 × double precision, boolean), against a
 * throwaway local cluster. Reports the end-to-end time (server producing the stream included),
 * decoding an in-memory copy of the same stream, and the way back: encoding the Arrow batches
 * (copy-binary-encoder.ts) alone and COPY FROM into an empty copy of the table.
 *
 *   npx tsx --conditions=larder-source bench/postgres-copy.ts [--rows 1000000] [--runs 3]
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RecordBatch } from 'apache-arrow';
import { from as copyFrom } from 'pg-copy-streams';
import { CopyBinaryDecoder, decodeCopyBinary, type PgColumn } from '../plugins/postgres/src/copy-binary-decoder.ts';
import { encodeCopyBinary } from '../plugins/postgres/src/copy-binary-encoder.ts';
import { startPostgres } from '../test/support/postgres-server.ts';

const { values: options } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' } },
});
const rows = Number(options.rows);
const runs = Number(options.runs);

const server = await startPostgres();
const client = new pg.Client({
  host: server.host,
  port: server.port,
  user: server.user,
  password: server.password,
  database: server.database,
  ssl: false,
});
try {
  await client.connect();
  await client.query(`CREATE UNLOGGED TABLE bench AS
    SELECT g::bigint AS id, 'driver_' || (g % 10000) AS name,
           timestamptz '2024-01-01' + g * interval '1 second' AS ts,
           random() AS f1, random() AS f2, random() AS f3, random() AS f4, g % 2 = 0 AS flag
    FROM generate_series(1, ${rows}) AS g`);
  await client.query('VACUUM ANALYZE bench');
  const { fields } = await client.query('SELECT * FROM bench LIMIT 0');
  const columns: PgColumn[] = fields.map((f) => ({ name: f.name, typeOid: f.dataTypeID }));
  const copySql = 'COPY bench TO STDOUT (FORMAT binary)';

  // End to end: the server writes the stream while the decoder reads it.
  for (let run = 1; run <= runs; run++) {
    const start = performance.now();
    let decoded = 0;
    for await (const batch of decodeCopyBinary(client.query(copyTo(copySql)), columns)) decoded += batch.numRows;
    report(`end to end, run ${run}`, decoded, performance.now() - start);
  }

  // Decoding alone: the same stream, already in memory, in the chunk sizes the socket delivered.
  const chunks: Buffer[] = [];
  const start = performance.now();
  for await (const chunk of client.query(copyTo(copySql))) chunks.push(chunk as Buffer);
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  console.log(
    `COPY alone (no decoding): ${(performance.now() - start).toFixed(0)} ms, ${(bytes / 2 ** 20).toFixed(0)} MiB in ${chunks.length} chunks`,
  );
  let batches: RecordBatch[] = [];
  for (let run = 1; run <= runs; run++) {
    const begin = performance.now();
    const decoder = new CopyBinaryDecoder(columns);
    batches = [];
    for (const chunk of chunks) batches.push(...decoder.push(chunk));
    batches.push(...decoder.finish());
    report(`decode only, run ${run}`, count(batches), performance.now() - begin);
  }

  // The way back.
  for (let run = 1; run <= runs; run++) {
    const begin = performance.now();
    let bytesOut = 0;
    for (const chunk of encodeCopyBinary(batches)) bytesOut += chunk.length;
    report(`encode only (${(bytesOut / 2 ** 20).toFixed(0)} MiB), run ${run}`, count(batches), performance.now() - begin);
  }
  await client.query('CREATE UNLOGGED TABLE bench_in (LIKE bench)');
  for (let run = 1; run <= runs; run++) {
    await client.query('TRUNCATE bench_in');
    const begin = performance.now();
    await pipeline(Readable.from(encodeCopyBinary(batches)), client.query(copyFrom('COPY bench_in FROM STDIN (FORMAT binary)')));
    const ms = performance.now() - begin;
    report(`COPY FROM, run ${run}`, Number((await client.query('SELECT count(*) AS n FROM bench_in')).rows[0].n), ms);
  }
} finally {
  await client.end().catch(() => undefined);
  await server.stop();
}

function count(batches: readonly RecordBatch[]): number {
  return batches.reduce((n, b) => n + b.numRows, 0);
}

function report(what: string, decoded: number, ms: number): void {
  if (decoded !== rows) throw new Error(`${what}: decoded ${decoded} rows, expected ${rows}`);
  console.log(`${what}: ${ms.toFixed(0)} ms, ${Math.round(decoded / (ms / 1000)).toLocaleString('en-US')} rows/s`);
}
