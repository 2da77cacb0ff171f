/**
 * plugins/trino/src/arrow-results.ts against a real Trino 476 (started once for the file): every
 * Trino type the store maps, nulls included, arrives with the right Arrow type and value (bigints
 * beyond 2^53 exact, timestamps to the nanosecond, zones converted to the UTC instant); a result of
 * many pages arrives in bounded batches, every row once and in order; a consumer that stops
 * reading, or an aborted call, cancels the query on the cluster; a failure mid-stream is Trino's
 * error, mapped.
 */
import { status } from '@grpc/grpc-js';
import type { RecordBatch } from 'apache-arrow';
import { expect } from 'chai';
import { LarderError } from '../../core/src/errors.ts';
import { trinoResultStream } from '../../plugins/trino/src/arrow-results.ts';
import { TrinoClient } from '../../plugins/trino/src/client.ts';
import { connectionOf } from '../../plugins/trino/src/config.ts';
import { startTrino, type TrinoServer } from '../support/trino-server.ts';
import { trinoQuery } from '../support/trino-statement.ts';

describe('trino results as Arrow (real Trino 476)', function () {
  this.timeout(180_000);
  let trino: TrinoServer | undefined;
  let client: TrinoClient;

  before(async () => {
    trino = await startTrino();
    client = new TrinoClient(
      connectionOf(
        { type: 'trino', host: '127.0.0.1', port: trino.port, catalog: 'hive', user: 'larder-test', connector: { type: 'hive' } },
        '/tmp',
      ),
    );
  });

  after(async () => {
    await trino?.stop();
  });

  async function batchesOf(sql: string, limits = {}): Promise<{ types: Record<string, string>; batches: RecordBatch[] }> {
    const stream = await trinoResultStream(await client.start(sql, 'spec statement'), limits);
    const types = Object.fromEntries(stream.schema.fields.map((f) => [f.name, String(f.type)]));
    const batches: RecordBatch[] = [];
    for await (const batch of stream.batches) batches.push(batch);
    return { types, batches };
  }

  /** Queries whose text carries `marker`, as [state, error code] (Trino updates them asynchronously). */
  async function untilState(marker: string, wanted: string): Promise<unknown[][]> {
    let rows: unknown[][] = [];
    for (let i = 0; i < 100; i++) {
      rows = (
        await trinoQuery(
          trino!.url,
          `SELECT state, error_code FROM system.runtime.queries WHERE query LIKE '%${marker}%' AND query NOT LIKE '%system.runtime%'`,
        )
      ).rows as unknown[][];
      if (rows[0]?.[0] === wanted) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    return rows;
  }

  it('maps every type, with values and nulls, as Feast maps Trino types to pyarrow', async () => {
    const columns = `
      CAST(b AS boolean) AS bool_col, CAST(ti AS tinyint) AS tinyint_col, CAST(si AS smallint) AS smallint_col,
      CAST(i AS integer) AS int_col, CAST(bi AS bigint) AS bigint_col, CAST(r AS real) AS real_col, CAST(d AS double) AS double_col,
      CAST(dec AS decimal(10, 2)) AS decimal_col, CAST(s AS varchar) AS varchar_col, CAST(c AS char(4)) AS char_col,
      CAST(vb AS varbinary) AS varbinary_col, CAST(dt AS date) AS date_col,
      CAST(ts3 AS timestamp(3)) AS ts3_col, CAST(ts6 AS timestamp(6)) AS ts6_col, CAST(ts9 AS timestamp(9)) AS ts9_col,
      CAST(tz3 AS timestamp(3) with time zone) AS tz3_col, CAST(tz6 AS timestamp(6) with time zone) AS tz6_col,
      CAST(ai AS array(integer)) AS int_array, CAST(av AS array(varchar)) AS varchar_array,
      CAST(ats AS array(timestamp(6))) AS ts_array, CAST(j AS json) AS json_col`;
    const { types, batches } = await batchesOf(`SELECT ${columns} FROM (VALUES
      (true, -5, 300, 70000, 9007199254740993, 1.5, 2.25, 12.34, 'héllo', 'ab', X'00ff10', DATE '1969-12-31',
       TIMESTAMP '2024-01-02 03:04:05.123', TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMP '1960-01-02 03:04:05.123456789',
       TIMESTAMP '2024-01-02 03:04:05.123 America/New_York', TIMESTAMP '2024-07-02 03:04:05.123456 +05:30',
       ARRAY[1, NULL, 3], ARRAY['x', NULL], ARRAY[TIMESTAMP '2024-01-02 00:00:00.000001'], JSON '{"a": [1, 2]}'),
      (NULL, NULL, NULL, NULL, NULL, NULL, nan(), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ARRAY[], NULL, NULL),
      (false, 0, 0, 0, -9223372036854775808, -infinity(), infinity(), -0.01, '', NULL, X'', DATE '2000-02-29',
       NULL, NULL, NULL, TIMESTAMP '2024-01-02 03:04:05.000 UTC', NULL, NULL, NULL, NULL, NULL)
    ) AS t(b, ti, si, i, bi, r, d, dec, s, c, vb, dt, ts3, ts6, ts9, tz3, tz6, ai, av, ats, j)`);
    expect(types).to.deep.equal({
      bool_col: 'Bool',
      tinyint_col: 'Int8',
      smallint_col: 'Int16',
      int_col: 'Int32',
      bigint_col: 'Int64',
      real_col: 'Float32',
      double_col: 'Float64',
      decimal_col: 'Float64',
      varchar_col: 'Utf8',
      char_col: 'Utf8',
      varbinary_col: 'Binary',
      date_col: 'Date32<DAY>',
      ts3_col: 'Timestamp<MICROSECOND>',
      ts6_col: 'Timestamp<MICROSECOND>',
      ts9_col: 'Timestamp<NANOSECOND>',
      tz3_col: 'Timestamp<MICROSECOND, UTC>',
      tz6_col: 'Timestamp<MICROSECOND, UTC>',
      int_array: 'List<Int32>',
      varchar_array: 'List<Utf8>',
      ts_array: 'List<Timestamp<MICROSECOND>>',
      json_col: 'Utf8',
    });
    expect(batches).to.have.length(1);
    const batch = batches[0]!;
    expect(batch.numRows).to.equal(3);
    const column = (name: string) => {
      const vector = batch.getChild(name)!;
      return [0, 1, 2].map((i) => {
        const v = vector.get(i);
        if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
        // A list's value is a Vector: iterating it gives nulls as null (toArray would not).
        if (v && typeof v === 'object' && Symbol.iterator in v) return [...(v as Iterable<unknown>)];
        return v;
      });
    };
    // Raw epoch values, read from the buffers (Vector.get turns timestamps into lossy milliseconds).
    const raw = (name: string) => {
      const data = batch.getChild(name)!.data[0]!;
      return [0, 1, 2].map((i) => (data.getValid(i) ? (data.values as BigInt64Array)[i] : null));
    };
    expect(column('bool_col')).to.deep.equal([true, null, false]);
    expect(column('tinyint_col')).to.deep.equal([-5, null, 0]);
    expect(column('smallint_col')).to.deep.equal([300, null, 0]);
    expect(column('int_col')).to.deep.equal([70000, null, 0]);
    expect(column('bigint_col')).to.deep.equal([9007199254740993n, null, -9223372036854775808n]);
    expect(column('real_col')).to.deep.equal([1.5, null, Number.NEGATIVE_INFINITY]);
    expect(column('double_col')).to.deep.equal([2.25, Number.NaN, Number.POSITIVE_INFINITY]);
    expect(column('decimal_col')).to.deep.equal([12.34, null, -0.01]);
    expect(column('varchar_col')).to.deep.equal(['héllo', null, '']);
    expect(column('char_col')).to.deep.equal(['ab  ', null, null]);
    expect(column('varbinary_col')).to.deep.equal(['00ff10', null, '']);
    expect(column('date_col')).to.deep.equal([Date.UTC(1969, 11, 31), null, Date.UTC(2000, 1, 29)]);
    expect(raw('ts3_col')).to.deep.equal([BigInt(Date.UTC(2024, 0, 2, 3, 4, 5, 123)) * 1000n, null, null]);
    expect(raw('ts6_col')).to.deep.equal([BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1000n + 123456n, null, null]);
    expect(raw('ts9_col')).to.deep.equal([BigInt(Date.UTC(1960, 0, 2, 3, 4, 5)) * 1_000_000n + 123456789n, null, null]);
    // New York is UTC−5 in January; +05:30 is 5.5 hours east of UTC.
    expect(raw('tz3_col')).to.deep.equal([
      BigInt(Date.UTC(2024, 0, 2, 8, 4, 5, 123)) * 1000n,
      null,
      BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1000n,
    ]);
    expect(raw('tz6_col')).to.deep.equal([BigInt(Date.UTC(2024, 6, 1, 21, 34, 5)) * 1000n + 123456n, null, null]);
    expect(column('int_array')).to.deep.equal([[1, null, 3], null, null]);
    expect(column('varchar_array')).to.deep.equal([['x', null], [], null]);
    const tsArray = batch.getChild('ts_array')!.data[0]!.children[0]!;
    expect((tsArray.values as BigInt64Array)[0]).to.equal(BigInt(Date.UTC(2024, 0, 2)) * 1000n + 1n);
    expect(column('json_col')).to.deep.equal(['{"a":[1,2]}', null, null]);
  });

  it('streams a many-page result in bounded batches, every row once and in order', async () => {
    const { types, batches } = await batchesOf(
      'SELECT a.x * 1000 + b.y AS x, CAST(a.x AS varchar) AS label FROM UNNEST(sequence(0, 199)) a(x) CROSS JOIN UNNEST(sequence(1, 1000)) b(y) ORDER BY 1',
      { maxBatchRows: 7000 },
    );
    expect(types).to.deep.equal({ x: 'Int64', label: 'Utf8' });
    let next = 1n;
    for (const batch of batches) {
      expect(batch.numRows).to.be.at.most(7000);
      const xs = batch.getChild('x')!;
      for (let i = 0; i < batch.numRows; i++) expect(xs.get(i)).to.equal(next++);
    }
    expect(next).to.equal(200_001n);
    expect(batches.length).to.be.at.least(Math.ceil(200_000 / 7000));
  });

  // About 10^11 joined rows: it runs far longer than these tests unless it is cancelled.
  const longQuery = (marker: string) =>
    `SELECT x, y FROM UNNEST(sequence(1, 10000)) a(x) CROSS JOIN UNNEST(sequence(1, 10000)) b(y) CROSS JOIN UNNEST(sequence(1, 1000)) c(z) WHERE x + y + z = -1 /* ${marker} */`;

  it('cancels the query on the cluster when the consumer stops reading', async () => {
    const marker = 'larder-arrow-return';
    // 10^11 rows that start arriving at once: the consumer takes one batch and leaves.
    const stream = await trinoResultStream(
      await client.start(
        `SELECT x, y FROM UNNEST(sequence(1, 10000)) a(x) CROSS JOIN UNNEST(sequence(1, 10000)) b(y) CROSS JOIN UNNEST(sequence(1, 1000)) c(z) /* ${marker} */`,
        'spec statement',
      ),
      { maxBatchRows: 100 },
    );
    let read = 0;
    for await (const batch of stream.batches) {
      read += batch.numRows;
      break;
    }
    expect(read).to.equal(100);
    expect(await untilState(marker, 'FAILED')).to.deep.equal([['FAILED', 'USER_CANCELED']]);
  });

  it('cancels the query on the cluster when the call aborts, and the stream fails', async () => {
    const marker = 'larder-arrow-abort';
    const abort = new AbortController();
    const stream = await trinoResultStream(await client.start(longQuery(marker), 'spec statement', abort.signal));
    const reading = (async () => {
      for await (const _ of stream.batches);
    })();
    expect((await untilState(marker, 'RUNNING'))[0]?.[0]).to.equal('RUNNING');
    abort.abort();
    const error = await reading.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).to.equal('spec statement: cancelled, the call was aborted');
    expect(await untilState(marker, 'FAILED')).to.deep.equal([['FAILED', 'USER_CANCELED']]);
  });

  it("fails with Trino's error, mapped, when the query fails while running", async () => {
    const error = await (async () => {
      const stream = await trinoResultStream(
        await client.start(
          'SELECT 10 / (a.x * 1000 + b.y - 900000) AS q FROM UNNEST(sequence(0, 999)) a(x) CROSS JOIN UNNEST(sequence(1, 1000)) b(y)',
          'spec statement',
        ),
        { maxBatchRows: 1000 },
      );
      for await (const _ of stream.batches);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(LarderError);
    expect((error as LarderError).code).to.equal(status.INVALID_ARGUMENT);
    expect((error as Error).message).to.match(/^spec statement: Trino error DIVISION_BY_ZERO: /);
  });
});
