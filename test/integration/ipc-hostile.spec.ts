/**
 * Hostile Arrow IPC messages against a running Flight server (issue 16, defect 1): a ~200-byte
 * RecordBatch header claiming 2^27 buffers used to make the server allocate gigabytes, stall every
 * other caller and die of "JavaScript heap out of memory". Now each such message is
 * INVALID_ARGUMENT within milliseconds, memory stays flat, and other callers are served meanwhile.
 *
 * The server runs in this process (core's Flight transport with a small handler), so its heap is
 * the heap measured here.
 */
import { status } from '@grpc/grpc-js';
import { Field, Float64, Int64, RecordBatch, Schema, Struct, Table, makeData } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import type { FlightHandler, IncomingStream, OutgoingStream } from '../../packages/flight/src/handler.ts';
import { concatBody, FlightDataEncoder } from '../../packages/flight/src/ipc.ts';
import type { OutgoingFlightData } from '../../packages/flight/src/protocol.ts';
import { createFlightServer, type FlightServer } from '../../packages/flight/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { nestedListSchema, sharedTreeSchema, withBatchInt64, withBufferCount } from '../support/ipc-craft.ts';

const schema = new Schema([new Field('id', new Int64(), false), new Field('x', new Float64(), true)]);

function batchOf(rows: number): RecordBatch {
  const id = BigInt64Array.from({ length: rows }, (_, i) => BigInt(i));
  const x = Float64Array.from({ length: rows }, (_, i) => i / 2);
  const children = [makeData({ type: new Int64(), length: rows, data: id }), makeData({ type: new Float64(), length: rows, data: x })];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}

/** Reads every upload to the end; echoes DoExchange input. */
class ReadingHandler implements FlightHandler {
  uploads = 0;
  async doPut(stream: IncomingStream): Promise<void> {
    for await (const _ of stream.batches()) void _;
    this.uploads++;
  }
  async doExchange(stream: IncomingStream): Promise<OutgoingStream> {
    const batches: RecordBatch[] = [];
    for await (const b of stream.batches()) batches.push(b);
    return {
      schema: await stream.schema(),
      batches: (async function* () {
        yield* batches;
      })(),
    };
  }
  async getFlightInfo(): Promise<never> {
    throw new Error('not used');
  }
  async doGet(): Promise<never> {
    throw new Error('not used');
  }
  async listActions() {
    return [{ type: 'toy', description: 'a toy action' }];
  }
  async listFlights() {
    return [];
  }
}

const descriptor = { type: 'CMD' as const, cmd: Buffer.from('{"api":"hostile"}'), path: [] };

/** The messages of a valid upload: schema (with the descriptor), then one batch. */
function validUpload(rows = 100): OutgoingFlightData[] {
  const encoder = new FlightDataEncoder(schema);
  const [schemaMessage, batchMessage] = [encoder.schemaMessage(), ...encoder.batchMessages(batchOf(rows))];
  return [
    { descriptor, dataHeader: schemaMessage!.header, dataBody: new Uint8Array(0) },
    { dataHeader: batchMessage!.header, dataBody: concatBody(batchMessage!.body) },
  ];
}

const [validSchema, validBatch] = validUpload() as [
  OutgoingFlightData & { dataHeader: Uint8Array },
  OutgoingFlightData & { dataHeader: Uint8Array },
];
const withHeader = (header: Uint8Array): OutgoingFlightData[] => [validSchema, { ...validBatch, dataHeader: header }];
const schemaOnly = (header: Uint8Array): OutgoingFlightData[] => [{ descriptor, dataHeader: header, dataBody: new Uint8Array(0) }];

