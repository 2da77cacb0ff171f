/**
 * The binary COPY codec against a real PostgreSQL server: every supported type decoded exactly,
 * batches cut at batchRows, streams split anywhere, Arrow → COPY FROM → COPY TO → Arrow round
 * trips, and the type names Feast reports.
 */
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Binary,
  Bool,
  DataType,
  DateDay,
  DateMillisecond,
  Dictionary,
  Field,
  Float16,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  LargeBinary,
  LargeList,
  LargeUtf8,
  List,
  type RecordBatch,
  Table,
  TimeUnit,
  Timestamp,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
  type Data,
  type Vector,
} from 'apache-arrow';
import { expect } from 'chai';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { CopyBinaryDecoder, decodeCopyBinary, schemaForColumns, type PgColumn } from '../../plugins/postgres/src/copy-binary-decoder.ts';
import { encodeCopyBinary, encodeCopyBinaryStream } from '../../plugins/postgres/src/copy-binary-encoder.ts';
import { arrowTypeForPg, pgTypeForArrow, pgTypeNameForOid } from '../../plugins/postgres/src/pg-types.ts';
import { feastPython } from '../support/feast-python.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

/** Unix µs of an ISO instant with up to 6 fractional digits (Date.parse stops at ms). */
function us(iso: string): bigint {
  const [base, frac = ''] = iso.replace(/Z$/, '').split('.');
  return BigInt(Date.parse(`${base}Z`)) * 1000n + BigInt(frac.padEnd(6, '0'));
}

/** A cell as a plain value: 64-bit ints and timestamps as raw bigint, bytes as hex, lists as arrays. */
function cell(data: Data, i: number): unknown {
  if (!data.getValid(i)) return null;
  const type: DataType = data.type;
  if (DataType.isTimestamp(type) || (DataType.isInt(type) && type.bitWidth === 64)) return (data.values as BigInt64Array)[i];
  if (DataType.isList(type)) {
    const offsets = data.valueOffsets as Int32Array;
    return Array.from({ length: offsets[i + 1]! - offsets[i]! }, (_, k) => cell(data.children[0]!, offsets[i]! + k));
  }
  if (DataType.isBinary(type)) {
    const offsets = data.valueOffsets as Int32Array;
    return Buffer.from((data.values as Uint8Array).subarray(offsets[i]!, offsets[i + 1]!)).toString('hex');
  }
  return makeVector(data).get(i);
}

/** Every column of these batches as plain values, by name. */
function columnsOf(batches: readonly RecordBatch[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const batch of batches) {
    batch.schema.fields.forEach((f, c) => {
      const data = batch.data.children[c]!;
      for (let i = 0; i < batch.numRows; i++) (out[f.name] ??= []).push(cell(data, i));
    });
  }
  return out;
}

