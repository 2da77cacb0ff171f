/**
 * An acknowledged write is never lost (issue 16, defect 6): concurrent offline_write_batch calls
 * to one file source, from clients of one server (file and duckdb stores) and from two larder
 * processes serving the same repo (replicas on a shared volume), all end up in the file; a
 * replica killed with SIGKILL while it holds the destination's lock holds up the others only
 * until the lock goes stale, and leaves nothing half-written.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';
import { driverIds, statsRows, writeBatchCommand, writeWriteRepo } from '../support/write-repo.ts';

const ROUNDS = 10;

/** `clients.length` writers, ROUNDS each, all at once; writer w's round r writes driver_id 1000*(w+1)+r. */
async function writeConcurrently(clients: readonly FlightTestClient[]): Promise<number[]> {
  const acknowledged: number[] = [];
  await Promise.all(
    clients.map(async (client, w) => {
      for (let r = 0; r < ROUNDS; r++) {
        const id = 1000 * (w + 1) + r;
        await client.doPut(writeBatchCommand(), statsRows(id));
        acknowledged.push(id);
      }
    }),
  );
  return acknowledged;
}

describe('concurrent writes to one file source (no acknowledged row lost)', function () {
  this.timeout(180_000);
  let repo: string;
  const clients: FlightTestClient[] = [];
  const client = (port: number) => {
    const c = connect(`127.0.0.1:${port}`);
    clients.push(c);
    return c;
  };

  beforeEach(() => (repo = mkdtempSync(path.join(tmpdir(), 'larder-concurrent-'))));
  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
    rmSync(repo, { recursive: true, force: true });
  });

  for (const store of ['file', 'duckdb']) {
    it(`three clients of one server (${store} store): every acknowledged row is in the file`, async () => {
      writeWriteRepo(repo, { offlineStore: [`  type: ${store}`] });
      const server: RunningServer = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
      try {
        const acknowledged = await writeConcurrently([client(server.port), client(server.port), client(server.port)]);
        const present = await driverIds(path.join(repo, 'data', 'stats.parquet'));
        expect(acknowledged).to.have.length(3 * ROUNDS);
        expect([...present].sort((a, b) => a - b)).to.deep.equal([0, ...acknowledged].sort((a, b) => a - b));
      } finally {
        await server.stop(1000);
      }
    });
  }

  it('two larder processes on the same repo: every acknowledged row is in the file, no temporary file is left', async () => {
    writeWriteRepo(repo);
    const replicas: ServerProcess[] = await Promise.all([startLarder({ repoPath: repo }), startLarder({ repoPath: repo })]);
    try {
      const acknowledged = await writeConcurrently([client(replicas[0]!.port), client(replicas[1]!.port)]);
      const present = await driverIds(path.join(repo, 'data', 'stats.parquet'));
      expect([...present].sort((a, b) => a - b)).to.deep.equal([0, ...acknowledged].sort((a, b) => a - b));
      expect(readdirSync(path.join(repo, 'data')).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });

  it('a replica killed with SIGKILL while it holds the lock: the other writes after the stale time, nothing half-written', async () => {
    writeWriteRepo(repo, { larder: ['  write_lock_stale_seconds: 3'] });
    const [victim, survivor] = await Promise.all([startLarder({ repoPath: repo }), startLarder({ repoPath: repo })]);
    const file = path.join(repo, 'data', 'stats.parquet');
    const lock = path.join(repo, 'data', '.stats.parquet.lock');
    try {
      // A write big enough that the victim is still rewriting the file when it is killed.
      const big = client(victim.port)
        .doPut(writeBatchCommand(), statsRows(1_000_000, 2_000_000))
        .catch((e: Error) => e);
      const seen = Date.now();
      while (!existsSync(lock)) {
        if (Date.now() - seen > 60_000) throw new Error(`the victim never took the lock:\n${victim.logs()}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      process.kill(victim.pid, 'SIGKILL');
      expect(await big).to.be.instanceOf(Error);
      expect(existsSync(lock)).to.equal(true, 'the killed writer left its lock behind');
      await client(survivor.port).doPut(writeBatchCommand(), statsRows(42));
      const present = await driverIds(file);
      // The killed write is all there (its rename happened just before the kill) or not at all.
      expect(present.length === 2 || present.length === 2 + 2_000_000).to.equal(true, `rows: ${present.length}`);
      expect(present.slice(0, 1)).to.deep.equal([42]);
      expect(present).to.include(0);
      // The survivor cleaned up the dead writer's temporary file and released the lock.
      expect(readdirSync(path.join(repo, 'data')).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
      expect(existsSync(lock)).to.equal(false);
    } finally {
      await Promise.all([victim.stop(), survivor.stop()]);
    }
  });
});