/** The hostile uploads, each with the error it must get. */
const HOSTILE: Array<{ name: string; messages: OutgoingFlightData[]; error: RegExp }> = [
  {
    name: '2^27 buffers',
    messages: withHeader(withBufferCount(validBatch.dataHeader, 2 ** 27)),
    error: /message #2: the RecordBatch header's buffers vector declares 134217728 entries but only \d+ bytes follow/,
  },
  {
    name: '2^40 rows',
    messages: withHeader(withBatchInt64(validBatch.dataHeader, 1, 0, 0, 2n ** 40n)),
    error: /message #2: the RecordBatch's column "id" \(FieldNode 0\) declares 1099511627776 rows/,
  },
  {
    name: '10,000 nested lists',
    messages: schemaOnly(nestedListSchema(10_000)),
    error: /message #1: the schema nests fields more than 64 deep/,
  },
  {
    name: 'a schema of 2^40 shared fields',
    messages: schemaOnly(sharedTreeSchema(40, 2)),
    error: /message #1: the buffer references more than \d+ tables/,
  },
];

interface ServiceError {
  code: number;
  details: string;
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('the call succeeded');
}

/** Samples heapUsed every few ms until stopped; returns the peak. */
function heapPeak(): { stop(): number } {
  let peak = process.memoryUsage().heapUsed;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().heapUsed);
    },
  };
}

describe('hostile Arrow IPC messages against a running Flight server', function () {
  this.timeout(120_000);
  let handler: ReadingHandler;
  let server: FlightServer;
  let client: FlightTestClient;

  beforeEach(async () => {
    handler = new ReadingHandler();
    server = createFlightServer(handler, { host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }) });
    const { port } = await server.start();
    client = connect(`127.0.0.1:${port}`);
  });

  afterEach(async () => {
    client.close();
    await server.shutdown(100);
  });

  it('answers a DoPut whose record-batch header claims 2^27 buffers with INVALID_ARGUMENT, quickly, without allocating', async () => {
    const before = process.memoryUsage().heapUsed;
    const sampler = heapPeak();
    const started = performance.now();
    const error = await failure(client.doPutRaw(HOSTILE[0]!.messages));
    const elapsed = performance.now() - started;
    const grown = sampler.stop() - before;
    expect(error.code).to.equal(status.INVALID_ARGUMENT);
    expect(error.details).to.match(HOSTILE[0]!.error);
    expect(elapsed).to.be.lessThan(2_000);
    expect(grown).to.be.lessThan(100 * 1024 * 1024);
    // The server is still there, and a valid upload goes through.
    await client.doPutRaw(validUpload());
    expect(handler.uploads).to.equal(1);
  });

  it('refuses every kind of hostile message while ListActions and DoExchange callers are served', async () => {
    const before = process.memoryUsage().heapUsed;
    const sampler = heapPeak();
    let attacking = true;
    const refusals: ServiceError[] = [];
    // Four attackers, each sending hostile uploads back to back.
    const attackers = Array.from({ length: 4 }, async (_, lane) => {
      for (let i = lane; attacking; i++) {
        const attack = HOSTILE[i % HOSTILE.length]!;
        const error = await failure(client.doPutRaw(attack.messages));
        expect(error.code, attack.name).to.equal(status.INVALID_ARGUMENT);
        expect(error.details, attack.name).to.match(attack.error);
        refusals.push(error);
      }
    });
    // Meanwhile, ordinary callers.
    const slowest: number[] = [];
    const table = new Table([batchOf(10_000)]);
    for (let round = 0; round < 10; round++) {
      let started = performance.now();
      expect((await client.listActions()).map((a) => a.type)).to.deep.equal(['toy']);
      slowest.push(performance.now() - started);
      started = performance.now();
      const echoed = await client.doExchange('{"api":"echo"}', table);
      slowest.push(performance.now() - started);
      expect(echoed.numRows).to.equal(10_000);
      expect(Number(echoed.getChild('id')!.get(9_999))).to.equal(9_999);
    }
    attacking = false;
    await Promise.all(attackers);
    const grown = sampler.stop() - before;
    expect(refusals.length).to.be.greaterThan(20);
    // Generous bounds for a busy 2-core machine: before the fix these calls timed out.
    expect(Math.max(...slowest)).to.be.lessThan(3_000);
    expect(grown).to.be.lessThan(100 * 1024 * 1024);
  });
});
