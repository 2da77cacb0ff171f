/**
 * Feast's offline server as a FlightHandler: the command protocol on top of the transport.
 *
 * - DoExchange (Feast >= 0.67 reads): command + upload + result on one stream.
 * - DoPut → GetFlightInfo → DoGet (older clients' reads): the upload waits in PendingUploads.
 * - DoPut of a write command: the write runs inside DoPut, as in Feast.
 * Every call authenticates first (a refusal is logged there), then runs through the beforeCall/afterCall hooks.
 */
import { hrtime } from 'node:process';
import type { Logger } from 'pino';
import type { AuthProvider, User } from '../auth.ts';
import { authenticateCall } from './authenticate-call.ts';
import { FeastError, InvalidArgumentError, NotFoundError } from '../errors.ts';
import type {
  ActionTypeInfo,
  FlightCallInfo,
  FlightDescriptor,
  FlightHandler,
  FlightInfoResult,
  IncomingStream,
  OutgoingStream,
} from '@larder/flight';
import type { CallRecord, LarderHooks, ResourceAccess } from '../hooks.ts';
import type { ReadableSources } from '../permission-hook.ts';
import type { RegistrySource } from '../registry/model.ts';
import type { OfflineStore, ResultStream } from '../store.ts';
import { parseCommand, type FeastCommand } from './commands.ts';
import type { ApiContext } from './context.ts';
import { assertOwnArrowCopy } from './arrow-copy.ts';
import type { OdfvWorker } from '../odfv/odfv-worker.ts';
import { feastActions, readHandlers, writeHandlers } from './dispatch.ts';
import type { PendingUploads, PendingEntry } from './pending.ts';
import { releaseResult } from './release-result.ts';
import { reportedBatches } from './reported-result.ts';
import { readUpload } from './upload.ts';

export interface FeastServiceDeps {
  readonly registry: RegistrySource;
  readonly store: OfflineStore;
  /** The ODFV worker, when one is configured. */
  readonly odfvWorker?: OdfvWorker | null;
  readonly hooks: LarderHooks;
  /** null with `auth.type: no_auth`. */
  readonly auth: AuthProvider | null;
  /** Which data sources a user may read (for client SQL); unused with `auth.type: no_auth`. */
  readonly readableSources?: ReadableSources | null;
  readonly project: string;
  readonly pending: PendingUploads;
  /** Largest upload accepted, in bytes. */
  readonly maxUploadBytes: number;
  readonly logger: Logger;
}

export class FeastFlightService implements FlightHandler {
  /** GetFlightInfo preparations still running, by pending entry. */
  private readonly preparing = new WeakMap<PendingEntry, Promise<void>>();

  constructor(private readonly deps: FeastServiceDeps) {}

  async doExchange(stream: IncomingStream, call: FlightCallInfo): Promise<OutgoingStream> {
    const user = await this.authenticate(call);
    const command = commandOf(stream.descriptor);
    const record = this.newRecord(command.api, 'DoExchange', user, call);
    try {
      const read = readHandlers[command.api];
      if (!read) throw new InvalidArgumentError(`"${command.api}" is a write call: send it with DoPut, not DoExchange`);
      const upload = await readUpload(stream, this.deps.maxUploadBytes);
      const result = await this.withRegistry(record, call, (ctx) => read(command, upload.table, ctx));
      return this.streamed(result, record);
    } catch (error) {
      this.finish(record, error as Error, 0, 0);
      throw error;
    }
  }

  async doPut(stream: IncomingStream, call: FlightCallInfo): Promise<void> {
    const user = await this.authenticate(call);
    const command = commandOf(stream.descriptor);
    const record = this.newRecord(command.api, 'DoPut', user, call);
    let rows = 0;
    try {
      const upload = await readUpload(stream, this.deps.maxUploadBytes);
      rows = upload.table?.numRows ?? 0;
      const write = writeHandlers[command.api];
      if (write) {
        await this.withRegistry(record, call, (ctx) => write(command, upload.table, ctx));
      } else {
        this.deps.pending.add({
          commandBytes: stream.descriptor.cmd,
          command,
          table: upload.table,
          bytes: upload.bytes,
          owner: user?.username ?? null,
        });
      }
      this.finish(record, null, rows, 0);
    } catch (error) {
      this.finish(record, error as Error, rows, 0);
      throw error;
    }
  }

