/**
 * The Arrow Flight server: grpc-js wiring of every FlightService RPC onto a FlightHandler, plus
 * the server's lifecycle (bind, graceful shutdown). Knows nothing of Feast.
 *
 * Error contract: a FlightError ends the call with its own status code and `wireMessage()`; any
 * other error ends it with INTERNAL and its message, and is logged. Nothing a handler does can
 * take the process down.
 */
import * as grpc from '@grpc/grpc-js';
import pino, { type Logger } from 'pino';
import { FlightError, isFlightError, UnavailableError, UnimplementedError } from './errors.ts';
import { CallLimits, type CallLimitOptions } from './call-limits.ts';
import { DEFAULT_CHUNKING, type ChunkingOptions } from './chunking.ts';
import type { FlightCallInfo, FlightDescriptor, FlightHandler, FlightInfoResult } from './handler.ts';
import { framedSchema } from './ipc.ts';
import { DEFAULT_MESSAGE_LIMITS, messageLimitInterceptor, type MessageLimits } from './message-limits.ts';
import { settingNames, type SettingNames } from './setting-names.ts';
import { boundedStatusMessage } from './status-message.ts';
import {
  flightServiceDefinition,
  type FlightMethod,
  type IncomingFlightData,
  type OutgoingFlightData,
  type ProtoAction,
  type ProtoActionType,
  type ProtoCriteria,
  type ProtoEmpty,
  type ProtoFlightDescriptor,
  type ProtoFlightInfo,
  type ProtoPutResult,
  type ProtoResult,
  type ProtoSchemaResult,
  type ProtoTicket,
  type Refusal,
} from './protocol.ts';
import { abortable, cancelledError, FlowControlledWriter, openIncoming, sendOutgoing } from './streams.ts';

export interface FlightServerOptions {
  readonly host: string;
  /** 0 picks a free port; `start()` reports it. */
  readonly port: number;
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer };
  readonly logger?: Logger;
  /** Message size limits and batch coalescing of DoGet/DoExchange output. */
  readonly chunking?: Partial<ChunkingOptions>;
  /** Output bytes buffered per call before waiting for the client to read. Default 8 MiB. */
  readonly maxBufferedBytes?: number;
  /** Extra grpc-js server options. */
  readonly grpcOptions?: grpc.ServerOptions;
  /** Concurrency cap, upload cap and deadlines of the Flight RPCs (not of `extraServices`). */
  readonly limits?: CallLimitOptions;
  /** Size limits of received messages, by RPC (see message-limits.ts). */
  readonly messageLimits?: Partial<MessageLimits>;
  /**
   * How your operators set each limit, named in the refusals (a host with its own configuration
   * file names its keys). Default: these options' names.
   */
  readonly settingNames?: Partial<SettingNames>;
  /** Other gRPC services served on the same port (the health service), outside the limits. */
  readonly extraServices?: ReadonlyArray<{
    readonly definition: grpc.ServiceDefinition;
    readonly implementation: grpc.UntypedServiceImplementation;
  }>;
  /** Told when each Flight RPC ends, with its status code (metrics). */
  readonly onCallEnd?: (method: FlightMethod, code: grpc.status, durationMs: number) => void;
}

export interface FlightServer {
  /** Binds and starts serving; resolves with the bound port. */
  start(): Promise<{ port: number }>;
  /**
   * Refuses new Flight calls with UNAVAILABLE while the running ones finish (for up to `graceMs`,
   * then they are cancelled), the port still open for other services (health); then closes it.
   */
  shutdown(graceMs: number): Promise<void>;
  /** Calls currently being handled. */
  inFlight(): number;
  /** Uploads (DoPut, DoExchange) being received, or received and waiting for a call slot. */
  uploads(): number;
}

/** What every grpc-js server call object offers. */
interface CallLike extends NodeJS.EventEmitter {
  readonly metadata: grpc.Metadata;
  getPeer(): string;
}

