/**
 * The on-demand feature view worker: a long-lived Python process (the user's interpreter, with
 * their `feast`) that applies ODFV transformations to Arrow tables, so larder computes ODFVs as
 * Feast's own server does without running Python itself.
 *
 * - Started on first use and kept; one request at a time (a transformation is CPU-bound in Python,
 *   and one process holds one GIL), the others waiting their turn.
 * - Supervised: if it dies, the request it was serving fails with an error that says so, and the
 *   next request starts a fresh process. A request that outlives `requestTimeoutMs`, or whose
 *   caller gives up, kills the process the same way, so no call ever hangs on it.
 * - Its stderr (Feast's logs, a transformation's prints and tracebacks) goes to larder's log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Table, tableFromIPC, tableToIPC, type Schema } from 'apache-arrow';
import type { Logger } from 'pino';
import { status } from '@grpc/grpc-js';
import { FeastError } from '../errors.ts';
import type { OnDemandFeatureView } from '../registry/model.ts';
import { MessageReader, encodeMessage, type WorkerMessage } from './worker-frames.ts';

export const WORKER_SCRIPT = fileURLToPath(new URL('../../python/odfv_worker.py', import.meta.url));

export interface OdfvWorkerOptions {
  /** The Python interpreter with `feast` installed. */
  readonly python: string;
  /** The feature repo, put on the worker's sys.path (for transformations that import its modules). */
  readonly repoPath: string;
  readonly logger: Logger;
  /** How long one transformation may take. Default 300 s. */
  readonly requestTimeoutMs?: number;
  /** How long the worker may take to start (importing Feast takes seconds). Default 120 s. */
  readonly startTimeoutMs?: number;
  /**
   * Start only for the first request, never from warm(): for an interpreter nobody named (PATH's),
   * which may lack Feast, and which a registry without ODFVs never needs.
   */
  readonly onDemandOnly?: boolean;
}

/** One view to compute, and which of its output columns to keep. */
export interface OdfvToApply {
  readonly view: OnDemandFeatureView;
  /** The output column names to return (Feast's requested features); null returns them all. */
  readonly columns: readonly string[] | null;
}

export interface TransformRequest {
  /** The ODFVs to compute; their output columns come back in this order. */
  readonly odfvs: readonly OdfvToApply[];
  readonly fullFeatureNames: boolean;
  /** The rows the ODFVs read: their source features and request-data columns. */
  readonly table: Table;
  /** The column types to return (an earlier batch's), so every batch of a result agrees. */
  readonly outputSchema?: Schema;
  readonly signal?: AbortSignal;
}

/**
 * The worker failed (died, timed out, or a transformation raised); the message says which. It
 * reaches Feast's client as a `feast.errors.FeastError` carrying that message.
 */
export class OdfvWorkerError extends FeastError {
  constructor(message: string) {
    super('FeastError', message, status.INTERNAL);
  }
}

interface Running {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  /** The reply to the request in flight; set while one is. */
  reply: { resolve: (message: WorkerMessage) => void; reject: (error: Error) => void } | null;
  exited: Error | null;
  isReady: boolean;
}

/** What the worker has done since the server started (read by the metrics at scrape time). */
export interface OdfvWorkerStats {
  /** A worker process is started and ready. */
  readonly up: boolean;
  /** Processes that became ready. */
  readonly starts: number;
  /** Processes that went away unasked: died, or killed after a timeout or an abandoned call. */
  readonly stops: number;
  readonly batchesTransformed: number;
  readonly batchesFailed: number;
  /** Time spent in transformations, worker start-up excluded. */
  readonly transformSeconds: number;
}

