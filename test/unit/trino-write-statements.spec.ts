/**
 * The trino store's write statements without a Trino: Arrow values as the texts Trino casts back
 * (exact for every width and unit), the DDL types of new columns per connector, which Arrow types
 * go into which Trino columns, and INSERT statements bounded in size with every row in exactly
 * one of them. test/integration/trino-writes.spec.ts runs the same statements on a real Trino.
 */
import {
  Binary,
  DateDay,
  Decimal,
  Dictionary,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  makeData,
  makeVector,
  Table,
  TimeUnit,
  Timestamp,
  Uint64,
  Utf8,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { expect } from 'chai';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import { insertStatements } from '../../plugins/trino/src/insert-statements.ts';
import { parseTrinoType, trinoTypeForArrow } from '../../plugins/trino/src/trino-types.ts';
import { textWriter } from '../../plugins/trino/src/value-text.ts';
import { checkValues, planColumns, writable } from '../../plugins/trino/src/write-columns.ts';

/** Every value of `vector` as its text for a column of Trino type `target`. */
function texts(vector: Vector, target = 'varchar'): unknown[] {
  const write = textWriter(vector.type, parseTrinoType(target));
  return vector.data.flatMap((data) => Array.from({ length: data.length }, (_, i) => write(data, i)));
}

const int64s = (values: bigint[], type: DataType = new Int64()) =>
  makeVector(makeData({ type: type as Int64, length: values.length, nullCount: 0, data: new BigInt64Array(values) }));

describe('trino writes: value texts', () => {
  it('floats round-trip, non-finite ones as Java spells them, float32 by its exact double', () => {
    expect(texts(vectorFromArray([0.1, Number.NaN, Infinity, -Infinity, -0, 1e21, 5e-324, null], new Float64()))).to.deep.equal([
      '0.1',
      'NaN',
      'Infinity',
      '-Infinity',
      '-0.0',
      '1e+21',
      '5e-324',
      null,
    ]);
    expect(texts(vectorFromArray([0.1], new Float32()))).to.deep.equal([String(Math.fround(0.1))]);
  });

  it('integers beyond 2^53 and uint64 beyond bigint keep every digit', () => {
    expect(texts(int64s([9_007_199_254_740_993n, -(2n ** 63n)]))).to.deep.equal(['9007199254740993', '-9223372036854775808']);
    expect(texts(int64s([-1n], new Uint64()))).to.deep.equal(['18446744073709551615']);
  });

  it('decimals from their unscaled two’s-complement integers', () => {
    const words = new Uint32Array([12_345, 0, 0, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 5, 0, 0, 0]);
    const vector = makeVector(makeData({ type: new Decimal(3, 10, 128), length: 3, nullCount: 0, data: words }));
    expect(texts(vector)).to.deep.equal(['12.345', '-0.001', '0.005']);
  });

  it('timestamps keep their unit’s digits, before the epoch too; ` UTC` only for a zoned target', () => {
    const nanos = makeVector(
      makeData({ type: new Timestamp(TimeUnit.NANOSECOND), length: 2, nullCount: 0, data: new BigInt64Array([1n, -1n]) }),
    );
    expect(texts(nanos, 'timestamp(9)')).to.deep.equal(['1970-01-01 00:00:00.000000001', '1969-12-31 23:59:59.999999999']);
    expect(texts(nanos, 'timestamp(3) with time zone')).to.deep.equal([
      '1970-01-01 00:00:00.000000001 UTC',
      '1969-12-31 23:59:59.999999999 UTC',
    ]);
    const seconds = makeVector(
      makeData({ type: new Timestamp(TimeUnit.SECOND, 'UTC'), length: 1, nullCount: 0, data: new BigInt64Array([86_400n]) }),
    );
    expect(texts(seconds, 'timestamp(0)')).to.deep.equal(['1970-01-02 00:00:00']);
  });

  it('dates, binary as base64, dictionaries by value, lists (fixed-size too) as arrays of texts', () => {
    expect(texts(vectorFromArray([new Date('2024-02-29T00:00:00Z'), null], new DateDay()))).to.deep.equal(['2024-02-29', null]);
    expect(texts(vectorFromArray([new Uint8Array([0, 255])], new Binary()))).to.deep.equal(['AP8=']);
    const dictionary = vectorFromArray(['b', 'a', 'b', null], new Dictionary(new Utf8(), new Int32()));
    expect(texts(dictionary)).to.deep.equal(['b', 'a', 'b', null]);
    const lists = vectorFromArray([[1, null], [], null], new List(new Field('item', new Int32(), true)));
    expect(texts(lists, 'array(integer)')).to.deep.equal([['1', null], [], null]);
    const pairs = vectorFromArray(
      [
        [1, 2],
        [3, 4],
      ],
      new FixedSizeList(2, new Field('item', new Int32(), true)),
    );
    expect(texts(pairs.slice(1), 'array(integer)')).to.deep.equal([['3', '4']]);
  });
});

describe('trino writes: types', () => {
  it("new columns' DDL types follow the catalog's connector", () => {
    const zoned = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
    expect(trinoTypeForArrow(zoned, 't', 'hive')).to.equal('timestamp(3)');
    expect(trinoTypeForArrow(zoned, 't', 'iceberg')).to.equal('timestamp(6) with time zone');
    expect(trinoTypeForArrow(zoned, 't', 'memory')).to.equal('timestamp(6) with time zone');
    expect(trinoTypeForArrow(new Timestamp(TimeUnit.NANOSECOND), 't', 'memory')).to.equal('timestamp(9)');
    expect(trinoTypeForArrow(new List(new Field('item', new Utf8(), true)), 'l', 'hive')).to.equal('array(varchar)');
    expect(trinoTypeForArrow(new Uint64(), 'u', 'hive')).to.equal('decimal(20, 0)');
    expect(trinoTypeForArrow(new Dictionary(new Utf8(), new Int32()), 'd', 'hive')).to.equal('varchar');
  });

  it('parses the type names Trino reports', () => {
    expect(parseTrinoType('timestamp(3) with time zone')).to.deep.include({ base: 'timestamp', args: [3], withTimeZone: true });
    expect(parseTrinoType('decimal(10, 2)')).to.deep.include({ base: 'decimal', args: [10, 2] });
    expect(parseTrinoType('array(array(varchar(4)))').element!.element).to.deep.include({ base: 'varchar', args: [4] });
  });

  it('refuses Arrow types that would change meaning in a column', () => {
    const t = (text: string) => parseTrinoType(text);
    expect(writable(new Utf8(), t('double'))).to.equal(false);
    expect(writable(new Float64(), t('bigint'))).to.equal(false);
    expect(writable(new Int64(), t('double'))).to.equal(true);
    expect(writable(new Timestamp(TimeUnit.SECOND), t('date'))).to.equal(false);
    expect(writable(new List(new Field('item', new Utf8(), true)), t('array(integer)'))).to.equal(false);
    expect(writable(new List(new Field('item', new Int32(), true)), t('array(bigint)'))).to.equal(true);
  });
});

describe('trino writes: INSERT statements', () => {
  const table = (n: number) =>
    new Table({
      id: vectorFromArray(
        Array.from({ length: n }, (_, i) => i),
        new Int32(),
      ),
      note: vectorFromArray(
        Array.from({ length: n }, (_, i) => `it's row ${i}`),
        new Utf8(),
      ),
    });
  const columns = [
    { name: 'id', type: 'integer' },
    { name: 'note', type: 'varchar' },
  ];

  it('splits rows into statements no longer than the bound, every row in exactly one, in order', () => {
    const rows = table(500);
    const plans = planColumns(rows.schema, ['id', 'note'], columns, 'w', 't');
    const statements = insertStatements('t', plans, rows, 2_000);
    expect(statements.length).to.be.within(5, 15);
    const ids: number[] = [];
    for (const sql of statements) {
      expect(sql.length).to.be.at.most(2_000);
      expect(sql).to.match(
        /^INSERT INTO t \("id", "note"\)\nSELECT CAST\(c0 AS integer\), CAST\(c1 AS varchar\)\nFROM UNNEST\(CAST\(json_parse\('/,
      );
      const json = sql.slice(sql.indexOf("json_parse('") + 12, sql.indexOf("') AS array(row(")).replaceAll("''", "'");
      for (const [id, note] of JSON.parse(json) as [string, string][]) {
        expect(note).to.equal(`it's row ${id}`);
        ids.push(Number(id));
      }
    }
    expect(ids).to.deep.equal(Array.from({ length: 500 }, (_, i) => i));
  });

  it('sends varbinary as base64 and arrays through transform()', () => {
    const rows = new Table({
      b: vectorFromArray([new Uint8Array([1])], new Binary()),
      l: vectorFromArray([[[1]]], new List(new Field('item', new List(new Field('item', new Int32(), true)), true))),
    });
    const [sql] = insertStatements(
      't',
      planColumns(
        rows.schema,
        ['b', 'l'],
        [
          { name: 'b', type: 'varbinary' },
          { name: 'l', type: 'array(array(integer))' },
        ],
        'w',
        't',
      ),
      rows,
    );
    expect(sql).to.include('SELECT from_base64(c0), transform(c1, x0 -> transform(x0, x1 -> CAST(x1 AS integer)))');
    expect(sql).to.include('json_parse(\'[["AQ==",[["1"]]]]\') AS array(row(c0 varchar, c1 array(array(varchar))))');
  });

  it('checks integer ranges and decimal integer digits, negative values included', () => {
    // 12.345 and -123456.789 (decimal(10, 3)) into decimal(5, 2): three integer digits at most.
    const words = new Uint32Array([12_345, 0, 0, 0, ...new Uint32Array(new BigInt64Array([-123_456_789n, -1n]).buffer)]);
    const amounts = makeVector(makeData({ type: new Decimal(3, 10, 128), length: 2, nullCount: 0, data: words }));
    const rows = new Table({ amount: amounts, n: int64s([-(2n ** 31n), -(2n ** 31n) - 1n]) });
    const plan = (amount: string, n: string) =>
      planColumns(
        rows.schema,
        ['amount', 'n'],
        [
          { name: 'amount', type: amount },
          { name: 'n', type: n },
        ],
        'w',
        't',
      );
    expect(() => checkValues(rows, plan('decimal(5, 2)', 'bigint'), 'w', 't')).to.throw(
      InvalidArgumentError,
      'w: column "amount" row 2: the value is out of range (more than 3 integer digits)',
    );
    expect(() => checkValues(rows, plan('decimal(9, 3)', 'integer'), 'w', 't')).to.throw(
      InvalidArgumentError,
      'w: column "n" row 2: -2147483649 is out of range',
    );
    expect(() => checkValues(rows, plan('decimal(9, 3)', 'bigint'), 'w', 't')).not.to.throw();
  });

  it('refuses a row larger than a statement, and values a column cannot hold, before any statement', () => {
    const rows = table(3);
    const plans = planColumns(rows.schema, ['id', 'note'], columns, 'w', 't');
    expect(() => insertStatements('t', plans, rows, 175)).to.throw(InvalidArgumentError, /^row 1 alone takes \d+ characters of SQL/);
    const narrow = planColumns(
      rows.schema,
      ['id', 'note'],
      [
        { name: 'id', type: 'integer' },
        { name: 'note', type: 'varchar(8)' },
      ],
      'w',
      't',
    );
    expect(() => checkValues(rows, narrow, 'w', 't')).to.throw(
      InvalidArgumentError,
      'w: column "note" row 1: a string of 10 characters is too long for table t\'s column of Trino type varchar(8); nothing was written',
    );
  });
});
