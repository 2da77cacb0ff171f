/**
 * Where larder's log lines go: a file descriptor (stdout by default) written so that a reader who
 * stops reading can never stop larder.
 *
 * A process's stdout is often a pipe, and the reader at its other end is not larder's to trust:
 * Feast's own integration harness starts the offline server with `stdout=subprocess.PIPE` and
 * never reads it. Once the pipe's 64 KiB are full, a blocking write would stall the event loop,
 * and pino's default destination queues every later line in memory, for ever, and then waits for
 * that queue to drain before the process may exit, so SIGTERM no longer stops it. Here instead:
 *
 * - A line is written at once, with one non-blocking write(2), when nothing is queued: startup
 *   lines and a `fatal` line just before exit reach a live reader in order, as with a synchronous
 *   logger.
 * - What the reader cannot take yet is queued, up to `maxBufferedBytes`, and retried on a timer
 *   that does not keep the process alive; beyond that, whole lines are dropped and counted
 *   (`droppedLines`, exported as the metric `larder_log_lines_dropped_total`). A line is never
 *   torn: a partly written line is always finished first.
 * - At exit, one last non-blocking attempt writes what the reader takes; the rest is dropped.
 * - A reader that has gone away (EPIPE) ends logging, as pino does.
 *
 * Non-blocking relies on the descriptor being in non-blocking mode, which Node sets on a pipe or
 * socket when `process.stdout` is first used (libuv's uv_pipe_open), done here for fd 1. A file
 * never blocks for long; a terminal stays blocking (Node makes TTY writes synchronous).
 */
import fs from 'node:fs';

/** Options of {@link LogDestination}. */
export interface LogDestinationOptions {
  /** The descriptor to write to. Default 1 (stdout). */
  readonly fd?: number;
  /** The most bytes kept for a reader that is behind; lines beyond are dropped. Default 4 MiB. */
  readonly maxBufferedBytes?: number;
  /** How long to wait before trying a full descriptor again. Default 50 ms. */
  readonly retryMs?: number;
}

/** The most bytes handed to one write(2). */
const MAX_WRITE = 64 * 1024;

/** A pino destination (it has `write(line)`) that never blocks and never grows without bound. */
export class LogDestination {
  private readonly fd: number;
  private readonly maxBufferedBytes: number;
  private readonly retryMs: number;
  /** Lines (or the rest of a partly written one, first) waiting for the reader. */
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private dropped = 0;
  private readonly onExit = () => this.flushSync();

  constructor(options: LogDestinationOptions = {}) {
    this.fd = options.fd ?? 1;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.retryMs = options.retryMs ?? 50;
    // Creating process.stdout puts a pipe or socket on fd 1 in non-blocking mode (see above).
    if (this.fd === 1) void process.stdout;
  }

  /** Lines dropped so far because the reader was more than `maxBufferedBytes` behind, or gone. */
  get droppedLines(): number {
    return this.dropped;
  }

  /** Bytes waiting for the reader. */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  /** Writes `line` now if the reader takes it, else queues it, or drops it when the queue is full. */
  write(line: string): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    const bytes = Buffer.from(line, 'utf8');
    if (this.queue.length > 0 && this.queuedBytes + bytes.length > this.maxBufferedBytes) {
      this.dropped++;
      return;
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    // Behind a queued line, this one waits its turn (the retry timer is already set).
    if (this.queue.length === 1) this.flushSync();
  }

  /**
   * Writes what the reader takes now, without waiting; what remains stays queued for the retry
   * timer. Safe to call at any time, including from an 'exit' handler.
   */
  flushSync(): void {
    while (this.queue.length > 0 && !this.closed) {
      const chunk = this.nextChunk();
      let written: number;
      try {
        written = fs.writeSync(this.fd, chunk);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') break;
        // EPIPE (the reader is gone), EBADF…: nothing more can be written.
        this.close();
        return;
      }
      this.consume(written);
    }
    this.scheduleRetry();
  }

  /** The first queued lines, up to MAX_WRITE bytes (at least one line), as one buffer. */
  private nextChunk(): Buffer {
    let size = 0;
    let count = 0;
    for (const buffer of this.queue) {
      if (count > 0 && size + buffer.length > MAX_WRITE) break;
      size += buffer.length;
      count++;
    }
    return count === 1 ? this.queue[0]! : Buffer.concat(this.queue.slice(0, count), size);
  }

  /** Removes `written` bytes from the front of the queue (the last line touched may stay partly). */
  private consume(written: number): void {
    this.queuedBytes -= written;
    while (written > 0) {
      const head = this.queue[0]!;
      if (written >= head.length) {
        written -= head.length;
        this.queue.shift();
      } else {
        this.queue[0] = head.subarray(written);
        written = 0;
      }
    }
  }

  /** A retry while anything is queued, on a timer that does not keep the process alive. */
  private scheduleRetry(): void {
    if (this.queue.length === 0 || this.closed) {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      process.off('exit', this.onExit);
      return;
    }
    if (this.retryTimer) return;
    if (!process.listeners('exit').includes(this.onExit)) process.on('exit', this.onExit);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flushSync();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private close(): void {
    this.closed = true;
    // The queued lines never reach anyone; a partly written one counts as dropped too.
    this.dropped += this.queue.length;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.scheduleRetry();
  }
}
