/**
 * A small Arrow Flight client over grpc-js, for larder's tests. It speaks the same wire format
 * as pyarrow's client and reuses the server's IPC code (packages/flight/src/ipc.ts) for encoding and
 * decoding. Failed calls reject with grpc-js ServiceErrors (`code`, `details`).
 */
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { type RecordBatch, Table, type Schema } from 'apache-arrow';
import { Message } from 'apache-arrow/ipc/metadata/message';
import type { ActionTypeInfo, FlightDescriptor } from '../../packages/flight/src/handler.ts';
import { decodeFlightStream, FlightDataEncoder, parseFramedSchema, toFlightData } from '../../packages/flight/src/ipc.ts';
import {
  flightClientDefinition,
  serializeFlightData,
  type IncomingFlightData,
  type OutgoingFlightData,
  type ProtoActionType,
  type ProtoFlightInfo,
  type ProtoResult,
} from '../../packages/flight/src/protocol.ts';

export interface ConnectOptions {
  /** Trust this CA (PEM) and use TLS. */
  readonly tls?: { readonly ca: Buffer };
  /** Sent as metadata on every call, e.g. `{ authorization: 'Bearer …' }`. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly grpcOptions?: grpc.ChannelOptions;
}

export interface FlightInfoView {
  readonly schema: Schema | null;
  readonly descriptor: FlightDescriptor;
  readonly endpoints: { ticket: Uint8Array; locations: string[] }[];
  readonly totalRecords: number;
  readonly totalBytes: number;
}

export interface DoGetRawResult {
  readonly table: Table;
  /** Serialized size of every FlightData message received, in order. */
  readonly messageSizes: number[];
  /** Number of IPC messages of each kind (1 Schema, 2 DictionaryBatch, 3 RecordBatch). */
  readonly headerTypes: number[];
}

export interface DoGetStream {
  readonly schema: Promise<Schema>;
  readonly batches: AsyncIterable<RecordBatch>;
  /** Cancels the call from the client side. */
  cancel(): void;
}

/** A message for `doPutRaw`: FlightData fields, or raw bytes sent as the whole protobuf message. */
export type RawPutMessage = OutgoingFlightData | Uint8Array;

/** A DoPut or DoExchange left open after its messages, as a stalled uploader leaves it. */
export interface OpenUpload {
  /** The status the call ends with (OK included); never rejects. */
  readonly ended: Promise<{ code: grpc.status; details: string }>;
  /** Sends one more message. */
  write(message: RawPutMessage): void;
  /** Half-closes the client's side, as a client that finished uploading does. */
  end(): void;
  cancel(): void;
}

export interface FlightTestClient {
  doPut(cmd: Uint8Array | string, data: Table | readonly RecordBatch[], options?: { schema?: Schema }): Promise<{ putResults: number }>;
  /** Sends the messages as they are; with `cancelAfter`, cancels the call after that many messages. */
  doPutRaw(messages: readonly RawPutMessage[], options?: { cancelAfter?: number }): Promise<{ putResults: number }>;
  /** Opens DoPut or DoExchange, sends `messages` and leaves the stream open. */
  openUpload(rpc: 'DoPut' | 'DoExchange', messages: readonly RawPutMessage[]): OpenUpload;
  /** A command, or a whole descriptor (PATH descriptors, odd ones). */
  getFlightInfo(cmd: Uint8Array | string | FlightDescriptor): Promise<FlightInfoView>;
  getSchema(cmd: Uint8Array | string | FlightDescriptor): Promise<Schema | null>;
  pollFlightInfo(cmd: Uint8Array | string): Promise<unknown>;
  doGet(ticket: Uint8Array | string): Promise<Table>;
  doGetRaw(ticket: Uint8Array | string): Promise<DoGetRawResult>;
  doGetStream(ticket: Uint8Array | string): DoGetStream;
  doExchange(cmd: Uint8Array | string, data: Table | readonly RecordBatch[], options?: { schema?: Schema }): Promise<Table>;
  listActions(): Promise<ActionTypeInfo[]>;
  listFlights(criteria?: Uint8Array): Promise<FlightInfoView[]>;
  doAction(type: string, body?: Uint8Array): Promise<Uint8Array[]>;
  handshake(): Promise<void>;
  close(): void;
}

const bytes = (x: Uint8Array | string): Uint8Array => (typeof x === 'string' ? Buffer.from(x, 'utf8') : x);
const cmdDescriptor = (cmd: Uint8Array | string | FlightDescriptor): FlightDescriptor =>
  typeof cmd === 'string' || cmd instanceof Uint8Array ? { type: 'CMD', cmd: bytes(cmd), path: [] } : cmd;

