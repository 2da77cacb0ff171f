/**
 * Decoding what clients send: FlightData (views into the received buffer, never copies) and the
 * request message of every other RPC. Hand-written rather than protobufjs so that decoding
 * allocates only what is kept (a field repeated a million times costs the sender, not us) and so
 * that every command, ticket, action body and criteria is checked against larder.max_command_bytes
 * before anyone parses it. A decoder never throws: grpc-js would answer a throwing deserializer
 * with a bare INTERNAL, so a bad message becomes a `malformed` text or a `refusal` the server
 * reports with a precise status.
 */
import * as grpc from '@grpc/grpc-js';
import type { DescriptorType, FlightDescriptor } from './handler.ts';
import { MAX_PATH_ELEMENTS, messageLimit, type MessageLimits } from './message-limits.ts';
import { DEFAULT_SETTING_NAMES, type SettingNames } from './setting-names.ts';
import type { IncomingFlightData, ProtoAction, ProtoCriteria, ProtoFlightDescriptor, ProtoTicket, Refusal } from './protocol.ts';

const EMPTY = new Uint8Array(0);
/** FlightDescriptor.DescriptorType by its wire number. */
export const DESCRIPTOR_TYPES: readonly DescriptorType[] = ['UNKNOWN', 'PATH', 'CMD'];

class Cursor {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.byteLength;
  }
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.byteLength) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }
  /** Skips a length-delimited field and returns where its content starts; it ends at `pos`. */
  span(): number {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.buf.byteLength) throw new Error(`field of ${len} bytes runs past the end of the message`);
    this.pos = end;
    return start;
  }
  bytes(): Uint8Array {
    const start = this.span();
    return this.buf.subarray(start, this.pos);
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
    if (this.pos > this.buf.byteLength) throw new Error('field runs past the end of the message');
  }
}

/**
 * A protobuf message's bytes fields, last occurrence winning, as views into `buf`. Decoding
 * allocates nothing per field, so repeating a field costs the sender, not us. Throws on bad
 * protobuf (groups, which protobufjs skips by recursion, included).
 */
function scanFields(buf: Uint8Array, onField: (c: Cursor, field: number, wire: number) => boolean): void {
  const c = new Cursor(buf);
  while (!c.done) {
    const key = c.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (!onField(c, field, wire)) c.skip(wire);
  }
}

/** Field `number`'s last occurrence, as a view (EMPTY when absent). */
function lastBytes(buf: Uint8Array, number: number, others?: (c: Cursor, field: number, wire: number) => boolean): Uint8Array {
  let start = -1;
  let end = -1;
  scanFields(buf, (c, field, wire) => {
    if (field === number && wire === 2) {
      start = c.span();
      end = c.pos;
      return true;
    }
    return others?.(c, field, wire) ?? false;
  });
  return start < 0 ? EMPTY : buf.subarray(start, end);
}

function decodeDescriptor(buf: Uint8Array): FlightDescriptor {
  let type: DescriptorType = 'UNKNOWN';
  const pathSpans: number[] = [];
  const cmd = lastBytes(buf, 2, (c, field, wire) => {
    if (field === 1 && wire === 0) type = DESCRIPTOR_TYPES[c.varint()] ?? 'UNKNOWN';
    else if (field === 3 && wire === 2) {
      // Counted before any string is made: each element would be a string of its own.
      if (pathSpans.length >= 2 * MAX_PATH_ELEMENTS)
        throw new Error(`the FlightDescriptor has more than ${MAX_PATH_ELEMENTS} path elements`);
      pathSpans.push(c.span(), c.pos);
    } else return false;
    return true;
  });
  const path: string[] = [];
  for (let i = 0; i < pathSpans.length; i += 2)
    path.push(Buffer.from(buf.buffer, buf.byteOffset + pathSpans[i]!, pathSpans[i + 1]! - pathSpans[i]!).toString('utf8'));
  return { type, cmd, path };
}

/** The refusal of a command (or ticket, body, criteria) longer than `max`, before anyone parses it. */
function commandTooLarge(what: string, size: number, max: number, setting: string): string {
  return `The ${what} is ${size} bytes, larger than this server accepts (${max} bytes, ${setting})`;
}

export function deserializeFlightData(buf: Buffer): IncomingFlightData {
  const c = new Cursor(buf);
  let descriptor: FlightDescriptor | null = null;
  let dataHeader: Uint8Array = EMPTY;
  let appMetadata: Uint8Array = EMPTY;
  let dataBody: Uint8Array = EMPTY;
  try {
    while (!c.done) {
      const key = c.varint();
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (wire !== 2) c.skip(wire);
      else if (field === 1) descriptor = decodeDescriptor(c.bytes());
      else if (field === 2) dataHeader = c.bytes();
      else if (field === 3) appMetadata = c.bytes();
      else if (field === 1000) dataBody = c.bytes();
      else c.skip(wire);
    }
  } catch (error) {
    const malformed = `Malformed FlightData message (${buf.byteLength} bytes): ${(error as Error).message}`;
    return { descriptor: null, dataHeader: EMPTY, appMetadata: EMPTY, dataBody: EMPTY, wireBytes: buf.byteLength, malformed };
  }
  return { descriptor, dataHeader, appMetadata, dataBody, wireBytes: buf.byteLength };
}

