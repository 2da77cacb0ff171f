/**
 * The narrow interface between the Arrow Flight transport and the application, in the spirit of
 * Rust arrow-flight's `FlightService`: the transport (grpc-js, FlightData framing, IPC, message
 * splitting, backpressure, TLS) knows nothing of Feast; the application implements this interface
 * and knows nothing of gRPC. Errors thrown here are FlightErrors (see errors.ts); anything else
 * is reported as INTERNAL.
 */
import type { RecordBatch, Schema } from 'apache-arrow';

export type DescriptorType = 'UNKNOWN' | 'PATH' | 'CMD';

export interface FlightDescriptor {
  readonly type: DescriptorType;
  readonly cmd: Uint8Array;
  readonly path: readonly string[];
}

export interface FlightEndpointInfo {
  readonly ticket: Uint8Array;
  /** Location URIs; empty means "this same server". */
  readonly locations: readonly string[];
}

export interface FlightInfoResult {
  /** Schema of the result, or null when not known yet (sent as an empty schema). */
  readonly schema: Schema | null;
  readonly descriptor: FlightDescriptor;
  readonly endpoints: readonly FlightEndpointInfo[];
  /** -1 when unknown. */
  readonly totalRecords: number;
  readonly totalBytes: number;
}

/** Incoming DoPut data: the schema, then the record batches, read lazily. */
export interface IncomingStream {
  readonly descriptor: FlightDescriptor;
  /** Resolves once the first message (the schema) arrived. */
  schema(): Promise<Schema>;
  /** Record batches in arrival order; ends when the client half-closes. Throws on garbage IPC. */
  batches(): AsyncIterable<RecordBatch>;
}

/** Outgoing DoGet data. The transport re-chunks batches so every message stays under 4 MiB. */
export interface OutgoingStream {
  readonly schema: Schema;
  readonly batches: AsyncIterable<RecordBatch>;
}

export interface ActionTypeInfo {
  readonly type: string;
  readonly description: string;
}

/** Who is calling, and how to stop their work. */
export interface FlightCallInfo {
  /** gRPC metadata, lower-cased keys, string values. */
  readonly headers: Readonly<Record<string, string[]>>;
  /** Aborts when the client cancels or disconnects, or the deadline passes. */
  readonly signal: AbortSignal;
  /** Peer address, for logs. */
  readonly peer: string;
  /** The RPC name, e.g. "DoGet". */
  readonly method: string;
}

export interface FlightHandler {
  doPut(stream: IncomingStream, call: FlightCallInfo): Promise<void>;
  getFlightInfo(descriptor: FlightDescriptor, call: FlightCallInfo): Promise<FlightInfoResult>;
  getSchema?(descriptor: FlightDescriptor, call: FlightCallInfo): Promise<Schema>;
  doGet(ticket: Uint8Array, call: FlightCallInfo): Promise<OutgoingStream>;
  /**
   * DoExchange: Feast >= 0.67 sends every read as one bidirectional stream — the command in the
   * first message's descriptor, the entity table (or the mock table) as the client's batches, then
   * done_writing — and reads the result from the same stream.
   */
  doExchange?(stream: IncomingStream, call: FlightCallInfo): Promise<OutgoingStream>;
  listActions(call: FlightCallInfo): Promise<readonly ActionTypeInfo[]>;
  listFlights(criteria: Uint8Array, call: FlightCallInfo): Promise<readonly FlightInfoResult[]>;
  doAction?(type: string, body: Uint8Array, call: FlightCallInfo): AsyncIterable<Uint8Array>;
}
