/**
 * Incoming Arrow IPC messages are verified before apache-arrow reads them (issue 16, defect 1):
 * valid messages of every type pass, from larder's encoder and from apache-arrow's own writer;
 * hostile ones fail quickly with InvalidArgumentError naming what was wrong; random mutations of
 * valid messages either fail that way or decode into arrays every value of which can be read.
 */
import {
  BinaryView,
  Decimal,
  DenseUnion,
  Dictionary,
  Field,
  FixedSizeBinary,
  Int32,
  Int8,
  Interval,
  IntervalUnit,
  LargeList,
  List,
  Null,
  RecordBatch,
  Schema,
  SparseUnion,
  Table,
  TimeNanosecond,
  TimeSecond,
  Utf8,
  Utf8View,
  makeData,
  makeVector,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import { IpcStreamChecker } from '../../packages/flight/src/ipc-batch-check.ts';
import { IpcDataError, verifyMessage } from '../../packages/flight/src/ipc-verify.ts';
import {
  concatBody,
  decodeFlightStream,
  FlightDataEncoder,
  framedSchema,
  parseFramedSchema,
  type FlightDataFrame,
} from '../../packages/flight/src/ipc.ts';
import { sampleTable, tableValues } from '../support/arrow-samples.ts';
import { feastPython } from '../support/feast-python.ts';
import {
  batchBuffer,
  batchTable,
  batchVectorLength,
  fieldAt,
  follow,
  headerTable,
  nestedListSchema,
  patched,
  rootTable,
  schemaWithBody,
  sharedTreeSchema,
  streamFrames,
  withBatchInt64,
  withBufferCount,
  withFirstFieldTypeType,
  withHeaderType,
  withUnterminatedName,
  writerFrames,
} from '../support/ipc-craft.ts';

async function decodeAll(list: readonly FlightDataFrame[]): Promise<Table> {
  async function* frames() {
    yield* list;
  }
  const decoded = await decodeFlightStream(frames());
  const out: RecordBatch[] = [];
  for await (const b of decoded.batches) out.push(b);
  return new Table(decoded.schema, out);
}

/**
 * Reads every value of every column, the way a consumer would. apache-arrow refuses to convert an
 * int64 beyond 2^53 to a JS number (a date64 of year 285,000): a fact about one value, not about
 * the message's structure, so that one error is tolerated here (the column is read no further).
 */
function readEverything(table: Table): number {
  let n = 0;
  for (const column of table.schema.fields.map((_, i) => table.getChildAt(i)!)) {
    try {
      for (const value of column as Vector) {
        void value;
        n++;
      }
    } catch (error) {
      if (!(error instanceof TypeError && /is not safe to convert to a number/.test(error.message))) throw error;
    }
  }
  return n;
}

/** Larder's encoder: schema, then each batch's dictionaries and the batch. */
function encoderFrames(table: Table, batches: readonly RecordBatch[] = table.batches): FlightDataFrame[] {
  const encoder = new FlightDataEncoder(table.schema);
  const messages = [encoder.schemaMessage(), ...batches.flatMap((b) => encoder.batchMessages(b))];
  return messages.map((m) => ({ dataHeader: m.header, dataBody: concatBody(m.body) }));
}

/** Columns of the types sampleTable lacks: unions, views, more decimals, intervals, times, ... */
function extraTable(n: number): Table {
  const ints = vectorFromArray(
    Array.from({ length: n }, (_, i) => i),
    new Int32(),
  ).data[0]!;
  const strs = vectorFromArray(
    Array.from({ length: n }, (_, i) => `s${i}`),
    new Utf8(),
  ).data[0]!;
  const unionFields = [new Field('i', new Int32(), true), new Field('s', new Utf8(), true)];
  const typeIds = Int8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const denseOffsets = new Int32Array(n);
  const seen = [0, 0];
  typeIds.forEach((t, i) => (denseOffsets[i] = seen[t]!++));
  const dense = makeData({ type: new DenseUnion([0, 1], unionFields), typeIds, valueOffsets: denseOffsets, children: [ints, strs] });
  const sparse = makeData({ type: new SparseUnion([0, 1], unionFields), typeIds, children: [ints, strs] });
  const words = Array.from({ length: n }, (_, i) => (i % 5 === 4 ? null : i % 2 ? `short${i}` : `a value longer than twelve bytes #${i}`));
  return new Table({
    dense_union: makeVector(dense),
    sparse_union: makeVector(sparse),
    utf8_view: vectorFromArray(words, new Utf8View()),
    binary_view: vectorFromArray(
      words.map((w) => (w === null ? null : new TextEncoder().encode(w))),
      new BinaryView(),
    ),
    decimal256: makeVector(makeData({ type: new Decimal(3, 60, 256), length: n, data: Uint32Array.from({ length: n * 8 }, (_, i) => i) })),
    decimal64: makeVector(
      makeData({ type: new Decimal(2, 12, 64), length: n, data: Uint32Array.from({ length: n * 2 }, (_, i) => (i % 2 ? 0 : i)) }),
    ),
    interval_ym: makeVector(
      makeData({ type: new Interval(IntervalUnit.YEAR_MONTH), length: n, data: Int32Array.from({ length: n }, (_, i) => i) }),
    ),
    interval_mdn: makeVector(makeData({ type: new Interval(IntervalUnit.MONTH_DAY_NANO), length: n, data: new Int32Array(n * 4).fill(3) })),
    time_s: vectorFromArray(
      Array.from({ length: n }, (_, i) => i),
      new TimeSecond(),
    ),
    time_ns: makeVector(
      makeData({ type: new TimeNanosecond(), length: n, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1000n) }),
    ),
    fixed_binary: makeVector(makeData({ type: new FixedSizeBinary(3), length: n, data: Uint8Array.from({ length: n * 3 }, (_, i) => i) })),
    large_list: vectorFromArray(
      Array.from({ length: n }, (_, i) => Array.from({ length: i % 3 }, (_, k) => i + k)),
      new LargeList(new Field('item', new Int32(), true)),
    ),
    dict8: vectorFromArray(
      Array.from({ length: n }, (_, i) => ['p', 'q', null][i % 3]!),
      new Dictionary(new Utf8(), new Int8()),
    ),
  });
}

