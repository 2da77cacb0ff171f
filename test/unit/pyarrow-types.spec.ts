/** Arrow types rendered as pyarrow's str(type); the expected strings were printed by pyarrow itself. */
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Duration,
  Field,
  Float16,
  Float32,
  Float64,
  Int64,
  Int8,
  LargeUtf8,
  List,
  Map_,
  Struct,
  TimeUnit,
  Timestamp,
  Uint32,
  Utf8,
  Int32,
  type DataType,
} from 'apache-arrow';
import { expect } from 'chai';
import { pyarrowTypeString } from '../../core/src/arrow/pyarrow-types.ts';

const list = (t: DataType) => new List(new Field('item', t, true));

const cases: Array<[DataType, string]> = [
  [new Int8(), 'int8'],
  [new Int64(), 'int64'],
  [new Uint32(), 'uint32'],
  [new Float16(), 'halffloat'],
  [new Float32(), 'float'],
  [new Float64(), 'double'],
  [new Bool(), 'bool'],
  [new Utf8(), 'string'],
  [new LargeUtf8(), 'large_string'],
  [new Binary(), 'binary'],
  [new Timestamp(TimeUnit.MICROSECOND, 'UTC'), 'timestamp[us, tz=UTC]'],
  [new Timestamp(TimeUnit.NANOSECOND), 'timestamp[ns]'],
  [new Timestamp(TimeUnit.SECOND, '+01:00'), 'timestamp[s, tz=+01:00]'],
  [new DateDay(), 'date32[day]'],
  [list(new Int64()), 'list<item: int64>'],
  [
    new Map_<Utf8, Utf8>(
      new Field(
        'entries',
        new Struct<{ key: Utf8; value: Utf8 }>([new Field('key', new Utf8(), false), new Field('value', new Utf8(), true)]),
        false,
      ),
    ),
    'map<string, string>',
  ],
  [new Struct([new Field('name', new Utf8(), true), new Field('age', new Int32(), true)]), 'struct<name: string, age: int32>'],
  [new Decimal(2, 10, 128), 'decimal128(10, 2)'],
  [new Duration(TimeUnit.MICROSECOND), 'duration[us]'],
  [list(list(new Float32())), 'list<item: list<item: float>>'],
];

describe('pyarrow type strings', () => {
  for (const [type, expected] of cases) {
    it(`${expected}`, () => {
      expect(pyarrowTypeString(new Field('c', type, true))).to.equal(expected);
    });
  }
});
