/**
 * Building and running a larder server from a feature repo: config → plugins → registry → store
 * → Flight transport. Everything is validated before the port opens.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { FeastFlightService } from './api/feast-service.ts';
import { PendingUploads, defaultPendingLimits } from './api/pending.ts';
import type { AuthProvider } from './auth.ts';
import { readableSourcesChecker, tapPermissions } from './permission-hook.ts';
import { tapCallLog } from './call-log.ts';
import { loadRepoConfig, type LocateOptions, type RepoConfig } from './config/load.ts';
import { validateSection } from './config/validate.ts';
import { createFlightServer, flightDataLimit, type SettingNames } from '@larder/flight';
import { REGISTRY_HEALTH_SERVICE, healthServiceDefinition, healthServiceImplementation } from './health/health-service.ts';
import { ServerHealth, type ServingStatus } from './health/server-health.ts';
import { createHooks, type LarderHooks } from './hooks.ts';
import { createLogger, logDestinationOf } from './logging/create-logger.ts';
import type { MetricsEndpoint } from './metrics/metrics-http.ts';
import type { ServerMetrics } from './metrics/server-metrics.ts';
import { odfvWorkerFor } from './odfv/configure.ts';
import type { OdfvWorker } from './odfv/odfv-worker.ts';
import { NO_AUTH } from './plugins/builtin.ts';
import { resolvePlugin, tapDefaultResolvers } from './plugins/resolve.ts';
import type { RegistrySource } from './registry/model.ts';
import { serviceTokenSource, type ServiceTokenSource } from './service-token.ts';
import type { OfflineStore } from './store.ts';

export interface ServeOptions extends LocateOptions {
  readonly host?: string;
  readonly port?: number;
  readonly tlsKeyPath?: string;
  readonly tlsCertPath?: string;
  /**
   * Where larder logs; by default JSON lines on stdout in larder's shape (level names, ISO time,
   * see logging/create-logger.ts). An embedder's own logger is used as it is.
   */
  readonly logger?: Logger;
  /** Serves Prometheus metrics at http://<host>:<metricsPort>/metrics (0 picks a free port). */
  readonly metricsPort?: number;
  /** How long a health check of the registry and store is reused (default 5 s). */
  readonly healthRecheckMs?: number;
  /** Lets an embedder tap hooks (extra resolvers, metrics) before anything is resolved. */
  readonly configureHooks?: (hooks: LarderHooks) => void;
  /** The Python (with feast) that computes on-demand feature views; overrides larder.odfv_python. */
  readonly odfvPython?: string;
  /**
   * When neither `odfvPython` nor larder.odfv_python names one, use `python3` (else `python`) from
   * PATH if there is one: what the `feast` entry does, standing in for Feast's server, which
   * computes on-demand feature views in its own Python. Off for `larder serve_offline`.
   */
  readonly odfvPythonFromPath?: boolean;
}

export interface RunningServer {
  readonly port: number;
  /** e.g. grpc+tcp://127.0.0.1:8815 */
  readonly location: string;
  readonly config: RepoConfig;
  /** The bound metrics port, or null without `metricsPort`. */
  readonly metricsPort: number | null;
  /** Stops accepting calls, lets in-flight calls finish (up to graceMs), then closes everything. */
  stop(graceMs?: number): Promise<void>;
}

export const DEFAULT_PORT = 8815;
export const DEFAULT_HOST = '127.0.0.1';

/** Defaults of the `larder:` limits in feature_store.yaml. */
/** The Flight transport's refusals name the `feature_store.yaml` keys larder's operators set. */
export const LARDER_SETTING_NAMES: SettingNames = {
  callTimeout: 'larder.call_timeout_seconds in feature_store.yaml',
  maxConcurrentCalls: 'larder.max_concurrent_calls',
  maxQueuedCalls: 'larder.max_queued_calls',
  queueTimeout: 'larder.queue_timeout_seconds',
  maxConcurrentUploads: 'larder.max_concurrent_uploads',
  uploadIdleTimeout: 'larder.upload_idle_timeout_seconds in feature_store.yaml',
  uploadMinBytesPerSecond: 'larder.upload_min_bytes_per_second in feature_store.yaml',
  maxCommandBytes: 'larder.max_command_bytes in feature_store.yaml',
  maxFlightDataBytes: 'larder.max_upload_bytes and larder.max_command_bytes in feature_store.yaml',
};