describe('postgres binary COPY codec', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let client: pg.Client;

  before(async function () {
    this.timeout(60_000);
    server = await startPostgres();
    client = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      database: server.database,
      ssl: false,
    });
    await client.connect();
  });

  after(async () => {
    await client?.end();
    await server?.stop();
  });

  async function columnsOfQuery(sql: string): Promise<PgColumn[]> {
    const { fields } = await client.query(`SELECT * FROM (${sql}) AS s LIMIT 0`);
    return fields.map((f) => ({ name: f.name, typeOid: f.dataTypeID }));
  }

  async function copyOut(sql: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of client.query(copyTo(`COPY (${sql}) TO STDOUT (FORMAT binary)`))) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async function query(sql: string, batchRows?: number): Promise<RecordBatch[]> {
    const columns = await columnsOfQuery(sql);
    const batches: RecordBatch[] = [];
    const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT (FORMAT binary)`));
    for await (const batch of decodeCopyBinary(stream, columns, batchRows)) batches.push(batch);
    return batches;
  }

  // Four rows; the first fixes each column's type. Row 3 is all NULL.
  const EVERY_TYPE = `
    SELECT * FROM (VALUES
      (9223372036854775807::int8, 2147483647::int4, 32767::int2, 1.5::float4, 0.1::float8,
       123.456::numeric, 'héllo wörld 🎉'::text, 'abc'::varchar(10), 'ab'::char(5), 'pg_name'::name,
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{"a": [1, 2]}'::json, '{"b": 1, "a": "x"}'::jsonb,
       true, '\\x00ff10'::bytea,
       '1969-07-20 20:17:40.123456+00'::timestamptz, '1999-12-31 23:59:59.999999'::timestamp, '1999-12-31'::date,
       '{1,NULL,3}'::int4[], '{"a","é",NULL}'::text[], '{1.5,-2}'::float8[], '{-9223372036854775808,0}'::int8[],
       '{t,f,NULL}'::bool[], '{"2024-02-29 12:34:56.789012+00"}'::timestamptz[], '{2000-01-01,NULL}'::date[],
       '{1.25,NaN}'::numeric[], '{"x","yz"}'::varchar[], '{"\\\\x01",NULL}'::bytea[], '{7,-7}'::int2[],
       '{0.5}'::float4[], '{"2000-01-01 00:00:00.000001"}'::timestamp[]),
      (-9223372036854775808, -2147483648, -32768, -3.25, -1e300,
       -0.000001, '', 'x', 'abcde', 'n',
       '00000000-0000-0000-0000-000000000000', '[]', '[1, "a", null]',
       false, ''::bytea,
       '2024-02-29 12:34:56.789012+00', '2000-01-01 00:00:00.000001', '2500-06-15',
       '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
      (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (-1, 0, 1, 'NaN', '-Infinity',
       'NaN', 'plain', '', ''::char(5), '',
       'ffffffff-ffff-ffff-ffff-fffffffffffe', 'null', '"s"',
       NULL, '\\xdeadbeef',
       '-infinity', '1900-01-01 00:00:00', '1000-01-01',
       NULL, '{NULL}', '{NaN,Infinity}', '{9223372036854775807}', '{f}', '{"1900-01-01 00:00:00+00"}',
       '{1970-01-01}', '{-12345678901234567890.5}', '{""}', '{"\\\\x"}', '{0}', '{-0.25}', '{NULL}')
    ) AS t(i8, i4, i2, f4, f8, num, txt, vc, bp, nm, uid, js, jb, b, by, tstz, ts, d,
           a_i4, a_txt, a_f8, a_i8, a_b, a_tstz, a_d, a_num, a_vc, a_by, a_i2, a_f4, a_ts)`;

  const EXPECTED: Record<string, unknown[]> = {
    i8: [9223372036854775807n, -9223372036854775808n, null, -1n],
    i4: [2147483647, -2147483648, null, 0],
    i2: [32767, -32768, null, 1],
    f4: [1.5, -3.25, null, NaN],
    f8: [0.1, -1e300, null, -Infinity],
    num: [123.456, -0.000001, null, NaN],
    txt: ['héllo wörld 🎉', '', null, 'plain'],
    vc: ['abc', 'x', null, ''],
    bp: ['ab   ', 'abcde', null, '     '],
    nm: ['pg_name', 'n', null, ''],
    uid: ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '00000000-0000-0000-0000-000000000000', null, 'ffffffff-ffff-ffff-ffff-fffffffffffe'],
    js: ['{"a": [1, 2]}', '[]', null, 'null'],
    jb: ['{"a": "x", "b": 1}', '[1, "a", null]', null, '"s"'],
    b: [true, false, null, null],
    by: ['00ff10', '', null, 'deadbeef'],
    tstz: [us('1969-07-20T20:17:40.123456Z'), us('2024-02-29T12:34:56.789012Z'), null, -(2n ** 63n)],
    ts: [us('1999-12-31T23:59:59.999999Z'), us('2000-01-01T00:00:00.000001Z'), null, us('1900-01-01T00:00:00Z')],
    d: [us('1999-12-31T00:00:00Z'), us('2500-06-15T00:00:00Z'), null, us('1000-01-01T00:00:00Z')],
    a_i4: [[1, null, 3], [], null, null],
    a_txt: [['a', 'é', null], [], null, [null]],
    a_f8: [[1.5, -2], [], null, [NaN, Infinity]],
    a_i8: [[-9223372036854775808n, 0n], [], null, [9223372036854775807n]],
    a_b: [[true, false, null], [], null, [false]],
    a_tstz: [[us('2024-02-29T12:34:56.789012Z')], [], null, [us('1900-01-01T00:00:00Z')]],
    a_d: [[us('2000-01-01T00:00:00Z'), null], [], null, [0n]],
    // biome-ignore lint/correctness/noPrecisionLoss: the double nearest the numeric stored above (numeric is read as float64, as in Feast)
    a_num: [[1.25, NaN], [], null, [-12345678901234567890.5]],
    a_vc: [['x', 'yz'], [], null, ['']],
    a_by: [['01', null], [], null, ['']],
    a_i2: [[7, -7], [], null, [0]],
    a_f4: [[0.5], [], null, [-0.25]],
    a_ts: [[us('2000-01-01T00:00:00.000001Z')], [], null, [null]],
  };

  it('decodes every supported type exactly, NULLs included', async () => {
    const columns = await columnsOfQuery(EVERY_TYPE);
    const batches = await query(EVERY_TYPE);
    expect(batches).to.have.length(1);
    const schema = schemaForColumns(columns);
    expect(batches[0]!.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).to.deep.equal(
      schema.fields.map((f) => [f.name, String(f.type), true]),
    );
    expect(String(batches[0]!.schema.fields.find((f) => f.name === 'tstz')!.type)).to.equal('Timestamp<MICROSECOND>');
    expect(String(batches[0]!.schema.fields.find((f) => f.name === 'd')!.type)).to.equal('Timestamp<MICROSECOND>');
    expect(batches[0]!.data.children[0]!.values).to.be.instanceOf(BigInt64Array);
    expect(columnsOf(batches)).to.deep.equal(EXPECTED);
  });

  it('turns numerics into the nearest double, however many digits', async () => {
    const texts = [
      '0',
      '1',
      '-1',
      '0.1',
      '0.3',
      '123.456',
      '-0.000001',
      '99999999.99999999',
      '9007199254740993',
      '12345678901234567890123456789.5',
      '3.14159265358979323846264338327950288',
      '0.30000000000000004',
      '1e100',
      '-1e-100',
      '1.7976931348623157e308',
      '5e-324',
      '123456789012345678',
      '0.000123456789012345678',
      'Infinity',
      '-Infinity',
    ];
    const sql = `SELECT v::numeric AS v FROM unnest(ARRAY[${texts.map((t) => `'${t}'`).join(',')}]) WITH ORDINALITY AS u(v, o) ORDER BY o`;
    const expected = texts.map((t) => Number(t));
    expect(columnsOf(await query(sql)).v).to.deep.equal(expected);
  });

  it('cuts a batch every batchRows rows', async () => {
    const batches = await query('SELECT g::int8 AS g, g::text AS s FROM generate_series(1, 10000) AS g', 4096);
    expect(batches.map((b) => b.numRows)).to.deep.equal([4096, 4096, 1808]);
    const { g, s } = columnsOf(batches);
    expect(g).to.deep.equal(Array.from({ length: 10_000 }, (_, i) => BigInt(i + 1)));
    expect(s).to.deep.equal(Array.from({ length: 10_000 }, (_, i) => String(i + 1)));
  });

  it('decodes the same whatever byte boundaries the chunks fall on', async () => {
    const columns = await columnsOfQuery(EVERY_TYPE);
    const stream = await copyOut(EVERY_TYPE);
    const decoder = new CopyBinaryDecoder(columns, 3);
    const batches: RecordBatch[] = [];
    for (let i = 0; i < stream.length; i++) batches.push(...decoder.push(stream.subarray(i, i + 1)));
    batches.push(...decoder.finish());
    expect(batches.map((b) => b.numRows)).to.deep.equal([3, 1]);
    expect(columnsOf(batches)).to.deep.equal(EXPECTED);
  });

  it('rejects a stream that ends early', async () => {
    const columns = await columnsOfQuery(EVERY_TYPE);
    const stream = await copyOut(EVERY_TYPE);
    const decode = (bytes: Buffer) => () => {
      const decoder = new CopyBinaryDecoder(columns);
      decoder.push(bytes);
      decoder.finish();
    };
    expect(decode(stream.subarray(0, stream.length - 2))).to.throw('without its trailer');
    expect(decode(stream.subarray(0, stream.length - 7))).to.throw('in the middle of a tuple');
    expect(decode(stream.subarray(0, 10))).to.throw('in its header');
    expect(decode(Buffer.from('not a copy stream at all'))).to.throw('bad signature');
  });

  it('rejects multi-dimensional arrays', async () => {
    const sql = `SELECT '{{1,2},{3,4}}'::int4[] AS m`;
    const columns = await columnsOfQuery(sql);
    const stream = await copyOut(sql);
    expect(() => new CopyBinaryDecoder(columns).push(stream)).to.throw('2-dimensional arrays');
  });

  it('names the column whose type it cannot return', async () => {
    const columns = await columnsOfQuery('SELECT 1 AS ok, point(1, 2) AS p');
    expect(() => schemaForColumns(columns)).to.throw('column "p" has PostgreSQL type oid 600, which larder cannot return as Arrow');
    expect(() => new CopyBinaryDecoder(columns)).to.throw('column "p"');
    expect(() => arrowTypeForPg(600, 'q')).to.throw('column "q"');
  });

  describe('round trip: Arrow → COPY FROM → COPY TO → Arrow', () => {
    const tsValues = (values: (bigint | null)[], type: Timestamp | DateMillisecond) =>
      makeVector(
        makeData({
          type: type as Timestamp,
          length: values.length,
          nullCount: values.filter((v) => v === null).length,
          nullBitmap: bitmap(values.map((v) => v !== null)),
          data: BigInt64Array.from(values, (v) => v ?? 0n),
        }),
      );
    const listOf = (type: DataType) => new List(new Field('item', type, true));
    const ts = (iso: string) => us(iso);

    // Each column: [name, vector, the values the decoder returns for it].
    const COLUMNS: [string, Vector, unknown[]][] = [
      ['i8', vectorFromArray([-128, 127, null, 0], new Int8()), [-128, 127, null, 0]],
      ['i16', vectorFromArray([-32768, 32767, null, 5], new Int16()), [-32768, 32767, null, 5]],
      ['i32', vectorFromArray([-2147483648, 2147483647, null, 5], new Int32()), [-2147483648, 2147483647, null, 5]],
      ['i64', vectorFromArray([-(2n ** 63n), 2n ** 63n - 1n, null, -5n], new Int64()), [-(2n ** 63n), 2n ** 63n - 1n, null, -5n]],
      ['u8', vectorFromArray([0, 255, null, 1], new Uint8()), [0, 255, null, 1]],
      ['u16', vectorFromArray([0, 65535, null, 1], new Uint16()), [0, 65535, null, 1]],
      ['u32', vectorFromArray([0, 4294967295, null, 1], new Uint32()), [0n, 4294967295n, null, 1n]],
      ['f16', vectorFromArray([1.5, -0.25, null, 65504], new Float16()), [1.5, -0.25, null, 65504]],
      ['f32', vectorFromArray([1.5, NaN, null, -Infinity], new Float32()), [1.5, NaN, null, -Infinity]],
      ['f64', vectorFromArray([0.1, -1e300, null, NaN], new Float64()), [0.1, -1e300, null, NaN]],
      ['b', vectorFromArray([true, false, null, true], new Bool()), [true, false, null, true]],
      ['s', vectorFromArray(['héllo 🎉', '', null, 'x'.repeat(100)], new Utf8()), ['héllo 🎉', '', null, 'x'.repeat(100)]],
      ['ls', vectorFromArray(['a', null, 'b', ''], new LargeUtf8()), ['a', null, 'b', '']],
      ['bin', vectorFromArray([Uint8Array.of(0, 255), Uint8Array.of(), null, Uint8Array.of(7)], new Binary()), ['00ff', '', null, '07']],
      [
        'lbin',
        vectorFromArray([null, Uint8Array.of(1), Uint8Array.of(2, 3), Uint8Array.of()], new LargeBinary()),
        [null, '01', '0203', ''],
      ],
      [
        'ts_s',
        tsValues([-1n, 0n, null, 1_700_000_000n], new Timestamp(TimeUnit.SECOND, 'UTC')),
        [-1_000_000n, 0n, null, 1_700_000_000_000_000n],
      ],
      [
        'ts_ms',
        tsValues([-1n, 946_684_800_001n, null, 5n], new Timestamp(TimeUnit.MILLISECOND)),
        [-1000n, 946_684_800_001_000n, null, 5000n],
      ],
      [
        'ts_us',
        tsValues(
          [ts('1969-07-20T20:17:40.123456Z'), ts('2024-02-29T12:34:56.789012Z'), null, 0n],
          new Timestamp(TimeUnit.MICROSECOND, 'UTC'),
        ),
        [ts('1969-07-20T20:17:40.123456Z'), ts('2024-02-29T12:34:56.789012Z'), null, 0n],
      ],
      [
        'ts_ns',
        tsValues([-1n, 1_999n, null, 1_700_000_000_123_456_789n], new Timestamp(TimeUnit.NANOSECOND, 'America/New_York')),
        [-1n, 1n, null, 1_700_000_000_123_456n],
      ],
      [
        'd32',
        vectorFromArray([new Date(Date.UTC(1999, 11, 31)), new Date(Date.UTC(2500, 5, 15)), null, new Date(0)], new DateDay()),
        [ts('1999-12-31T00:00:00Z'), ts('2500-06-15T00:00:00Z'), null, 0n],
      ],
      [
        'd64',
        tsValues([BigInt(Date.UTC(1950, 0, 2)), null, 0n, -1n], new DateMillisecond()),
        [ts('1950-01-02T00:00:00Z'), null, 0n, ts('1969-12-31T00:00:00Z')],
      ],
      ['dict', vectorFromArray(['red', 'blue', null, 'red'], new Dictionary(new Utf8(), new Int32())), ['red', 'blue', null, 'red']],
      ['l_i32', vectorFromArray([[1, null, 3], [], null, [-1]], listOf(new Int32())), [[1, null, 3], [], null, [-1]]],
      ['l_s', vectorFromArray([['a', 'é'], null, [null], []], listOf(new Utf8())), [['a', 'é'], null, [null], []]],
      ['l_i64', vectorFromArray([[2n ** 62n], [], null, [null, -1n]], listOf(new Int64())), [[2n ** 62n], [], null, [null, -1n]]],
      ['l_b', vectorFromArray([[true, null], [false], null, []], listOf(new Bool())), [[true, null], [false], null, []]],
      ['l_u8', vectorFromArray([[255], [], null, [0]], listOf(new Uint8())), [[255], [], null, [0]]],
      [
        'll_f64',
        vectorFromArray([[1.5, NaN], [], null, [null]], new LargeList(new Field('item', new Float64(), true))),
        [[1.5, NaN], [], null, [null]],
      ],
      ['l_d', vectorFromArray([[new Date(0)], null, [], [null]], listOf(new DateDay())), [[0n], null, [], [null]]],
    ];

    it('writes and reads back every encodable type', async () => {
      // The list of timestamps needs a hand-built child (vectorFromArray takes ms numbers only).
      const tsChild = makeData({
        type: new Timestamp(TimeUnit.MICROSECOND, 'UTC'),
        length: 3,
        nullCount: 1,
        nullBitmap: bitmap([true, false, true]),
        data: BigInt64Array.of(1n, 0n, -1n),
      });
      const lTs = makeVector(
        makeData({
          type: listOf(tsChild.type),
          length: 4,
          nullCount: 1,
          nullBitmap: bitmap([true, true, false, true]),
          valueOffsets: Int32Array.of(0, 2, 2, 2, 3),
          child: tsChild,
        }),
      );
      const columns: [string, Vector, unknown[]][] = [...COLUMNS, ['l_tstz', lTs, [[1n, null], [], null, [-1n]]]];
      const table = new Table(Object.fromEntries(columns.map(([name, vector]) => [name, vector])));
      const expected = Object.fromEntries(columns.map(([name, , values]) => [name, values]));

      const ddl = table.schema.fields.map((f) => `"${f.name}" ${pgTypeForArrow(f.type, f.name)}`).join(', ');
      await client.query(`CREATE TEMP TABLE rt (${ddl})`);
      // Small chunks, so tuples straddle them; then the same rows again from a sliced table, so
      // Data offsets (bitmaps, bools, value offsets) are exercised, through the async variant.
      const chunks = [...encodeCopyBinary(table, 64)];
      expect(chunks.length).to.be.greaterThan(4);
      await pipeline(Readable.from(chunks), client.query(copyFrom('COPY rt FROM STDIN (FORMAT binary)')));
      async function* later(batches: RecordBatch[]) {
        for (const batch of batches) yield await Promise.resolve(batch);
      }
      const stream = encodeCopyBinaryStream(later(table.slice(1).batches), 64);
      await pipeline(Readable.from(stream), client.query(copyFrom('COPY rt FROM STDIN (FORMAT binary)')));

      const back = columnsOf(await query('SELECT * FROM rt'));
      const twice = Object.fromEntries(Object.entries(expected).map(([name, values]) => [name, [...values, ...values.slice(1)]]));
      expect(back).to.deep.equal(twice);
    });

    it('names the column whose Arrow type it cannot write', () => {
      expect(() => pgTypeForArrow(new Uint64(), 'big')).to.throw('column "big" has Arrow type Uint64');
      expect(() => pgTypeForArrow(listOf(listOf(new Int32())), 'nested')).to.throw('column "nested"');
      const table = new Table({ big: vectorFromArray([1n], new Uint64()) });
      expect(() => [...encodeCopyBinary(table)]).to.throw('column "big"');
    });

    it('maps Arrow types to the SQL types Feast expects', () => {
      expect(pgTypeForArrow(new Int8(), 'c')).to.equal('smallint');
      expect(pgTypeForArrow(new Uint16(), 'c')).to.equal('integer');
      expect(pgTypeForArrow(new Uint32(), 'c')).to.equal('bigint');
      expect(pgTypeForArrow(new Float16(), 'c')).to.equal('real');
      expect(pgTypeForArrow(new Timestamp(TimeUnit.NANOSECOND, 'UTC'), 'c')).to.equal('timestamptz');
      expect(pgTypeForArrow(new Timestamp(TimeUnit.SECOND), 'c')).to.equal('timestamp');
      expect(pgTypeForArrow(new Dictionary(new LargeUtf8(), new Int8()), 'c')).to.equal('text');
      expect(pgTypeForArrow(new LargeList(new Field('x', new Float64())), 'c')).to.equal('double precision[]');
      expect(pgTypeForArrow(listOf(new DateMillisecond()), 'c')).to.equal('date[]');
    });
  });

  it('names types as Feast does', () => {
    const codes = Array.from({ length: 4000 }, (_, i) => i);
    // Importing feast takes seconds: run just that function's source, taken from the installed module.
    const script = [
      'import ast, importlib.util, json, os',
      "path = os.path.join(importlib.util.find_spec('feast').submodule_search_locations[0], 'type_map.py')",
      'tree = ast.parse(open(path).read())',
      "fn = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == 'pg_type_code_to_pg_type']",
      'scope = {}',
      "exec(compile(ast.Module(body=fn, type_ignores=[]), path, 'exec'), scope)",
      `print(json.dumps([scope['pg_type_code_to_pg_type'](c) for c in range(${codes.length})]))`,
    ].join('\n');
    const feast = JSON.parse(execFileSync(feastPython().python, ['-c', script], { encoding: 'utf8' })) as string[];
    expect(codes.map(pgTypeNameForOid)).to.deep.equal(feast);
    expect(pgTypeNameForOid(1184)).to.equal('timestamp with time zone');
    expect(pgTypeNameForOid(600)).to.equal('unknown');
  });
});

/** A validity bitmap (bit set = valid). */
function bitmap(valid: boolean[]): Uint8Array {
  const bits = new Uint8Array((valid.length + 7) >> 3);
  valid.forEach((v, i) => {
    if (v) bits[i >> 3]! |= 1 << (i & 7);
  });
  return bits;
}