function clientDefinition(): grpc.ServiceDefinition {
  const base = flightClientDefinition();
  // DoPut and DoExchange also accept raw bytes, to send broken protobuf on purpose.
  const requestSerialize = (m: RawPutMessage) =>
    m instanceof Uint8Array ? Buffer.from(m.buffer, m.byteOffset, m.byteLength) : serializeFlightData(m);
  return {
    ...base,
    DoPut: { ...base.DoPut!, requestSerialize },
    DoExchange: { ...base.DoExchange!, requestSerialize },
  } as grpc.ServiceDefinition;
}

function toInfoView(info: ProtoFlightInfo): FlightInfoView {
  const d = info.flightDescriptor;
  return {
    schema: parseFramedSchema(info.schema),
    descriptor: { type: d?.type ?? 'UNKNOWN', cmd: d?.cmd ?? new Uint8Array(0), path: d?.path ?? [] },
    endpoints: info.endpoint.map((e) => ({ ticket: e.ticket?.ticket ?? new Uint8Array(0), locations: e.location.map((l) => l.uri) })),
    totalRecords: info.totalRecords,
    totalBytes: info.totalBytes,
  };
}

/** The call's outcome: resolves on an OK status, rejects with the ServiceError otherwise. */
function outcome(call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    call.on('error', reject);
    call.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) resolve();
    });
  });
}

async function* frames(call: grpc.ClientReadableStream<IncomingFlightData> | grpc.ClientDuplexStream<unknown, IncomingFlightData>) {
  for await (const m of call as AsyncIterable<IncomingFlightData>) {
    if (m.malformed) throw new Error(m.malformed);
    yield m;
  }
}

async function readTable(source: AsyncIterable<IncomingFlightData>): Promise<Table> {
  const decoded = await decodeFlightStream(source);
  const batches: RecordBatch[] = [];
  for await (const b of decoded.batches) batches.push(b);
  return new Table(decoded.schema, batches);
}

