/**
 * The postgres store's short-lived side connections (ping, and pg_cancel_backend when a call is
 * cancelled) when the database goes away under them: the failure must reach the caller as a
 * rejected promise, never as an uncaught 'error' event that takes the server down. Seen in a full
 * run: a statement cancelled at shutdown while the test's cluster was being stopped.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import pino from 'pino';
import { Connections } from '../../plugins/postgres/src/connections.ts';
import type { PostgresStoreConfig } from '../../plugins/postgres/src/config.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

/** Forwards to PostgreSQL, and resets both sides of a connection as soon as it sends `marker`. */
function cuttingProxy(target: PostgresServer, marker: string): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = netConnect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (chunk.includes(marker)) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    for (const s of [client, upstream]) {
      s.on('error', () => {});
      s.on('close', () => (client.destroy(), upstream.destroy()));
    }
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })),
  );
}

describe('postgres store: side connections that lose the database', function () {
  this.timeout(120_000);
  let pg: PostgresServer;
  before(async () => {
    pg = await startPostgres();
  });
  after(() => pg?.stop());

  it('a ping whose connection is cut rejects, and nothing is thrown outside it', async () => {
    const proxy = await cuttingProxy(pg, 'SELECT 1');
    const config = {
      ...pg.offlineStoreConfig(),
      host: '127.0.0.1',
      port: proxy.port,
      sslmode: 'disable',
    } as unknown as PostgresStoreConfig;
    const connections = await Connections.open(config, '/tmp', pino({ level: 'silent' }));
    const uncaught: Error[] = [];
    const onUncaught = (error: Error) => uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const error = await connections.ping().then(
        () => null,
        (e: Error) => e,
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(uncaught.map((e) => e.message)).to.deep.equal([]);
      expect(error?.message).to.match(/terminated|ECONNRESET|Connection/i);
    } finally {
      process.off('uncaughtException', onUncaught);
      await connections.close();
      proxy.server.close();
    }
  });
});
