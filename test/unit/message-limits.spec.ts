/**
 * Per-RPC message limits (message-limits.ts) and the server's request deserializers (protocol.ts):
 * the length-prefix decoder frames exactly as grpc-js's own does and refuses an oversize message
 * from its prefix; the deserializers refuse oversize commands and hostile protobuf without
 * throwing and without allocating per repeated field.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { LimitedMessageDecoder, messageLimit, MAX_PATH_ELEMENTS, type MessageLimits } from '../../packages/flight/src/message-limits.ts';
import { encodeDescriptor, flightServiceDefinition, serializeFlightData, type Refusal } from '../../packages/flight/src/protocol.ts';
import { settingNames } from '../../packages/flight/src/setting-names.ts';

/** A host's own names for its limits, which refusals must carry. */
const names = settingNames({ maxCommandBytes: 'acme.max_command_bytes', maxFlightDataBytes: 'acme.max_upload_bytes' });

const limits: MessageLimits = { maxCommandBytes: 1000, maxFlightDataBytes: 100_000 };
const FLIGHT = '/arrow.flight.protocol.FlightService/';

/** grpc-js's own StreamDecoder, the reference our decoder must frame like. */
function grpcStreamDecoder(): { write(data: Buffer): Buffer[] } {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@grpc/grpc-js');
  const { StreamDecoder } = require(path.join(path.dirname(main), 'stream-decoder.js')) as {
    StreamDecoder: new (max: number) => { write(data: Buffer): Buffer[] };
  };
  return new StreamDecoder(-1);
}

function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** Feeds `wire` in chunks of the given sizes (cycled) and collects the messages. */
function feed(decoder: { write(data: Buffer): Buffer[] }, wire: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0, i = 0; pos < wire.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(...decoder.write(wire.subarray(pos, pos + n)));
    pos += n;
  }
  return out;
}

const deserializer = (rpc: string) =>
  flightServiceDefinition(limits, names)[rpc]!.requestDeserialize as (buf: Buffer) => Record<string, unknown> & { refusal?: Refusal };

/** A protobuf length-delimited field. */
function field(number: number, bytes: Uint8Array): Buffer {
  const len: number[] = [];
  let n = bytes.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([(number << 3) | 2, ...len]), bytes]);
}