type StreamCall = (grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>) & { cancelled: boolean };

interface CallStatus {
  code: grpc.status;
  details: string;
}

const EMPTY = new Uint8Array(0);

function headersOf(metadata: grpc.Metadata): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    if (key.endsWith('-bin')) continue;
    out[key.toLowerCase()] = values.map((v) => (typeof v === 'string' ? v : v.toString('utf8')));
  }
  return out;
}

function descriptorFromProto(d: ProtoFlightDescriptor | null | undefined): FlightDescriptor {
  return { type: d?.type ?? 'UNKNOWN', cmd: d?.cmd ?? EMPTY, path: d?.path ?? [] };
}

function flightInfoToProto(info: FlightInfoResult): ProtoFlightInfo {
  return {
    schema: framedSchema(info.schema),
    flightDescriptor: { type: info.descriptor.type, cmd: info.descriptor.cmd, path: [...info.descriptor.path] },
    endpoint: info.endpoints.map((e) => ({
      ticket: { ticket: e.ticket },
      location: e.locations.map((uri) => ({ uri })),
      expirationTime: null,
      appMetadata: EMPTY,
    })),
    totalRecords: info.totalRecords,
    totalBytes: info.totalBytes,
    ordered: false,
    appMetadata: EMPTY,
  };
}

/**
 * Stops reading a client's stream the handler did not read to the end. Not awaited: a read still
 * in progress would only finish when the client sends more, and the status must not wait for that.
 */
function releaseInput(messages: AsyncGenerator<unknown, void, undefined>): void {
  messages.return(undefined).catch(() => {});
}

/** The per-call state shared by every RPC: its FlightCallInfo and the bookkeeping around it. */
interface CallScope {
  readonly info: FlightCallInfo;
  readonly log: Logger;
  /**
   * Takes the call's execution slot: resolves when the call may run (it may wait for a slot),
   * rejects when it is refused. Idempotent.
   */
  admit(): Promise<void>;
  /** Takes an upload slot, held until the call takes its execution slot (it may wait; rejects when refused). */
  enterUpload(): Promise<void>;
  /** Detaches the cancellation listeners and reports the call's end; the call is over. */
  done(code: grpc.status): void;
}

/**
 * Calls that need no execution slot: they only read server state that is itself bounded (the
 * action list; the caller's own pending uploads), or are refused at once. A server full of slow
 * calls still answers them.
 */
const SLOTLESS: ReadonlySet<FlightMethod> = new Set(['ListActions', 'ListFlights', 'Handshake', 'PollFlightInfo']);

/** A request the deserializer refused (protocol.ts) ends the call before anything else. */
function checkRequest(request: { refusal?: Refusal } | null | undefined): void {
  if (request?.refusal) throw new FlightError(request.refusal.message, request.refusal.code);
}

