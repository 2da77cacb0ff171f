/**
 * Feast's command protocol end to end over a real server, through a third-party store package
 * that the test installs with npm into a feature repo outside plugins/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { tableFromArrays } from 'apache-arrow';
import { expect } from 'chai';
import { Writable } from 'node:stream';
import pino from 'pino';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { fixturePackage, installPackages, placeholderTable, pullAllCommand, rejection } from '../support/guarded-repo.ts';

describe('Feast command protocol (third-party store installed with npm)', function () {
  this.timeout(120_000);
  let repo: string;
  let server: RunningServer;
  let client: FlightTestClient;
  const logLines: Array<Record<string, unknown>> = [];
  const logSink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-protocol-'));
    installPackages(repo, [fixturePackage('larder-store-static')]);
    writeFileSync(
      path.join(repo, 'feature_store.yaml'),
      [
        'project: protocol',
        'registry: data/registry.db',
        'offline_store:',
        '  type: larder-store-static',
        '  rows: [{driver_id: 1, conv_rate: 0.5}, {driver_id: 2, conv_rate: 0.25}]',
        'larder:',
        '  max_upload_bytes: 1000000',
        '',
      ].join('\n'),
    );
    mkdirSync(path.join(repo, 'data'));
    writeFileSync(
      path.join(repo, 'data', 'registry.db'),
      encodeRegistry({
        project: 'protocol',
        dataSources: [{ kind: 'file', name: 'driver_source', path: 'x.parquet', timestampField: 'ts' }],
      }),
    );
    server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'info' }, logSink) });
    client = connect(`127.0.0.1:${server.port}`);
  });

  after(async () => {
    client?.close();
    await server?.stop(1000);
    rmSync(repo, { recursive: true, force: true });
  });

  it('serves a read through DoExchange, as Feast 0.67 clients send it', async () => {
    const table = await client.doExchange(pullAllCommand(), placeholderTable());
    expect(table.numRows).to.equal(2);
    expect(table.getChild('conv_rate')!.toArray()).to.deep.equal(new Float64Array([0.5, 0.25]));
  });

  it('serves a read through DoPut → GetFlightInfo → DoGet, and a ticket works once', async () => {
    const cmd = pullAllCommand();
    await client.doPut(cmd, placeholderTable());
    expect((await client.listFlights()).length).to.equal(1);
    const info = await client.getFlightInfo(cmd);
    expect(info.endpoints).to.have.length(1);
    // Unlike Feast's server (empty schema, -1), FlightInfo carries the real schema and row count.
    expect(info.totalRecords).to.equal(2);
    expect(info.schema!.fields.map((f) => f.name)).to.deep.equal(['driver_id', 'conv_rate']);
    const table = await client.doGet(info.endpoints[0]!.ticket);
    expect(table.numRows).to.equal(2);
    expect(await client.listFlights()).to.deep.equal([]);
    const reused = await rejection(client.doGet(info.endpoints[0]!.ticket));
    expect(reused.code).to.equal(status.NOT_FOUND);
    expect(reused.details).to.match(/Unknown ticket, or a ticket that was already used/);
  });

  it('logs one structured line per call: call, user, rows, bytes, duration', async () => {
    logLines.length = 0;
    await client.doExchange(pullAllCommand(), placeholderTable());
    const line = logLines.find((l) => l.msg === 'call');
    expect(line).to.include({ call: 'pull_all_from_table_or_query', rpc: 'DoExchange', user: null, rows: 2 });
    expect(line!.bytes).to.be.greaterThan(0);
    expect(line!.durationMs).to.be.a('number');
    expect(logLines.filter((l) => l.msg === 'call')).to.have.length(1);
  });

  it("lists exactly Feast's three actions", async () => {
    expect((await client.listActions()).map((a) => a.type)).to.deep.equal(['offline_write_batch', 'write_logged_features', 'persist']);
  });

  it('refuses bad commands with INVALID_ARGUMENT naming the problem, then serves the next call', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{"api": "pull_all', /not valid JSON/],
      [pullAllCommand({ data_source_name: undefined }), /missing the field "data_source_name"/],
      [pullAllCommand({ join_key_columns: 'driver_id' }), /field "join_key_columns" must be of type array/],
      [pullAllCommand({ end_date: 'tomorrow' }), /"end_date" is not an ISO 8601 date/],
    ];
    for (const [cmd, expected] of cases) {
      const error = await rejection(client.doExchange(cmd, placeholderTable()));
      expect(error.code, cmd).to.equal(status.INVALID_ARGUMENT);
      expect(error.details, cmd).to.match(expected);
    }
    // An unknown api is UNIMPLEMENTED, as Feast's server's NotImplementedError (ArrowNotImplementedError on the client).
    const unknown = await rejection(client.doExchange(JSON.stringify({ api: 'drop_tables' }), placeholderTable()));
    expect(unknown.code).to.equal(status.UNIMPLEMENTED);
    expect(unknown.details).to.match(/Unknown api "drop_tables"/);
    expect((await client.doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(2);
  });

  it('answers a write the store leaves out with UNIMPLEMENTED naming the call', async () => {
    const persist = pullAllCommand({ api: 'persist', retrieve_func: 'pull_all_from_table_or_query', allow_overwrite: true });
    const error = await rejection(client.doPut(persist, placeholderTable()));
    expect(error.code).to.equal(status.UNIMPLEMENTED);
    expect(error.details).to.equal("This server's offline store does not implement persist: it is read-only");
  });

  it('reports Feast errors so the client re-raises the same class', async () => {
    const error = await rejection(client.doExchange(pullAllCommand({ data_source_name: 'nope' }), placeholderTable()));
    expect(error.code).to.equal(status.NOT_FOUND);
    expect(error.details).to.equal(
      'Flight error: {"module": "feast.errors", "class": "DataSourceObjectNotFoundException", "message": "Data source nope does not exist in project protocol"}',
    );
  });

  it('replaces a pending upload, prepared result included, when the same command is uploaded again', async () => {
    const cmd = pullAllCommand();
    await client.doPut(cmd, placeholderTable());
    await client.getFlightInfo(cmd);
    expect((await client.listFlights()).length).to.equal(1);
    await client.doPut(cmd, placeholderTable()); // the same command again replaces (and releases) the first
    expect((await client.listFlights()).length).to.equal(1);
    const info = await client.getFlightInfo(cmd);
    expect((await client.doGet(info.endpoints[0]!.ticket)).numRows).to.equal(2);
  });

  it('answers an unknown ticket and a GetFlightInfo without upload with NOT_FOUND', async () => {
    expect((await rejection(client.doGet('no-such-ticket'))).code).to.equal(status.NOT_FOUND);
    expect((await rejection(client.getFlightInfo(pullAllCommand()))).code).to.equal(status.NOT_FOUND);
  });

  it('refuses an upload over larder.max_upload_bytes, naming the setting, and keeps nothing of it', async () => {
    const big = tableFromArrays({ driver_id: new Float64Array(200_000) });
    const error = await rejection(client.doPut(pullAllCommand(), big));
    expect(error.code).to.equal(status.INVALID_ARGUMENT);
    expect(error.details).to.match(/larger than this server accepts \(1000000 bytes, larder\.max_upload_bytes in feature_store\.yaml\)/);
    expect(await client.listFlights()).to.deep.equal([]);
  });

  it('survives garbage IPC and a DoPut that breaks off midway', async () => {
    const garbage = await rejection(
      client.doPutRaw([
        { descriptor: { type: 'CMD', cmd: Buffer.from(pullAllCommand()), path: [] }, dataHeader: new Uint8Array([1, 2, 3, 4, 5]) },
      ]),
    );
    expect(garbage.code).to.be.oneOf([status.INVALID_ARGUMENT, status.INTERNAL]);
    const cut = await rejection(
      client.doPutRaw([{ descriptor: { type: 'CMD', cmd: Buffer.from(pullAllCommand()), path: [] } }], { cancelAfter: 1 }),
    );
    // Whether the server sees the cancellation or the premature end first is a race.
    expect(cut.code).to.be.oneOf([status.CANCELLED, status.INVALID_ARGUMENT]);
    expect(await client.listFlights()).to.deep.equal([]);
    expect((await client.doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(2);
  });
});