export class OdfvWorker {
  private readonly counters = { starts: 0, stops: 0, batchesTransformed: 0, batchesFailed: 0, transformSeconds: 0 };
  private running: Running | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: OdfvWorkerOptions) {}

  /** The ODFVs' output columns for `request.table`'s rows. */
  transform(request: TransformRequest): Promise<Table> {
    const turn = this.queue.then(() => this.run(request));
    this.queue = turn.catch(() => {});
    return turn;
  }

  /** Starts the process now rather than on the first request; a failure is logged, and retried by that request. */
  warm(): void {
    if (this.closed || this.running || this.options.onDemandOnly) return;
    this.process().catch((error: Error) =>
      this.options.logger.error({ err: error.message }, 'ODFV worker could not start; on demand feature views will fail until it does'),
    );
  }

  stats(): OdfvWorkerStats {
    const up = this.running !== null && this.running.exited === null && this.running.isReady;
    return { up, ...this.counters };
  }

  /** The worker's pid, or null when none runs (for tests and logs). */
  get pid(): number | null {
    return this.running && !this.running.exited ? (this.running.child.pid ?? null) : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    this.running = null;
    if (running && !running.exited) {
      running.child.stdin!.end();
      const exited = new Promise((resolve) => running.child.once('exit', resolve));
      const timer = setTimeout(() => running.child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    }
  }

  private async run(request: TransformRequest): Promise<Table> {
    if (this.closed) throw new OdfvWorkerError('The ODFV worker has been closed');
    const what = `on demand feature view${request.odfvs.length > 1 ? 's' : ''} ${request.odfvs.map((o) => o.view.name).join(', ')}`;
    if (request.signal?.aborted) throw abandoned(what, request.signal);
    const running = await this.process();
    // A caller that gave up while the worker started has nothing in it to stop.
    if (request.signal?.aborted) throw abandoned(what, request.signal);
    const header = {
      op: 'transform',
      odfvs: request.odfvs.map(({ view, columns }) => ({ proto: base64(view.proto), columns })),
      full_feature_names: request.fullFeatureNames,
      ...(request.outputSchema ? { output_schema: base64(tableToIPC(new Table(request.outputSchema), 'stream')) } : {}),
    };
    const started = performance.now();
    try {
      const reply = await this.exchange(running, header, tableToIPC(request.table, 'stream'), what, request.signal);
      if (reply.header.ok !== true) {
        const error = (reply.header.error ?? {}) as { class?: string; message?: string };
        throw new OdfvWorkerError(
          `Computing ${what} failed in the ODFV worker: ${error.class ?? 'Error'}: ${error.message ?? 'no message'}`,
        );
      }
      const table = tableFromIPC(reply.body ?? new Uint8Array());
      this.counters.batchesTransformed++;
      return table;
    } catch (error) {
      this.counters.batchesFailed++;
      throw error;
    } finally {
      this.counters.transformSeconds += (performance.now() - started) / 1000;
    }
  }

  /** Sends one request and waits for its reply, killing the worker on timeout or abort. */
  private exchange(
    running: Running,
    header: Record<string, unknown>,
    body: Uint8Array,
    what: string,
    signal?: AbortSignal,
  ): Promise<WorkerMessage> {
    const timeoutMs = this.options.requestTimeoutMs ?? 300_000;
    return new Promise<WorkerMessage>((resolve, reject) => {
      const stop = (error: Error) => {
        running.reply = null;
        // Retired now, not when its exit arrives: the next request must not be sent to it.
        this.retire(running, error);
        cleanup();
        running.child.kill('SIGKILL');
        reject(error);
      };
      const onAbort = () => stop(abandoned(what, signal!));
      const timer = setTimeout(
        () => stop(new OdfvWorkerError(`Computing ${what} took longer than ${timeoutMs / 1000} s; the ODFV worker was restarted`)),
        timeoutMs,
      );
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      running.reply = {
        resolve: (message) => {
          cleanup();
          resolve(message);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      for (const part of encodeMessage(header, body)) running.child.stdin!.write(part);
    });
  }

  /** The live worker, started (and waited for) when there is none. */
  private async process(): Promise<Running> {
    if (!this.running || this.running.exited) this.running = this.start();
    await this.running.ready;
    return this.running;
  }

  private start(): Running {
    const { python, logger } = this.options;
    // The worker runs in larder's own working directory, as the transformation runs inside Feast's
    // server process, which never changes directory: a transformation pickled by reference to a
    // module that a relative PYTHONPATH entry finds (Feast's harness runs with PYTHONPATH=. from
    // sdk/python), or that opens a relative path, resolves it where Feast's server would.
    const child = spawn(python, [WORKER_SCRIPT, this.options.repoPath], {
      env: { ...process.env, PYTHONUNBUFFERED: '1', FEAST_USAGE: 'False' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const reader = new MessageReader();
    let markReady!: () => void;
    let failStart!: (error: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    ready.catch(() => {});
    const running: Running = { child, ready, reply: null, exited: null, isReady: false };
    const startTimer = setTimeout(() => {
      failStart(
        new OdfvWorkerError(`The ODFV worker (${python}) did not start within ${(this.options.startTimeoutMs ?? 120_000) / 1000} s`),
      );
      child.kill('SIGKILL');
    }, this.options.startTimeoutMs ?? 120_000);

    child.stdout!.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        if (message.header.ready === true) {
          clearTimeout(startTimer);
          logger.info({ workerPid: message.header.pid, python }, 'ODFV worker started');
          running.isReady = true;
          this.counters.starts++;
          markReady();
        } else {
          running.reply?.resolve(message);
          running.reply = null;
        }
      }
    });
    let stderrTail = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderrTail = (stderrTail + text).slice(-4_000);
      for (const line of text.split('\n')) if (line.trim()) logger.debug({ workerPid: child.pid }, line);
    });
    // stdin errors (EPIPE once the process is gone) surface through 'exit'.
    child.stdin!.on('error', () => {});
    child.once('error', (error) => onGone(new OdfvWorkerError(`The ODFV worker could not be started with ${python}: ${error.message}`)));
    child.once('exit', (code, signal) => {
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      const tail = stderrTail.trim().split('\n').slice(-3).join(' | ');
      onGone(new OdfvWorkerError(`The ODFV worker (pid ${child.pid}) ${how}${tail ? `: ${tail}` : ''}; it restarts on the next request`));
    });
    const onGone = (error: Error) => {
      if (!this.retire(running, error)) return;
      clearTimeout(startTimer);
      failStart(error);
      running.reply?.reject(error);
      running.reply = null;
    };
    return running;
  }

  /** Marks the process gone (once: false if it already was), counting and logging a stop nobody asked for. */
  private retire(running: Running, error: Error): boolean {
    if (running.exited) return false;
    running.exited = error;
    if (!this.closed) {
      this.counters.stops++;
      this.options.logger.warn({ err: error.message }, 'ODFV worker stopped');
    }
    return true;
  }
}

function abandoned(what: string, signal: AbortSignal): OdfvWorkerError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'the call ended');
  return new OdfvWorkerError(`Computing ${what} was abandoned: ${reason}`);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