/** IPC streams written by pyarrow (test/fixtures/pyarrow-ipc-streams.py), base64 by name. */
function pyarrowStreams(): Record<string, string> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'pyarrow-ipc-streams.py');
  return JSON.parse(execFileSync(feastPython().python, [script], { maxBuffer: 64 << 20 }).toString()) as Record<string, string>;
}

const json = (x: unknown) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v));

/** Runs `fn`, expecting an InvalidArgumentError; returns it and how long it took. */
async function rejected(fn: () => Promise<unknown>): Promise<{ error: InvalidArgumentError; ms: number }> {
  const started = performance.now();
  try {
    await fn();
  } catch (error) {
    const ms = performance.now() - started;
    if (!(error instanceof InvalidArgumentError)) throw error;
    return { error, ms };
  }
  throw new Error('expected an InvalidArgumentError, but the messages were accepted');
}

describe('flight/ipc: verification of incoming IPC messages', function () {
  this.timeout(60_000);

  describe('valid messages pass', () => {
    const cases: Array<[string, () => Table]> = [
      [
        'every type of sampleTable (primitives, utf8, large utf8, lists, structs, maps, dictionaries, timestamps with tz, decimal)',
        () => sampleTable(37),
      ],
      ['unions, view types, decimal256/64, intervals, times, fixed-size binary, large lists, int8 dictionaries', () => extraTable(23)],
      ['zero rows', () => sampleTable(0)],
    ];
    for (const [name, make] of cases) {
      it(`${name}, from larder's encoder`, async () => {
        const table = make();
        // (larder's encoder is never given apache-arrow's placeholder batch of an empty table)
        const back = await decodeAll(encoderFrames(table, table.numRows ? table.batches : []));
        expect(back.numRows).to.equal(table.numRows);
        expect(json(tableValues(back))).to.equal(json(tableValues(table)));
      });
      it(`${name}, from apache-arrow's own stream writer`, async () => {
        const table = make();
        const back = await decodeAll(writerFrames(table));
        expect(back.numRows).to.equal(table.numRows);
        expect(json(tableValues(back))).to.equal(json(tableValues(table)));
      });
    }

    it('slices that start mid-byte, empty batches, dictionary replacements', async () => {
      const table = sampleTable(50);
      const batch = table.batches[0]!;
      const back = await decodeAll(encoderFrames(table, [batch.slice(0, 13), batch.slice(13, 13), batch.slice(13, 50)]));
      expect(json(tableValues(back))).to.equal(json(tableValues(table)));
      const type = new Dictionary(new Utf8(), new Int32(), 0);
      const one = new RecordBatch({ d: vectorFromArray(['x', 'y'], type).data[0]! });
      const two = new RecordBatch({ d: vectorFromArray(['p', 'q', 'p'], type).data[0]! });
      const replaced = await decodeAll(encoderFrames(new Table([one, two]), [one, two]));
      expect(replaced.getChild('d')!.toArray()).to.deep.equal(['x', 'y', 'p', 'q', 'p']);
    });

    it("pyarrow's streams (Feast's writer): every shared type, views, unions, decimal32..256, deltas, V4, slices", async function () {
      this.timeout(120_000);
      const streams = pyarrowStreams();
      const rows: Record<string, number> = {};
      for (const [name, base64] of Object.entries(streams)) {
        const frames = streamFrames(new Uint8Array(Buffer.from(base64, 'base64')));
        const table = await decodeAll(frames);
        rows[name] = table.numRows;
        expect(readEverything(table), name).to.equal(table.numRows * table.numCols);
        if (name !== 'deltas') {
          const n = table.numRows;
          const offset =
            name === 'slices' ? [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 17, 18, 19, 20, 21, 22] : Array.from({ length: n }, (_, i) => i);
          const expected = offset.map((i) => (i % 5 === 4 ? null : `välue${i}`.repeat(i % 4)));
          expect(table.getChild('str')!.toArray(), name).to.deep.equal(expected);
        }
      }
      expect(rows).to.deep.equal({ all: 23, deltas: 7, v4: 23, slices: 17 });
      const deltas = await decodeAll(streamFrames(new Uint8Array(Buffer.from(streams.deltas!, 'base64'))));
      expect(deltas.getChild('d')!.toArray()).to.deep.equal(['a', 'b', null, 'a', 'b', 'c', 'd']);
    });

    it('a schema nested 60 deep (under the limit of 64)', () => {
      expect(verifyMessage(nestedListSchema(59)).type).to.equal('schema');
    });
  });

  describe('hostile messages fail fast, with what was wrong', () => {
    const table = sampleTable(16);
    const [schema, dictionary, batch] = encoderFrames(table) as [FlightDataFrame, FlightDataFrame, FlightDataFrame];
    const withBatchHeader = (header: Uint8Array) => [schema, dictionary, { dataHeader: header, dataBody: batch.dataBody }];

    it('a RecordBatch header whose buffers vector claims 2^27 entries: no allocation, an exact message', async () => {
      const hostile = withBufferCount(batch.dataHeader, 2 ** 27);
      const heapBefore = process.memoryUsage().heapUsed;
      const { error, ms } = await rejected(() => decodeAll(withBatchHeader(hostile)));
      const grown = process.memoryUsage().heapUsed - heapBefore;
      expect(error.message).to.match(
        /^Invalid Arrow IPC data in FlightData message #3: the RecordBatch header's buffers vector declares 134217728 entries but only \d+ bytes follow$/,
      );
      expect(ms).to.be.lessThan(1000);
      expect(grown).to.be.lessThan(64 * 1024 * 1024);
    });

    it('a nodes vector that claims 2^27 entries', async () => {
      const hostile = patched(batch.dataHeader, (v) =>
        v.setUint32(follow(batch.dataHeader, fieldAt(batch.dataHeader, batchTable(batch.dataHeader), 1)), 2 ** 27, true),
      );
      const { error } = await rejected(() => decodeAll(withBatchHeader(hostile)));
      expect(error.message).to.match(/the RecordBatch header's nodes vector declares 134217728 entries but only \d+ bytes follow/);
    });

    it('offsets past the end: the root offset, the header offset', async () => {
      const root = patched(batch.dataHeader, (v) => v.setUint32(0, 1_000_000, true));
      expect((await rejected(() => decodeAll(withBatchHeader(root)))).error.message).to.match(
        /the offset to the Message at byte 0 points to byte 1000000, past the end of the \d+-byte buffer/,
      );
      const headerOffset = fieldAt(batch.dataHeader, rootTable(batch.dataHeader), 2);
      const header = patched(batch.dataHeader, (v) => v.setUint32(headerOffset, 0x7fff_fff0, true));
      expect((await rejected(() => decodeAll(withBatchHeader(header)))).error.message).to.match(
        /the offset to the RecordBatch header at byte \d+ points to byte \d+, past the end/,
      );
    });

    it('a vtable past the end', async () => {
      const at = rootTable(batch.dataHeader);
      const hostile = patched(batch.dataHeader, (v) => v.setInt32(at, -100_000, true));
      const { error } = await rejected(() => decodeAll(withBatchHeader(hostile)));
      expect(error.message).to.match(/the Message table at byte \d+ has its vtable at byte \d+, outside the \d+-byte buffer/);
    });

    it('negative, huge and out-of-range lengths and null counts', async () => {
      const cases: Array<[Uint8Array, RegExp]> = [
        [withBatchInt64(batch.dataHeader, 1, 0, 0, -1n), /column "i8" \(FieldNode 0\) declares a negative length \(-1\)/],
        [
          withBatchInt64(batch.dataHeader, 1, 0, 0, 2n ** 40n),
          /column "i8" \(FieldNode 0\) declares 1099511627776 rows, more than its message can hold/,
        ],
        [withBatchInt64(batch.dataHeader, 1, 0, 1, 17n), /column "i8" \(FieldNode 0\) declares 17 nulls in 16 rows/],
        [withBatchInt64(batch.dataHeader, 1, 2, 0, 2n ** 62n), /FieldNode 2 length \(4611686018427387904\) is out of range/],
        [withBatchInt64(batch.dataHeader, 2, 1, 1, -8n), /buffer 1 at \d+\+-8 lies outside/],
      ];
      for (const [hostile, pattern] of cases) {
        const { error, ms } = await rejected(() => decodeAll(withBatchHeader(hostile)));
        expect(error.message).to.match(pattern);
        expect(ms).to.be.lessThan(1000);
      }
    });

    it('a negative bodyLength', async () => {
      const at = fieldAt(batch.dataHeader, rootTable(batch.dataHeader), 3);
      const hostile = patched(batch.dataHeader, (v) => v.setBigInt64(at, -5n, true));
      expect((await rejected(() => decodeAll(withBatchHeader(hostile)))).error.message).to.contain('negative bodyLength (-5)');
    });

    it('a buffer outside the body', async () => {
      const bodyLength = batch.dataBody.byteLength;
      const last = batchVectorLength(batch.dataHeader, 2) - 1;
      expect(batchBuffer(batch.dataHeader, last).length).to.be.greaterThan(0);
      const hostile = withBatchInt64(batch.dataHeader, 2, last, 0, BigInt(bodyLength));
      const { error } = await rejected(() => decodeAll(withBatchHeader(hostile)));
      expect(error.message).to.match(new RegExp(`buffer ${last} at ${bodyLength}\\+\\d+ lies outside the ${bodyLength}-byte body`));
    });

    it('node and buffer counts that do not fit the schema', async () => {
      const nodes = batchVectorLength(batch.dataHeader, 1);
      const buffers = batchVectorLength(batch.dataHeader, 2);
      const fewerBuffers = withBufferCount(batch.dataHeader, buffers - 1);
      expect((await rejected(() => decodeAll(withBatchHeader(fewerBuffers)))).error.message).to.contain(
        `the RecordBatch has ${buffers - 1} buffers but the schema's ${table.numCols} columns need ${buffers}`,
      );
      const nodeVector = follow(batch.dataHeader, fieldAt(batch.dataHeader, batchTable(batch.dataHeader), 1));
      const fewerNodes = patched(batch.dataHeader, (v) => v.setUint32(nodeVector, nodes - 1, true));
      expect((await rejected(() => decodeAll(withBatchHeader(fewerNodes)))).error.message).to.contain(
        `the RecordBatch has ${nodes - 1} field nodes but the schema's ${table.numCols} columns flatten to ${nodes}`,
      );
      // A batch of another schema.
      const other = encoderFrames(new Table({ a: vectorFromArray([1, 2], new Int32()) }));
      expect((await rejected(() => decodeAll([schema, dictionary, other[1]!]))).error.message).to.match(
        /has 1 field nodes but the schema's/,
      );
    });

    it('unknown union types: the message header, a field type', async () => {
      expect((await rejected(() => decodeAll(withBatchHeader(withHeaderType(batch.dataHeader, 9))))).error.message).to.contain(
        'unknown MessageHeader type 9',
      );
      const badType = withFirstFieldTypeType(schema.dataHeader, 99);
      expect((await rejected(() => decodeAll([{ dataHeader: badType, dataBody: new Uint8Array(0) }]))).error.message).to.contain(
        'field "i8" has an unknown type id 99',
      );
      const none = withFirstFieldTypeType(schema.dataHeader, 0);
      expect((await rejected(() => decodeAll([{ dataHeader: none, dataBody: new Uint8Array(0) }]))).error.message).to.contain(
        'field "i8" has no type',
      );
    });

    it('a string without its NUL terminator', async () => {
      const hostile = withUnterminatedName(schema.dataHeader);
      expect((await rejected(() => decodeAll([{ dataHeader: hostile, dataBody: new Uint8Array(0) }]))).error.message).to.match(
        /name string at byte \d+ is not NUL-terminated/,
      );
    });

    it('10,000 nested lists: refused at depth 64, quickly', async () => {
      const deep = nestedListSchema(10_000);
      const { error, ms } = await rejected(() => decodeAll([{ dataHeader: deep, dataBody: new Uint8Array(0) }]));
      expect(error.message).to.match(/message #1: the schema nests fields more than 64 deep/);
      expect(ms).to.be.lessThan(1000);
    });

    it('tables shared into an exponential tree (2^40 fields in a few hundred bytes)', async () => {
      const shared = sharedTreeSchema(40, 2);
      expect(shared.byteLength).to.be.lessThan(4096);
      const { error, ms } = await rejected(() => decodeAll([{ dataHeader: shared, dataBody: new Uint8Array(0) }]));
      expect(error.message).to.match(/references more than \d+ tables/);
      expect(ms).to.be.lessThan(1000);
    });

    it('a Schema message that declares a body (apache-arrow would read that body as the next message, unverified)', async () => {
      expect(verifyMessage(schemaWithBody(0)).type).to.equal('schema');
      const hostile = { dataHeader: schemaWithBody(64), dataBody: new Uint8Array(64) };
      expect((await rejected(() => decodeAll([hostile]))).error.message).to.contain(
        'a Schema message has no body, but this one declares 64 bytes',
      );
    });

    describe('bodies that would make apache-arrow read out of range', () => {
      const single = (vector: Vector) => encoderFrames(new Table({ c: vector }));
      /** Overwrites int32 number `index` of buffer `buffer` of the batch message's body. */
      const withBodyInt32 = (frames: FlightDataFrame[], at: number, buffer: number, index: number, value: number) => {
        const frame = frames[at]!;
        const { offset } = batchBuffer(frame.dataHeader, buffer);
        const body = patched(frame.dataBody, (v) => v.setInt32(offset + 4 * index, value, true));
        return frames.map((f, i) => (i === at ? { dataHeader: f.dataHeader, dataBody: body } : f));
      };
      const withBodyByte = (frames: FlightDataFrame[], at: number, buffer: number, index: number, value: number) => {
        const frame = frames[at]!;
        const { offset } = batchBuffer(frame.dataHeader, buffer);
        const body = patched(frame.dataBody, (_, bytes) => (bytes[offset + index] = value));
        return frames.map((f, i) => (i === at ? { dataHeader: f.dataHeader, dataBody: body } : f));
      };

      it('utf8 offsets past the data, or decreasing', async () => {
        const frames = single(vectorFromArray(['ab', 'cde', 'f'], new Utf8())); // buffers: validity, offsets, data
        expect((await rejected(() => decodeAll(withBodyInt32(frames, 1, 1, 3, 1_000_000)))).error.message).to.match(
          /column "c" \(FieldNode 0\)'s last offset is 1000000 but there are only \d+ data bytes/,
        );
        expect((await rejected(() => decodeAll(withBodyInt32(frames, 1, 1, 2, 0)))).error.message).to.contain(
          'offsets decrease at row 1 (2 then 0)',
        );
        expect((await rejected(() => decodeAll(withBodyInt32(frames, 1, 1, 0, -4)))).error.message).to.contain('first offset is -4');
      });

      it('list offsets past the child', async () => {
        const frames = single(vectorFromArray([[1, 2], [3]], new List(new Field('item', new Int32(), true))));
        expect((await rejected(() => decodeAll(withBodyInt32(frames, 1, 1, 2, 500)))).error.message).to.contain(
          'last offset is 500 but there are only 3 child values',
        );
      });

      it('dictionary indices past the dictionary, and a batch before its dictionary', async () => {
        const frames = single(vectorFromArray(['a', 'b', 'c', 'a'], new Dictionary(new Utf8(), new Int32())));
        expect(frames).to.have.length(3); // schema, dictionary, batch
        expect((await rejected(() => decodeAll(withBodyInt32(frames, 2, 1, 3, 99)))).error.message).to.contain(
          'row 3 has dictionary index 99 but the dictionary has 3 values',
        );
        expect((await rejected(() => decodeAll([frames[0]!, frames[2]!]))).error.message).to.contain(
          'but no DictionaryBatch with that id came before the RecordBatch',
        );
        const idAt = fieldAt(frames[1]!.dataHeader, headerTable(frames[1]!.dataHeader), 0);
        const unknown = idAt ? patched(frames[1]!.dataHeader, (v) => v.setBigInt64(idAt, 77n, true)) : null;
        if (unknown) {
          expect((await rejected(() => decodeAll([frames[0]!, { ...frames[1]!, dataHeader: unknown }]))).error.message).to.contain(
            'a DictionaryBatch for dictionary id 77, which no field of the schema uses',
          );
        }
      });

      it('union type ids that name no child, dense offsets past the child', async () => {
        const frames = encoderFrames(new Table({ u: extraTable(6).getChild('dense_union')! }));
        // V5 dense union buffers: type ids, offsets; then the children's.
        expect((await rejected(() => decodeAll(withBodyByte(frames, 1, 0, 2, 5)))).error.message).to.contain(
          'row 2 has type id 5, which names no child',
        );
        expect((await rejected(() => decodeAll(withBodyInt32(frames, 1, 1, 1, 1000)))).error.message).to.match(
          /row 1 has offset 1000 into a child of \d+ values/,
        );
      });

      it('views that point outside their data buffer', async () => {
        const frames = single(vectorFromArray(['a value longer than twelve bytes'], new Utf8View())); // validity, views, data 0
        expect((await rejected(() => decodeAll(withBodyInt32(frames, 1, 1, 3, 4000)))).error.message).to.match(
          /view 0 covers 4000\+\d+ of a \d+-byte data buffer/,
        );
        expect((await rejected(() => decodeAll(withBodyInt32(frames, 1, 1, 2, 3)))).error.message).to.contain(
          'view 0 names data buffer 3 of 1',
        );
      });

      it('a billion rows of Null in a 200-byte message', async () => {
        const frames = single(makeVector(makeData({ type: new Null(), length: 3 })));
        const batchHeader = withBatchInt64(frames[1]!.dataHeader, 1, 0, 0, 1_000_000_000n);
        const lengthAt = fieldAt(batchHeader, batchTable(batchHeader), 0);
        const hostile = patched(batchHeader, (v) => v.setBigInt64(lengthAt, 1_000_000_000n, true));
        expect((await rejected(() => decodeAll([frames[0]!, { ...frames[1]!, dataHeader: hostile }]))).error.message).to.match(
          /the RecordBatch declares 1000000000 rows, more than its message can hold \(at most \d+ for its size\)/,
        );
      });
    });

    it('buffers that overlap (one region of the body read as two columns)', async () => {
      const frames = encoderFrames(new Table({ a: vectorFromArray([1, 2, 3], new Int32()), b: vectorFromArray([4, 5, 6], new Int32()) }));
      const header = frames[1]!.dataHeader; // buffers: a validity, a values, b validity, b values
      const hostile = withBatchInt64(header, 2, 3, 0, BigInt(batchBuffer(header, 1).offset));
      expect((await rejected(() => decodeAll([frames[0]!, { ...frames[1]!, dataHeader: hostile }]))).error.message).to.contain(
        "the RecordBatch's buffers 1 and 3 overlap in the body",
      );
    });

    it('thousands of Null columns: rows without data are budgeted per message, not per column', async () => {
      const columns = Object.fromEntries(
        Array.from({ length: 2000 }, (_, i) => [`n${i}`, makeVector(makeData({ type: new Null(), length: 4000 }))]),
      );
      const frames = encoderFrames(new Table(columns));
      expect(frames[1]!.dataHeader.byteLength).to.be.lessThan(100_000);
      expect((await rejected(() => decodeAll(frames))).error.message).to.match(
        /column "n\d+" \(FieldNode \d+\) brings the rows without data in this message to \d+ \(Null columns, structs without validity\); at most \d+ for its size/,
      );
      // A few Null columns beside data are fine.
      const mixed = new Table({
        id: vectorFromArray(
          Array.from({ length: 4000 }, (_, i) => i),
          new Int32(),
        ),
        ...Object.fromEntries(Object.entries(columns).slice(0, 5)),
      });
      expect((await decodeAll(encoderFrames(mixed))).numRows).to.equal(4000);
    });

    it('schemas beyond the bounds: 10,001 fields, 2,000 metadata entries', async () => {
      const wide = new Schema(Array.from({ length: 10_001 }, (_, i) => new Field(`f${i}`, new Int8(), true)));
      const wideHeader = Message.encode(Message.from(wide));
      expect((await rejected(() => decodeAll([{ dataHeader: wideHeader, dataBody: new Uint8Array(0) }]))).error.message).to.contain(
        "the Schema header's fields vector has 10001 entries; the limit is 10000",
      );
      const noisy = new Schema([new Field('a', new Int8(), true)], new Map(Array.from({ length: 2000 }, (_, i) => [`k${i}`, 'v'])));
      const noisyHeader = Message.encode(Message.from(noisy));
      expect((await rejected(() => decodeAll([{ dataHeader: noisyHeader, dataBody: new Uint8Array(0) }]))).error.message).to.contain(
        'custom_metadata vector has 2000 entries; the limit is 1024',
      );
    });
  });

  describe('parseFramedSchema (FlightInfo.schema, SchemaResult.schema)', () => {
    it('verifies the message before decoding it', () => {
      const bytes = framedSchema(sampleTable(1).schema);
      expect(parseFramedSchema(bytes)!.fields.length).to.equal(sampleTable(1).numCols);
      const deep = nestedListSchema(10_000);
      const framed = new Uint8Array(8 + deep.byteLength);
      new DataView(framed.buffer).setInt32(0, -1, true);
      new DataView(framed.buffer).setInt32(4, deep.byteLength, true);
      framed.set(deep, 8);
      expect(() => parseFramedSchema(framed)).to.throw(InvalidArgumentError, /nests fields more than 64 deep/);
      const message = bytes.subarray(8);
      const fieldsVector = 8 + follow(message, fieldAt(message, headerTable(message), 1));
      const hostile = patched(bytes, (v) => v.setUint32(fieldsVector, 2 ** 27, true));
      expect(() => parseFramedSchema(hostile)).to.throw(
        InvalidArgumentError,
        /the Schema header's fields vector declares 134217728 entries but only \d+ bytes follow/,
      );
      const lying = patched(bytes, (v) => v.setInt32(4, 1 << 30, true));
      expect(() => parseFramedSchema(lying)).to.throw(InvalidArgumentError, /declares 1073741824 bytes of metadata/);
    });
  });

  describe('random mutations of valid messages (fast-check)', () => {
    const sources = [sampleTable(12), extraTable(9)];
    // larder's encoder, apache-arrow's writer, and pyarrow's streams (added before the run).
    const streams = sources.map((t) => encoderFrames(t)).concat(sources.map((t) => writerFrames(t)));
    before(function () {
      this.timeout(60_000);
      for (const base64 of Object.values(pyarrowStreams())) streams.push(streamFrames(new Uint8Array(Buffer.from(base64, 'base64'))));
    });

    type Mutation =
      | { kind: 'flip'; edits: Array<{ at: number; value: number }> }
      | { kind: 'int32'; at: number; value: number }
      | { kind: 'truncate'; at: number }
      | { kind: 'insert'; at: number; bytes: Uint8Array };

    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        edits: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
      }),
      fc.record({
        kind: fc.constant('int32' as const),
        at: fc.nat(),
        value: fc.oneof(fc.constantFrom(0, 1, -1, 0x7fff_ffff, -0x8000_0000, 2 ** 27, 0xffff, 8, 16), fc.integer()),
      }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
    );

    function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
      const n = bytes.byteLength;
      switch (m.kind) {
        case 'flip':
          return patched(bytes, (_, b) => m.edits.forEach((e) => (b[e.at % n] = e.value)));
        case 'int32':
          return patched(bytes, (v) => v.setInt32(4 * (m.at % Math.floor(n / 4)), m.value, true));
        case 'truncate':
          return bytes.slice(0, m.at % n);
        case 'insert': {
          const at = m.at % n;
          const out = new Uint8Array(n + m.bytes.byteLength);
          out.set(bytes.subarray(0, at));
          out.set(m.bytes, at);
          out.set(bytes.subarray(at), at + m.bytes.byteLength);
          return out;
        }
      }
    }

    const runs = Number(process.env.IPC_FUZZ_RUNS ?? 2000); // a longer soak: IPC_FUZZ_RUNS=100000

    it('2,000 mutated headers and bodies: InvalidArgumentError, or arrays whose every value reads; under 10 s of decoding in all', async function () {
      this.timeout(Math.max(60_000, 60 * runs));
      let accepted = 0;
      let refused = 0;
      // Time spent in decodeFlightStream (the server's path: verification, then apache-arrow), all cases together.
      let decodeMs = 0;
      const timed = async <T>(work: () => Promise<T>): Promise<T> => {
        const started = performance.now();
        try {
          return await work();
        } finally {
          decodeMs += performance.now() - started;
        }
      };
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: streams.length - 1 }), fc.nat(), fc.boolean(), mutation, async (which, messageIndex, inBody, m) => {
          const frames = streams[which]!;
          const target = messageIndex % frames.length;
          const frame = frames[target]!;
          const mutateBody = inBody && frame.dataBody.byteLength > 0;
          const changed = mutateBody
            ? { dataHeader: frame.dataHeader, dataBody: mutate(frame.dataBody, m) }
            : { dataHeader: mutate(frame.dataHeader, m), dataBody: frame.dataBody };
          const list = frames.map((f, i) => (i === target ? changed : f));
          // What the verifier says decides what must happen next.
          let verified = true;
          try {
            const checker = new IpcStreamChecker();
            // (a FlightData without a header carries only app_metadata and is skipped, as the decoder does)
            for (const f of list) if (f.dataHeader.byteLength > 0) checker.check(f.dataHeader, f.dataBody);
          } catch (error) {
            if (!(error instanceof IpcDataError)) throw error;
            verified = false;
          }
          if (!verified) {
            refused++;
            const { error } = await rejected(() => timed(() => decodeAll(list)));
            expect(error.message).to.match(/^Invalid Arrow IPC data in FlightData message #\d+: /);
            return;
          }
          // Verified: apache-arrow must decode it, and every value must read, without any error.
          accepted++;
          readEverything(await timed(() => decodeAll(list)));
        }),
        {
          numRuns: runs,
          // To replay a failure: IPC_FUZZ_SEED=<seed> IPC_FUZZ_PATH=<path> npx mocha test/unit/ipc-verify.spec.ts -g random
          ...(process.env.IPC_FUZZ_SEED ? { seed: Number(process.env.IPC_FUZZ_SEED), path: process.env.IPC_FUZZ_PATH } : {}),
        },
      );
      expect(decodeMs).to.be.lessThan(10_000 * (runs / 2000));
      expect(refused).to.be.greaterThan(200);
      expect(accepted).to.be.greaterThan(20);
    });
  });
});
