/**
 * A Flight client that sends whatever it is given: any descriptor to GetFlightInfo/GetSchema, any
 * ticket, any action, and any sequence of FlightData (or raw protobuf bytes) on DoPut and
 * DoExchange. Every call carries the fuzz deadline and ends in an Outcome, never a throw; what the
 * server streamed back is drained and counted (its content is not the property's business).
 * Valid flows go through test/support/flight-client.ts; this is for the hostile ones.
 */
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { FlightDescriptor } from '../../packages/flight/src/handler.ts';
import { flightClientDefinition, serializeFlightData, type OutgoingFlightData } from '../../packages/flight/src/protocol.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { CALL_DEADLINE_MS, deadlineInterceptor, type Outcome } from './outcome.ts';

export type RawMessage = OutgoingFlightData | Uint8Array;

export interface RawFlightClient {
  getFlightInfo(descriptor: FlightDescriptor): Promise<Outcome>;
  getSchema(descriptor: FlightDescriptor): Promise<Outcome>;
  doGet(ticket: Uint8Array): Promise<Outcome>;
  doAction(type: string, body: Uint8Array): Promise<Outcome>;
  listFlights(criteria: Uint8Array): Promise<Outcome>;
  listActions(): Promise<Outcome>;
  /** Sends `messages` on a DoPut or DoExchange stream, half-closes, reads everything back. */
  stream(method: 'DoPut' | 'DoExchange', messages: readonly RawMessage[]): Promise<Outcome>;
  /** The higher-level test client on the same address and headers, with the same deadline. */
  readonly flight: FlightTestClient;
  close(): void;
}

function toBuffer(m: RawMessage): Buffer {
  return m instanceof Uint8Array ? Buffer.from(m.buffer, m.byteOffset, m.byteLength) : serializeFlightData(m);
}

function definition(): grpc.ServiceDefinition {
  const base = flightClientDefinition();
  const raw = (name: string) => ({ ...base[name]!, requestSerialize: toBuffer });
  return { ...base, DoPut: raw('DoPut'), DoExchange: raw('DoExchange') } as grpc.ServiceDefinition;
}

export function connectRaw(address: string, headers: Readonly<Record<string, string>> = {}): RawFlightClient {
  const Client = grpc.makeClientConstructor(definition(), 'FlightService');
  const options = {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
    interceptors: [deadlineInterceptor],
  };
  const client = new Client(address, grpc.credentials.createInsecure(), options) as grpc.Client &
    Record<string, (...args: unknown[]) => unknown>;
  const flight = connect(address, { headers, grpcOptions: options });
  const metadata = () => {
    const m = new grpc.Metadata();
    for (const [k, v] of Object.entries(headers)) m.set(k, v);
    return m;
  };
  const deadline = () => ({ deadline: Date.now() + CALL_DEADLINE_MS });

  const ended = (call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>): Promise<Outcome> =>
    new Promise((resolve) => {
      call.on('data', () => {});
      call.on('error', () => {}); // the status below carries it
      call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details }));
    });

  const unary = (method: string, request: unknown): Promise<Outcome> =>
    new Promise((resolve) => {
      client[method]!(request, metadata(), deadline(), (error: grpc.ServiceError | null) =>
        resolve(error ? { code: error.code, details: error.details } : { code: grpc.status.OK, details: '' }),
      );
    });

  const serverStream = (method: string, request: unknown): Promise<Outcome> =>
    ended(client[method]!(request, metadata(), deadline()) as grpc.ClientReadableStream<unknown>);

  return {
    getFlightInfo: (d) => unary('GetFlightInfo', d),
    getSchema: (d) => unary('GetSchema', d),
    doGet: (ticket) => serverStream('DoGet', { ticket }),
    doAction: (type, body) => serverStream('DoAction', { type, body }),
    listFlights: (criteria) => serverStream('ListFlights', { expression: criteria }),
    listActions: () => serverStream('ListActions', {}),
    async stream(method, messages) {
      const call = client[method]!(metadata(), deadline()) as grpc.ClientDuplexStream<RawMessage, unknown>;
      const done = ended(call);
      for (const m of messages) {
        // The server may end the call early (a refused first message); stop writing then.
        if (!call.write(m)) {
          const finished = await Promise.race([once(call, 'drain').then(() => false), done.then(() => true)]);
          if (finished) break;
        }
      }
      call.end();
      return done;
    },
    flight,
    close() {
      client.close();
      flight.close();
    },
  };
}
