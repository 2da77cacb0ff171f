/**
 * A complete @larder/flight server: serves named in-memory tables by DoGet and accepts new ones
 * by DoPut. `npx tsx examples/table-server.ts` (or compile it) and read it with pyarrow:
 *   pyarrow.flight.connect("grpc://127.0.0.1:8815").do_get(pyarrow.flight.Ticket(b"squares")).read_all()
 */
import { Table, tableFromArrays, type RecordBatch } from 'apache-arrow';
import {
  createFlightServer,
  InvalidArgumentError,
  NotFoundError,
  type FlightDescriptor,
  type FlightHandler,
  type FlightServer,
} from '@larder/flight';

export function tableServer(tables: Map<string, Table>, port = 8815): FlightServer {
  const named = (name: string) => {
    const table = tables.get(name);
    if (!table) throw new NotFoundError(`No table named "${name}"`);
    return table;
  };
  const nameOf = (d: FlightDescriptor) => (d.type === 'PATH' ? d.path.join('/') : new TextDecoder().decode(d.cmd));
  const info = (name: string) => {
    const table = named(name);
    const descriptor: FlightDescriptor = { type: 'PATH', path: [name], cmd: new Uint8Array(0) };
    const endpoints = [{ ticket: new TextEncoder().encode(name), locations: [] }];
    return { schema: table.schema, descriptor, endpoints, totalRecords: table.numRows, totalBytes: -1 };
  };
  const handler: FlightHandler = {
    async getFlightInfo(descriptor) {
      return info(nameOf(descriptor));
    },
    async listFlights() {
      return [...tables.keys()].map(info);
    },
    async listActions() {
      return [];
    },
    // Batches stream out as the async iterable yields them; the transport splits large ones and
    // waits for the client to read (backpressure). call.signal aborts when the client goes away.
    async doGet(ticket) {
      const table = named(new TextDecoder().decode(ticket));
      return {
        schema: table.schema,
        batches: (async function* () {
          yield* table.batches;
        })(),
      };
    },
    async doPut(stream, call) {
      const name = nameOf(stream.descriptor);
      if (!name) throw new InvalidArgumentError('DoPut needs a descriptor naming the table');
      const schema = await stream.schema();
      const batches: RecordBatch[] = [];
      for await (const batch of stream.batches()) {
        if (call.signal.aborted) return;
        batches.push(batch);
      }
      tables.set(name, new Table(schema, batches));
    },
  };
  return createFlightServer(handler, { host: '127.0.0.1', port });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const squares = tableFromArrays({ n: Int32Array.from([1, 2, 3]), square: Int32Array.from([1, 4, 9]) });
  const server = tableServer(new Map([['squares', squares]]));
  const { port } = await server.start();
  console.log(`serving on grpc://127.0.0.1:${port}`);
  process.once('SIGINT', () => void server.shutdown(5_000));
}
