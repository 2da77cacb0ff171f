/**
 * The streaming halves of the Flight calls, over grpc-js call objects: reading a client's
 * FlightData (DoPut, DoExchange) into an IncomingStream, and writing an OutgoingStream (DoGet,
 * DoExchange) with backpressure and cancellation.
 */
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, FlightError } from './errors.ts';
import { rechunk, type ChunkingOptions } from './chunking.ts';
import type { FlightDescriptor, IncomingStream, OutgoingStream } from './handler.ts';
import { encodeFrame } from './frames.ts';
import { installPreframedSend } from './grpc-preframed.ts';
import { DEFAULT_SETTING_NAMES, type SettingNames } from './setting-names.ts';
import { decodeFlightStream, FlightDataEncoder, toFlightData, type DecodedFlightStream, type EncodedMessage } from './ipc.ts';
import type { IncomingFlightData, OutgoingFlightData, PreframedFlightData } from './protocol.ts';

export const EMPTY_DESCRIPTOR: FlightDescriptor = { type: 'UNKNOWN', cmd: new Uint8Array(0), path: [] };

/** Rejects with the signal's reason as soon as it aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export function cancelledError(rpc: string): FlightError {
  return new FlightError(`The client cancelled the ${rpc} call (or it disconnected, or the deadline passed)`, grpc.status.CANCELLED);
}

export function uploadIdleError(rpc: string, timeoutMs: number, names: SettingNames = DEFAULT_SETTING_NAMES): FlightError {
  return new FlightError(
    `The ${rpc} upload sent nothing for ${timeoutMs / 1000} s (${names.uploadIdleTimeout}) and was stopped`,
    grpc.status.DEADLINE_EXCEEDED,
  );
}

export function uploadTooSlowError(
  rpc: string,
  bytes: number,
  seconds: number,
  minBytesPerSecond: number,
  names: SettingNames = DEFAULT_SETTING_NAMES,
): FlightError {
  return new FlightError(
    `The ${rpc} upload sent ${bytes} bytes in ${seconds.toFixed(1)} s, slower than this server accepts ` +
      `(${minBytesPerSecond} bytes per second once its first idle timeout has passed, ${names.uploadMinBytesPerSecond}), and was stopped`,
    grpc.status.DEADLINE_EXCEEDED,
  );
}

/** How long reading the client's stream may take. */
export interface ReadLimits {
  /** The call's signal: its deadline or cancellation ends a read that is waiting. */
  readonly signal: AbortSignal;
  /** A wait of this long for the client's next message ends the call; 0: no limit. */
  readonly idleTimeoutMs: number;
  /**
   * After a grace period of `idleTimeoutMs`, the upload must keep up this average rate; 0: no
   * rule. Without it, a client that sends a few bytes just inside every idle timeout (slowloris)
   * holds its upload slot until the call's deadline.
   */
  readonly minBytesPerSecond?: number;
  /** The settings the refusals name (default: the server options'). */
  readonly names?: SettingNames;
}

/**
 * The minimum-rate rule of an upload (in the manner of Apache's mod_reqtimeout MinRate): by
 * `elapsed` ms after the upload began, at least minBytesPerSecond × (elapsed − grace) bytes must
 * have arrived. Checked as each message arrives; silence is the idle timeout's to end.
 */
class UploadPace {
  private readonly startedAt = performance.now();
  private bytes = 0;

  constructor(
    private readonly rpc: string,
    private readonly graceMs: number,
    private readonly minBytesPerSecond: number,
    private readonly names: SettingNames,
  ) {}

  received(bytes: number): void {
    this.bytes += bytes;
    if (this.minBytesPerSecond <= 0) return;
    const elapsedMs = performance.now() - this.startedAt;
    const owed = (this.minBytesPerSecond * (elapsedMs - this.graceMs)) / 1000;
    if (this.bytes < owed) throw uploadTooSlowError(this.rpc, this.bytes, elapsedMs / 1000, this.minBytesPerSecond, this.names);
  }
}

/**
 * The next message, or the call's end: a client that sends nothing must not hold the call (and
 * what it uploaded so far) beyond the idle timeout or the deadline. An abandoned read is left to
 * settle (its outcome ignored) when grpc-js ends the call.
 */
function nextWithin<T>(iterator: AsyncIterator<T>, rpc: string, limits: ReadLimits): Promise<IteratorResult<T>> {
  const { signal, idleTimeoutMs } = limits;
  if (signal.aborted) return Promise.reject(signal.reason);
  const read = iterator.next();
  return new Promise((resolve, reject) => {
    const settle = (done: () => void) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      done();
    };
    const abandon = (error: unknown) => settle(() => reject(error));
    const onAbort = () => abandon(signal.reason);
    const timer =
      idleTimeoutMs > 0 ? setTimeout(() => abandon(uploadIdleError(rpc, idleTimeoutMs, limits.names)), idleTimeoutMs) : undefined;
    signal.addEventListener('abort', onAbort, { once: true });
    read.then(
      (value) => settle(() => resolve(value)),
      (error) => settle(() => reject(error)),
    );
  });
}

/**
 * The client's messages, one at a time. Uses `iterator({ destroyOnReturn: false })` because a
 * plain `for await` over a grpc-js server stream destroys the call when the loop ends, after which
 * no status can be sent and the client hangs. Cancellation destroys the stream, which surfaces
 * here as a premature close; it is reported as CANCELLED.
 */
