/**
 * How large each received gRPC message may be, by the role of its RPC, and the refusal of an
 * oversize message from its 5-byte length prefix, before a byte of it is buffered.
 *
 * grpc-js has one receive limit for the whole server (`grpc.max_receive_message_length`), and it
 * buffers a whole message before the deserializer sees it. Our limits differ by RPC: a FlightData
 * record batch may be tens of MB (pyarrow sends such), while GetFlightInfo's descriptor, DoGet's
 * ticket, DoAction's body and ListFlights' criteria carry at most a command. So the server-wide
 * limit is the largest (a FlightData message), and an interceptor — grpc-js's public hook, run
 * once per call before its first byte is read — gives each call a length-prefix decoder with its
 * own limits. The deserializers (protocol.ts) check the same limits again, so if a grpc-js
 * version lacks the internal this relies on, an oversize message is still refused, only after
 * being buffered (up to the server-wide limit).
 */
import type * as grpc from '@grpc/grpc-js';
import { DEFAULT_SETTING_NAMES, type SettingNames } from './setting-names.ts';

export interface MessageLimits {
  /** Largest command: a descriptor's cmd, a ticket, DoAction's body, ListFlights' criteria. */
  readonly maxCommandBytes: number;
  /** Largest FlightData message of a DoPut/DoExchange after the first (a record batch). */
  readonly maxFlightDataBytes: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Room in a unary request beyond its command: PATH elements, the action type, protobuf tags. */
export const REQUEST_HEADROOM = 64 * KiB;
/** Room in an upload's first FlightData message beyond its command: the Schema message. */
export const SCHEMA_HEADROOM = 16 * MiB;
/** Room in a record batch message beyond its body: the IPC header (nodes and buffers). */
export const HEADER_HEADROOM = 16 * MiB;
/** PATH elements a FlightDescriptor may have (Feast sends none); each would be a string to allocate. */
export const MAX_PATH_ELEMENTS = 256;

export const DEFAULT_MAX_COMMAND_BYTES = MiB;

/** FlightData limit for uploads of at most `maxUploadBytes`. */
export function flightDataLimit(maxUploadBytes: number, maxCommandBytes: number): number {
  return maxUploadBytes + maxCommandBytes + HEADER_HEADROOM;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = {
  maxCommandBytes: DEFAULT_MAX_COMMAND_BYTES,
  maxFlightDataBytes: flightDataLimit(1024 * MiB, DEFAULT_MAX_COMMAND_BYTES),
};

const UPLOAD_METHODS = new Set(['DoPut', 'DoExchange']);

function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function isFlightPath(path: string): boolean {
  return path.startsWith('/arrow.flight.protocol.FlightService/');
}

export function requestLimit(limits: MessageLimits): number {
  return limits.maxCommandBytes + REQUEST_HEADROOM;
}

/** The limit of message `index` (0-based) of a call to `path`, and how to explain it. */
export function messageLimit(
  path: string,
  index: number,
  limits: MessageLimits,
  names: SettingNames = DEFAULT_SETTING_NAMES,
): { limit: number; explain(size: number): string } {
  const rpc = methodName(path);
  const command = `the command limit of ${limits.maxCommandBytes} bytes, ${names.maxCommandBytes}`;
  if (isFlightPath(path) && UPLOAD_METHODS.has(rpc)) {
    if (index === 0) {
      const limit = limits.maxCommandBytes + SCHEMA_HEADROOM;
      return {
        limit,
        explain: (size) =>
          `The first ${rpc} message (descriptor and schema) of ${size} bytes is larger than this server accepts (${limit} bytes: ${command}, plus ${SCHEMA_HEADROOM} bytes for the schema)`,
      };
    }
    const limit = limits.maxFlightDataBytes;
    return {
      limit,
      explain: (size) =>
        `A ${rpc} FlightData message of ${size} bytes is larger than this server accepts (${limit} bytes: ${names.maxFlightDataBytes}, plus ${HEADER_HEADROOM} bytes for the IPC header)`,
    };
  }
  const limit = requestLimit(limits);
  return {
    limit,
    explain: (size) =>
      `The ${rpc} request message of ${size} bytes is larger than this server accepts (${limit} bytes: ${command}, plus ${REQUEST_HEADROOM} bytes for the rest of the message)`,
  };
}

/**
 * grpc-js's length-prefixed message reader (its StreamDecoder's contract: `write(chunk)` returns
 * every message completed by the chunk, each with its 5-byte prefix), with a limit per message
 * that is checked as soon as the prefix is read: an oversize message is never buffered. Throwing
 * makes grpc-js end the call with RESOURCE_EXHAUSTED and this message.
 */
export class LimitedMessageDecoder {
  private prefix = Buffer.alloc(5);
  private prefixRead = 0;
  private parts: Buffer[] = [];
  private remaining = 0;
  private size = 0;
  private index = 0;

  constructor(private readonly limitOf: (index: number) => { limit: number; explain(size: number): string }) {}

  write(data: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < data.length) {
      if (this.prefixRead < 5) {
        const n = Math.min(5 - this.prefixRead, data.length - pos);
        data.copy(this.prefix, this.prefixRead, pos, pos + n);
        this.prefixRead += n;
        pos += n;
        if (this.prefixRead < 5) break;
        this.size = this.prefix.readUInt32BE(1);
        const { limit, explain } = this.limitOf(this.index);
        if (this.size > limit) throw new Error(explain(this.size));
        this.remaining = this.size;
        this.parts = [];
        if (this.remaining > 0) continue;
      } else {
        const n = Math.min(this.remaining, data.length - pos);
        this.parts.push(data.subarray(pos, pos + n));
        this.remaining -= n;
        pos += n;
        if (this.remaining > 0) continue;
      }
      out.push(Buffer.concat([this.prefix, ...this.parts], this.size + 5));
      this.prefix = Buffer.alloc(5);
      this.prefixRead = 0;
      this.parts = [];
      this.index++;
    }
    return out;
  }
}

/** The grpc-js internals this relies on: the base call's decoder and receive limit. */
interface BaseCallShape {
  decoder: { write(data: Buffer): Buffer[]; maxReadMessageLength: number };
  maxReceiveMessageSize: number;
}

function baseCallOf(call: unknown): BaseCallShape | null {
  // Interceptors added before ours wrap the base call; it is at the end of the `nextCall` chain.
  for (let c = call as Record<string, unknown> | undefined, depth = 0; c && depth < 16; c = c.nextCall as typeof c, depth++) {
    const decoder = c.decoder as Partial<BaseCallShape['decoder']> | undefined;
    if (
      decoder &&
      typeof decoder.write === 'function' &&
      typeof decoder.maxReadMessageLength === 'number' &&
      typeof c.maxReceiveMessageSize === 'number'
    ) {
      return c as unknown as BaseCallShape;
    }
  }
  return null;
}

/**
 * The interceptor that gives each call its limits. `onUnsupported` is told once if this grpc-js
 * does not look as expected (the deserializers' checks still apply).
 */
export function messageLimitInterceptor(limits: MessageLimits, names: SettingNames, onUnsupported: () => void): grpc.ServerInterceptor {
  let warned = false;
  return (method, call) => {
    const base = baseCallOf(call);
    if (base) {
      base.decoder = new LimitedMessageDecoder((index) =>
        messageLimit(method.path, index, limits, names),
      ) as unknown as BaseCallShape['decoder'];
      // Also bounds what a compressed message may inflate to.
      base.maxReceiveMessageSize =
        isFlightPath(method.path) && UPLOAD_METHODS.has(methodName(method.path)) ? limits.maxFlightDataBytes : requestLimit(limits);
    } else if (!warned) {
      warned = true;
      onUnsupported();
    }
    return call as grpc.ServerInterceptingCall;
  };
}
