/**
 * Hostile clients against the transport's limits (issue 16, defects 2 and 3), on a real server
 * with the file store:
 * - stalled DoPut/DoExchange uploads hold no execution slot, end after
 *   larder.upload_idle_timeout_seconds (or call_timeout_seconds), and never keep other callers out;
 * - the command (descriptor cmd, ticket, action body, criteria) is bounded by
 *   larder.max_command_bytes, every request message by what its RPC needs, and an oversize message
 *   is refused from its length prefix, before the server buffers it (RSS of a larder process);
 * - pending uploads count their command bytes in larder_pending_upload_bytes and the caps.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { Float32, Int64, TimeUnit, Timestamp, type Table } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import YAML from 'yaml';
import { FlightDataEncoder, toFlightData } from '../../packages/flight/src/ipc.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient, type OpenUpload } from '../support/flight-client.ts';
import { placeholderTable, pullAllCommand, rejection } from '../support/guarded-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';
import { arrowTable, micros, writeParquetFile } from '../support/parquet-fixtures.ts';

/** pyarrow's DoPut of one record batch of `rows` int64 values (8 bytes each) in a single message. */
const PYARROW_BIG_PUT = `
import sys, pyarrow as pa, pyarrow.flight as fl
client = fl.FlightClient("grpc://127.0.0.1:" + sys.argv[1])
table = pa.table({"driver_id": pa.array(range(int(sys.argv[3])), pa.int64())})
writer, _ = client.do_put(fl.FlightDescriptor.for_command(sys.argv[2]), table.schema)
writer.write_table(table)
writer.close()
print("ok", table.nbytes)
`;

const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
const T = Date.UTC(2021, 3, 12, 10);
const MiB = 1024 * 1024;

const historicalCommand = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    command_id: Math.random().toString(36).slice(2),
    api: 'get_historical_features',
    feature_view_names: ['stats'],
    name_aliases: [null],
    feature_refs: ['stats:conv_rate'],
    project: 'limits',
    full_feature_names: false,
    ...extra,
  });
const entities = (): Table =>
  arrowTable([
    ['driver_id', new Int64(), [1n, 2n]],
    ['event_timestamp', tsUtc, [micros(T), micros(T)]],
  ]);

/** The first message of an upload: the schema, with `cmd` in its descriptor. */
function schemaMessage(cmd: string | Uint8Array, table: Table = placeholderTable()) {
  const bytes = typeof cmd === 'string' ? Buffer.from(cmd) : cmd;
  return toFlightData(new FlightDataEncoder(table.schema).schemaMessage(), { type: 'CMD', cmd: bytes, path: [] });
}

/** A valid pull command padded to `size` bytes with an extra field Feast would ignore. */
function paddedCommand(size: number): string {
  const base = pullAllCommand({ padding: '' });
  return base.replace('"padding":""', `"padding":"${'x'.repeat(size - base.length)}"`);
}