export function createFlightServer(handler: FlightHandler, options: FlightServerOptions): FlightServer {
  const log = options.logger ?? pino({ enabled: false });
  const chunking: ChunkingOptions = { ...DEFAULT_CHUNKING, ...options.chunking };
  const maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const messageLimits: MessageLimits = { ...DEFAULT_MESSAGE_LIMITS, ...options.messageLimits };
  const names = settingNames(options.settingNames);
  const server = new grpc.Server({
    // Clients (pyarrow among them) send DoPut messages of tens of MB: the server-wide limit is the
    // FlightData one; the interceptor gives every other RPC its own, far smaller, limit.
    'grpc.max_receive_message_length': messageLimits.maxFlightDataBytes,
    'grpc.max_send_message_length': -1,
    ...options.grpcOptions,
    interceptors: [
      messageLimitInterceptor(messageLimits, names, () =>
        log.warn('this grpc-js cannot be given per-RPC message limits: oversize requests are refused only once received'),
      ),
      ...(options.grpcOptions?.interceptors ?? []),
    ],
  });
  const limits = new CallLimits(options.limits, names);
  let nextCallId = 1;
  let callsInFlight = 0;
  let draining = false;

  function begin(call: CallLike, method: FlightMethod): CallScope {
    const startedAt = performance.now();
    const controller = new AbortController();
    callsInFlight++;
    let finished = false;
    let holdsSlot = false;
    let holdsUpload = false;
    let admission: Promise<void> | null = null;
    // From the call's arrival: an upload, and a wait for a slot, count against the deadline.
    const disarmDeadline = limits.armDeadline(method, controller);
    const callLog = log.child({ rpc: method, callId: nextCallId++ });
    // grpc-js also emits 'cancelled' when a finished call's stream closes, so the listeners are
    // removed once we are done with the call: only a cancellation *during* the call aborts.
    const onCancel = () => {
      if (!controller.signal.aborted) {
        callLog.debug('call cancelled by the client');
        controller.abort(cancelledError(method));
      }
    };
    call.on('cancelled', onCancel);
    call.on('close', onCancel);
    const leaveUpload = () => {
      if (holdsUpload) limits.leaveUpload();
      holdsUpload = false;
    };
    return {
      info: {
        headers: headersOf(call.metadata),
        signal: controller.signal,
        peer: call.getPeer(),
        method,
      },
      log: callLog,
      admit() {
        admission ??= limits.enter(controller.signal).then(() => {
          // A call that ended while it waited gives the slot straight back.
          if (finished) return limits.leave();
          holdsSlot = true;
          leaveUpload();
        });
        return admission;
      },
      async enterUpload() {
        await limits.enterUpload(controller.signal);
        if (finished) return limits.leaveUpload();
        holdsUpload = true;
      },
      done(code) {
        if (finished) return;
        finished = true;
        callsInFlight--;
        if (holdsSlot) limits.leave();
        holdsSlot = false;
        leaveUpload();
        disarmDeadline();
        call.removeListener('cancelled', onCancel);
        call.removeListener('close', onCancel);
        options.onCallEnd?.(method, code, performance.now() - startedAt);
      },
    };
  }

  function toStatus(error: unknown, scope: CallScope): CallStatus {
    // A deadline aborts the call's signal; whatever the store threw then, the deadline is the cause.
    const reason: unknown = scope.info.signal.aborted ? scope.info.signal.reason : null;
    if (isFlightError(reason) && reason.code === grpc.status.DEADLINE_EXCEEDED) error = reason;
    if (isFlightError(error)) {
      const level = error.code === grpc.status.INTERNAL ? 'error' : 'debug';
      scope.log[level]({ code: error.code, err: error }, 'call failed');
      // wireMessage() may echo client input: bounded here whatever the error class does.
      return { code: error.code, details: boundedStatusMessage(error.wireMessage()) };
    }
    if (scope.info.signal.aborted) {
      return { code: grpc.status.CANCELLED, details: boundedStatusMessage((scope.info.signal.reason as Error).message) };
    }
    const message = (error as Error)?.message ?? String(error);
    scope.log.error({ err: error }, 'call failed with an unexpected error');
    return { code: grpc.status.INTERNAL, details: boundedStatusMessage(message || 'Internal error') };
  }

  /**
   * How a call starts: a refused request ends it; an upload (DoPut, DoExchange) is counted as one
   * and takes its execution slot only once its input is complete (see the handlers); cheap calls
   * take none; every other call waits for its slot first.
   */
  async function start(method: FlightMethod, request: { refusal?: Refusal } | undefined, scope: CallScope): Promise<void> {
    if (draining) throw new UnavailableError(`This server is shutting down and takes no new calls; retry (${method})`);
    checkRequest(request);
    if (method === 'DoPut' || method === 'DoExchange') await scope.enterUpload();
    else if (!SLOTLESS.has(method)) await scope.admit();
  }

  /** Runs a unary RPC body with uniform error mapping. */
  function unary<Req extends { refusal?: Refusal }, Res>(method: FlightMethod, body: (req: Req, scope: CallScope) => Promise<Res>) {
    return (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
      const scope = begin(call, method);
      let code: grpc.status = grpc.status.OK;
      start(method, call.request, scope)
        .then(() => abortable(body(call.request, scope), scope.info.signal))
        .then(
          (result) => callback(null, result),
          (error) => {
            const status = toStatus(error, scope);
            code = status.code;
            callback({ ...status, metadata: new grpc.Metadata() });
          },
        )
        .finally(() => scope.done(code));
    };
  }

  /** Runs a streaming RPC body: success ends the call OK, failure ends it with the mapped status. */
  function streaming<S extends StreamCall>(method: FlightMethod, body: (call: S, scope: CallScope) => Promise<void>) {
    return (call: S) => {
      const scope = begin(call, method);
      let code: grpc.status = grpc.status.OK;
      // grpc-js turns an 'error' event into the call's status; a listener must exist regardless.
      call.on('error', () => {});
      start(method, (call as { request?: { refusal?: Refusal } }).request, scope)
        .then(() => body(call, scope))
        .then(
          () => call.end(),
          (error) => {
            const status = toStatus(error, scope);
            code = call.cancelled ? grpc.status.CANCELLED : status.code;
            // A cancelled call has no one to tell; grpc-js already closed it.
            if (!call.cancelled) call.emit('error', { ...status, metadata: new grpc.Metadata() });
          },
        )
        .catch((error) => scope.log.error({ err: error }, 'failed to end the call'))
        .finally(() => scope.done(code));
    };
  }

  /**
   * How an upload's input is read: within the deadline and the idle timeout; the call takes its
   * execution slot once the client has sent everything.
   */
  const uploadReading = (scope: CallScope) => ({
    signal: scope.info.signal,
    idleTimeoutMs: limits.uploadIdleTimeoutMs,
    minBytesPerSecond: limits.uploadMinBytesPerSecond,
    names,
    onInputEnd: () => scope.admit(),
  });

  const unimplemented = (what: string) => async () => {
    throw new UnimplementedError(what);
  };

  const implementation: grpc.UntypedServiceImplementation = {
    Handshake: streaming<grpc.ServerDuplexStream<unknown, unknown>>(
      'Handshake',
      unimplemented('Handshake is not implemented by this Flight server; send credentials as call headers instead'),
    ),

    PollFlightInfo: unary<ProtoFlightDescriptor, never>(
      'PollFlightInfo',
      unimplemented('PollFlightInfo is not implemented by this Flight server; use GetFlightInfo'),
    ),

    GetFlightInfo: unary<ProtoFlightDescriptor, ProtoFlightInfo>('GetFlightInfo', async (request, scope) =>
      flightInfoToProto(await handler.getFlightInfo(descriptorFromProto(request), scope.info)),
    ),

    GetSchema: unary<ProtoFlightDescriptor, ProtoSchemaResult>('GetSchema', async (request, scope) => {
      if (!handler.getSchema) throw new UnimplementedError('GetSchema is not implemented by this Flight server; use GetFlightInfo');
      return { schema: framedSchema(await handler.getSchema(descriptorFromProto(request), scope.info)) };
    }),

    ListFlights: streaming<grpc.ServerWritableStream<ProtoCriteria, ProtoFlightInfo>>('ListFlights', async (call, scope) => {
      const infos = await handler.listFlights(call.request.expression ?? EMPTY, scope.info);
      const writer = new FlowControlledWriter(call, scope.info.signal, maxBufferedBytes);
      for (const info of infos) await writer.write(flightInfoToProto(info), 256);
    }),

    ListActions: streaming<grpc.ServerWritableStream<ProtoEmpty, ProtoActionType>>('ListActions', async (call, scope) => {
      const actions = await handler.listActions(scope.info);
      const writer = new FlowControlledWriter(call, scope.info.signal, maxBufferedBytes);
      for (const a of actions) await writer.write({ type: a.type, description: a.description }, 64);
    }),

    DoAction: streaming<grpc.ServerWritableStream<ProtoAction, ProtoResult>>('DoAction', async (call, scope) => {
      if (!handler.doAction) throw new UnimplementedError('DoAction is not implemented by this Flight server');
      const writer = new FlowControlledWriter(call, scope.info.signal, maxBufferedBytes);
      for await (const body of handler.doAction(call.request.type, call.request.body ?? EMPTY, scope.info)) {
        await writer.write({ body }, body.byteLength);
      }
    }),

    DoGet: streaming<grpc.ServerWritableStream<ProtoTicket, OutgoingFlightData>>('DoGet', async (call, scope) => {
      const outgoing = await handler.doGet(call.request.ticket ?? EMPTY, scope.info);
      const writer = new FlowControlledWriter(call, scope.info.signal, maxBufferedBytes);
      const stats = await sendOutgoing(writer, outgoing, scope.info.signal, chunking);
      scope.log.debug(stats, 'DoGet sent');
    }),

    DoPut: streaming<grpc.ServerDuplexStream<IncomingFlightData, ProtoPutResult>>('DoPut', async (call, scope) => {
      const { stream, messages } = await openIncoming(call, 'DoPut', uploadReading(scope));
      try {
        await handler.doPut(stream, scope.info);
      } finally {
        releaseInput(messages);
      }
      // Clients need not read PutResults (pyarrow's writer does not), so one at the end is enough.
      call.write({ appMetadata: EMPTY });
    }),

    DoExchange: streaming<grpc.ServerDuplexStream<IncomingFlightData, OutgoingFlightData>>('DoExchange', async (call, scope) => {
      if (!handler.doExchange) throw new UnimplementedError('DoExchange is not implemented by this Flight server');
      const { stream, messages } = await openIncoming(call, 'DoExchange', uploadReading(scope));
      try {
        const outgoing = await handler.doExchange(stream, scope.info);
        // A handler that answers before reading all of the client's input runs in a slot too.
        await scope.admit();
        const writer = new FlowControlledWriter(call, scope.info.signal, maxBufferedBytes);
        const stats = await sendOutgoing(writer, outgoing, scope.info.signal, chunking);
        scope.log.debug(stats, 'DoExchange sent');
      } finally {
        releaseInput(messages);
      }
    }),
  };
  server.addService(flightServiceDefinition(messageLimits, names), implementation);
  for (const extra of options.extraServices ?? []) server.addService(extra.definition, extra.implementation);

  return {
    start() {
      const credentials = options.tls
        ? grpc.ServerCredentials.createSsl(null, [{ private_key: options.tls.key, cert_chain: options.tls.cert }], false)
        : grpc.ServerCredentials.createInsecure();
      const host = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
      return new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${options.port}`, credentials, (error, port) => {
          if (error) reject(error);
          else {
            log.info({ host: options.host, port, tls: !!options.tls }, 'Flight server listening');
            resolve({ port });
          }
        });
      });
    },

    shutdown(graceMs: number) {
      // The port stays open until the calls in flight have finished: the other services (health)
      // keep answering, so a probe sees the drain, and new Flight calls get UNAVAILABLE, which
      // clients retry (on another replica). Then the listener closes.
      draining = true;
      return new Promise<void>((resolve) => {
        let idleCheck: NodeJS.Timeout | undefined;
        const timer = setTimeout(() => {
          clearTimeout(idleCheck);
          log.warn({ inFlight: callsInFlight }, 'grace period over: cancelling the remaining calls');
          server.forceShutdown();
          resolve();
        }, graceMs);
        const closeWhenIdle = () => {
          if (callsInFlight > 0) {
            idleCheck = setTimeout(closeWhenIdle, 25);
            return;
          }
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        };
        closeWhenIdle();
      });
    },

    inFlight: () => callsInFlight,
    uploads: () => limits.uploads,
  };
}
