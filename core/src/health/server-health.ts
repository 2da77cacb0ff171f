/**
 * Whether the server can serve, as the gRPC health service reports it.
 *
 * Readiness is SERVING only while the server is up and not draining, and its dependencies answer:
 * the registry can be read and the store's `ping()` succeeds. Probes come every few seconds, so a
 * dependency check is reused for `recheckMs`, and concurrent probes share one check. A check that
 * takes longer than `checkTimeoutMs` counts as a failure: a probe has a deadline of its own
 * (Kubernetes' default is 1 s), and an answer that comes too late is no answer.
 *
 * Liveness says only that the process answers; it stays SERVING while draining, so that an
 * orchestrator does not kill a server that is finishing its calls.
 */
import type { Logger } from 'pino';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';
export type Lifecycle = 'starting' | 'serving' | 'draining';

export interface ServerHealthOptions {
  /** Resolves when every dependency answers; rejects (with the reason) otherwise. */
  readonly check: () => Promise<void>;
  readonly recheckMs?: number;
  readonly checkTimeoutMs?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

type Listener = (status: ServingStatus) => void;

export class ServerHealth {
  private lifecycle: Lifecycle = 'starting';
  private dependencies: ServingStatus = 'NOT_SERVING';
  private checkedAt = -Infinity;
  private inProgress: Promise<void> | null = null;
  private lastReported: ServingStatus = 'NOT_SERVING';
  private readonly listeners = new Set<Listener>();
  private readonly recheckMs: number;
  private readonly checkTimeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ServerHealthOptions) {
    this.recheckMs = options.recheckMs ?? 5_000;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 800;
    this.now = options.now ?? Date.now;
  }

  get state(): Lifecycle {
    return this.lifecycle;
  }

  /** The port is open; readiness now follows the dependency checks. */
  async markServing(): Promise<void> {
    this.lifecycle = 'serving';
    await this.refresh(true);
  }

  /** Shutdown began: readiness is NOT_SERVING from now on, whatever the dependencies say. */
  markDraining(): void {
    this.lifecycle = 'draining';
    this.publish();
  }

  /** Readiness, checking the dependencies again when the last check is older than `recheckMs`. */
  async readiness(): Promise<ServingStatus> {
    if (this.lifecycle === 'serving') await this.refresh(false);
    return this.current();
  }

  liveness(): ServingStatus {
    return 'SERVING';
  }

  /** Calls `listener` whenever readiness changes; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private current(): ServingStatus {
    return this.lifecycle === 'serving' ? this.dependencies : 'NOT_SERVING';
  }

  private refresh(force: boolean): Promise<void> {
    if (!force && this.now() - this.checkedAt < this.recheckMs) return Promise.resolve();
    this.inProgress ??= this.runCheck().finally(() => (this.inProgress = null));
    return this.inProgress;
  }

  private async runCheck(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.checkTimeoutMs} ms`)), this.checkTimeoutMs);
    });
    let status: ServingStatus;
    try {
      await Promise.race([this.options.check(), timeout]);
      status = 'SERVING';
    } catch (error) {
      status = 'NOT_SERVING';
      if (this.dependencies === 'SERVING' || this.checkedAt === -Infinity) {
        this.options.logger?.warn({ err: (error as Error).message }, 'health check failed: reporting NOT_SERVING');
      }
    } finally {
      clearTimeout(timer);
    }
    if (status === 'SERVING' && this.dependencies === 'NOT_SERVING' && this.checkedAt !== -Infinity) {
      this.options.logger?.info('health check passes again: reporting SERVING');
    }
    this.dependencies = status;
    this.checkedAt = this.now();
    this.publish();
  }

  private publish(): void {
    const status = this.current();
    if (status === this.lastReported) return;
    this.lastReported = status;
    for (const listener of this.listeners) listener(status);
  }
}
