/**
 * One run of the kit against a target: the run's repo directory, unique names for the sources
 * each check makes, and the store's life — validated config, created, and closed at the end of
 * each check. A close that never settles means a call left something held (a connection, a
 * running query, a file handle), so it fails the check that left it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { validateSection } from '../config/validate.ts';
import type { DataSource } from '../registry/model.ts';
import type { CallContext, OfflineStore } from '../store.ts';
import { toArrow, type KitTable } from './kit-table.ts';
import type { StoreConformanceTarget } from './target.ts';

/** How long a store's close() may take, by default, before the kit says it is stuck. */
export const CLOSE_TIMEOUT_MS = 10_000;

/** Settings of a run. */
export interface KitOptions {
  /** How long a store's close() may take before the check fails (default 10 s). */
  readonly closeTimeoutMs?: number;
}

const silent = pino({ level: 'silent' });

/** A call's context, with a signal the caller may abort. */
export function callContext(signal: AbortSignal = new AbortController().signal): CallContext {
  return { signal, logger: silent, user: null };
}

/** Rejects with `message` when `promise` has not settled after `ms`. */
export async function settleWithin<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class KitRun {
  private repo: Promise<string> | null = null;
  private sequence = 0;
  private readonly shared = new Map<string, Promise<unknown>>();

  private readonly closeTimeoutMs: number;

  constructor(
    readonly target: StoreConformanceTarget,
    options: KitOptions = {},
  ) {
    this.closeTimeoutMs = options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS;
  }

  /** The run's repo directory, made on first use. */
  repoPath(): Promise<string> {
    return (this.repo ??= mkdtemp(path.join(tmpdir(), 'larder-conformance-')));
  }

  /** A fresh name prefix for one check's sources and destinations (`kit7`). */
  prefix(): string {
    return `kit${++this.sequence}`;
  }

  /** `make()`'s value, made once per run (a large source several checks read). */
  once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let value = this.shared.get(key) as Promise<T> | undefined;
    if (!value) this.shared.set(key, (value = make()));
    return value;
  }

  /** The target's source for `table`, with the kit's checks that it is what was asked. */
  async source(name: string, table: KitTable, timestampField: string, createdTimestampColumn: string): Promise<DataSource> {
    const options = { timestampField, createdTimestampColumn, repoPath: await this.repoPath() };
    const source = await this.target.createSource(name, toArrow(table), options);
    if (!source || typeof source !== 'object' || typeof source.name !== 'string') {
      throw new Error(`target.createSource("${name}") returned ${String(source)}, not a DataSource`);
    }
    if (source.timestampField !== timestampField || (source.createdTimestampColumn ?? '') !== createdTimestampColumn) {
      throw new Error(
        `target.createSource("${name}") returned a source with timestampField "${source.timestampField}" and createdTimestampColumn ` +
          `"${source.createdTimestampColumn}"; the kit asked for "${timestampField}" and "${createdTimestampColumn}"`,
      );
    }
    return source;
  }

  /**
   * Validates the target's `offline_store:` section with the plugin's schema (defaults applied, as
   * the server does) and creates the store.
   */
  async createStore(): Promise<OfflineStore> {
    const config = structuredClone(this.target.storeConfig) as Record<string, unknown>;
    validateSection(this.target.plugin.configSchema, config, 'the conformance target', 'offline_store');
    const repoPath = await this.repoPath();
    return this.target.plugin.create(config, {
      repoPath,
      dataRoots: [],
      repoConfig: { project: 'kit', provider: 'local', offline_store: config },
      logger: silent,
    });
  }

  /** Runs `work` with a new store, then closes it; a close that does not settle fails the check. */
  async withStore<T>(work: (store: OfflineStore) => Promise<T>): Promise<T> {
    const store = await this.createStore();
    let result: T;
    try {
      result = await work(store);
    } catch (error) {
      await settleWithin(store.close(), this.closeTimeoutMs, 'close() did not settle').catch(() => undefined);
      throw error;
    }
    await settleWithin(
      store.close(),
      this.closeTimeoutMs,
      `store.close() did not settle within ${this.closeTimeoutMs / 1000} s after the check's calls: a call left something held (a connection, a running query, a file handle)`,
    );
    return result;
  }

  /** Ends the run: the target's cleanup, then the repo directory. */
  async dispose(): Promise<void> {
    try {
      await this.target.cleanup?.();
    } finally {
      if (this.repo) await rm(await this.repo, { recursive: true, force: true });
    }
  }
}
