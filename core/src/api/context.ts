/** What every Feast call handler receives. */
import type { Table } from 'apache-arrow';
import type { CallRecord, ResourceAccess } from '../hooks.ts';
import type { OdfvWorker } from '../odfv/odfv-worker.ts';
import type { DataSource, RegistrySnapshot } from '../registry/model.ts';
import type { CallContext, OfflineStore, ResultStream } from '../store.ts';
import type { FeastCommand } from './commands.ts';

export interface ApiContext {
  readonly registry: RegistrySnapshot;
  readonly store: OfflineStore;
  /** Computes on-demand feature views; null when no worker is configured (ODFV refs are refused). */
  readonly odfvWorker: OdfvWorker | null;
  /** The project of feature_store.yaml (data sources, feature services and writes use it). */
  readonly project: string;
  readonly call: CallContext;
  readonly record: CallRecord;
  /** Records the resources a call touches and runs the beforeCall hook (permissions). */
  authorize(resources: ResourceAccess[]): Promise<void>;
  /** Which of `candidates` the caller may READ_OFFLINE; null when nothing is enforced (no_auth). */
  readableSources(candidates: readonly DataSource[]): Promise<DataSource[] | null>;
}

/** A read call: its result is streamed back (DoGet or DoExchange). */
export type ReadHandler = (command: FeastCommand, upload: Table | null, ctx: ApiContext) => Promise<ResultStream>;
/** A write call: it runs inside DoPut, and its errors surface on the client's writer.close(). */
export type WriteHandler = (command: FeastCommand, upload: Table | null, ctx: ApiContext) => Promise<void>;