  /**
   * Runs the pending query far enough to know its schema (and row count, when the store knows it)
   * so FlightInfo carries them; DoGet then streams the prepared result.
   */
  async getFlightInfo(descriptor: FlightDescriptor, call: FlightCallInfo): Promise<FlightInfoResult> {
    const user = await this.authenticate(call);
    const entry = this.deps.pending.findByCommand(descriptor.cmd);
    if (!entry || !this.owns(entry, user)) throw noPendingUpload();
    await this.prepare(entry, user, call);
    return flightInfo(entry, descriptor);
  }

  /**
   * Only the owner redeems a ticket. Anyone else is told exactly what an unknown ticket gets, and
   * the entry stays for its owner: looking first and taking only then keeps a stranger's DoGet
   * from destroying the upload (and from dropping its prepared result unreleased).
   */
  async doGet(ticket: Uint8Array, call: FlightCallInfo): Promise<OutgoingStream> {
    const user = await this.authenticate(call);
    const id = Buffer.from(ticket).toString('utf8');
    const found = this.deps.pending.get(id);
    if (!found || !this.owns(found, user)) throw new NotFoundError('Unknown ticket, or a ticket that was already used');
    const entry = this.deps.pending.take(id)!;
    if (entry.prepared) return this.streamed(entry.prepared.result, entry.prepared.record);
    const record = this.newRecord(entry.command.api, 'DoGet', user, call);
    try {
      const read = readHandlers[entry.command.api]!;
      const result = await this.withRegistry(record, call, (ctx) => read(entry.command, entry.table, ctx));
      return this.streamed(result, record);
    } catch (error) {
      this.finish(record, error as Error, 0, 0);
      throw error;
    }
  }

  async listActions(call: FlightCallInfo): Promise<readonly ActionTypeInfo[]> {
    await this.authenticate(call);
    return feastActions;
  }

  /** Only the caller's own pending uploads: Feast lists everyone's commands to everyone. */
  async listFlights(_criteria: Uint8Array, call: FlightCallInfo): Promise<readonly FlightInfoResult[]> {
    const user = await this.authenticate(call);
    return this.deps.pending
      .list()
      .filter((entry) => this.owns(entry, user))
      .map((entry) => flightInfo(entry, { type: 'CMD', cmd: entry.commandBytes, path: [] }));
  }

  /**
   * Prepares an entry's result once: concurrent GetFlightInfo calls share one preparation, so a
   * second query is never started and then lost.
   */
  private prepare(entry: PendingEntry, user: User | null, call: FlightCallInfo): Promise<void> {
    if (entry.prepared) return Promise.resolve();
    let running = this.preparing.get(entry);
    if (!running) {
      running = this.runPreparation(entry, user, call).finally(() => this.preparing.delete(entry));
      this.preparing.set(entry, running);
    }
    return running;
  }

  private async runPreparation(entry: PendingEntry, user: User | null, call: FlightCallInfo): Promise<void> {
    const record = this.newRecord(entry.command.api, 'DoGet', user, call);
    let result: ResultStream;
    try {
      const read = readHandlers[entry.command.api]!;
      // The query outlives this RPC, so it must not stop when GetFlightInfo's call ends.
      const detached = { ...call, signal: new AbortController().signal };
      result = await this.withRegistry(record, detached, (ctx) => read(entry.command, entry.table, ctx));
    } catch (error) {
      this.deps.pending.take(entry.ticket);
      this.finish(record, error as Error, 0, 0);
      throw error;
    }
    if (this.deps.pending.get(entry.ticket) !== entry) {
      // Redeemed, replaced, expired or evicted while the query started: nobody can read this result.
      await releaseResult(result);
      const gone = noPendingUpload();
      this.finish(record, gone, 0, 0);
      throw gone;
    }
    entry.prepared = { result, record };
  }

