/**
 * Every seam of larder, declared in one place (as webpack's Compiler declares its hooks), so a
 * reader sees all the points where plugins and core concerns attach.
 *
 * - `resolveOfflineStore` / `resolveAuth` / `resolveRegistry`: turn a `type:` string of
 *   feature_store.yaml (`offline_store.type`, `auth.type`, `registry.registry_type`) into a
 *   plugin. Core taps the built-in aliases first, then Feast types it has no plugin for (refused
 *   with advice), then npm package names, then repo-relative paths; the first tap that returns a
 *   plugin wins (bail hook). See plugins/resolve.ts.
 * - `beforeCall`: runs before a Feast command executes, after validation and registry lookups;
 *   permission enforcement attaches here. Throwing refuses the call.
 * - `afterCall`: runs once per call on every path (success or error): logging and metrics.
 */
import { AsyncSeriesBailHook, AsyncSeriesHook, SyncHook } from 'tapable';
import type { AuthPlugin, User } from './auth.ts';
import type { OfflineStorePlugin } from './store.ts';
import type { DataSource, FeatureService, FeatureView } from './registry/model.ts';
import type { RegistryPlugin } from './registry/plugin.ts';

/** Where a `type:` string is being resolved from. */
export interface ResolveContext {
  /** The feature repo directory; relative plugin paths resolve against it, npm names are looked up from it first. */
  readonly repoPath: string;
  /**
   * The environment that locates the global install (`npm_config_prefix`, `NODE_PATH`) when an npm
   * name is in neither the repo nor larder's own install; `process.env` when absent.
   */
  readonly env?: NodeJS.ProcessEnv;
}

/** The registry objects a call touches, with the action it performs on each (for permissions). */
export interface ResourceAccess {
  readonly action: 'READ_OFFLINE' | 'WRITE_OFFLINE';
  readonly resource:
    | { readonly kind: 'featureView'; readonly object: FeatureView }
    | { readonly kind: 'featureService'; readonly object: FeatureService }
    | { readonly kind: 'dataSource'; readonly object: DataSource };
}

/** What is known about a Feast call while it runs. */
export interface CallRecord {
  /** The Feast api name (`get_historical_features`, …), or the RPC name for non-Feast calls. */
  readonly api: string;
  readonly rpc: string;
  readonly user: User | null;
  readonly peer: string;
  readonly startedAt: bigint;
  /** Filled in by the api handler before `beforeCall` runs. */
  resources: ResourceAccess[];
}

export interface CallOutcome {
  readonly error: Error | null;
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs: number;
}

export function createHooks() {
  return Object.freeze({
    resolveOfflineStore: new AsyncSeriesBailHook<[string, ResolveContext], OfflineStorePlugin | undefined>(['type', 'context']),
    resolveAuth: new AsyncSeriesBailHook<[string, ResolveContext], AuthPlugin | undefined>(['type', 'context']),
    resolveRegistry: new AsyncSeriesBailHook<[string, ResolveContext], RegistryPlugin | undefined>(['type', 'context']),
    beforeCall: new AsyncSeriesHook<[CallRecord]>(['call']),
    afterCall: new SyncHook<[CallRecord, CallOutcome]>(['call', 'outcome']),
  });
}

export type LarderHooks = ReturnType<typeof createHooks>;
