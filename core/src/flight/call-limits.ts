/**
 * Admission and deadlines for Flight calls.
 *
 * - At most `maxConcurrentCalls` calls run at once (hold an execution slot). Calls beyond it wait,
 *   first come first served, for a free slot: at most `maxQueuedCalls` of them, each for at most
 *   `queueTimeoutMs`. A call that finds the queue full, or waits too long, is refused with
 *   UNAVAILABLE, the status for "try again later". The wait matters because Feast 0.67's client
 *   retries UNAVAILABLE only on unary calls: its reads go through DoExchange, whose refusal it
 *   reports at once.
 * - An upload (DoPut, DoExchange) takes its execution slot only once the client has sent all of it:
 *   a slow or stalled uploader costs no slot, so it cannot keep fast callers out. Uploads in
 *   progress (and uploads waiting for a slot, which hold their data) are capped separately, by
 *   `maxConcurrentUploads`; beyond it an upload is refused with UNAVAILABLE at once.
 * - A call that runs longer than `callTimeoutMs` (from its arrival, its upload included) is aborted
 *   with DEADLINE_EXCEEDED: its signal fires, so a read of the client's stream or the store's query
 *   stops and the stream ends, as when the client disconnects. A client's own gRPC deadline, if
 *   shorter, ends the call earlier. An upload that sends nothing for `uploadIdleTimeoutMs` is
 *   ended too (streams.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { LarderError, UnavailableError } from '../errors.ts';

export interface CallLimitOptions {
  /** 0 or absent: no limit. */
  readonly maxConcurrentCalls?: number;
  /** Calls that may wait for a slot (default 0: none wait). */
  readonly maxQueuedCalls?: number;
  /** How long a call may wait for a slot (default 0). */
  readonly queueTimeoutMs?: number;
  /** 0 or absent: no deadline. */
  readonly callTimeoutMs?: number;
  /** Uploads (DoPut, DoExchange) being received or waiting for a slot; 0 or absent: no limit. */
  readonly maxConcurrentUploads?: number;
  /** An upload that sends no message for this long is ended; 0 or absent: never. */
  readonly uploadIdleTimeoutMs?: number;
}

export function deadlineExceededError(rpc: string, timeoutMs: number): LarderError {
  return new LarderError(
    `The ${rpc} call ran longer than this server allows (${timeoutMs / 1000} s, larder.call_timeout_seconds in feature_store.yaml) and was stopped`,
    grpc.status.DEADLINE_EXCEEDED,
  );
}

interface Waiter {
  admit(): void;
}

export class CallLimits {
  private running = 0;
  private uploading = 0;
  private readonly queue: Waiter[] = [];

  constructor(private readonly options: CallLimitOptions = {}) {}

  /** Calls admitted and not yet finished. */
  get active(): number {
    return this.running;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** Uploads being received or waiting for an execution slot. */
  get uploads(): number {
    return this.uploading;
  }

  get uploadIdleTimeoutMs(): number {
    return this.options.uploadIdleTimeoutMs ?? 0;
  }

  /**
   * Counts an upload in (then it must `leaveUpload()` exactly once); throws UNAVAILABLE when
   * `maxConcurrentUploads` are already in progress.
   */
  enterUpload(): void {
    const max = this.options.maxConcurrentUploads ?? 0;
    if (max > 0 && this.uploading >= max) {
      throw new UnavailableError(
        `The server is busy: ${this.uploading} uploads are in progress (larder.max_concurrent_uploads); retry later`,
      );
    }
    this.uploading++;
  }

  leaveUpload(): void {
    this.uploading--;
  }

  /**
   * Resolves once the call is admitted (then it must `leave()` exactly once); rejects with
   * UNAVAILABLE when the server stays busy, or with the signal's reason when the call ends first.
   */
  enter(signal: AbortSignal): Promise<void> {
    const max = this.options.maxConcurrentCalls ?? 0;
    if (max <= 0 || this.running < max) {
      this.running++;
      return Promise.resolve();
    }
    const maxQueued = this.options.maxQueuedCalls ?? 0;
    if (this.queue.length >= maxQueued) {
      return Promise.reject(
        new UnavailableError(
          `The server is busy: ${this.running} calls are running (larder.max_concurrent_calls) and ${this.queue.length} are waiting (larder.max_queued_calls); retry later`,
        ),
      );
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    const waitMs = this.options.queueTimeoutMs ?? 0;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          settle();
          this.running++;
          resolve();
        },
      };
      const fail = (error: unknown) => {
        settle();
        this.queue.splice(this.queue.indexOf(waiter), 1);
        reject(error);
      };
      const timer = setTimeout(
        () =>
          fail(
            new UnavailableError(
              `The server is busy: no call slot came free within ${waitMs / 1000} s (larder.queue_timeout_seconds; larder.max_concurrent_calls is ${max}); retry later`,
            ),
          ),
        waitMs,
      );
      const onAbort = () => fail(signal.reason);
      const settle = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /** Frees the call's slot, handing it to the longest-waiting call. */
  leave(): void {
    this.running--;
    this.queue.shift()?.admit();
  }

  /** Aborts `controller` when the call's time is up; returns the function that disarms it. */
  armDeadline(rpc: string, controller: AbortController): () => void {
    const timeoutMs = this.options.callTimeoutMs ?? 0;
    if (timeoutMs <= 0) return () => {};
    const timer = setTimeout(() => controller.abort(deadlineExceededError(rpc, timeoutMs)), timeoutMs);
    return () => clearTimeout(timer);
  }
}
