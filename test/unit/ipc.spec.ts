import { expect } from 'chai';
import { Dictionary, Int32, RecordBatch, Schema, Table, Utf8, vectorFromArray, Field, Int64 } from 'apache-arrow';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import { assembleBody } from '../../packages/flight/src/assembler.ts';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import {
  concatBody,
  decodeFlightStream,
  encodeSchema,
  FlightDataEncoder,
  framedSchema,
  parseFramedSchema,
  type EncodedMessage,
  type FlightDataFrame,
} from '../../packages/flight/src/ipc.ts';
import { serializeFlightData } from '../../packages/flight/src/protocol.ts';
import { deserializeFlightData } from '../../packages/flight/src/request-decode.ts';
import { rawValues, sampleTable, tableValues, validity } from '../support/arrow-samples.ts';

/** Encodes a table as FlightData, sends each message through the protobuf codec, decodes it again. */
async function roundTrip(schema: Schema, batches: readonly RecordBatch[]): Promise<{ table: Table; messages: EncodedMessage[] }> {
  const encoder = new FlightDataEncoder(schema);
  const messages = [encoder.schemaMessage(), ...batches.flatMap((b) => encoder.batchMessages(b))];
  async function* frames(): AsyncGenerator<FlightDataFrame> {
    for (const m of messages) yield deserializeFlightData(serializeFlightData({ dataHeader: m.header, dataBody: m.body }));
  }
  const decoded = await decodeFlightStream(frames());
  const out: RecordBatch[] = [];
  for await (const b of decoded.batches) out.push(b);
  return { table: new Table(decoded.schema, out), messages };
}

async function* framesOf(list: FlightDataFrame[]): AsyncGenerator<FlightDataFrame> {
  yield* list;
}

async function decodeAll(list: FlightDataFrame[]): Promise<Table> {
  const decoded = await decodeFlightStream(framesOf(list));
  const out: RecordBatch[] = [];
  for await (const b of decoded.batches) out.push(b);
  return new Table(decoded.schema, out);
}

const headerType = (m: EncodedMessage) => Message.decode(m.header).headerType;
const frame = (m: EncodedMessage): FlightDataFrame => ({ dataHeader: m.header, dataBody: concatBody(m.body) });

