/**
 * The server's Prometheus metrics. Feast's own metrics (`feast_offline_store_request_total`,
 * `…_request_latency_seconds`, `…_row_count`) are emitted exactly as Feast's server emits them —
 * for the retrieval jobs it runs with `to_arrow()`, labelled `method="to_arrow"` and
 * `status="success"|"error"`, with Feast's buckets — so dashboards built on Feast's work
 * unchanged. larder's own `larder_offline_calls_*` break every Feast call down by its name.
 *
 * Each server has its own registry, so several servers in one process (tests, embedders) never
 * share counters. Gauges are read when scraped, so the hot path only increments counters.
 */
import * as grpc from '@grpc/grpc-js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LarderError } from '../errors.ts';
import type { LarderHooks } from '../hooks.ts';
import type { OdfvWorkerStats } from '../odfv/odfv-worker.ts';
import type { RegistryStatus } from '../registry/model.ts';

/** What the gauges read at scrape time. */
export interface MetricsSources {
  inFlightCalls(): number;
  /** Uploads being received, or received and waiting for a call slot. */
  uploadsInProgress(): number;
  pendingUploads(): { readonly count: number; readonly bytes: number };
  /** The registry source's status, when it reports one. */
  registryStatus(): RegistryStatus | undefined;
  /** The ODFV worker's counters; null when no worker is configured (its metrics are then absent). */
  odfvWorker(): OdfvWorkerStats | null;
  /**
   * Log lines dropped because the log reader fell behind (see logging/log-destination.ts); null
   * when the logger writes somewhere else (an embedder's stream), and the metric is then absent.
   */
  droppedLogLines(): number | null;
}

export interface ServerMetrics {
  readonly registry: Registry;
  /** Counts a Flight RPC that ended with `code`. */
  callEnded(rpc: string, code: grpc.status, durationMs: number): void;
}

// Feast's buckets (feast/metrics.py), so dashboards built for Feast read ours the same way.
const LATENCY_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600];
const ROW_BUCKETS = [100, 1000, 10000, 100000, 500000, 1000000, 5000000];

/**
 * Whether Feast's server would have run this call's retrieval job with `to_arrow()`: the reads
 * (get_historical_features and the pulls) when their result is produced — DoExchange, or the
 * DoGet after a legacy DoPut, not the DoPut that only uploads the entity table.
 */
const TO_ARROW_CALLS = new Set(['get_historical_features', 'pull_latest_from_table_or_query', 'pull_all_from_table_or_query']);
function runsToArrow(call: { api: string; rpc: string }): boolean {
  return TO_ARROW_CALLS.has(call.api) && call.rpc !== 'DoPut';
}

const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(grpc.status)
    .filter(([, v]) => typeof v === 'number')
    .map(([name, v]) => [v as number, name]),
);

export function statusName(code: number | undefined): string {
  return (code !== undefined && STATUS_NAMES[code]) || 'UNKNOWN';
}

