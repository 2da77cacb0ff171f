import { expect } from 'chai';
import { PendingUploads } from '../../core/src/api/pending.ts';
import type { FeastCommand } from '../../core/src/api/commands.ts';

const command = { api: 'get_historical_features' } as FeastCommand;
const cmd = (s: string) => new TextEncoder().encode(s);

describe('pending uploads (DoPut → DoGet state)', () => {
  it('hands a ticket out once', () => {
    const pending = new PendingUploads({ ttlMs: 1000, maxBytes: 100, maxEntries: 10 });
    const entry = pending.add({ commandBytes: cmd('a'), command, table: null, bytes: 10, owner: null });
    expect(pending.findByCommand(cmd('a'))?.ticket).to.equal(entry.ticket);
    expect(pending.take(entry.ticket)).to.equal(entry);
    expect(pending.take(entry.ticket)).to.equal(undefined);
    expect(pending.size).to.equal(0);
    expect(pending.bytes).to.equal(0);
    pending.close();
  });

  it('expires entries after the TTL', () => {
    let now = 0;
    const evicted: string[] = [];
    const pending = new PendingUploads(
      { ttlMs: 1000, maxBytes: 100, maxEntries: 10 },
      () => now,
      (_e, why) => evicted.push(why),
    );
    const entry = pending.add({ commandBytes: cmd('a'), command, table: null, bytes: 10, owner: null });
    now = 1001;
    expect(pending.take(entry.ticket)).to.equal(undefined);
    expect(evicted).to.deep.equal(['expired']);
    expect(pending.bytes).to.equal(0);
    pending.close();
  });

  it('evicts the oldest entries beyond the byte and count caps', () => {
    const pending = new PendingUploads({ ttlMs: 1000, maxBytes: 25, maxEntries: 2 });
    const a = pending.add({ commandBytes: cmd('a'), command, table: null, bytes: 10, owner: null });
    const b = pending.add({ commandBytes: cmd('b'), command, table: null, bytes: 10, owner: null });
    const c = pending.add({ commandBytes: cmd('c'), command, table: null, bytes: 10, owner: null });
    expect(pending.take(a.ticket)).to.equal(undefined);
    expect(pending.size).to.equal(2);
    const big = pending.add({ commandBytes: cmd('d'), command, table: null, bytes: 20, owner: null });
    expect(pending.take(b.ticket)).to.equal(undefined);
    expect(pending.take(c.ticket)).to.equal(undefined);
    expect(pending.take(big.ticket)).to.equal(big);
    pending.close();
  });

  it('releases a prepared result that nobody will read', () => {
    let now = 0;
    const pending = new PendingUploads({ ttlMs: 1000, maxBytes: 100, maxEntries: 10 }, () => now);
    let released = 0;
    const batches = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: true as const, value: undefined }),
        return: async () => {
          released++;
          return { done: true as const, value: undefined };
        },
      }),
    };
    const entry = pending.add({ commandBytes: cmd('a'), command, table: null, bytes: 1, owner: null });
    entry.prepared = { result: { schema: null as never, batches: batches as never }, record: null as never };
    now = 2000;
    expect(pending.findByCommand(cmd('a'))).to.equal(undefined);
    expect(released).to.equal(1);
    pending.close();
  });

  it('replaces an earlier upload of the same command', () => {
    const pending = new PendingUploads({ ttlMs: 1000, maxBytes: 100, maxEntries: 10 });
    const first = pending.add({ commandBytes: cmd('a'), command, table: null, bytes: 10, owner: null });
    const second = pending.add({ commandBytes: cmd('a'), command, table: null, bytes: 5, owner: null });
    expect(pending.take(first.ticket)).to.equal(undefined);
    expect(pending.findByCommand(cmd('a'))).to.equal(second);
    // The table, and the 1-byte command.
    expect(pending.bytes).to.equal(5 + 1);
    pending.close();
  });

  it("counts the command in an entry's bytes and in the byte cap, and frees it with the entry", () => {
    const command100 = (c: string) => cmd(c.repeat(100));
    const pending = new PendingUploads({ ttlMs: 1000, maxBytes: 250, maxEntries: 10 });
    const a = pending.add({ commandBytes: command100('a'), command, table: null, bytes: 0, owner: null });
    expect(a.bytes).to.equal(100);
    expect(pending.bytes).to.equal(100);
    pending.add({ commandBytes: command100('b'), command, table: null, bytes: 0, owner: null });
    // A third command of the same size is over 250 bytes: the oldest goes, although no table is held.
    pending.add({ commandBytes: command100('c'), command, table: null, bytes: 0, owner: null });
    expect(pending.findByCommand(command100('a'))).to.equal(undefined);
    expect(pending.size).to.equal(2);
    expect(pending.bytes).to.equal(200);
    pending.close();
    expect(pending.bytes).to.equal(0);
  });

  it('keeps only a copy of the command bytes, not a view that holds the whole received message, and parses it when used', () => {
    const message = new Uint8Array(64 * 1024);
    const view = message.subarray(10, 20);
    view.fill(7);
    const pending = new PendingUploads({ ttlMs: 1000, maxBytes: 1e9, maxEntries: 10 });
    const entry = pending.add({ commandBytes: view, command, table: null, bytes: 0, owner: null });
    expect(entry.commandBytes.buffer.byteLength).to.equal(10);
    expect([...entry.commandBytes]).to.deep.equal(new Array(10).fill(7));
    expect(pending.findByCommand(Uint8Array.from(view))).to.equal(entry);
    const json = cmd(
      '{"api": "pull_all_from_table_or_query", "data_source_name": "s", "join_key_columns": [], "feature_name_columns": [], "timestamp_field": "ts"}',
    );
    const parsed = pending.add({ commandBytes: json, command: null as never, table: null, bytes: 0, owner: null });
    expect(parsed.command.api).to.equal('pull_all_from_table_or_query');
    pending.close();
  });
});