describe('flight/ipc', () => {
  describe('round trip of every type', () => {
    const source = sampleTable(203);

    it('keeps the schema: types, nullability, timezones', async () => {
      const { table } = await roundTrip(source.schema, source.batches);
      expect(table.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`)).to.deep.equal(
        source.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`),
      );
      const tz = (name: string) => (table.schema.fields.find((f) => f.name === name)!.type as { timezone?: string | null }).timezone;
      expect(tz('ts_ns_tz')).to.equal('America/New_York');
      expect(tz('ts_ms_tz')).to.equal('Europe/Paris');
      expect(tz('ts_us')).to.equal(null);
    });

    it('keeps every value and every null', async () => {
      const { table } = await roundTrip(source.schema, source.batches);
      expect(table.numRows).to.equal(203);
      const expected = tableValues(source);
      const actual = tableValues(table);
      for (const name of Object.keys(expected)) {
        expect(actual[name], name).to.deep.equal(expected[name]);
        expect(validity(table.getChild(name)!), `${name} validity`).to.deep.equal(validity(source.getChild(name)!));
      }
      expect(table.getChild('nulls')!.nullCount).to.equal(203);
    });

    it('keeps sub-millisecond timestamp precision (raw int64 values)', async () => {
      const { table } = await roundTrip(source.schema, source.batches);
      for (const name of ['ts_s', 'ts_ms', 'ts_us', 'ts_ns', 'ts_s_tz', 'ts_ms_tz', 'ts_us_tz', 'ts_ns_tz', 'duration', 'i64', 'u64']) {
        const got = rawValues(table.getChild(name)!);
        expect(got, name).to.deep.equal(rawValues(source.getChild(name)!));
      }
      const ns = rawValues(table.getChild('ts_ns')!) as bigint[];
      expect(ns[1]).to.equal(1_700_000_000_000_000_000n + 1_234_567n + 987n);
    });

    it("lays out the same buffers as apache-arrow's VectorAssembler, with bitmaps cut to their rows", () => {
      const batch = sampleTable(64).batches[0]!;
      const theirs = VectorAssembler.assemble(batch);
      const ours = assembleBody(batch);
      expect(ours.nodes.map((n) => [n.length, n.nullCount])).to.deep.equal(theirs.nodes.map((n) => [n.length, n.nullCount]));
      expect(ours.buffers.length).to.equal(theirs.buffers.length);
      let cut = 0;
      ours.buffers.forEach((mine, i) => {
        const other = theirs.buffers[i]!;
        const a = Buffer.from(mine.buffer, mine.byteOffset, mine.byteLength);
        const b = Buffer.from(other.buffer, other.byteOffset, other.byteLength);
        if (a.byteLength === b.byteLength) {
          expect(a.equals(b), `buffer ${i}`).to.equal(true);
        } else {
          // VectorAssembler sends a bitmap's whole allocation; ours sends ceil(rows / 8) bytes of it.
          expect(a.byteLength, `buffer ${i}`).to.be.lessThan(b.byteLength);
          expect(a.equals(b.subarray(0, a.byteLength)), `buffer ${i}`).to.equal(true);
          cut++;
        }
      });
      expect(cut).to.be.greaterThan(0);
    });

    it('round-trips slices that start mid-byte (validity bitmaps are shifted, offsets rebased)', async () => {
      const batch = source.batches[0]!;
      const slices = [batch.slice(0, 13), batch.slice(13, 77), batch.slice(77, 203)];
      const { table, messages } = await roundTrip(source.schema, slices);
      expect(tableValues(table)).to.deep.equal(tableValues(source));
      expect(rawValues(table.getChild('ts_ns_tz')!)).to.deep.equal(rawValues(source.getChild('ts_ns_tz')!));
      // A slice sends its own rows only: bodies add up to about the unsliced size, not 3 times it.
      const sliced = messages.filter((m) => headerType(m) === 3).reduce((n, m) => n + m.body.byteLength, 0);
      const whole = new FlightDataEncoder(source.schema).batchMessages(batch).filter((m) => headerType(m) === 3)[0]!.body.byteLength;
      expect(sliced).to.be.lessThan(whole * 1.3);
    });
  });

  describe('dictionaries', () => {
    const type = new Dictionary(new Utf8(), new Int32(), 0);
    const schema = new Schema([new Field('d', type, true)]);

    it('sends a dictionary once for batches that share it', async () => {
      const vector = vectorFromArray(['a', 'b', null, 'a', 'c', 'b'], type);
      const batches = [new RecordBatch({ d: vector.data[0]! }).slice(0, 3), new RecordBatch({ d: vector.data[0]! }).slice(3, 6)];
      batches.forEach((b) => expect(b.schema.fields[0]!.type).to.be.instanceOf(Dictionary));
      const { table, messages } = await roundTrip(batches[0]!.schema, batches);
      expect(messages.map(headerType)).to.deep.equal([1, 2, 3, 3]);
      expect(table.getChild('d')!.toArray()).to.deep.equal(['a', 'b', null, 'a', 'c', 'b']);
    });

    it('sends a replacement when a batch carries a different dictionary', async () => {
      const first = vectorFromArray(['x', 'y'], type);
      const second = vectorFromArray(['p', 'q', 'p'], type);
      const batches = [new RecordBatch({ d: first.data[0]! }), new RecordBatch({ d: second.data[0]! })];
      const { table, messages } = await roundTrip(batches[0]!.schema, batches);
      expect(messages.map(headerType)).to.deep.equal([1, 2, 3, 2, 3]);
      expect(table.getChild('d')!.toArray()).to.deep.equal(['x', 'y', 'p', 'q', 'p']);
      expect(schema.fields[0]!.name).to.equal('d');
    });
  });

  describe('empty data', () => {
    it('round-trips a table with zero rows (schema only)', async () => {
      const empty = sampleTable(0);
      const { table, messages } = await roundTrip(empty.schema, []);
      expect(messages).to.have.length(1);
      expect(table.numRows).to.equal(0);
      expect(table.schema.fields.map((f) => String(f.type))).to.deep.equal(empty.schema.fields.map((f) => String(f.type)));
    });

    it('round-trips empty batches between full ones', async () => {
      const source = sampleTable(10);
      const batch = source.batches[0]!;
      const { table } = await roundTrip(source.schema, [batch.slice(0, 0), batch, batch.slice(5, 5)]);
      expect(table.numRows).to.equal(10);
      expect(tableValues(table)).to.deep.equal(tableValues(source));
    });
  });

  describe('schemas', () => {
    it('frames a schema as FlightInfo.schema wants it: 0xFFFFFFFF, padded length, flatbuffer', () => {
      const schema = sampleTable(1).schema;
      const bytes = framedSchema(schema);
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      expect(view.getInt32(0, true)).to.equal(-1);
      expect(view.getInt32(4, true) % 8).to.equal(0);
      expect(bytes.byteLength).to.equal(8 + view.getInt32(4, true));
      expect(parseFramedSchema(bytes)!.fields.map((f) => f.name)).to.deep.equal(schema.fields.map((f) => f.name));
    });

    it('sends an empty schema for a null one', () => {
      const bytes = framedSchema(null);
      expect(bytes.byteLength).to.be.greaterThan(8);
      expect(parseFramedSchema(bytes)!.fields).to.have.length(0);
    });

    it('keeps schema and field metadata', async () => {
      const field = new Field('a', new Int64(), true, new Map([['unit', 'ms']]));
      const schema = new Schema([field], new Map([['origin', 'larder']]));
      const back = parseFramedSchema(framedSchema(schema))!;
      expect(back.metadata.get('origin')).to.equal('larder');
      expect(back.fields[0]!.metadata.get('unit')).to.equal('ms');
    });
  });

  describe('bad input', () => {
    const table = sampleTable(16);
    const encoder = new FlightDataEncoder(table.schema);
    const schemaMessage = encoder.schemaMessage();
    const batchMessage = encoder.batchMessages(table.batches[0]!).at(-1)!;

    async function failure(list: FlightDataFrame[]): Promise<Error> {
      try {
        await decodeAll(list);
      } catch (error) {
        return error as Error;
      }
      throw new Error('decoding did not fail');
    }

    it('rejects a header that is not an IPC message', async () => {
      const garbage = Buffer.from('this is certainly not a flatbuffer at all, no no no');
      const error = await failure([{ dataHeader: garbage, dataBody: new Uint8Array(0) }]);
      expect(error).to.be.instanceOf(InvalidArgumentError);
      expect(error.message).to.match(/message #1/);
    });

    it('rejects a stream that does not start with a schema', async () => {
      const error = await failure([frame(batchMessage)]);
      expect(error).to.be.instanceOf(InvalidArgumentError);
      expect(error.message).to.contain('first message of a stream must be a Schema');
    });

    it('rejects a truncated body', async () => {
      const body = concatBody(batchMessage.body);
      const error = await failure([
        frame(schemaMessage),
        { dataHeader: batchMessage.header, dataBody: body.subarray(0, body.byteLength - 8) },
      ]);
      expect(error).to.be.instanceOf(InvalidArgumentError);
      expect(error.message).to.match(/message #2: data_body has \d+ bytes but the header declares \d+/);
    });

    it('rejects a stream with no messages', async () => {
      const error = await failure([]);
      expect(error).to.be.instanceOf(InvalidArgumentError);
      expect(error.message).to.contain('ended before its Schema');
    });

    it('passes errors of the source through unchanged', async () => {
      const boom = new Error('connection lost');
      async function* broken(): AsyncGenerator<FlightDataFrame> {
        yield frame(schemaMessage);
        throw boom;
      }
      let caught: unknown;
      try {
        // The reader may read ahead while opening, so the error can surface from either step.
        const decoded = await decodeFlightStream(broken());
        for await (const _ of decoded.batches) void _;
      } catch (error) {
        caught = error;
      }
      expect(caught).to.equal(boom);
    });

    it('skips metadata-only FlightData (no header)', async () => {
      // The batch's dictionary messages come first: a batch may not use a dictionary it has not been sent.
      const messages = new FlightDataEncoder(table.schema).batchMessages(table.batches[0]!).map(frame);
      const t = await decodeAll([frame(schemaMessage), { dataHeader: new Uint8Array(0), dataBody: new Uint8Array(0) }, ...messages]);
      expect(t.numRows).to.equal(16);
    });
  });

  describe('FlightData protobuf codec', () => {
    it('round-trips descriptor, header, app_metadata and a padded body', () => {
      const parts = [Uint8Array.of(1, 2, 3), new Uint8Array(8).fill(9)];
      const buf = serializeFlightData({
        descriptor: { type: 'CMD', cmd: Buffer.from('{"api":"x"}'), path: ['a', 'ü'] },
        dataHeader: Uint8Array.of(5, 6),
        appMetadata: Uint8Array.of(7),
        dataBody: { parts, byteLength: 16 },
      });
      const m = deserializeFlightData(buf);
      expect(m.malformed).to.equal(undefined);
      expect(m.descriptor!.type).to.equal('CMD');
      expect(Buffer.from(m.descriptor!.cmd).toString()).to.equal('{"api":"x"}');
      expect(m.descriptor!.path).to.deep.equal(['a', 'ü']);
      expect([...m.dataHeader]).to.deep.equal([5, 6]);
      expect([...m.appMetadata]).to.deep.equal([7]);
      expect([...m.dataBody]).to.deep.equal([1, 2, 3, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9]);
      expect(m.wireBytes).to.equal(buf.byteLength);
    });

    it('encodes data_body as field 1000 (0xC2 0x3E), as other Flight implementations expect', () => {
      const buf = serializeFlightData({ dataBody: Uint8Array.of(42) });
      expect([...buf]).to.deep.equal([0xc2, 0x3e, 1, 42]);
    });

    it('reports malformed protobuf instead of throwing', () => {
      const m = deserializeFlightData(Buffer.from([0x12, 0x7f, 1, 2]));
      expect(m.malformed).to.match(/Malformed FlightData message \(4 bytes\): field of 127 bytes runs past the end/);
    });

    it('decodes the body as a view of the received buffer (no copy)', () => {
      const body = new Uint8Array(1024).fill(3);
      const buf = serializeFlightData({ dataHeader: encodeSchema(new Schema([])).header, dataBody: body });
      const m = deserializeFlightData(buf);
      expect(m.dataBody.buffer).to.equal(buf.buffer);
    });
  });
});
