/**
 * Uploads waiting for their DoGet (Feast's `flights` dict, bounded).
 *
 * A retrieval call is DoPut (entity table) → GetFlightInfo → DoGet. Python Feast keeps every
 * upload in an unbounded dict and leaks it when DoGet fails or never comes; here every entry
 * expires after a TTL, the total size is capped (the oldest entries are evicted first), and an
 * entry is removed the moment its DoGet starts, whatever happens next.
 */
import { randomUUID } from 'node:crypto';
import type { Table } from 'apache-arrow';
import type { FeastCommand } from './commands.ts';

export interface PendingEntry {
  readonly ticket: string;
  readonly commandBytes: Uint8Array;
  readonly command: FeastCommand;
  /** The uploaded table, or null for Feast's `{"key": ["mock_key"]}` placeholder. */
  readonly table: Table | null;
  readonly bytes: number;
  readonly owner: string | null;
  readonly createdAt: number;
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
    if (previous) this.delete(previous);
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

  close(): void {
    clearInterval(this.sweeper);
    this.byTicket.clear();
    this.byCommand.clear();
    this.totalBytes = 0;
  }

  private sweep(): void {
    const deadline = this.now() - this.limits.ttlMs;
    for (const entry of this.byTicket.values()) {
      // Map iteration is in insertion order, so the first live entry ends the sweep.
      if (entry.createdAt > deadline) break;
      this.delete(entry.ticket);
      this.onEvict(entry, 'expired');
    }
  }

  private enforceCapacity(keep: string): void {
    for (const entry of this.byTicket.values()) {
      if (this.totalBytes <= this.limits.maxBytes && this.byTicket.size <= this.limits.maxEntries) return;
      if (entry.ticket === keep) continue;
      this.delete(entry.ticket);
      this.onEvict(entry, 'capacity');
    }
  }

  private delete(ticket: string): void {
    const entry = this.byTicket.get(ticket);
    if (!entry) return;
    this.byTicket.delete(ticket);
    this.byCommand.delete(commandKey(entry.commandBytes));
    this.totalBytes -= entry.bytes;
  }
}

function commandKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
