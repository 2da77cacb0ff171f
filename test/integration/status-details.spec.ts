/**
 * Error texts that echo client input must stay small on the wire. A status message travels as the
 * grpc-message trailer; one of ~100 KB (a Feast error naming a 10,000-character column the client
 * sent) broke the client's HTTP/2 connection, so that call and every later call on the channel hung
 * until their deadlines (found by the fuzz suite, test/fuzz). C++ gRPC clients (pyarrow, so the
 * Feast client) refuse trailers over 8 KiB by default. larder keeps every status message under
 * 4 KiB, and a Feast error's JSON stays parseable with its message shortened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { tableFromArrays } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import { writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { rejection } from '../support/guarded-repo.ts';
import { deadlineInterceptor } from '../fuzz/outcome.ts';
import { readRssKiB } from '../fuzz/target.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';

const LONG = 'é'.repeat(20_000);

describe('status messages that echo client input stay bounded', function () {
  this.timeout(60_000);
  let dir: string;
  let server: RunningServer;
  let client: FlightTestClient;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-status-'));
    const repo = await writeExampleRepo(path.join(dir, 'repo'));
    server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
    // Every call has a deadline: before the fix the calls below hung.
    client = connect(`127.0.0.1:${server.port}`, { grpcOptions: { interceptors: [deadlineInterceptor] } });
  });

  after(async () => {
    client?.close();
    await server?.stop(1_000);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shortens a Feast error naming a huge client-sent column, keeping its JSON parseable', async () => {
    const cmd = JSON.stringify({
      api: 'pull_all_from_table_or_query',
      data_source_name: 'driver_hourly_stats_source',
      join_key_columns: [LONG],
      feature_name_columns: ['conv_rate'],
      timestamp_field: 'event_timestamp',
      created_timestamp_column: null,
    });
    await client.doPut(cmd, tableFromArrays({ key: ['mock_key'] }));
    const error = await rejection(client.getFlightInfo(cmd));
    expect(error.code, error.details).to.equal(status.INVALID_ARGUMENT);
    expect(error.details.length).to.be.at.most(4096);
    const json = JSON.parse(error.details.slice(error.details.indexOf('{'))) as { module: string; class: string; message: string };
    expect(json.class).to.equal('FeastJoinKeysDuringMaterialization');
    expect(json.message).to.match(/^The DataFrame from .* being materialized must have at least \['/);
    expect(json.message).to.match(/… \(\d+ more characters\)$/);
    // The channel still works.
    expect(await client.listActions()).to.have.length(3);
  });

  it('shortens any other error text echoing client input', async () => {
    const error = await rejection(client.doPut(JSON.stringify({ api: LONG }), tableFromArrays({ key: ['mock_key'] })));
    expect(error.code, error.details).to.equal(status.UNIMPLEMENTED);
    expect(error.details.length).to.be.at.most(4096);
    expect(error.details).to.match(/^Unknown api "ééé/);
    expect(await client.listActions()).to.have.length(3);
  });
});

/**
 * A status message must be well-formed Unicode: grpc-js percent-encodes it with encodeURI, which
 * throws on a lone surrogate, outside any handler, and the process died. Error texts that quote
 * client input (an unknown api sent as "\ud800", V8's JSON.parse error quoting half of an emoji)
 * could carry one. Found by the fuzz suite (seed 1000); run against a child process, since before
 * the fix the input killed the server.
 */
describe('status messages quoting half a surrogate pair', function () {
  this.timeout(60_000);
  let dir: string;
  let server: ServerProcess;
  let client: FlightTestClient;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-status-'));
    const repo = await writeExampleRepo(path.join(dir, 'repo'));
    server = await startLarder({ repoPath: repo, logLevel: 'error' });
    client = connect(`127.0.0.1:${server.port}`, { grpcOptions: { interceptors: [deadlineInterceptor] } });
  });

  after(async () => {
    client?.close();
    await server?.stop(5_000);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const refused = async (call: Promise<unknown>, code: status = status.INVALID_ARGUMENT) => {
    const error = await rejection(call);
    expect(error.code, error.details).to.equal(code);
    expect(/[\ud800-\udfff]/u.test(error.details), 'a lone surrogate in the status message').to.equal(false);
    return error.details;
  };

  it('answers an unknown api sent as a lone surrogate, and keeps serving', async () => {
    expect(await refused(client.doPut('{"api": "\\ud800"}', tableFromArrays({ key: ['mock_key'] })), status.UNIMPLEMENTED)).to.equal(
      'Unknown api "\ufffd": expected one of ' + (await apiList()),
    );
    expect(await client.listActions()).to.have.length(3);
  });

  it('answers a data_source_proto whose JSON error quotes half of an astral character, and keeps serving', async () => {
    const cmd = JSON.stringify({ api: 'get_table_column_names_and_types_from_data_source', data_source_proto: '𐙕𘡓' });
    // A read: DoPut leaves it pending, GetFlightInfo parses the source.
    await client.doPut(cmd, tableFromArrays({ key: ['mock_key'] }));
    expect(await refused(client.getFlightInfo(cmd))).to.match(/^Invalid data_source_proto: not valid JSON \(Unexpected token '\ufffd'/);
    expect(await client.listActions()).to.have.length(3);
    expect(server.pid > 0 && readRssKiB(server.pid)).to.be.a('number');
  });
});

async function apiList(): Promise<string> {
  const { apiNames } = await import('../../core/src/api/commands.ts');
  return apiNames.join(', ');
}
