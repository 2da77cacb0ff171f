/**
 * A bound on token checks that need the API server: at most `maxRunning` at once, at most
 * `maxWaiting` queued behind them, and no wait longer than `maxWaitMs`. Without it, a flood of
 * distinct tokens (each a cache miss) becomes as many concurrent TokenReviews and RBAC lists, a
 * queue and memory that grow without limit and an API server that larder itself overloads. A
 * check that cannot run soon is refused as UNAVAILABLE (transient; the Feast client retries).
 * Cached tokens never come here, so callers already verified are served while the gate is full.
 */
import { UnavailableError } from '@larder/core';

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

export class ReviewGate {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly maxRunning: number,
    private readonly maxWaiting: number,
    private readonly maxWaitMs: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.maxRunning) {
      this.running += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(
        new UnavailableError(
          `Too many Kubernetes token checks waiting (${this.running} running, ${this.waiting.length} waiting): try again shortly`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        start: resolve,
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(
            new UnavailableError(
              `No Kubernetes token check could start within ${this.maxWaitMs} ms (${this.running} running): try again shortly`,
            ),
          );
        }, this.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  /** Hands the slot straight to the oldest waiter, or frees it. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) {
      clearTimeout(next.timer);
      next.start();
    } else this.running -= 1;
  }
}