  private owns(entry: PendingEntry, user: User | null): boolean {
    return this.deps.auth === null || entry.owner === (user?.username ?? null);
  }

  private async authenticate(call: FlightCallInfo): Promise<User | null> {
    return this.deps.auth ? authenticateCall(this.deps.auth, call, this.deps.logger) : null;
  }

  private newRecord(api: string, rpc: string, user: User | null, call: FlightCallInfo): CallRecord {
    return { api, rpc, user, peer: call.peer, startedAt: hrtime.bigint(), resources: [] };
  }

  /**
   * Runs a call handler on the current registry snapshot. When the handler fails because the
   * registry has no such object and the source can be refreshed (a registry cached for
   * `cache_ttl_seconds`), it runs once more on a fresh snapshot, so that an object applied a moment
   * ago does not wait for the cache to expire. The resources recorded by the first attempt are
   * dropped, so the permissions of the second are checked on what it really touches.
   */
  private async withRegistry<T>(record: CallRecord, call: FlightCallInfo, handler: (ctx: ApiContext) => Promise<T>): Promise<T> {
    const ctx = await this.context(record, call);
    try {
      return await handler(ctx);
    } catch (error) {
      const { registry } = this.deps;
      if (!(error instanceof FeastError && REGISTRY_MISSES.has(error.className)) || !registry.refresh) throw error;
      const fresh = await registry.refresh();
      if (fresh === ctx.registry) throw error;
      record.resources = [];
      return handler({ ...ctx, registry: fresh });
    }
  }

  private async context(record: CallRecord, call: FlightCallInfo): Promise<ApiContext> {
    const { hooks, store, project, readableSources } = this.deps;
    return {
      registry: await this.deps.registry.snapshot(),
      store,
      odfvWorker: this.deps.odfvWorker ?? null,
      project,
      record,
      call: { signal: call.signal, logger: this.deps.logger, user: record.user?.username ?? null },
      async authorize(resources: ResourceAccess[]) {
        record.resources.push(...resources);
        await hooks.beforeCall.promise(record);
      },
      // Fails closed: with auth but no checker, client SQL may read no source at all.
      readableSources: async (candidates) =>
        this.deps.auth === null ? null : readableSources ? readableSources(record.user, candidates) : [],
    };
  }

  /** Counts what leaves, reports the call once the stream ends, fails or is abandoned, and releases the result on every path. */
  private streamed(result: ResultStream, record: CallRecord): OutgoingStream {
    try {
      assertOwnArrowCopy(result.schema, 'The offline store');
    } catch (error) {
      void releaseResult(result);
      throw error;
    }
    return { schema: result.schema, batches: reportedBatches(result, (error, rows, bytes) => this.finish(record, error, rows, bytes)) };
  }

  private finish(record: CallRecord, error: Error | null, rows: number, bytes: number): void {
    const durationMs = Number(hrtime.bigint() - record.startedAt) / 1e6;
    this.deps.hooks.afterCall.call(record, { error, rows, bytes, durationMs });
  }
}

/** Feast errors that mean "the registry has no such object" (worth a registry refresh). */
const REGISTRY_MISSES: ReadonlySet<string> = new Set([
  'FeatureViewNotFoundException',
  'DataSourceObjectNotFoundException',
  'FeatureServiceNotFoundException',
]);

function commandOf(descriptor: FlightDescriptor): FeastCommand {
  if (descriptor.type !== 'CMD') {
    throw new InvalidArgumentError('Feast commands travel in a CMD FlightDescriptor; this one is a ' + descriptor.type);
  }
  return parseCommand(descriptor.cmd);
}

function noPendingUpload(): NotFoundError {
  return new NotFoundError('No upload is pending for this command: DoPut the command first (uploads expire after a while)');
}

function flightInfo(entry: PendingEntry, descriptor: FlightDescriptor): FlightInfoResult {
  const result = entry.prepared?.result;
  return {
    schema: result?.schema ?? null,
    descriptor,
    endpoints: [{ ticket: Buffer.from(entry.ticket, 'utf8'), locations: [] }],
    totalRecords: result?.numRows ?? -1,
    totalBytes: -1,
  };
}