/** The server's FlightData deserializer: also refuses a descriptor whose command is over the limit. */
export function flightDataDeserializer(
  limits: MessageLimits,
  names: SettingNames = DEFAULT_SETTING_NAMES,
): (buf: Buffer) => IncomingFlightData {
  return (buf) => {
    const message = deserializeFlightData(buf);
    const cmd = message.descriptor?.cmd.byteLength ?? 0;
    if (cmd > limits.maxCommandBytes) {
      return {
        ...message,
        descriptor: null,
        dataHeader: EMPTY,
        dataBody: EMPTY,
        malformed: commandTooLarge('command (FlightDescriptor.cmd)', cmd, limits.maxCommandBytes, names.maxCommandBytes),
      };
    }
    return message;
  };
}

// ---------------------------------------------------------------------------------------------
// The server's request deserializers (every RPC but DoPut and DoExchange). Hand-written rather
// than protobufjs, so that decoding allocates only what is kept, and checked against the limits.

export type RequestDecoder = (buf: Buffer, limits: MessageLimits, names: SettingNames) => object;

function commandField(rpc: string, what: string, bytes: Uint8Array, limits: MessageLimits, names: SettingNames): Refusal | undefined {
  if (bytes.byteLength <= limits.maxCommandBytes) return undefined;
  const message = commandTooLarge(`${rpc} ${what}`, bytes.byteLength, limits.maxCommandBytes, names.maxCommandBytes);
  return { code: grpc.status.INVALID_ARGUMENT, message };
}

const descriptorRequest =
  (rpc: string): RequestDecoder =>
  (buf, limits, names) => {
    const d = decodeDescriptor(buf);
    return {
      type: d.type,
      cmd: d.cmd,
      path: [...d.path],
      refusal: commandField(rpc, 'command (FlightDescriptor.cmd)', d.cmd, limits, names),
    } satisfies ProtoFlightDescriptor;
  };

export const REQUEST_DECODERS: Readonly<Record<string, RequestDecoder>> = {
  GetFlightInfo: descriptorRequest('GetFlightInfo'),
  GetSchema: descriptorRequest('GetSchema'),
  PollFlightInfo: descriptorRequest('PollFlightInfo'),
  DoGet: (buf, limits, names) => {
    const ticket = lastBytes(buf, 1);
    return { ticket, refusal: commandField('DoGet', 'ticket', ticket, limits, names) } satisfies ProtoTicket;
  },
  ListFlights: (buf, limits, names) => {
    const expression = lastBytes(buf, 1);
    return { expression, refusal: commandField('ListFlights', 'criteria', expression, limits, names) } satisfies ProtoCriteria;
  },
  DoAction: (buf, limits, names) => {
    let typeBytes: Uint8Array = EMPTY;
    const body = lastBytes(buf, 2, (c, field, wire) => {
      if (field !== 1 || wire !== 2) return false;
      typeBytes = c.buf.subarray(c.span(), c.pos);
      return true;
    });
    const type = Buffer.from(typeBytes.buffer, typeBytes.byteOffset, typeBytes.byteLength).toString('utf8');
    return { type, body, refusal: commandField('DoAction', 'action body', body, limits, names) } satisfies ProtoAction;
  },
  // Empty and HandshakeRequest: nothing is kept, but the bytes must still be valid protobuf.
  ListActions: (buf) => (scanFields(buf, () => false), {}),
  Handshake: (buf) => (scanFields(buf, () => false), {}),
};

export function requestDeserializer(
  rpc: string,
  path: string,
  limits: MessageLimits,
  names: SettingNames,
  decode: RequestDecoder,
): (buf: Buffer) => object {
  return (buf) => {
    // Normally refused earlier, from the length prefix (message-limits.ts); this holds if not.
    const { limit, explain } = messageLimit(path, 0, limits, names);
    if (buf.byteLength > limit) return { refusal: { code: grpc.status.RESOURCE_EXHAUSTED, message: explain(buf.byteLength) } };
    try {
      return decode(buf, limits, names);
    } catch (error) {
      return {
        refusal: {
          code: grpc.status.INVALID_ARGUMENT,
          message: `Malformed ${rpc} request (${buf.byteLength} bytes): ${(error as Error).message}`,
        },
      };
    }
  };
}
