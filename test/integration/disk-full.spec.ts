/**
 * Disk full during every kind of write (issue 16): the repo's data directory is a 2 MiB tmpfs
 * that the test mounts (the tests run as root; `mount -t tmpfs` needs CAP_SYS_ADMIN) and fills.
 * offline_write_batch, persist and write_logged_features each fail with RESOURCE_EXHAUSTED naming
 * the path; the old file stays intact and readable, no temporary file or lock is left behind,
 * and the server keeps serving (the same write succeeds once space is freed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pino from 'pino';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { rejection } from '../support/guarded-repo.ts';
import { writeParquetFile } from '../support/parquet-fixtures.ts';
import {
  driverIds,
  entityRows,
  persistCommand,
  statsRows,
  writeBatchCommand,
  writeLogsCommand,
  writeWriteRepo,
} from '../support/write-repo.ts';

/** Every file and directory under `dir`, relative, hidden ones included. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('disk full during writes (a 2 MiB tmpfs holds the data)', function () {
  this.timeout(120_000);
  let repo: string;
  let full: string;
  let server: RunningServer;
  let client: FlightTestClient;
  const filler = () => path.join(full, 'filler');

  /** Fills the tmpfs until `leave` bytes (or none at all) are free. */
  function fill(leave = 0): void {
    rmSync(filler(), { force: true });
    const available = Number(execFileSync('df', ['--output=avail', '-B1', full]).toString().trim().split('\n')[1]);
    try {
      writeFileSync(filler(), Buffer.alloc(Math.max(0, available - leave), 1));
      // df rounds; top up page by page until the file system refuses.
      while (leave === 0) writeFileSync(filler(), Buffer.alloc(4096, 1), { flag: 'a' });
    } catch {
      // ENOSPC: full, which is the point.
    }
  }

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-disk-full-'));
    full = path.join(repo, 'full');
    mkdirSync(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', full]);
    writeWriteRepo(repo, {
      statsPath: 'full/stats.parquet',
      savedPath: 'full/saved.parquet',
      logPath: 'full/logs',
      seedFile: path.join(full, 'stats.parquet'),
    });
    writeParquetFile(path.join(full, 'saved.parquet'), statsRows(7));
    server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
    client = connect(`127.0.0.1:${server.port}`);
  });

  after(async () => {
    client?.close();
    await server?.stop(1000);
    try {
      execFileSync('umount', [full]);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  afterEach(() => rmSync(filler(), { force: true }));

  const expectNoSpace = (error: Error & { code: number; details: string }, file: string) => {
    expect(error.code).to.equal(status.RESOURCE_EXHAUSTED, error.details);
    expect(error.details).to.contain('No space left on the device').and.to.contain(file);
  };

  it('offline_write_batch whose rewrite runs out of space midway: RESOURCE_EXHAUSTED, the old file intact', async () => {
    fill(256 * 1024);
    const before = tree(full);
    // About 1.5 MB of parquet: the temporary file is half written when the disk fills.
    const error = await rejection(client.doPut(writeBatchCommand(), statsRows(100, 100_000)));
    expectNoSpace(error, path.join(full, 'stats.parquet'));
    expect(await driverIds(path.join(full, 'stats.parquet'))).to.deep.equal([0]);
    expect(tree(full)).to.deep.equal(before);
  });

  it('offline_write_batch on a full disk, then the same write once space is freed', async () => {
    fill();
    const error = await rejection(client.doPut(writeBatchCommand(), statsRows(5)));
    expectNoSpace(error, path.join(full, 'stats.parquet'));
    expect(await driverIds(path.join(full, 'stats.parquet'))).to.deep.equal([0]);
    rmSync(filler());
    await client.doPut(writeBatchCommand(), statsRows(5));
    expect(await driverIds(path.join(full, 'stats.parquet'))).to.deep.equal([5, 0]);
  });

  it('persist over an existing saved dataset: RESOURCE_EXHAUSTED, the old dataset intact', async () => {
    fill();
    const before = tree(full);
    const error = await rejection(client.doPut(persistCommand(true), entityRows()));
    expectNoSpace(error, path.join(full, 'saved.parquet'));
    expect(await driverIds(path.join(full, 'saved.parquet'))).to.deep.equal([7]);
    expect(tree(full)).to.deep.equal(before);
    rmSync(filler());
    await client.doPut(persistCommand(true), entityRows());
    expect(await driverIds(path.join(full, 'saved.parquet'))).to.deep.equal([0]);
  });

  it('write_logged_features: RESOURCE_EXHAUSTED, no log file (whole or partial) appears', async () => {
    mkdirSync(path.join(full, 'logs'), { recursive: true });
    fill();
    const error = await rejection(client.doPut(writeLogsCommand(), statsRows(1, 1000)));
    expectNoSpace(error, path.join(full, 'logs'));
    expect(readdirSync(path.join(full, 'logs'))).to.deep.equal([]);
    rmSync(filler());
    await client.doPut(writeLogsCommand(), statsRows(1, 1000));
    expect(readdirSync(path.join(full, 'logs')).filter((f) => f.endsWith('.parquet'))).to.have.length(1);
  });

  it('the server kept serving throughout', async () => {
    expect((await client.listActions()).map((a) => a.type)).to.include('offline_write_batch');
    expect(existsSync(path.join(full, '.stats.parquet.lock'))).to.equal(false);
  });
});
