/**
 * The Arrow Flight gRPC service definition, shared by the server and the test client.
 *
 * The service comes from flight.proto, through the JSON descriptor the build makes of it
 * (service-definition.ts; packages/flight/proto/flight.json). FlightData carries the record
 * batches, so it has a hand-written encoder here, which writes the Arrow buffers straight into
 * the outgoing message with no intermediate body buffer (fresh memory is slow on our machines).
 * Everything a client sends is decoded by request-decode.ts.
 */
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import type { DescriptorType, FlightDescriptor } from './handler.ts';
import { DEFAULT_MESSAGE_LIMITS, type MessageLimits } from './message-limits.ts';
import { DEFAULT_SETTING_NAMES, type SettingNames } from './setting-names.ts';
import {
  DESCRIPTOR_TYPES,
  deserializeFlightData,
  flightDataDeserializer,
  REQUEST_DECODERS,
  requestDeserializer,
} from './request-decode.ts';
import { loadDescriptor, serviceDefinition } from './service-definition.ts';

// ---------------------------------------------------------------------------------------------
// Message shapes as the service's codecs produce and accept them (camelCase, longs: Number,
// enums: String, defaults: true).

/**
 * Why the server refuses a request message. Set by the server's deserializers, which must not
 * throw (grpc-js would answer a bare INTERNAL "Error deserializing request"); the call checks it
 * before anything else.
 */
export interface Refusal {
  readonly code: grpc.status;
  readonly message: string;
}

export interface ProtoFlightDescriptor {
  type: DescriptorType;
  cmd: Uint8Array;
  path: string[];
  refusal?: Refusal;
}
export interface ProtoTicket {
  ticket: Uint8Array;
  refusal?: Refusal;
}
export interface ProtoLocation {
  uri: string;
}
export interface ProtoFlightEndpoint {
  ticket: ProtoTicket | null;
  location: ProtoLocation[];
  expirationTime?: { seconds: number; nanos: number } | null;
  appMetadata?: Uint8Array;
}
export interface ProtoFlightInfo {
  schema: Uint8Array;
  flightDescriptor: ProtoFlightDescriptor | null;
  endpoint: ProtoFlightEndpoint[];
  totalRecords: number;
  totalBytes: number;
  ordered?: boolean;
  appMetadata?: Uint8Array;
}
export interface ProtoSchemaResult {
  schema: Uint8Array;
}
export interface ProtoCriteria {
  expression: Uint8Array;
  refusal?: Refusal;
}
export interface ProtoAction {
  type: string;
  body: Uint8Array;
  refusal?: Refusal;
}
export interface ProtoResult {
  body: Uint8Array;
}
export interface ProtoActionType {
  type: string;
  description: string;
}
export interface ProtoPutResult {
  appMetadata: Uint8Array;
}
export type ProtoEmpty = { refusal?: Refusal };

// ---------------------------------------------------------------------------------------------
// FlightData

/**
 * A body given as parts laid out back to back, each followed by zero padding up to a multiple of
 * 8 bytes: the layout of an Arrow IPC message body. `byteLength` includes the padding.
 */
export interface PaddedParts {
  readonly parts: readonly Uint8Array[];
  readonly byteLength: number;
}

export interface OutgoingFlightData {
  readonly descriptor?: FlightDescriptor | null;
  readonly dataHeader?: Uint8Array;
  readonly appMetadata?: Uint8Array;
  /** Exact bytes, or Arrow buffers to lay out with 8-byte padding. */
  readonly dataBody?: Uint8Array | PaddedParts;
}

export interface IncomingFlightData {
  readonly descriptor: FlightDescriptor | null;
  /** Views into the received message; valid as long as it is referenced. */
  readonly dataHeader: Uint8Array;
  readonly appMetadata: Uint8Array;
  readonly dataBody: Uint8Array;
  /** Size of the serialized protobuf message, for tests and metrics. */
  readonly wireBytes: number;
  /**
   * Set when the bytes were not a valid FlightData message. The codec does not throw, because
   * grpc-js would answer a throwing deserializer with a bare "Error deserializing request";
   * the receiving code reports this text instead.
   */
  readonly malformed?: string;
}