export function connect(address: string, options: ConnectOptions = {}): FlightTestClient {
  const Client = grpc.makeClientConstructor(clientDefinition(), 'FlightService');
  const credentials = options.tls ? grpc.credentials.createSsl(options.tls.ca) : grpc.credentials.createInsecure();
  const client = new Client(address, credentials, {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
    'grpc-node.flow_control_window': 16 * 1024 * 1024,
    ...options.grpcOptions,
  }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;

  const metadata = () => {
    const m = new grpc.Metadata();
    for (const [k, v] of Object.entries(options.headers ?? {})) m.set(k, v);
    return m;
  };

  function unaryCall<Res>(method: string, request: unknown): Promise<Res> {
    return new Promise((resolve, reject) => {
      client[method]!(request, metadata(), (error: grpc.ServiceError | null, response: Res) => (error ? reject(error) : resolve(response)));
    });
  }

  async function collect<T>(call: grpc.ClientReadableStream<T>): Promise<T[]> {
    const done = outcome(call);
    const out: T[] = [];
    call.on('data', (m: T) => out.push(m));
    await done;
    return out;
  }

  /** Writes with backpressure, ends the stream, and waits for the status. */
  async function sendAll(call: grpc.ClientDuplexStream<RawPutMessage, unknown>, messages: Iterable<RawPutMessage>, cancelAfter?: number) {
    const done = outcome(call);
    done.catch(() => {}); // observed below; avoid an unhandled rejection while still writing
    let sent = 0;
    for (const m of messages) {
      if (cancelAfter !== undefined && sent === cancelAfter) {
        call.cancel();
        return done;
      }
      if (!call.write(m)) await Promise.race([once(call, 'drain'), done]);
      sent++;
    }
    call.end();
    return done;
  }

  function* encode(cmd: Uint8Array | string, data: Table | readonly RecordBatch[], schema?: Schema): Generator<OutgoingFlightData> {
    const batches = data instanceof Table ? data.batches : data;
    const s = schema ?? (data instanceof Table ? data.schema : batches[0]?.schema);
    if (!s) throw new Error('doPut needs a schema when there are no batches');
    const encoder = new FlightDataEncoder(s);
    yield toFlightData(encoder.schemaMessage(), cmdDescriptor(cmd));
    for (const b of batches) for (const m of encoder.batchMessages(b)) yield toFlightData(m);
  }

  async function put(messages: Iterable<RawPutMessage>, cancelAfter?: number): Promise<{ putResults: number }> {
    const call = client.DoPut!(metadata()) as grpc.ClientDuplexStream<RawPutMessage, unknown>;
    let putResults = 0;
    call.on('data', () => putResults++);
    await sendAll(call, messages, cancelAfter);
    return { putResults };
  }

  function doGetCall(ticket: Uint8Array | string) {
    return client.DoGet!({ ticket: bytes(ticket) }, metadata()) as grpc.ClientReadableStream<IncomingFlightData>;
  }

  async function withStatus<T>(
    call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>,
    work: Promise<T>,
  ): Promise<T> {
    const done = outcome(call);
    // An error status also breaks the read loop; report the status rather than the read error.
    const result = await Promise.all([work, done]).catch(async (error) => {
      await done;
      throw error;
    });
    return result[0];
  }

  return {
    doPut: (cmd, data, opts) => put(encode(cmd, data, opts?.schema)),
    doPutRaw: (messages, opts) => put(messages, opts?.cancelAfter),

    openUpload(rpc, messages) {
      const call = client[rpc]!(metadata()) as grpc.ClientDuplexStream<RawPutMessage, unknown>;
      call.on('data', () => {});
      const ended = new Promise<{ code: grpc.status; details: string }>((resolve) => {
        call.on('error', () => {});
        call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details }));
      });
      for (const m of messages) call.write(m);
      return { ended, write: (m) => void call.write(m), end: () => call.end(), cancel: () => call.cancel() };
    },

    getFlightInfo: async (cmd) => toInfoView(await unaryCall<ProtoFlightInfo>('GetFlightInfo', cmdDescriptor(cmd))),
    getSchema: async (cmd) => parseFramedSchema((await unaryCall<{ schema: Uint8Array }>('GetSchema', cmdDescriptor(cmd))).schema),
    pollFlightInfo: (cmd) => unaryCall('PollFlightInfo', cmdDescriptor(cmd)),

    doGet(ticket) {
      const call = doGetCall(ticket);
      return withStatus(call, readTable(frames(call)));
    },

    async doGetRaw(ticket) {
      const call = doGetCall(ticket);
      const messageSizes: number[] = [];
      const headerTypes: number[] = [];
      async function* observed() {
        for await (const m of frames(call)) {
          messageSizes.push(m.wireBytes);
          headerTypes.push(Message.decode(m.dataHeader).headerType);
          yield m;
        }
      }
      const table = await withStatus(call, readTable(observed()));
      return { table, messageSizes, headerTypes };
    },

    doGetStream(ticket) {
      const call = doGetCall(ticket);
      call.on('error', () => {}); // surfaced through the iterator
      const decoded = decodeFlightStream(frames(call));
      decoded.catch(() => {});
      return {
        schema: decoded.then((d) => d.schema),
        batches: {
          async *[Symbol.asyncIterator]() {
            yield* (await decoded).batches;
          },
        },
        cancel: () => call.cancel(),
      };
    },

    async doExchange(cmd, data, opts) {
      const call = client.DoExchange!(metadata()) as grpc.ClientDuplexStream<OutgoingFlightData, IncomingFlightData>;
      const result = readTable(frames(call));
      result.catch(() => {});
      for (const m of encode(cmd, data, opts?.schema)) {
        if (!call.write(m)) await once(call, 'drain');
      }
      call.end();
      return withStatus(call, result);
    },

    async listActions() {
      const items = await collect(client.ListActions!({}, metadata()) as grpc.ClientReadableStream<ProtoActionType>);
      return items.map((a) => ({ type: a.type, description: a.description }));
    },

    async listFlights(criteria = new Uint8Array(0)) {
      const items = await collect(client.ListFlights!({ expression: criteria }, metadata()) as grpc.ClientReadableStream<ProtoFlightInfo>);
      return items.map(toInfoView);
    },

    async doAction(type, body = new Uint8Array(0)) {
      const items = await collect(client.DoAction!({ type, body }, metadata()) as grpc.ClientReadableStream<ProtoResult>);
      return items.map((r) => r.body);
    },

    async handshake() {
      const call = client.Handshake!(metadata()) as grpc.ClientDuplexStream<unknown, unknown>;
      const done = outcome(call);
      call.write({ protocolVersion: 0, payload: new Uint8Array(0) });
      call.end();
      call.on('data', () => {});
      await done;
    },

    close: () => client.close(),
  };
}
