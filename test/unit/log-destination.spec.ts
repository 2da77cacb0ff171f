/**
 * LogDestination against a real pipe (a FIFO opened non-blocking, as Node leaves a stdout pipe):
 * a reader that stops reading costs larder a bounded queue, then dropped and counted lines, never a
 * blocked write or a torn line; a reader that comes back gets the queue; a reader that is gone
 * (EPIPE) ends logging without an error.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { LogDestination } from '../../core/src/logging/log-destination.ts';

/** The Linux default pipe capacity. */
const PIPE_BYTES = 64 * 1024;

describe('LogDestination (a real pipe whose reader stalls)', () => {
  let dir: string;
  let readFd: number;
  let writeFd: number;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(tmpdir(), 'larder-log-destination-'));
    const fifo = path.join(dir, 'log.fifo');
    execFileSync('mkfifo', [fifo]);
    // The read end first (non-blocking, so opening does not wait for a writer), then the write end.
    readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    writeFd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  });

  afterEach(() => {
    for (const fd of [readFd, writeFd]) {
      try {
        fs.closeSync(fd);
      } catch {
        // closed by the test
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Everything the pipe holds now. */
  function drain(): string {
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(PIPE_BYTES);
    for (;;) {
      try {
        const n = fs.readSync(readFd, buffer);
        if (n === 0) break;
        chunks.push(Buffer.from(buffer.subarray(0, n)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw error;
      }
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  const line = (i: number) => `${JSON.stringify({ i, msg: 'x'.repeat(90 + (i % 7)) })}\n`;

  it('fills the pipe, queues up to maxBufferedBytes, drops and counts the rest, and tears no line', () => {
    const destination = new LogDestination({ fd: writeFd, maxBufferedBytes: 16 * 1024, retryMs: 10 });
    const total = 2_000; // about 200 KiB: more than the pipe and the queue together
    for (let i = 0; i < total; i++) destination.write(line(i));
    expect(destination.bufferedBytes)
      .to.be.greaterThan(0)
      .and.at.most(16 * 1024 + 200);
    expect(destination.droppedLines).to.be.greaterThan(0);

    // The reader comes back: it gets the pipe's contents, then (flushed) the queue.
    let received = drain();
    destination.flushSync();
    received += drain();
    expect(destination.bufferedBytes).to.equal(0);
    const lines = received.split('\n');
    expect(lines.pop()).to.equal('');
    const indexes = lines.map((text) => (JSON.parse(text) as { i: number }).i);
    expect(indexes.length + destination.droppedLines).to.equal(total);
    // In order, and the first lines all there: a line is dropped only when the queue is full.
    expect(indexes).to.deep.equal([...indexes].sort((a, b) => a - b));
    expect(indexes.slice(0, 10)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('writes everything when the reader keeps up', () => {
    const destination = new LogDestination({ fd: writeFd });
    let received = '';
    for (let i = 0; i < 500; i++) {
      destination.write(line(i));
      if (i % 100 === 99) received += drain();
    }
    received += drain();
    expect(destination.droppedLines).to.equal(0);
    expect(received.trimEnd().split('\n')).to.have.length(500);
  });

  it('stops logging, counting the lines, when the reader is gone (EPIPE)', () => {
    const destination = new LogDestination({ fd: writeFd });
    fs.closeSync(readFd);
    destination.write(line(1));
    destination.write(line(2));
    expect(destination.droppedLines).to.equal(2);
    expect(destination.bufferedBytes).to.equal(0);
  });
});
