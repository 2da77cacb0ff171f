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
 *   a slow or stalled uploader costs no execution slot, so it cannot keep fast callers out. Uploads
 *   being received, and complete ones waiting for an execution slot (they hold their data), take
 *   an upload slot instead: at most `maxConcurrentUploads`, with the same bounded wait. So the
 *   uploaded tables in memory are at most (maxConcurrentUploads + maxConcurrentCalls) uploads.
 * - A call that runs longer than `callTimeoutMs` (from its arrival, its upload included) is aborted
 *   with DEADLINE_EXCEEDED: its signal fires, so a read of the client's stream or the store's query
 *   stops and the stream ends, as when the client disconnects. A client's own gRPC deadline, if
 *   shorter, ends the call earlier. An upload that sends nothing for `uploadIdleTimeoutMs`, or
 *   that falls below `uploadMinBytesPerSecond` after that long, is ended too (streams.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { FlightError, UnavailableError } from './errors.ts';
import { DEFAULT_SETTING_NAMES, type SettingNames } from './setting-names.ts';

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
  /** After `uploadIdleTimeoutMs`, an upload slower than this on average is ended; 0 or absent: never. */
  readonly uploadMinBytesPerSecond?: number;
}

export function deadlineExceededError(rpc: string, timeoutMs: number, setting = DEFAULT_SETTING_NAMES.callTimeout): FlightError {
  return new FlightError(
    `The ${rpc} call ran longer than this server allows (${timeoutMs / 1000} s, ${setting}) and was stopped`,
    grpc.status.DEADLINE_EXCEEDED,
  );
}

interface Waiter {
  admit(): void;
}

/** What a pool's refusals call its slots and which settings they name. */
interface PoolNames {
  /** e.g. "calls are running" */
  readonly busy: string;
  /** e.g. "call slot" */
  readonly slot: string;
  /** The setting of the pool's size. */
  readonly size: string;
  /** The settings of the queue's length and wait. */
  readonly queue: string;
  readonly wait: string;
}

/** A number of slots, with a bounded FIFO of callers waiting for one. */
class SlotPool {
  private taken = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly max: number,
    private readonly maxQueued: number,
    private readonly queueTimeoutMs: number,
    private readonly names: PoolNames,
  ) {}

  get active(): number {
    return this.taken;
  }

  get queued(): number {
    return this.queue.length;
  }

  enter(signal: AbortSignal): Promise<void> {
    const { max, maxQueued, names } = this;
    if (max <= 0 || this.taken < max) {
      this.taken++;
      return Promise.resolve();
    }
    if (this.queue.length >= maxQueued) {
      return Promise.reject(
        new UnavailableError(
          `The server is busy: ${this.taken} ${names.busy} (${names.size}) and ${this.queue.length} are waiting (${names.queue}); retry later`,
        ),
      );
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    const waitMs = this.queueTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          settle();
          this.taken++;
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
              `The server is busy: no ${names.slot} came free within ${waitMs / 1000} s (${names.wait}; ${names.size} is ${max}); retry later`,
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

  /** Frees a slot, handing it to the longest-waiting caller. */
  leave(): void {
    this.taken--;
    this.queue.shift()?.admit();
  }
}

export class CallLimits {
  private readonly calls: SlotPool;
  private readonly uploadSlots: SlotPool;

  constructor(
    private readonly options: CallLimitOptions = {},
    private readonly names: SettingNames = DEFAULT_SETTING_NAMES,
  ) {
    const queued = options.maxQueuedCalls ?? 0;
    const wait = options.queueTimeoutMs ?? 0;
    const queue = { queue: names.maxQueuedCalls, wait: names.queueTimeout };
    this.calls = new SlotPool(options.maxConcurrentCalls ?? 0, queued, wait, {
      busy: 'calls are running',
      slot: 'call slot',
      size: names.maxConcurrentCalls,
      ...queue,
    });
    this.uploadSlots = new SlotPool(options.maxConcurrentUploads ?? 0, queued, wait, {
      busy: 'uploads are in progress',
      slot: 'upload slot',
      size: names.maxConcurrentUploads,
      ...queue,
    });
  }

  /** Calls admitted and not yet finished. */
  get active(): number {
    return this.calls.active;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.calls.queued;
  }

  /** Uploads being received or waiting for an execution slot. */
  get uploads(): number {
    return this.uploadSlots.active;
  }

  get uploadIdleTimeoutMs(): number {
    return this.options.uploadIdleTimeoutMs ?? 0;
  }

  get uploadMinBytesPerSecond(): number {
    return this.options.uploadMinBytesPerSecond ?? 0;
  }

  /**
   * Resolves once the call is admitted (then it must `leave()` exactly once); rejects with
   * UNAVAILABLE when the server stays busy, or with the signal's reason when the call ends first.
   */
  enter(signal: AbortSignal): Promise<void> {
    return this.calls.enter(signal);
  }

  /** Frees the call's slot, handing it to the longest-waiting call. */
  leave(): void {
    this.calls.leave();
  }

  /**
   * Resolves once the upload may be received (then it must `leaveUpload()` exactly once). Waits
   * and is refused like `enter`, against `maxConcurrentUploads`. A waiting upload has read nothing
   * yet: its data stays in gRPC's flow-control window.
   */
  enterUpload(signal: AbortSignal): Promise<void> {
    return this.uploadSlots.enter(signal);
  }

  leaveUpload(): void {
    this.uploadSlots.leave();
  }

  /** Aborts `controller` when the call's time is up; returns the function that disarms it. */
  armDeadline(rpc: string, controller: AbortController): () => void {
    const timeoutMs = this.options.callTimeoutMs ?? 0;
    if (timeoutMs <= 0) return () => {};
    const timer = setTimeout(() => controller.abort(deadlineExceededError(rpc, timeoutMs, this.names.callTimeout)), timeoutMs);
    return () => clearTimeout(timer);
  }
}
