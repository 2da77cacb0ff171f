/**
 * The Flight transport with a toy handler: message size cap, backpressure, cancellation, RPCs
 * Feast does not use, error statuses and graceful shutdown. The transport knows nothing of Feast.
 */
import { status } from '@grpc/grpc-js';
import { Field, Float64, Int64, RecordBatch, Schema, Struct, makeData, type Table } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import type { FlightHandler, IncomingStream, OutgoingStream } from '../../packages/flight/src/handler.ts';
import { createFlightServer, type FlightServer } from '../../packages/flight/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';

const schema = new Schema([new Field('id', new Int64(), false), new Field('x', new Float64(), true)]);

function batchOf(rows: number, start = 0): RecordBatch {
  const id = new BigInt64Array(rows).map((_, i) => BigInt(start + i));
  const x = new Float64Array(rows).map((_, i) => (start + i) / 2);
  const children = [makeData({ type: new Int64(), length: rows, data: id }), makeData({ type: new Float64(), length: rows, data: x })];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}

/** A handler whose DoGet ticket says what to send, and which records what it saw. */
class ToyHandler implements FlightHandler {
  produced = 0;
  aborted = false;
  finished = false;
  lastUpload: Table | null = null;

  async doPut(stream: IncomingStream): Promise<void> {
    const batches: RecordBatch[] = [];
    for await (const batch of stream.batches()) batches.push(batch);
    if (batches.some((b) => b.numRows === 13)) throw new InvalidArgumentError('thirteen rows are refused');
  }
  async getFlightInfo(): Promise<never> {
    throw new InvalidArgumentError('no flights here');
  }
  async doGet(ticket: Uint8Array, call: { signal: AbortSignal }): Promise<OutgoingStream> {
    const [kind, count, rows] = Buffer.from(ticket).toString().split(':');
    call.signal.addEventListener('abort', () => (this.aborted = true));
    this.produced = 0;
    this.finished = false;
    const self = this;
    async function* batches() {
      try {
        for (let i = 0; i < Number(count); i++) {
          if (kind === 'slow') await new Promise((r) => setTimeout(r, 20));
          self.produced++;
          yield batchOf(Number(rows), i * Number(rows));
        }
      } finally {
        self.finished = true;
      }
    }
    return { schema, batches: batches() };
  }
  async listActions() {
    return [{ type: 'toy', description: 'a toy action' }];
  }
  async listFlights() {
    return [];
  }
}

describe('Flight transport (grpc-js)', function () {
  this.timeout(60_000);
  let handler: ToyHandler;
  let server: FlightServer;
  let client: FlightTestClient;

  beforeEach(async () => {
    handler = new ToyHandler();
    server = createFlightServer(handler, { host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }) });
    const { port } = await server.start();
    client = connect(`127.0.0.1:${port}`);
  });

  afterEach(async () => {
    client.close();
    await server.shutdown(100);
  });

  it('splits a large result so every FlightData message stays under 4 MiB, and loses nothing', async () => {
    // 4 batches of 1M rows × 16 bytes: 64 MB, each batch 16 MB before splitting.
    const { table, messageSizes } = await client.doGetRaw('fast:4:1000000');
    expect(table.numRows).to.equal(4_000_000);
    expect(Math.max(...messageSizes)).to.be.lessThan(4 * 1024 * 1024);
    expect(Number(table.getChild('id')!.get(3_999_999))).to.equal(3_999_999);
    expect(table.getChild('x')!.get(123_456)).to.equal(61_728);
  });

  it('delivers every value intact while frame buffers are recycled between messages and calls', async () => {
    // Two calls at once, 60 messages each: the shared frame pool hands buffers from one message
    // (and call) to the next, so a buffer reused before HTTP/2 sent it would corrupt values.
    const tables = await Promise.all([client.doGet('fast:30:200000'), client.doGet('fast:30:200000')]);
    for (const table of tables) {
      expect(table.numRows).to.equal(6_000_000);
      const ids = table.getChild('id')!.toArray() as BigInt64Array;
      const xs = table.getChild('x')!.toArray() as Float64Array;
      let bad = 0;
      for (let i = 0; i < ids.length; i++) if (ids[i] !== BigInt(i) || xs[i] !== i / 2) bad++;
      expect(bad).to.equal(0);
    }
  });

  it('produces no further than the client reads (backpressure), and stops when the client cancels', async () => {
    const stream = client.doGetStream('fast:2000:100000'); // 2000 × 1.6 MB if it ran ahead
    let read = 0;
    for await (const _ of stream.batches) {
      if (++read === 3) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(handler.produced).to.be.lessThan(50);
    stream.cancel();
    await new Promise((r) => setTimeout(r, 300));
    expect(handler.aborted).to.equal(true);
    expect(handler.finished).to.equal(true);
    expect(handler.produced).to.be.lessThan(50);
  });

  it('answers the RPCs Feast does not use with UNIMPLEMENTED', async () => {
    for (const call of [() => client.handshake(), () => client.pollFlightInfo('x'), () => client.doAction('toy')]) {
      const error = (await call().catch((e: unknown) => e)) as { code: number; details: string };
      expect(error.code).to.equal(status.UNIMPLEMENTED);
      expect(error.details).to.match(/not implemented/i);
    }
  });

  it("sends a handler's error with its status and message, and keeps serving", async () => {
    const error = (await client.getFlightInfo('x').catch((e: unknown) => e)) as { code: number; details: string };
    expect(error.code).to.equal(status.INVALID_ARGUMENT);
    expect(error.details).to.equal('no flights here');
    const put = (await client.doPut('cmd', [batchOf(13)]).catch((e: unknown) => e)) as { code: number; details: string };
    expect(put.details).to.equal('thirteen rows are refused');
    expect((await client.listActions()).map((a) => a.type)).to.deep.equal(['toy']);
  });

  it('lets an in-flight DoGet finish on shutdown, then stops accepting calls', async () => {
    const reading = client.doGet('slow:20:10'); // about 400 ms of production
    await new Promise((r) => setTimeout(r, 100));
    expect(server.inFlight()).to.equal(1);
    await server.shutdown(10_000);
    const table = await reading;
    expect(table.numRows).to.equal(200);
    const after = (await client.listActions().catch((e: unknown) => e)) as { code: number };
    expect(after.code).to.equal(status.UNAVAILABLE);
  });
});