export async function* readMessages(
  call: grpc.ServerDuplexStream<IncomingFlightData, unknown>,
  rpc: string,
  limits: ReadLimits,
): AsyncGenerator<IncomingFlightData, void, undefined> {
  const iterator = call.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]();
  const pace = new UploadPace(rpc, limits.idleTimeoutMs, limits.minBytesPerSecond ?? 0, limits.names ?? DEFAULT_SETTING_NAMES);
  for (;;) {
    let next: IteratorResult<IncomingFlightData>;
    try {
      next = await nextWithin(iterator, rpc, limits);
    } catch (error) {
      if (error instanceof FlightError) throw error;
      if (call.cancelled || (error as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE') throw cancelledError(rpc);
      throw error;
    }
    if (next.done) return;
    if (next.value.malformed) throw new InvalidArgumentError(`${rpc}: ${next.value.malformed}`);
    pace.received(next.value.wireBytes);
    yield next.value;
  }
}

/** An IncomingStream over the client's messages; the first one carries the descriptor. */
export function incomingStream(descriptor: FlightDescriptor, frames: AsyncIterable<IncomingFlightData>): IncomingStream {
  let decoded: Promise<DecodedFlightStream> | null = null;
  const open = () => (decoded ??= decodeFlightStream(frames));
  return {
    descriptor,
    schema: async () => (await open()).schema,
    batches: () =>
      (async function* () {
        yield* (await open()).batches;
      })(),
  };
}

/**
 * Reads the first message (for its descriptor) and returns the stream including it.
 * `onInputEnd` runs once the client has sent everything, before the reader learns that the
 * stream ended (the server takes the call's execution slot there).
 */
export async function openIncoming(
  call: grpc.ServerDuplexStream<IncomingFlightData, unknown>,
  rpc: string,
  limits: ReadLimits & { readonly onInputEnd?: () => Promise<void> },
): Promise<{ stream: IncomingStream; messages: AsyncGenerator<IncomingFlightData, void, undefined> }> {
  const messages = readMessages(call, rpc, limits);
  const first = await messages.next();
  if (first.done) throw new InvalidArgumentError(`${rpc}: the client closed the stream without sending any FlightData`);
  const head = first.value;
  async function* all(): AsyncGenerator<IncomingFlightData> {
    yield head;
    yield* messages;
    await limits.onInputEnd?.();
  }
  return { stream: incomingStream(head.descriptor ?? EMPTY_DESCRIPTOR, all()), messages };
}

/**
 * Writes to a grpc-js server stream without letting output pile up in memory: waits for 'drain'
 * when the stream says so, and also while more than `maxBufferedBytes` of written messages have
 * not yet been handed to HTTP/2 (the stream's own limit counts messages, and ours are MBs each).
 * grpc-js drops writes on a cancelled call without calling back, so every wait also ends on abort.
 */
export class FlowControlledWriter<T> {
  private buffered = 0;
  private wake: (() => void) | null = null;

  constructor(
    private readonly call: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>,
    private readonly signal: AbortSignal,
    private readonly maxBufferedBytes: number,
  ) {}

  /**
   * `written` runs when the HTTP/2 stream reports the message written (Node calls back once the
   * bytes went to the socket); never, if the call ends first.
   */
  async write(message: T, bytes: number, written?: () => void): Promise<void> {
    if (this.signal.aborted) throw this.signal.reason;
    this.buffered += bytes;
    const ok = this.call.write(message, () => {
      written?.();
      this.buffered -= bytes;
      const wake = this.wake;
      this.wake = null;
      wake?.();
    });
    if (!ok)
      await once(this.call, 'drain', { signal: this.signal }).catch((error) => {
        throw this.signal.aborted ? this.signal.reason : error;
      });
    while (this.buffered > this.maxBufferedBytes) {
      await abortable(new Promise<void>((resolve) => (this.wake = resolve)), this.signal);
    }
  }
}

export interface SendStats {
  messages: number;
  rows: number;
}

/**
 * Writes one IPC message as a preframed FlightData (see frames.ts). Its buffer goes back to the
 * pool only once the write is reported done; a write dropped by a cancelled call never returns it
 * (it is garbage-collected instead).
 */
function writeFramed(writer: FlowControlledWriter<OutgoingFlightData | PreframedFlightData>, message: EncodedMessage): Promise<void> {
  const framed = encodeFrame(toFlightData(message));
  return writer.write(framed, framed.frame.byteLength, () => framed.release());
}

/**
 * Sends an OutgoingStream: the schema, then each batch (re-chunked to the message size limit)
 * with the dictionaries it needs. On cancellation the producer's iterator is returned so it can
 * release what it holds.
 */
export async function sendOutgoing(
  writer: FlowControlledWriter<OutgoingFlightData | PreframedFlightData>,
  outgoing: OutgoingStream,
  signal: AbortSignal,
  chunking: ChunkingOptions,
): Promise<SendStats> {
  const stats: SendStats = { messages: 0, rows: 0 };
  const source = outgoing.batches[Symbol.asyncIterator]();
  const chunks = rechunk({ [Symbol.asyncIterator]: () => source }, chunking);
  let finished = false;
  installPreframedSend();
  try {
    const encoder = new FlightDataEncoder(outgoing.schema);
    await writeFramed(writer, encoder.schemaMessage());
    stats.messages++;
    for (;;) {
      const next = await abortable(chunks.next(), signal);
      if (next.done) break;
      for (const message of encoder.batchMessages(next.value)) {
        await writeFramed(writer, message);
        stats.messages++;
      }
      stats.rows += next.value.numRows;
    }
    finished = true;
  } finally {
    if (!finished) {
      // Not awaited: a producer stuck in an await returns once that settles (it has the signal).
      chunks.return(undefined).catch(() => {});
      source.return?.(undefined)?.catch(() => {});
    }
  }
  return stats;
}