export const DEFAULT_LIMITS = {
  max_concurrent_calls: 64,
  max_queued_calls: 256,
  queue_timeout_seconds: 30,
  call_timeout_seconds: 3600,
  max_upload_bytes: 1024 ** 3,
  // Feast's commands are a few KiB; a command is parsed (JSON) and kept with a pending upload.
  max_command_bytes: 1024 ** 2,
  max_concurrent_uploads: 64,
  upload_idle_timeout_seconds: 30,
  // A slowloris sending a few bytes inside every idle timeout would otherwise hold an upload slot
  // until call_timeout_seconds; 4 KiB/s is far below any real client's upload.
  upload_min_bytes_per_second: 4096,
} as const;

export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger('info', undefined, { pid: process.pid });
  const config = await loadRepoConfig(options);
  // Nothing runs until warm(): a bad interpreter path is a config error, before anything opens.
  const odfvWorker = odfvWorkerFor(config, options.odfvPython, logger, options.odfvPythonFromPath ?? false);
  const hooks = createHooks();
  options.configureHooks?.(hooks);
  tapDefaultResolvers(hooks);
  const ctx = { repoPath: config.repoPath };

  const storePlugin = await resolvePlugin(hooks, 'offline_store', config.offlineStore.type, ctx);
  validateSection(storePlugin.configSchema, config.offlineStore, config.configPath, 'offline_store');
  let authProvider: AuthProvider | null = null;
  if (config.auth.type !== NO_AUTH) {
    const authPlugin = await resolvePlugin(hooks, 'auth', config.auth.type, ctx);
    validateSection(authPlugin.configSchema, config.auth, config.configPath, 'auth');
    authProvider = await authPlugin.create(config.auth, { repoPath: config.repoPath, logger });
  }
  // What is opened is closed again if a later step fails: an open pool or timer would keep the
  // process from exiting with its error.
  let registry: RegistrySource | null = null;
  let store: OfflineStore;
  try {
    registry = await openRegistry(hooks, config, serviceTokenSource(config.auth.type, authProvider), logger);
    store = await storePlugin.create(config.offlineStore, {
      repoPath: config.repoPath,
      dataRoots: (config.larder.data_roots as string[] | undefined) ?? [],
      repoConfig: config.raw,
      logger,
    });
  } catch (error) {
    await Promise.allSettled([registry?.close(), authProvider?.close?.()]);
    throw error;
  }

  const pendingLimits = {
    ttlMs: ((config.larder.pending_ttl_seconds as number | undefined) ?? defaultPendingLimits.ttlMs / 1000) * 1000,
    maxBytes: (config.larder.pending_max_bytes as number | undefined) ?? defaultPendingLimits.maxBytes,
    maxEntries: (config.larder.pending_max_requests as number | undefined) ?? defaultPendingLimits.maxEntries,
  };
  const pending = new PendingUploads(pendingLimits, Date.now, (entry, reason) =>
    logger.warn({ call: entry.command.api, reason, bytes: entry.bytes }, 'pending upload dropped'),
  );
  tapCallLog(hooks, logger);
  if (authProvider) tapPermissions(hooks, registry, config.project);
  // Started now, in the background, so the first ODFV call does not pay for importing Feast.
  odfvWorker?.warm();
  const service = new FeastFlightService({
    registry,
    store,
    odfvWorker,
    hooks,
    auth: authProvider,
    readableSources: authProvider ? readableSourcesChecker(registry, config.project) : null,
    project: config.project,
    pending,
    maxUploadBytes: larderSetting(config, 'max_upload_bytes'),
    logger,
  });

  // Ready once the registry reads and the store answers (the store may be a database still starting).
  // A registry source that reports its status always has a good copy to serve, so a probe does not
  // wait on its backend: a registry outage shows as the `registry` service, not as unreadiness.
  const health = new ServerHealth({
    check: async () => {
      if (!registry.status) await registry.snapshot();
      await store.ping?.();
    },
    recheckMs: options.healthRecheckMs,
    logger,
  });
  // The gauges read the server's state when scraped; `flight` exists by then. The metrics modules
  // (prom-client, node:http) are imported only when metrics are asked for: loading them costs
  // ~50 ms of start-up.
  const metrics: ServerMetrics | null =
    options.metricsPort === undefined
      ? null
      : (await import('./metrics/server-metrics.ts')).createServerMetrics(hooks, {
          inFlightCalls: () => flight.inFlight(),
          uploadsInProgress: () => flight.uploads(),
          pendingUploads: () => ({ count: pending.size, bytes: pending.bytes }),
          registryStatus: () => registry.status?.(),
          odfvWorker: () => odfvWorker?.stats() ?? null,
          droppedLogLines: () => logDestinationOf(logger)?.droppedLines ?? null,
        });
  const tls = tlsOptions(options);
  const host = options.host ?? DEFAULT_HOST;
  const flight = createFlightServer(service, {
    host,
    port: options.port ?? DEFAULT_PORT,
    tls,
    logger,
    limits: {
      maxConcurrentCalls: larderSetting(config, 'max_concurrent_calls'),
      maxQueuedCalls: larderSetting(config, 'max_queued_calls'),
      queueTimeoutMs: larderSetting(config, 'queue_timeout_seconds') * 1000,
      callTimeoutMs: larderSetting(config, 'call_timeout_seconds') * 1000,
      maxConcurrentUploads: larderSetting(config, 'max_concurrent_uploads'),
      uploadIdleTimeoutMs: larderSetting(config, 'upload_idle_timeout_seconds') * 1000,
      uploadMinBytesPerSecond: larderSetting(config, 'upload_min_bytes_per_second'),
    },
    messageLimits: {
      maxCommandBytes: larderSetting(config, 'max_command_bytes'),
      maxFlightDataBytes: flightDataLimit(larderSetting(config, 'max_upload_bytes'), larderSetting(config, 'max_command_bytes')),
    },
    settingNames: LARDER_SETTING_NAMES,
    extraServices: [
      {
        definition: healthServiceDefinition(),
        implementation: healthServiceImplementation(health, {
          watchRecheckMs: options.healthRecheckMs,
          components: { [REGISTRY_HEALTH_SERVICE]: () => registryHealth(registry) },
        }),
      },
    ],
    onCallEnd: (rpc, code, durationMs) => metrics?.callEnded(rpc, code, durationMs),
  });
  let port: number;
  let metricsEndpoint: MetricsEndpoint | null = null;
  try {
    ({ port } = await flight.start());
    if (metrics) {
      const { startMetricsEndpoint } = await import('./metrics/metrics-http.ts');
      metricsEndpoint = await startMetricsEndpoint(metrics.registry, host, options.metricsPort!, logger);
    }
  } catch (error) {
    await flight.shutdown(0);
    await closeAll(store, registry, authProvider, pending, odfvWorker);
    throw error;
  }
  await health.markServing();
  const location = `${tls ? 'grpc+tls' : 'grpc+tcp'}://${host}:${port}`;
  logger.info(
    { location, project: config.project, offlineStore: config.offlineStore.type, auth: config.auth.type, odfvWorker: odfvWorker !== null },
    'larder serving',
  );

  return {
    port,
    location,
    config,
    metricsPort: metricsEndpoint?.port ?? null,
    async stop(graceMs = 30_000) {
      health.markDraining();
      await flight.shutdown(graceMs);
      await metricsEndpoint?.close();
      await closeAll(store, registry, authProvider, pending, odfvWorker);
    },
  };
}

