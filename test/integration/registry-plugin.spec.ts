/**
 * A third-party registry plugin installed with npm (test/fixtures/larder-registry-http: a
 * registry.db fetched over HTTP, as from object storage) serving a real server, through the same
 * resolveRegistry hook as the built-in types: reads, a lookup miss that refreshes it, the cheap
 * change stamp, and a clear start-up error when the object cannot be fetched.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { fixturePackage, installPackages, placeholderTable, pullAllCommand, rejection } from '../support/guarded-repo.ts';

function registryWith(sources: string[]): Uint8Array {
  return encodeRegistry({
    project: 'guarded',
    dataSources: sources.map((name) => ({ kind: 'file' as const, name, path: 'x.parquet', timestampField: 'ts' })),
  });
}

/** An HTTP object store holding one object, counting requests by method. */
function objectStore() {
  let body: Uint8Array = registryWith(['driver_source']);
  const counts = { GET: 0, HEAD: 0 };
  const server = http.createServer((req, res) => {
    counts[req.method as 'GET' | 'HEAD'] += 1;
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    res.writeHead(200, { etag, 'content-length': body.length });
    res.end(req.method === 'GET' ? body : undefined);
  });
  return {
    counts,
    put: (bytes: Uint8Array) => void (body = bytes),
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('a third-party registry plugin installed with npm (registry.db over HTTP)', function () {
  this.timeout(120_000);
  let repo: string;
  let server: RunningServer;
  let client: FlightTestClient;
  const store = objectStore();

  const yaml = (url: string) =>
    [
      'project: guarded',
      'registry:',
      '  registry_type: larder-registry-http',
      `  path: ${url}`,
      '  cache_ttl_seconds: 600',
      'offline_store:',
      '  type: larder-store-static',
      '  rows: [{driver_id: 1, conv_rate: 0.5}]',
      '',
    ].join('\n');

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-registry-plugin-'));
    installPackages(repo, [fixturePackage('larder-store-static'), fixturePackage('larder-registry-http')]);
    const port = await store.listen();
    writeFileSync(path.join(repo, 'feature_store.yaml'), yaml(`http://127.0.0.1:${port}/registry.db`));
    server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
    client = connect(`127.0.0.1:${server.port}`);
  });

  after(async () => {
    client?.close();
    await server?.stop(500);
    await store.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('serves from the registry the plugin fetched', async () => {
    expect((await client.doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(1);
    expect(store.counts.GET).to.equal(1);
  });

  it('finds a source added to the object on its first call, and does not download an unchanged object again', async () => {
    const missing = await rejection(client.doExchange(pullAllCommand({ data_source_name: 'new_source' }), placeholderTable()));
    expect(missing.details).to.include('Data source new_source does not exist in project guarded');
    expect(store.counts.GET, 'the miss checked the stamp only').to.equal(1);

    store.put(registryWith(['driver_source', 'new_source']));
    expect((await client.doExchange(pullAllCommand({ data_source_name: 'new_source' }), placeholderTable())).numRows).to.equal(1);
    expect(store.counts.GET).to.equal(2);
  });

  it('stops the server at start when the object cannot be fetched, naming it', async () => {
    const other = mkdtempSync(path.join(repo, 'down-'));
    writeFileSync(path.join(other, 'feature_store.yaml'), yaml('http://127.0.0.1:1/registry.db'));
    const error = (await startServer({
      chdir: repo,
      featureStoreYaml: path.join(other, 'feature_store.yaml'),
      port: 0,
      logger: pino({ level: 'silent' }),
    }).catch((e: Error) => e)) as Error;
    expect(error.message).to.include('Cannot read the registry (http://127.0.0.1:1/registry.db)');
  });
});