const TAG_DESCRIPTOR = 0x0a; // field 1, length-delimited
const TAG_HEADER = 0x12; // field 2
const TAG_APP_METADATA = 0x1a; // field 3
const TAG_BODY = [0xc2, 0x3e] as const; // field 1000, length-delimited: varint of 8002

const pad8 = (n: number): number => (n + 7) & ~7;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

export function encodeDescriptor(d: FlightDescriptor): Uint8Array {
  const typeCode = DESCRIPTOR_TYPES.indexOf(d.type);
  const paths = d.path.map((p) => Buffer.from(p, 'utf8'));
  let size = 0;
  if (typeCode > 0) size += 1 + varintSize(typeCode);
  if (d.cmd.byteLength > 0) size += 1 + varintSize(d.cmd.byteLength) + d.cmd.byteLength;
  for (const p of paths) size += 1 + varintSize(p.byteLength) + p.byteLength;
  const out = new Uint8Array(size);
  let pos = 0;
  if (typeCode > 0) {
    out[pos++] = 0x08;
    pos = writeVarint(out, pos, typeCode);
  }
  if (d.cmd.byteLength > 0) {
    out[pos++] = 0x12;
    pos = writeVarint(out, pos, d.cmd.byteLength);
    out.set(d.cmd, pos);
    pos += d.cmd.byteLength;
  }
  for (const p of paths) {
    out[pos++] = 0x1a;
    pos = writeVarint(out, pos, p.byteLength);
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}

/** Byte length of a FlightData message and of its body field's content. */
export function measureFlightData(msg: OutgoingFlightData, descriptor: Uint8Array | null): { total: number; body: number } {
  const field = (len: number, tagBytes: number) => tagBytes + varintSize(len) + len;
  const body = msg.dataBody === undefined ? 0 : msg.dataBody instanceof Uint8Array ? msg.dataBody.byteLength : msg.dataBody.byteLength;
  let total = 0;
  if (descriptor) total += field(descriptor.byteLength, 1);
  if (msg.dataHeader?.byteLength) total += field(msg.dataHeader.byteLength, 1);
  if (msg.appMetadata?.byteLength) total += field(msg.appMetadata.byteLength, 1);
  if (body > 0) total += field(body, 2);
  return { total, body };
}

function writeBytesField(out: Uint8Array, pos: number, tag: number, bytes: Uint8Array): number {
  out[pos++] = tag;
  pos = writeVarint(out, pos, bytes.byteLength);
  out.set(bytes, pos);
  return pos + bytes.byteLength;
}

function asBytes(view: ArrayBufferView): Uint8Array {
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Writes the message `measureFlightData` measured; every byte of `out` is written, padding included. */
export function writeFlightData(out: Uint8Array, msg: OutgoingFlightData, descriptor: Uint8Array | null, bodyLength: number): void {
  let pos = 0;
  if (descriptor) pos = writeBytesField(out, pos, TAG_DESCRIPTOR, descriptor);
  if (msg.dataHeader?.byteLength) pos = writeBytesField(out, pos, TAG_HEADER, msg.dataHeader);
  if (msg.appMetadata?.byteLength) pos = writeBytesField(out, pos, TAG_APP_METADATA, msg.appMetadata);
  if (bodyLength === 0 || msg.dataBody === undefined) return;
  out[pos++] = TAG_BODY[0];
  out[pos++] = TAG_BODY[1];
  pos = writeVarint(out, pos, bodyLength);
  if (msg.dataBody instanceof Uint8Array) {
    out.set(msg.dataBody, pos);
    return;
  }
  const end = pos + bodyLength;
  for (const part of msg.dataBody.parts) {
    const bytes = asBytes(part);
    out.set(bytes, pos);
    const next = pos + pad8(bytes.byteLength);
    // `out` may be recycled memory: the padding must be zeros, not a previous message's bytes.
    if (next > pos + bytes.byteLength) out.fill(0, pos + bytes.byteLength, next);
    pos = next;
  }
  if (pos !== end) throw new Error(`FlightData body parts add up to ${pos - (end - bodyLength)} bytes, not the declared ${bodyLength}`);
}

/** Serializes into a new buffer that the caller may keep. */
export function serializeFlightData(msg: OutgoingFlightData): Buffer {
  const descriptor = msg.descriptor ? encodeDescriptor(msg.descriptor) : null;
  const { total, body } = measureFlightData(msg, descriptor);
  const out = Buffer.allocUnsafe(total);
  writeFlightData(out, msg, descriptor, body);
  return out;
}

/** gRPC's message prefix: a compressed flag (0) and the message length, big-endian. */
export const GRPC_PREFIX_BYTES = 5;

/**
 * A FlightData message already framed for the wire: gRPC prefix + protobuf message, written by
 * frames.ts into a recycled buffer that must not be reused before `release()`.
 */
export class PreframedFlightData {
  private released = false;

  constructor(
    readonly frame: Buffer,
    private readonly recycle: ((frame: Buffer) => void) | null,
  ) {}

  /** The protobuf message alone, for a serializer that adds the prefix itself. */
  get message(): Buffer {
    return this.frame.subarray(GRPC_PREFIX_BYTES);
  }

  /** Hands the buffer back for reuse: only once the transport has finished sending it. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.recycle?.(this.frame);
  }
}

/**
 * The server's FlightData serializer. Outgoing data arrives preframed; grpc-js is normally made to
 * send that frame as it is (grpc-preframed.ts), and this path only runs if it could not be.
 */
function serializeServerFlightData(msg: OutgoingFlightData | PreframedFlightData): Buffer {
  return msg instanceof PreframedFlightData ? msg.message : serializeFlightData(msg);
}

// ---------------------------------------------------------------------------------------------
// The service

export type FlightMethod =
  | 'Handshake'
  | 'ListFlights'
  | 'GetFlightInfo'
  | 'PollFlightInfo'
  | 'GetSchema'
  | 'DoGet'
  | 'DoPut'
  | 'DoExchange'
  | 'DoAction'
  | 'ListActions';

export const PROTO_PATH = fileURLToPath(new URL('../proto/flight.proto', import.meta.url));
/** flight.proto as a protobufjs JSON descriptor, written by the build. */
const DESCRIPTOR_URL = new URL('../proto/flight.json', import.meta.url);

let cachedBase: grpc.ServiceDefinition | null = null;
let cachedClient: grpc.ServiceDefinition | null = null;

function baseDefinition(): grpc.ServiceDefinition {
  if (cachedBase) return cachedBase;
  const options = { longs: Number, enums: String, defaults: true, oneofs: true };
  return (cachedBase = serviceDefinition(loadDescriptor(DESCRIPTOR_URL), 'arrow.flight.protocol.FlightService', options));
}

/**
 * The FlightService definition for `server.addService`: the FlightData codec, and request
 * deserializers that check `limits` (see message-limits.ts); refusals name the settings in `names`.
 */
export function flightServiceDefinition(
  limits: MessageLimits = DEFAULT_MESSAGE_LIMITS,
  names: SettingNames = DEFAULT_SETTING_NAMES,
): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(baseDefinition())) {
    const m = { ...method } as grpc.MethodDefinition<unknown, unknown>;
    if (name === 'DoPut' || name === 'DoExchange') m.requestDeserialize = flightDataDeserializer(limits, names);
    else {
      const decode = REQUEST_DECODERS[name];
      if (!decode) throw new Error(`internal: no request decoder for FlightService.${name}`);
      m.requestDeserialize = requestDeserializer(name, method.path, limits, names, decode);
    }
    // DoPut's response is a PutResult: only FlightData sides change.
    if (name === 'DoGet' || name === 'DoExchange') m.responseSerialize = serializeServerFlightData as (m: unknown) => Buffer;
    def[name] = m;
  }
  return def as grpc.ServiceDefinition;
}

/** The FlightService definition for `makeClientConstructor`, with the FlightData codec. */
export function flightClientDefinition(): grpc.ServiceDefinition {
  if (cachedClient) return cachedClient;
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(baseDefinition())) {
    const m = { ...method } as grpc.MethodDefinition<unknown, unknown>;
    if (name === 'DoPut' || name === 'DoExchange') m.requestSerialize = serializeFlightData as (m: unknown) => Buffer;
    if (name === 'DoGet' || name === 'DoExchange') m.responseDeserialize = deserializeFlightData;
    def[name] = m;
  }
  return (cachedClient = def as grpc.ServiceDefinition);
}