async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls the server's metrics until `line` appears (a whole line), for up to 10 s. */
async function untilMetric(server: RunningServer, line: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    if (text.split('\n').includes(line)) return;
    if (Date.now() > deadline) throw new Error(`metrics never showed "${line}"`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(/(\d+)/.exec(line)![1]) * 1024;
}

describe('request limits: stalled uploads, command and message sizes', function () {
  this.timeout(120_000);
  let repo: string;
  const servers: RunningServer[] = [];
  const clients: FlightTestClient[] = [];
  const uploads: OpenUpload[] = [];
  const silent = pino({ level: 'silent' });

  async function serve(name: string, larder: Record<string, unknown>, extra: { metricsPort?: number } = {}): Promise<FlightTestClient> {
    const file = path.join(repo, `feature_store.${name}.yaml`);
    writeFileSync(file, YAML.stringify({ project: 'limits', registry: 'data/registry.db', offline_store: { type: 'file' }, larder }));
    const server = await startServer({ chdir: repo, featureStoreYaml: file, port: 0, logger: silent, ...extra });
    servers.push(server);
    const client = connect(`127.0.0.1:${server.port}`);
    clients.push(client);
    return client;
  }
  const stall = (client: FlightTestClient, rpc: 'DoPut' | 'DoExchange', cmd: string) => {
    const upload = client.openUpload(rpc, [schemaMessage(cmd)]);
    uploads.push(upload);
    return upload;
  };

  before(() => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-limits-'));
    writeParquetFile(
      path.join(repo, 'data', 'stats.parquet'),
      arrowTable([
        ['driver_id', new Int64(), [1n, 2n]],
        ['ts', tsUtc, [micros(T - 3_600_000), micros(T - 3_600_000)]],
        ['conv_rate', new Float32(), [0.5, 0.25]],
      ]),
    );
    writeFileSync(
      path.join(repo, 'data', 'registry.db'),
      encodeRegistry({
        project: 'limits',
        entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
        dataSources: [
          { kind: 'file', name: 'stats', path: 'data/stats.parquet', timestampField: 'ts' },
          { kind: 'file', name: 'driver_source', path: 'data/stats.parquet', timestampField: 'ts' },
        ],
        featureViews: [{ name: 'stats', entities: ['driver'], features: [{ name: 'conv_rate', valueType: 'FLOAT' }], source: 'stats' }],
      }),
    );
  });

  afterEach(async () => {
    uploads.splice(0).forEach((u) => u.cancel());
    clients.splice(0).forEach((c) => c.close());
    await Promise.all(servers.splice(0).map((s) => s.stop(1000)));
  });

  after(() => {
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  describe('stalled uploads', () => {
    it('four stalled uploads with max_concurrent_calls: 4 keep out neither ListActions nor a get_historical_features DoExchange', async () => {
      const client = await serve('stalled', { max_concurrent_calls: 4, max_queued_calls: 0 }, { metricsPort: 0 });
      const stalled = [
        stall(client, 'DoPut', pullAllCommand()),
        stall(client, 'DoPut', pullAllCommand()),
        stall(client, 'DoExchange', historicalCommand()),
        stall(client, 'DoExchange', historicalCommand()),
      ];
      // All four are being received (and would hold every call slot without the fix).
      await untilMetric(servers.at(-1)!, 'larder_flight_uploads_in_progress 4');
      const actions = await within(5_000, 'ListActions', client.listActions());
      expect(actions.map((a) => a.type)).to.include('offline_write_batch');
      const table = await within(10_000, 'get_historical_features', client.doExchange(historicalCommand(), entities()));
      expect(table.numRows).to.equal(2);
      expect([...table.getChild('conv_rate')!.toArray()]).to.deep.equal([0.5, 0.25]);
      // A whole DoPut → GetFlightInfo → DoGet read works as well.
      const cmd = pullAllCommand();
      await within(5_000, 'DoPut', client.doPut(cmd, placeholderTable()));
      const info = await within(5_000, 'GetFlightInfo', client.getFlightInfo(cmd));
      expect((await within(5_000, 'DoGet', client.doGet(info.endpoints[0]!.ticket))).numRows).to.equal(2);
      // A stalled upload that finally finishes still gets its answer.
      stalled[0]!.end();
      expect((await within(10_000, 'the finished DoPut', stalled[0]!.ended)).code).to.equal(status.OK);
    });

    it('ends an upload that sends nothing for upload_idle_timeout_seconds with DEADLINE_EXCEEDED, and frees its slot', async () => {
      const client = await serve('idle', { max_concurrent_calls: 4, upload_idle_timeout_seconds: 1 });
      const started = Date.now();
      const stalled = [stall(client, 'DoPut', pullAllCommand()), stall(client, 'DoExchange', historicalCommand())];
      // Sends nothing at all, not even its first message.
      const silentUpload = client.openUpload('DoExchange', []);
      uploads.push(silentUpload);
      for (const upload of [...stalled, silentUpload]) {
        const end = await within(15_000, 'the stalled upload to end', upload.ended);
        expect(end.code).to.equal(status.DEADLINE_EXCEEDED);
        expect(end.details).to.match(/sent nothing for 1 s \(larder\.upload_idle_timeout_seconds/);
      }
      expect(Date.now() - started).to.be.below(15_000);
      expect((await client.doExchange(historicalCommand(), entities())).numRows).to.equal(2);
    });

    /** A DoPut that sends one small batch every 200 ms and never finishes: never idle, never done. How it ends. */
    async function trickle(client: FlightTestClient): Promise<{ code: number; details: string }> {
      const table = entities();
      const upload = client.openUpload('DoPut', [schemaMessage(historicalCommand(), table)]);
      uploads.push(upload);
      const batch = toFlightData([...new FlightDataEncoder(table.schema).batchMessages(table.batches[0]!)][0]!);
      const timer = setInterval(() => upload.write(batch), 200);
      try {
        return await within(15_000, 'the trickling upload to end', upload.ended);
      } finally {
        clearInterval(timer);
      }
    }

    it('bounds the whole upload by call_timeout_seconds, even when the client keeps sending', async () => {
      const end = await trickle(await serve('deadline', { call_timeout_seconds: 1.5, upload_idle_timeout_seconds: 60 }));
      expect(end.code, end.details).to.equal(status.DEADLINE_EXCEEDED);
      expect(end.details).to.match(/longer than this server allows \(1\.5 s, larder\.call_timeout_seconds/);
    });

    it('ends an upload that trickles in slower than upload_min_bytes_per_second, though it is never idle (slowloris)', async () => {
      // No call deadline: only the rate rule can end it. A message every 200 ms stays under the idle timeout.
      const client = await serve('slowloris', {
        call_timeout_seconds: 0,
        upload_idle_timeout_seconds: 1,
        upload_min_bytes_per_second: 1_000_000,
      });
      const end = await trickle(client);
      expect(end.code, end.details).to.equal(status.DEADLINE_EXCEEDED);
      expect(end.details).to.match(/larder\.upload_min_bytes_per_second/);
      expect((await client.doExchange(historicalCommand(), entities())).numRows).to.equal(2);
    });

    it('queues uploads beyond max_concurrent_uploads and refuses those beyond the queue with UNAVAILABLE naming the key', async () => {
      const client = await serve(
        'uploads',
        { max_concurrent_uploads: 2, max_queued_calls: 1, queue_timeout_seconds: 20 },
        { metricsPort: 0 },
      );
      const stalled = [stall(client, 'DoPut', pullAllCommand()), stall(client, 'DoExchange', historicalCommand())];
      await untilMetric(servers.at(-1)!, 'larder_flight_uploads_in_progress 2');
      // Two more: one waits for an upload slot, the other finds the queue full.
      const outcomes = [client.doExchange(historicalCommand(), entities()), client.doExchange(historicalCommand(), entities())].map((p) =>
        p.then(
          (table) => ({ table, error: null }),
          (error: Error & { code: number; details: string }) => ({ table: null, error }),
        ),
      );
      const first = await within(10_000, 'the refusal', Promise.race(outcomes));
      expect(first.error?.code).to.equal(status.UNAVAILABLE);
      expect(first.error?.details).to.match(/2 uploads are in progress \(larder\.max_concurrent_uploads\) and 1 are waiting/);
      expect((await client.listActions()).length).to.be.greaterThan(0);
      // A stalled uploader leaves: the waiting upload gets its slot, and its answer.
      stalled[0]!.cancel();
      const both = await within(10_000, 'the queued DoExchange', Promise.all(outcomes));
      expect(both.filter((o) => o.table?.numRows === 2)).to.have.length(1);
    });
  });

  describe('command and message sizes', () => {
    it('refuses a 2 MiB command against the 1 MiB default on DoExchange, DoPut and GetFlightInfo, naming the key', async () => {
      const client = await serve('default', {});
      const cmd = paddedCommand(2 * MiB);
      for (const call of [
        () => client.doExchange(cmd, placeholderTable()),
        () => client.doPut(cmd, placeholderTable()),
        () => client.getFlightInfo(cmd),
        () => client.getSchema(cmd),
      ]) {
        const error = await rejection(call());
        expect(error.code).to.be.oneOf([status.INVALID_ARGUMENT, status.RESOURCE_EXHAUSTED]);
        expect(error.details).to.match(/1048576 bytes, larder\.max_command_bytes/);
      }
      // Just under the limit is fine.
      expect((await client.doExchange(paddedCommand(MiB - 1024), placeholderTable())).numRows).to.equal(2);
    });

    it('applies a configured max_command_bytes to every place a command travels: descriptors, tickets, action bodies, criteria', async () => {
      const client = await serve('small', { max_command_bytes: 1000 });
      const big = paddedCommand(2000);
      const bigBytes = Buffer.from(big);
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['DoExchange', () => client.doExchange(big, placeholderTable())],
        ['DoPut', () => client.doPut(big, placeholderTable())],
        ['GetFlightInfo', () => client.getFlightInfo(big)],
        ['GetSchema', () => client.getSchema(big)],
        ['DoGet', () => client.doGet(bigBytes)],
        ['DoAction', () => client.doAction('offline_write_batch', bigBytes)],
        ['ListFlights', () => client.listFlights(bigBytes)],
      ];
      for (const [rpc, call] of calls) {
        const error = await call().then(
          () => {
            throw new Error(`${rpc} succeeded`);
          },
          (e: Error & { code: number; details: string }) => e,
        );
        expect(error.code, rpc).to.be.oneOf([status.INVALID_ARGUMENT, status.RESOURCE_EXHAUSTED]);
        expect(error.details, rpc).to.match(/1000 bytes, larder\.max_command_bytes/);
      }
      expect((await client.doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(2);
    });

    it('refuses a request message far larger than its RPC needs from its length prefix, with RESOURCE_EXHAUSTED naming the limit', async () => {
      const client = await serve('unary', {});
      // A FlightDescriptor of 8 MiB of `path` strings and no command.
      const path = Array.from({ length: 8 * 1024 }, () => 'p'.repeat(1024));
      const error = await rejection(client.getFlightInfo({ type: 'PATH', cmd: new Uint8Array(0), path }));
      expect(error.code).to.equal(status.RESOURCE_EXHAUSTED);
      expect(error.details).to.match(
        /GetFlightInfo request message of \d+ bytes is larger than this server accepts \(\d+ bytes: the command limit of 1048576 bytes, larder\.max_command_bytes/,
      );
      // Many small path elements in a small message are refused too, before they are decoded.
      const many = await rejection(
        client.getSchema({ type: 'PATH', cmd: new Uint8Array(0), path: Array.from({ length: 100_000 }, () => '') }),
      );
      expect(many.code).to.equal(status.INVALID_ARGUMENT);
      expect(many.details).to.match(/more than \d+ path elements/);
      expect((await client.listActions()).length).to.equal(3);
    });

    it('counts command bytes in larder_pending_upload_bytes', async () => {
      const client = await serve('metrics', {}, { metricsPort: 0 });
      const server = servers.at(-1)!;
      await client.doPut(paddedCommand(200_000), placeholderTable());
      const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
      const bytes = Number(/^larder_pending_upload_bytes (\d+)/m.exec(text)![1]);
      expect(bytes).to.be.at.least(200_000);
    });
  });

  describe('a larder process under oversize messages', () => {
    let larder: ServerProcess;
    let client: FlightTestClient;
    before(async () => {
      writeFileSync(
        path.join(repo, 'feature_store.yaml'),
        YAML.stringify({ project: 'limits', registry: 'data/registry.db', offline_store: { type: 'file' } }),
      );
      larder = await startLarder({ repoPath: repo });
      client = connect(`127.0.0.1:${larder.port}`);
      // Warm up, so the baseline includes what the first calls load.
      expect((await client.doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(2);
    });
    after(async () => {
      client?.close();
      await larder?.stop();
    });

    it('refuses 64 MiB commands (DoPut, DoExchange, GetFlightInfo) without its RSS growing by their size, and keeps serving', async () => {
      const before = rssBytes(larder.pid);
      const cmd = paddedCommand(64 * MiB);
      for (const call of [
        () => client.doPut(cmd, placeholderTable()),
        () => client.doExchange(cmd, placeholderTable()),
        () => client.getFlightInfo(cmd),
      ]) {
        const error = await within(20_000, 'the refusal', rejection(call()));
        expect(error.code).to.be.oneOf([status.INVALID_ARGUMENT, status.RESOURCE_EXHAUSTED]);
        expect(error.details).to.match(/larder\.max_command_bytes/);
      }
      const growth = rssBytes(larder.pid) - before;
      expect(growth, `RSS grew by ${growth} bytes`).to.be.below(32 * MiB);
      expect((await client.listActions()).length).to.equal(3);
    });

    it("still accepts pyarrow's DoPut of a 40 MB record batch in one FlightData message", async () => {
      const { stdout } = await promisify(execFile)(feastPython().python, [
        '-c',
        PYARROW_BIG_PUT,
        String(larder.port),
        pullAllCommand(),
        String(5_000_000),
      ]);
      expect(stdout.trim()).to.equal('ok 40000000');
    });
  });
});
