/**
 * The larder side of the DoGet benchmark: larder's real Flight transport (createFlightServer:
 * grpc-js, FlightData codec, re-chunking, backpressure) with a minimal handler whose DoGet streams
 * one table, loaded from an Arrow IPC file, for any ticket. Runs as its own process so that client
 * and server never share a CPU thread.
 *
 *   npx tsx --conditions=larder-source bench/doget/larder-server.ts TABLE.arrow [SERVER_OPTIONS_JSON]
 *
 * SERVER_OPTIONS_JSON is merged into createFlightServer's options (e.g. chunking or
 * maxBufferedBytes), to measure a setting before changing its default.
 * Prints `{"port": N}` on stdout once it accepts calls; stops on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { UnimplementedError } from '../../core/src/errors.ts';
import type { FlightHandler } from '../../packages/flight/src/handler.ts';
import { createFlightServer, type FlightServerOptions } from '../../packages/flight/src/server.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: larder-server.ts TABLE.arrow');
// The batches are views into this one buffer: read once, every page touched before serving.
const table = tableFromIPC(readFileSync(file));

const unimplemented = async (): Promise<never> => {
  throw new UnimplementedError('not part of the benchmark');
};

const handler: FlightHandler = {
  doGet: async () => ({
    schema: table.schema,
    batches: (async function* () {
      yield* table.batches;
    })(),
  }),
  doPut: unimplemented,
  getFlightInfo: unimplemented,
  listActions: async () => [],
  listFlights: async () => [],
};

const extra = JSON.parse(process.argv[3] ?? '{}') as Partial<FlightServerOptions>;
const server = createFlightServer(handler, { ...extra, host: '127.0.0.1', port: 0 });
const { port } = await server.start();
process.on('SIGTERM', () => void server.shutdown(1_000).then(() => process.exit(0)));
process.stdout.write(`${JSON.stringify({ port })}\n`);