/**
 * The `registry` health service: the source's last check. A probe also lets a sync-mode source
 * whose copy has expired check its backend (in the background, so the probe never waits), so the
 * answer stays current on a server that no call reaches.
 */
function registryHealth(registry: RegistrySource): ServingStatus {
  void registry.snapshot().catch(() => {});
  return registry.status?.().state === 'stale' ? 'NOT_SERVING' : 'SERVING';
}

function larderSetting(config: RepoConfig, key: keyof typeof DEFAULT_LIMITS): number {
  return (config.larder[key] as number | undefined) ?? DEFAULT_LIMITS[key];
}

/**
 * The registry plugin named by `registry.registry_type` (a bare path string is a file registry),
 * its config checked against the plugin's schema, opened, and so read once: a registry that cannot
 * be read stops the server here.
 */
async function openRegistry(
  hooks: LarderHooks,
  config: RepoConfig,
  serviceToken: ServiceTokenSource,
  logger: Logger,
): Promise<RegistrySource> {
  const section = typeof config.registry === 'string' ? { registry_type: 'file', path: config.registry } : { ...config.registry };
  const type = (section.registry_type as string | undefined) ?? 'file';
  const plugin = await resolvePlugin(hooks, 'registry', type, { repoPath: config.repoPath });
  validateSection(plugin.configSchema, section, config.configPath, 'registry');
  return plugin.create(section, { repoPath: config.repoPath, project: config.project, logger, serviceToken });
}

function tlsOptions(options: ServeOptions): { key: Buffer; cert: Buffer } | undefined {
  if (!options.tlsKeyPath && !options.tlsCertPath) return undefined;
  if (!options.tlsKeyPath || !options.tlsCertPath) {
    throw new Error('TLS needs both --key and --cert');
  }
  return { key: readFileSync(options.tlsKeyPath), cert: readFileSync(options.tlsCertPath) };
}

async function closeAll(
  store: OfflineStore,
  registry: RegistrySource,
  auth: AuthProvider | null,
  pending: PendingUploads,
  odfvWorker: OdfvWorker | null,
) {
  // Prepared results go back to the store before it closes (a pool waits for its connections).
  await pending.close();
  await Promise.allSettled([store.close(), registry.close(), auth?.close?.(), odfvWorker?.close()]);
}
