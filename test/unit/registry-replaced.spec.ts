/**
 * A registry file replaced while the server serves (issue 16): every call sees the old registry
 * or the new one, never a half-read. `feast apply` rewrites the file in place (truncate, write),
 * and protobuf has no end marker: a file cut exactly between two top-level fields parses, with
 * the registry's later fields (feature views, data sources, …) simply missing. Such a file is not
 * served while it may still be being written; once it has stayed the same for the settle time,
 * it is what the registry is.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import protobuf from 'protobufjs';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { openFileRegistry } from '../../core/src/registry/file-registry.ts';
import type { RegistrySource } from '../../core/src/registry/model.ts';

/** A registry as `feast apply` leaves it: entities, views, sources, a project. */
function registryBytes(view: string): Uint8Array {
  return encodeRegistry({
    project: 'p',
    entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
    dataSources: [{ kind: 'file', name: `${view}_source`, path: `${view}.parquet`, timestampField: 'ts' }],
    featureViews: [{ name: view, source: `${view}_source`, entities: ['driver'], features: [{ name: 'f', valueType: 'INT64' }] }],
  });
}

/** The offset of the first top-level field numbered `field` or higher: a cut there parses cleanly. */
function boundaryBefore(bytes: Uint8Array, field: number): number {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const at = reader.pos;
    const tag = reader.uint32();
    if (tag >>> 3 >= field) return at;
    reader.skipType(tag & 7);
  }
  throw new Error(`no field ${field} or higher`);
}

const has = async (source: RegistrySource, view: string) => {
  try {
    (await source.snapshot()).getFeatureView(view, 'p');
    return true;
  } catch {
    return false;
  }
};

describe('a registry file replaced while serving', () => {
  let dir: string;
  let file: string;
  let source: RegistrySource | null = null;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-registry-replaced-'));
    mkdirSync(path.join(dir, 'data'));
    file = path.join(dir, 'data', 'registry.db');
  });

  afterEach(async () => {
    await source?.close();
    source = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a file cut cleanly after the schema version (views and sources not yet written) is not served', async () => {
    writeFileSync(file, registryBytes('v1'));
    source = await openFileRegistry({ path: 'data/registry.db', repoPath: dir, logger: pino({ level: 'silent' }) });
    const next = registryBytes('v2');
    // What a reader finds while feast apply is midway: the head of the new registry, parseable.
    writeFileSync(file, next.subarray(0, boundaryBefore(next, 6)));
    expect(await has(source, 'v1')).to.equal(true, 'the half-written registry was served');
    expect(source.status!().state).to.equal('stale');
    writeFileSync(file, next);
    expect(await has(source, 'v2')).to.equal(true);
    expect(await has(source, 'v1')).to.equal(false);
  });

  it('a registry that really lost its later fields is taken once the file has settled', async () => {
    writeFileSync(file, registryBytes('v1'));
    source = await openFileRegistry({ path: 'data/registry.db', repoPath: dir, logger: pino({ level: 'silent' }), settleMs: 200 });
    // A registry that stops after last_updated (field 5), written whole and left so: what a
    // writer that no longer sets the later fields would leave.
    const next = registryBytes('v2');
    writeFileSync(file, next.subarray(0, boundaryBefore(next, 6)));
    expect(await has(source, 'v1')).to.equal(true);
    await new Promise((r) => setTimeout(r, 400));
    expect(await has(source, 'v1')).to.equal(false);
    expect(source.status!().state).to.equal('fresh');
  });

  it('renamed over (an atomic replace): the next call sees the new registry', async () => {
    writeFileSync(file, registryBytes('v1'));
    source = await openFileRegistry({ path: 'data/registry.db', repoPath: dir, logger: pino({ level: 'silent' }) });
    writeFileSync(`${file}.new`, registryBytes('v2'));
    renameSync(`${file}.new`, file);
    expect(await has(source, 'v2')).to.equal(true);
  });

  it('rewritten in place a byte at a time, a call after each byte: each call sees v1 or v2 whole', async () => {
    writeFileSync(file, registryBytes('v1'));
    source = await openFileRegistry({ path: 'data/registry.db', repoPath: dir, logger: pino({ level: 'silent' }) });
    const next = registryBytes('v2');
    const { openSync, writeSync, closeSync, ftruncateSync } = await import('node:fs');
    const fd = openSync(file, 'r+');
    ftruncateSync(fd, 0);
    const seen = new Set<string>();
    // Every prefix of the new file, so every cut between two fields is seen by some call.
    for (let at = 0; at < next.length; at++) {
      writeSync(fd, next, at, 1, at);
      const snapshot = await source.snapshot();
      const views = ['v1', 'v2'].filter((v) => {
        try {
          snapshot.getFeatureView(v, 'p');
          snapshot.getDataSource(`${v}_source`, 'p');
          return true;
        } catch {
          return false;
        }
      });
      expect(views).to.have.length(1, `at byte ${at} of ${next.length} a call saw ${JSON.stringify(views)}`);
      seen.add(views[0]!);
    }
    closeSync(fd);
    expect(await has(source, 'v2')).to.equal(true);
    expect([...seen]).to.include('v1');
  });
});