export function createServerMetrics(hooks: LarderHooks, sources: MetricsSources): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const flightCalls = new Counter({
    name: 'larder_flight_calls_total',
    help: 'Flight RPCs handled, by RPC and gRPC status code (UNAVAILABLE counts calls refused for being over max_concurrent_calls)',
    labelNames: ['rpc', 'code'],
    registers,
  });
  const flightDuration = new Histogram({
    name: 'larder_flight_call_duration_seconds',
    help: 'Duration of Flight RPCs, from arrival to the status being sent',
    labelNames: ['rpc'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  // Feast's metrics, as Feast's server emits them (feast/metrics.py; RetrievalJob.to_arrow).
  const feastRequests = new Counter({
    name: 'feast_offline_store_request_total',
    help: 'Total offline store retrieval requests',
    labelNames: ['method', 'status'],
    registers,
  });
  const feastLatency = new Histogram({
    name: 'feast_offline_store_request_latency_seconds',
    help: 'Latency of offline store retrieval operations in seconds',
    labelNames: ['method'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const feastRows = new Histogram({
    name: 'feast_offline_store_row_count',
    help: 'Number of rows returned by offline store retrieval',
    labelNames: ['method'],
    buckets: ROW_BUCKETS,
    registers,
  });
  // larder's, by Feast call.
  const requests = new Counter({
    name: 'larder_offline_calls_total',
    help: 'Feast offline store calls, by Feast call and outcome (success or error)',
    labelNames: ['call', 'status'],
    registers,
  });
  const errors = new Counter({
    name: 'larder_offline_call_errors_total',
    help: 'Feast offline store calls that failed, by Feast call and gRPC status code',
    labelNames: ['call', 'code'],
    registers,
  });
  const latency = new Histogram({
    name: 'larder_offline_call_duration_seconds',
    help: 'Duration of Feast offline store calls in seconds, until the last row was sent',
    labelNames: ['call'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const rows = new Histogram({
    name: 'larder_offline_call_rows',
    help: 'Rows returned (reads) or received (writes) per Feast offline store call',
    labelNames: ['call'],
    buckets: ROW_BUCKETS,
    registers,
  });
  const sentBytes = new Counter({
    name: 'larder_offline_call_sent_bytes_total',
    help: 'Arrow data bytes sent to clients, by Feast call',
    labelNames: ['call'],
    registers,
  });
  new Gauge({
    name: 'larder_flight_calls_in_flight',
    help: 'Flight RPCs running now',
    registers,
    collect() {
      this.set(sources.inFlightCalls());
    },
  });
  new Gauge({
    name: 'larder_flight_uploads_in_progress',
    help: 'DoPut/DoExchange uploads being received, or received and waiting for a call slot (capped by larder.max_concurrent_uploads)',
    registers,
    collect() {
      this.set(sources.uploadsInProgress());
    },
  });
  new Gauge({
    name: 'larder_pending_uploads',
    help: 'Uploads (DoPut of a read call) waiting for their DoGet',
    registers,
    collect() {
      this.set(sources.pendingUploads().count);
    },
  });
  new Gauge({
    name: 'larder_pending_upload_bytes',
    help: 'Bytes held by uploads waiting for their DoGet: their tables and their commands',
    registers,
    collect() {
      this.set(sources.pendingUploads().bytes);
    },
  });

  new Gauge({
    name: 'larder_registry_stale',
    help: '1 while the registry cannot be read and the last good copy is served, else 0',
    registers,
    collect() {
      this.set(sources.registryStatus()?.state === 'stale' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'larder_registry_loaded_timestamp_seconds',
    help: 'When the registry copy being served was read, or last confirmed unchanged (Unix time)',
    registers,
    collect() {
      const status = sources.registryStatus();
      if (status) this.set(status.loadedAt.getTime() / 1000);
    },
  });

  if (sources.odfvWorker() !== null) registerOdfvWorkerMetrics(registers, sources);
  if (sources.droppedLogLines() !== null) {
    new Counter({
      name: 'larder_log_lines_dropped_total',
      help: 'Log lines dropped because the reader of larder stdout fell too far behind (larder never waits for it)',
      registers,
      collect() {
        this.reset();
        this.inc(sources.droppedLogLines() ?? 0);
      },
    });
  }

  hooks.afterCall.tap('metrics', (call, outcome) => {
    const name = call.api;
    const status = outcome.error ? 'error' : 'success';
    requests.inc({ call: name, status });
    if (outcome.error) errors.inc({ call: name, code: statusName((outcome.error as Partial<LarderError>).code ?? grpc.status.INTERNAL) });
    latency.observe({ call: name }, outcome.durationMs / 1000);
    rows.observe({ call: name }, outcome.rows);
    if (outcome.bytes > 0) sentBytes.inc({ call: name }, outcome.bytes);
    if (runsToArrow(call)) {
      feastRequests.inc({ method: 'to_arrow', status });
      feastLatency.observe({ method: 'to_arrow' }, outcome.durationMs / 1000);
      feastRows.observe({ method: 'to_arrow' }, outcome.rows);
    }
  });

  return {
    registry,
    callEnded(rpc, code, durationMs) {
      flightCalls.inc({ rpc, code: statusName(code) });
      flightDuration.observe({ rpc }, durationMs / 1000);
    },
  };
}

/** The ODFV worker's metrics, read from its counters at scrape time; registered only when a worker is configured. */
function registerOdfvWorkerMetrics(registers: Registry[], sources: MetricsSources): void {
  const fromStats = (name: string, help: string, read: (stats: OdfvWorkerStats) => number, kind: 'counter' | 'gauge' = 'counter') => {
    const collect = function (this: Counter | Gauge) {
      const stats = sources.odfvWorker();
      if (!stats) return;
      this.reset();
      if (this instanceof Gauge) this.set(read(stats));
      else this.inc(read(stats));
    };
    if (kind === 'gauge') new Gauge({ name, help, registers, collect });
    else new Counter({ name, help, registers, collect });
  };
  fromStats('larder_odfv_worker_up', '1 while an ODFV worker process is started and ready, else 0', (s) => (s.up ? 1 : 0), 'gauge');
  fromStats('larder_odfv_worker_starts_total', 'ODFV worker processes that started and became ready', (s) => s.starts);
  fromStats(
    'larder_odfv_worker_stops_total',
    'ODFV worker processes that went away unasked: died, or were killed after a timeout or an abandoned call',
    (s) => s.stops,
  );
  fromStats('larder_odfv_batches_transformed_total', 'Record batches the ODFV worker transformed', (s) => s.batchesTransformed);
  fromStats(
    'larder_odfv_batches_failed_total',
    'Record batches whose transformation failed (raised, timed out, worker died or call abandoned)',
    (s) => s.batchesFailed,
  );
  fromStats('larder_odfv_transform_seconds_total', 'Time spent transforming batches in the ODFV worker', (s) => s.transformSeconds);
}