describe('message limits', () => {
  it('frames messages exactly as grpc-js does, whatever the chunking', () => {
    const messages = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(3000, 7), Buffer.from('last one')];
    const wire = Buffer.concat(messages.map(frame));
    for (const sizes of [[1], [2, 3], [5], [7, 1, 4096], [wire.length]]) {
      const ours = feed(new LimitedMessageDecoder(() => ({ limit: 1e9, explain: () => '' })), wire, sizes);
      const theirs = feed(grpcStreamDecoder(), wire, sizes);
      expect(
        ours.map((b) => b.toString('hex')),
        `chunks ${sizes}`,
      ).to.deep.equal(theirs.map((b) => b.toString('hex')));
    }
  });

  it('refuses an oversize message from its prefix alone, with the limit of its place in the stream', () => {
    const decoder = new LimitedMessageDecoder((index) => messageLimit(`${FLIGHT}DoPut`, index, limits, names));
    // The first message (descriptor and schema) may be the command plus the schema headroom ...
    const first = messageLimit(`${FLIGHT}DoPut`, 0, limits).limit;
    expect(decoder.write(frame(Buffer.alloc(10)))).to.have.length(1);
    // ... later ones up to maxFlightDataBytes; a prefix announcing more is refused before its body.
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(100_001, 1);
    expect(() => decoder.write(prefix)).to.throw(
      /A DoPut FlightData message of 100001 bytes is larger than this server accepts \(100000 bytes: acme\.max_upload_bytes/,
    );
    expect(first).to.be.greaterThan(limits.maxCommandBytes);

    const unary = new LimitedMessageDecoder((index) => messageLimit(`${FLIGHT}GetFlightInfo`, index, limits, names));
    prefix.writeUInt32BE(2_000_000, 1);
    expect(() => unary.write(prefix.subarray(0, 3))).not.to.throw();
    expect(() => unary.write(prefix.subarray(3))).to.throw(
      /The GetFlightInfo request message of 2000000 bytes is larger than this server accepts \(\d+ bytes: the command limit of 1000 bytes, acme\.max_command_bytes/,
    );
  });

  it('refuses commands, tickets, action bodies and criteria over max_command_bytes with INVALID_ARGUMENT, without throwing', () => {
    const big = new Uint8Array(1001);
    const cases: Array<[string, Buffer]> = [
      ['GetFlightInfo', Buffer.from(encodeDescriptor({ type: 'CMD', cmd: big, path: [] }))],
      ['GetSchema', Buffer.from(encodeDescriptor({ type: 'CMD', cmd: big, path: [] }))],
      ['DoGet', field(1, big)],
      ['ListFlights', field(1, big)],
      ['DoAction', Buffer.concat([field(1, Buffer.from('persist')), field(2, big)])],
    ];
    for (const [rpc, buf] of cases) {
      const request = deserializer(rpc)(buf);
      expect(request.refusal?.code, rpc).to.equal(status.INVALID_ARGUMENT);
      expect(request.refusal?.message, rpc).to.match(
        /is 1001 bytes, larger than this server accepts \(1000 bytes, acme\.max_command_bytes/,
      );
    }
    const ok = deserializer('DoAction')(Buffer.concat([field(1, Buffer.from('persist')), field(2, Buffer.from('{}'))]));
    expect(ok.refusal).to.equal(undefined);
    expect(ok.type).to.equal('persist');
    expect(Buffer.from(ok.body as Uint8Array).toString()).to.equal('{}');

    const flightData = flightServiceDefinition(limits, names).DoPut!.requestDeserialize as (buf: Buffer) => { malformed?: string };
    const put = flightData(serializeFlightData({ descriptor: { type: 'CMD', cmd: big, path: [] } }));
    expect(put.malformed).to.match(
      /command \(FlightDescriptor\.cmd\) is 1001 bytes, larger than this server accepts \(1000 bytes, acme\.max_command_bytes/,
    );
  });

  it("names the transport's own options when the host names no settings", () => {
    const explain = messageLimit(`${FLIGHT}GetFlightInfo`, 0, limits).explain(2_000_000);
    expect(explain).to.match(/the command limit of 1000 bytes, the server option messageLimits\.maxCommandBytes/);
    const put = (flightServiceDefinition(limits).DoPut!.requestDeserialize as (buf: Buffer) => { malformed?: string })(
      serializeFlightData({ descriptor: { type: 'CMD', cmd: new Uint8Array(1001), path: [] } }),
    );
    expect(put.malformed).to.match(/\(1000 bytes, the server option messageLimits\.maxCommandBytes\)/);
    expect(`${explain} ${put.malformed}`).not.to.include('larder');
  });

  it('decodes hostile protobuf in bounded memory: repeated fields keep the last, path elements are capped, groups are refused', () => {
    // 10,000 repeated cmd fields: the last wins, as in protobuf, and no view is made per field.
    const repeated = Buffer.concat(Array.from({ length: 10_000 }, (_, i) => field(2, Buffer.from(String(i)))));
    const request = deserializer('GetFlightInfo')(repeated);
    expect(request.refusal).to.equal(undefined);
    expect(Buffer.from(request.cmd as Uint8Array).toString()).to.equal('9999');

    const paths = (n: number) => Buffer.concat(Array.from({ length: n }, () => field(3, Buffer.from('p'))));
    expect((deserializer('GetSchema')(paths(MAX_PATH_ELEMENTS)).path as string[]).length).to.equal(MAX_PATH_ELEMENTS);
    const tooMany = deserializer('GetSchema')(paths(MAX_PATH_ELEMENTS + 1));
    expect(tooMany.refusal?.code).to.equal(status.INVALID_ARGUMENT);
    expect(tooMany.refusal?.message).to.match(new RegExp(`more than ${MAX_PATH_ELEMENTS} path elements`));

    // Deeply nested groups (wire type 3), which a recursive skipper would overflow the stack on.
    const groups = Buffer.alloc(60_000, (1 << 3) | 3);
    for (const rpc of ['ListActions', 'DoGet', 'GetFlightInfo']) {
      const refused = deserializer(rpc)(groups);
      expect(refused.refusal?.code, rpc).to.equal(status.INVALID_ARGUMENT);
      expect(refused.refusal?.message, rpc).to.match(new RegExp(`Malformed ${rpc} request`));
    }
  });

  it('refuses a request over its limit in the deserializer too (when the prefix decoder could not be installed)', () => {
    const request = deserializer('DoGet')(Buffer.alloc(limits.maxCommandBytes + 70_000));
    expect(request.refusal?.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(request.refusal?.message).to.match(/The DoGet request message of \d+ bytes is larger than this server accepts/);
  });
});
