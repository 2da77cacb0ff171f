/**
 * Preframed FlightData (packages/flight/src/frames.ts, grpc-preframed.ts): the frames carry exactly the
 * bytes the plain serializer produces, decode the same with an independent protobuf decoder, never
 * leak a previous message's bytes from a recycled buffer, and the grpc-js hook is in place.
 */
import { Field, Float64, Int64, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { expect } from 'chai';
import protobuf from 'protobufjs';
import { DEFAULT_CHUNKING, rechunkAll } from '../../packages/flight/src/chunking.ts';
import { encodeFrame, FramePool } from '../../packages/flight/src/frames.ts';
import { installPreframedSend } from '../../packages/flight/src/grpc-preframed.ts';
import { FlightDataEncoder, toFlightData } from '../../packages/flight/src/ipc.ts';
import { PROTO_PATH, serializeFlightData, type OutgoingFlightData } from '../../packages/flight/src/protocol.ts';
import { deserializeFlightData } from '../../packages/flight/src/request-decode.ts';

const FlightData = protobuf.loadSync(PROTO_PATH).lookupType('arrow.flight.protocol.FlightData');

function sampleBatch(rows: number): RecordBatch {
  const fields = [new Field('id', new Int64(), false), new Field('x', new Float64(), true), new Field('s', new Utf8(), true)];
  const children = [
    makeData({ type: new Int64(), length: rows, data: new BigInt64Array(rows).map((_, i) => BigInt(i)) }),
    makeData({ type: new Float64(), length: rows, data: new Float64Array(rows).map((_, i) => i / 3) }),
    vectorFromArray(
      Array.from({ length: rows }, (_, i) => (i % 5 === 0 ? null : `row ${i}`)),
      new Utf8(),
    ).data[0]!,
  ];
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: rows, nullCount: 0, children }));
}

/** Every FlightData message of a batch stream, as the server builds them. */
function messagesOf(batch: RecordBatch): OutgoingFlightData[] {
  const encoder = new FlightDataEncoder(batch.schema);
  return [
    toFlightData(encoder.schemaMessage()),
    ...rechunkAll([batch]).flatMap((b) => encoder.batchMessages(b).map((m) => toFlightData(m))),
  ];
}

describe('flight/frames', () => {
  it('frames each message as gRPC would: prefix, then the same bytes as the plain serializer', () => {
    const withDescriptor: OutgoingFlightData = {
      descriptor: { type: 'CMD', cmd: Buffer.from('{"api":"x"}'), path: ['a'] },
      dataHeader: Uint8Array.of(5, 6),
      appMetadata: Uint8Array.of(7),
      dataBody: { parts: [Uint8Array.of(1, 2, 3), new Uint8Array(8).fill(9)], byteLength: 16 },
    };
    for (const msg of [withDescriptor, ...messagesOf(sampleBatch(100_000))]) {
      const plain = serializeFlightData(msg);
      const framed = encodeFrame(msg, new FramePool());
      expect(framed.frame[0]).to.equal(0);
      expect(framed.frame.readUInt32BE(1)).to.equal(plain.byteLength);
      expect(Buffer.compare(framed.message, plain)).to.equal(0);
    }
  });

  it('decodes identically with protobufjs and with our decoder, and stays under 4 MiB per message', () => {
    for (const msg of messagesOf(sampleBatch(300_000))) {
      const framed = encodeFrame(msg, new FramePool());
      expect(framed.frame.byteLength).to.be.lessThan(4 * 1024 * 1024);
      const reference = FlightData.toObject(FlightData.decode(framed.message)) as { dataHeader: Uint8Array; dataBody?: Uint8Array };
      const ours = deserializeFlightData(framed.message);
      expect(Buffer.compare(Buffer.from(reference.dataHeader), Buffer.from(ours.dataHeader))).to.equal(0);
      expect(Buffer.compare(Buffer.from(reference.dataBody ?? new Uint8Array(0)), Buffer.from(ours.dataBody))).to.equal(0);
    }
  });

  it('a recycled buffer never carries bytes of the message it held before', () => {
    const pool = new FramePool(64);
    const dirty = pool.take(200);
    dirty.fill(0xff);
    pool.put(dirty);
    const msg: OutgoingFlightData = { dataHeader: new Uint8Array(150).fill(1), dataBody: { parts: [Uint8Array.of(1)], byteLength: 8 } };
    const framed = encodeFrame(msg, pool);
    expect(framed.frame.buffer).to.equal(dirty.buffer); // it did reuse the dirty buffer
    expect(Buffer.compare(framed.message, serializeFlightData(msg))).to.equal(0);
  });

  describe('FramePool', () => {
    it('reuses a released buffer of the same size class', () => {
      const pool = new FramePool(1024, 1 << 20, 1 << 22);
      const a = pool.take(3000);
      expect(a.byteLength).to.equal(3000);
      pool.put(a);
      expect(pool.retainedBytes()).to.equal(4096);
      const b = pool.take(2500);
      expect(b.buffer).to.equal(a.buffer);
      expect(pool.retainedBytes()).to.equal(0);
    });

    it('does not pool frames below or above its bounds, and keeps at most maxRetainedBytes idle', () => {
      const pool = new FramePool(1024, 8192, 16384);
      pool.put(pool.take(100));
      pool.put(pool.take(100_000));
      expect(pool.retainedBytes()).to.equal(0);
      const held = [pool.take(8000), pool.take(8000), pool.take(8000)];
      for (const b of held) pool.put(b);
      expect(pool.retainedBytes()).to.equal(16384);
    });

    it('a frame released twice goes back once', () => {
      const pool = new FramePool(64);
      const framed = encodeFrame({ dataBody: new Uint8Array(100) }, pool);
      framed.release();
      framed.release();
      expect(pool.retainedBytes()).to.equal(128);
    });
  });

  it('grpc-js accepts preframed messages (its internal serializeMessage is wrapped)', () => {
    // If this fails after a grpc-js upgrade, DoGet still works but copies every message again.
    expect(installPreframedSend()).to.equal(true);
    expect(DEFAULT_CHUNKING.maxMessageBytes).to.be.lessThan(4 * 1024 * 1024);
  });
});
