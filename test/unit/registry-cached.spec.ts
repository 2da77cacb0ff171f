/**
 * openCachedRegistry's rules (cache_ttl_seconds, cache_mode, the change stamp, the last good copy,
 * refresh on a miss), driven by a loader over real registry bytes and a hand-moved clock. The same
 * source runs against real databases and a real registry server in the integration specs.
 */
import { expect } from 'chai';
import pino, { type Logger } from 'pino';
import { openCachedRegistry, type RegistryLoader } from '../../core/src/registry/cached-registry.ts';
import { decodeRegistry } from '../../core/src/registry/decode.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import type { RegistrySnapshot } from '../../core/src/registry/model.ts';
import { RegistryUnavailableError } from '../../core/src/registry/plugin.ts';

/** A backend holding one registry version (the names of its sources), with counters and a failure switch. */
function backend(initial: string[]) {
  const state = {
    sources: initial,
    version: 1,
    stamps: 0,
    loads: 0,
    failure: null as string | null,
    loadGate: null as Promise<void> | null,
  };
  const loader: RegistryLoader = {
    describe: 'test-backend',
    async stamp() {
      state.stamps += 1;
      if (state.failure) throw new Error(state.failure);
      return String(state.version);
    },
    async load() {
      state.loads += 1;
      if (state.failure) throw new Error(state.failure);
      const sources = state.sources;
      await state.loadGate;
      return decodeRegistry(
        encodeRegistry({
          project: 'p',
          dataSources: sources.map((name) => ({ kind: 'file' as const, name, path: 'x.parquet', timestampField: 'ts' })),
        }),
      );
    },
  };
  return {
    state,
    loader,
    change(sources: string[]) {
      state.sources = sources;
      state.version += 1;
    },
  };
}

function names(snapshot: RegistrySnapshot): string[] {
  return ['a', 'b', 'c'].filter((name) => {
    try {
      snapshot.getDataSource(name, 'p');
      return true;
    } catch {
      return false;
    }
  });
}

function capturing(): { logger: Logger; warnings: () => string[] } {
  const lines: Array<{ level: number; msg: string }> = [];
  return {
    logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
    warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg),
  };
}

async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('cached registry (cache_ttl_seconds, cache_mode, last good copy)', () => {
  const silent = pino({ level: 'silent' });

  it('fails to open with RegistryUnavailableError naming the backend when the first read fails', async () => {
    const b = backend(['a']);
    b.state.failure = 'connection refused';
    const error = await openCachedRegistry(b.loader, { policy: { ttlSeconds: 60, mode: 'sync' }, logger: silent }).catch((e: Error) => e);
    expect(error).to.be.instanceOf(RegistryUnavailableError);
    expect((error as Error).message).to.equal('Cannot read the registry (test-backend): connection refused');
  });

  it('sync: serves the copy until the TTL expires, then checks the stamp and reloads only when it changed', async () => {
    let now = 0;
    const b = backend(['a']);
    const source = await openCachedRegistry(b.loader, { policy: { ttlSeconds: 10, mode: 'sync' }, logger: silent, now: () => now });
    b.change(['a', 'b']);
    now = 9_999;
    expect(names(await source.snapshot())).to.deep.equal(['a']);
    expect([b.state.stamps, b.state.loads]).to.deep.equal([1, 1]);
    now = 10_000;
    expect(names(await source.snapshot())).to.deep.equal(['a', 'b']);
    expect([b.state.stamps, b.state.loads]).to.deep.equal([2, 2]);
    now = 20_000;
    await source.snapshot();
    expect([b.state.stamps, b.state.loads], 'unchanged stamp: no reload').to.deep.equal([3, 2]);
    await source.close();
  });

  it('a TTL of 0 never expires, as in Feast', async () => {
    let now = 0;
    const b = backend(['a']);
    const source = await openCachedRegistry(b.loader, { policy: { ttlSeconds: 0, mode: 'sync' }, logger: silent, now: () => now });
    b.change(['b']);
    now = 1e12;
    expect(names(await source.snapshot())).to.deep.equal(['a']);
    expect(b.state.stamps).to.equal(1);
    await source.close();
  });

  it('thread: a timer refreshes every TTL and calls never wait for the backend', async () => {
    const b = backend(['a']);
    const source = await openCachedRegistry(b.loader, { policy: { ttlSeconds: 0.05, mode: 'thread' }, logger: silent });
    b.change(['b']);
    let release!: () => void;
    b.state.loadGate = new Promise((resolve) => (release = resolve));
    await eventually(() => b.state.loads === 2);
    // A reload is held up in the backend; the call answers from the copy at once.
    expect(names(await source.snapshot())).to.deep.equal(['a']);
    release();
    await eventually(async () => names(await source.snapshot())[0] === 'b');
    await source.close();
    const stamps = b.state.stamps;
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(b.state.stamps, 'the timer stops on close').to.equal(stamps);
  });

  it('keeps the last good copy when the backend fails, warns once per failure, reports stale, retries after retryMs, and recovers', async () => {
    let now = 0;
    const b = backend(['a']);
    const { logger, warnings } = capturing();
    const source = await openCachedRegistry(b.loader, { policy: { ttlSeconds: 60, mode: 'sync' }, logger, retryMs: 1_000, now: () => now });
    expect(source.status!().state).to.equal('fresh');
    b.state.failure = 'database is down';
    now = 60_000;
    expect(names(await source.snapshot())).to.deep.equal(['a']);
    expect(source.status!()).to.deep.include({ state: 'stale', error: 'database is down' });
    expect(source.status!().loadedAt.getTime()).to.equal(0);
    now = 60_500;
    await source.snapshot();
    expect(b.state.stamps, 'no retry before retryMs').to.equal(2);
    now = 61_000;
    await source.snapshot();
    expect(b.state.stamps).to.equal(3);
    expect(warnings()).to.deep.equal(['registry could not be read; still serving the last good copy']);

    b.state.failure = null;
    b.change(['b']);
    now = 62_000;
    expect(names(await source.snapshot())).to.deep.equal(['b']);
    expect(source.status!()).to.deep.equal({ state: 'fresh', loadedAt: new Date(62_000) });
    await source.close();
  });

  it('refresh() answers from a check that starts after it is called, sharing one queued check between callers', async () => {
    const b = backend(['a']);
    const source = await openCachedRegistry(b.loader, { policy: { ttlSeconds: 600, mode: 'sync' }, logger: silent });
    let release!: () => void;
    b.change(['b']);
    b.state.loadGate = new Promise((resolve) => (release = resolve));
    const first = source.refresh!();
    // While the first check is in the backend, the registry changes again and three lookups miss.
    await new Promise((resolve) => setTimeout(resolve, 10));
    b.change(['c']);
    b.state.loadGate = null;
    const later = [source.refresh!(), source.refresh!(), source.refresh!()];
    release();
    expect(names(await first)).to.deep.equal(['b']);
    for (const snapshot of await Promise.all(later)) expect(names(snapshot)).to.deep.equal(['c']);
    expect(b.state.loads, 'open, the first check, one shared queued check').to.equal(3);
    await source.close();
  });

  it('refuses snapshots after close, and closes the loader', async () => {
    const b = backend(['a']);
    let closed = false;
    const source = await openCachedRegistry(
      { ...b.loader, close: async () => void (closed = true) },
      { policy: { ttlSeconds: 1, mode: 'sync' }, logger: silent },
    );
    await source.close();
    expect(closed).to.equal(true);
    expect(((await source.snapshot().catch((e: Error) => e)) as Error).message).to.equal('The registry has been closed');
  });
});
