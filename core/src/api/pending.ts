/**
 * Uploads waiting for their DoGet (Feast's `flights` dict, bounded).
 *
 * A retrieval call is DoPut (entity table) → GetFlightInfo → DoGet. Python Feast keeps every
 * upload in an unbounded dict and leaks it when DoGet fails or never comes; here every entry
 * expires after a TTL, the total size is capped (the oldest entries are evicted first), and an
 * entry is removed the moment its owner's DoGet starts, whatever happens next; another user's DoGet
 * leaves it alone.
 */
import { randomUUID } from 'node:crypto';
import type { Table } from 'apache-arrow';
import type { CallRecord } from '../hooks.ts';
import type { ResultStream } from '../store.ts';
import type { FeastCommand } from './commands.ts';
import { releaseResult } from './release-result.ts';

export interface PendingEntry {
  readonly ticket: string;
  readonly commandBytes: Uint8Array;
  readonly command: FeastCommand;
  /** The uploaded table, or null for Feast's `{"key": ["mock_key"]}` placeholder. */
  readonly table: Table | null;
  readonly bytes: number;
  readonly owner: string | null;
  readonly createdAt: number;
  /**
   * The result, once GetFlightInfo has run the query to report its schema and row count; DoGet
   * then streams it. Dropped entries release it (see `release`).
   */
  prepared?: { readonly result: ResultStream; readonly record: CallRecord };
}

export interface PendingLimits {
  readonly ttlMs: number;
  readonly maxBytes: number;
  readonly maxEntries: number;
}

export const defaultPendingLimits: PendingLimits = {
  ttlMs: 10 * 60_000,
  maxBytes: 2 * 1024 ** 3,
  maxEntries: 1024,
};

export class PendingUploads {
  private readonly byTicket = new Map<string, PendingEntry>();
  private readonly byCommand = new Map<string, string>();
  private totalBytes = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly limits: PendingLimits = defaultPendingLimits,
    private readonly now: () => number = Date.now,
    private readonly onEvict: (entry: PendingEntry, reason: 'expired' | 'capacity') => void = () => {},
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(limits.ttlMs, 30_000));
    this.sweeper.unref();
  }

  /** Stores an upload under its command bytes (a re-upload of the same command replaces it). */
  add(entry: Omit<PendingEntry, 'ticket' | 'createdAt'>): PendingEntry {
    const key = commandKey(entry.commandBytes);
    const previous = this.byCommand.get(key);
    if (previous) this.delete(previous, true);
    const stored: PendingEntry = { ...entry, ticket: randomUUID(), createdAt: this.now() };
    this.byTicket.set(stored.ticket, stored);
    this.byCommand.set(key, stored.ticket);
    this.totalBytes += stored.bytes;
    this.enforceCapacity(stored.ticket);
    return stored;
  }

  /** The entry uploaded with these command bytes, if it is still pending. */
  findByCommand(commandBytes: Uint8Array): PendingEntry | undefined {
    this.sweep();
    const ticket = this.byCommand.get(commandKey(commandBytes));
    return ticket ? this.byTicket.get(ticket) : undefined;
  }

  /** The entry of a ticket, if it is still pending; it stays pending (see `take`). */
  get(ticket: string): PendingEntry | undefined {
    this.sweep();
    return this.byTicket.get(ticket);
  }

  /** Removes and returns the entry: a ticket can be redeemed once. */
  take(ticket: string): PendingEntry | undefined {
    this.sweep();
    const entry = this.byTicket.get(ticket);
    if (entry) this.delete(ticket);
    return entry;
  }

  list(): PendingEntry[] {
    this.sweep();
    return [...this.byTicket.values()];
  }

  get size(): number {
    return this.byTicket.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Drops every entry; resolves once their prepared results are released (before the store closes). */
  close(): Promise<void> {
    clearInterval(this.sweeper);
    const releases = [...this.byTicket.values()].map(releasePrepared);
    this.byTicket.clear();
    this.byCommand.clear();
    this.totalBytes = 0;
    return Promise.all(releases).then(() => undefined);
  }

  private sweep(): void {
    const deadline = this.now() - this.limits.ttlMs;
    for (const entry of this.byTicket.values()) {
      // Map iteration is in insertion order, so the first live entry ends the sweep.
      if (entry.createdAt > deadline) break;
      this.delete(entry.ticket, true);
      this.onEvict(entry, 'expired');
    }
  }

  private enforceCapacity(keep: string): void {
    for (const entry of this.byTicket.values()) {
      if (this.totalBytes <= this.limits.maxBytes && this.byTicket.size <= this.limits.maxEntries) return;
      if (entry.ticket === keep) continue;
      this.delete(entry.ticket, true);
      this.onEvict(entry, 'capacity');
    }
  }

  private delete(ticket: string, release = false): void {
    const entry = this.byTicket.get(ticket);
    if (!entry) return;
    if (release) void releasePrepared(entry);
    this.byTicket.delete(ticket);
    this.byCommand.delete(commandKey(entry.commandBytes));
    this.totalBytes -= entry.bytes;
  }
}

/** Ends a prepared result nobody will read, so the store frees what it holds for it. */
function releasePrepared(entry: PendingEntry): Promise<void> {
  return entry.prepared ? releaseResult(entry.prepared.result) : Promise.resolve();
}

function commandKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
