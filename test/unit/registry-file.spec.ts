import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { FeatureViewNotFoundException } from '../../core/src/errors.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import {
  openFileRegistry,
  registryPathFromConfig,
  resolveRegistryPath,
  UnsupportedRegistryError,
} from '../../core/src/registry/file-registry.ts';
import type { RegistrySource } from '../../core/src/registry/model.ts';

interface LogLine {
  level: number;
  msg: string;
  path?: string;
  err?: { message: string };
}

/** A pino logger whose JSON lines are kept for inspection. */
function capturingLogger(): { logger: Logger; lines: LogLine[]; warnings: () => LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines, warnings: () => lines.filter((l) => l.level === 40) };
}

/** A registry with one feature view, named so the content identifies the version. */
function registryBytes(viewName: string): Uint8Array {
  return encodeRegistry({ project: 'p', featureViews: [{ name: viewName, features: [{ name: 'f', valueType: 'INT64' }] }] });
}

async function viewNames(source: RegistrySource): Promise<string[]> {
  const snapshot = await source.snapshot();
  return ['v1', 'v2', 'v3'].filter((name) => {
    try {
      snapshot.getFeatureView(name, 'p');
      return true;
    } catch {
      return false;
    }
  });
}

describe('file registry', () => {
  let dir: string;
  let path: string;
  const opened: RegistrySource[] = [];

  async function open(logger: Logger, extra: { initialAttempts?: number; retryDelayMs?: number } = {}): Promise<RegistrySource> {
    const source = await openFileRegistry({ path: 'data/registry.db', repoPath: dir, logger, ...extra });
    opened.push(source);
    return source;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'larder-registry-'));
    mkdirSync(join(dir, 'data'));
    path = join(dir, 'data', 'registry.db');
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  describe('path resolution (FileRegistryStore)', () => {
    it('keeps absolute paths and puts relative ones under the repo path', () => {
      expect(resolveRegistryPath('/abs/registry.db', '/repo')).to.equal('/abs/registry.db');
      expect(resolveRegistryPath('data/registry.db', '/repo')).to.equal('/repo/data/registry.db');
      expect(resolveRegistryPath('registry.db', '/repo/')).to.equal('/repo/registry.db');
    });

    it('strips file:// as a courtesy', () => {
      expect(resolveRegistryPath('file:///abs/registry.db', '/repo')).to.equal('/abs/registry.db');
      expect(resolveRegistryPath('file:data/registry.db', '/repo')).to.equal('/repo/data/registry.db');
    });

    it("rejects object stores for now, and unknown schemes with Feast's text", () => {
      expect(() => resolveRegistryPath('s3://bucket/registry.db', '/repo'))
        .to.throw(UnsupportedRegistryError)
        .with.property(
          'message',
          'Registry path s3://bucket/registry.db uses the s3:// scheme, which larder does not support yet; use a local file registry.',
        );
      expect(() => resolveRegistryPath('gs://bucket/registry.db', '/repo')).to.throw('uses the gs:// scheme');
      expect(() => resolveRegistryPath('ftp://host/registry.db', '/repo')).to.throw(
        'Registry path ftp://host/registry.db has unsupported scheme ftp. Supported schemes are file, s3, gs and hdfs.',
      );
    });

    it('treats a Windows drive letter as a plain path, as Feast does', () => {
      expect(() => resolveRegistryPath('C:/feast/registry.db', '/repo')).to.not.throw();
    });
  });

  describe('registryPathFromConfig (the three forms of `registry:`)', () => {
    it('takes a string, a mapping without registry_type, or registry_type file', () => {
      expect(registryPathFromConfig('data/registry.db', '/repo')).to.equal('/repo/data/registry.db');
      expect(registryPathFromConfig({ path: 'data/r.db', cache_ttl_seconds: 60 }, '/repo')).to.equal('/repo/data/r.db');
      expect(registryPathFromConfig({ registry_type: 'file', path: '/abs/r.db' }, '/repo')).to.equal('/abs/r.db');
      expect(registryPathFromConfig({ registry_store_type: 'FileRegistryStore', path: 'r.db' }, '/repo')).to.equal('/repo/r.db');
    });

    it('rejects registry stores other than the local file, and an empty path', () => {
      expect(() => registryPathFromConfig({ registry_store_type: 'S3RegistryStore', path: 's3://b/r.db' }, '/repo')).to.throw(
        'registry_store_type "S3RegistryStore" is not supported by larder yet',
      );
      expect(() => registryPathFromConfig({ cache_ttl_seconds: 5 }, '/repo')).to.throw('The registry path is empty');
    });
  });

  describe('before the first feast apply (no file yet)', () => {
    it('starts with an empty registry, warning once with the path, and answers lookups as Feast does', async () => {
      const { logger, warnings } = capturingLogger();
      const source = await open(logger);
      expect(warnings()).to.have.length(1);
      expect(warnings()[0]!.path).to.equal(path);
      expect(warnings()[0]!.msg).to.contain('does not exist yet');
      const snapshot = await source.snapshot();
      expect(() => snapshot.getFeatureView('v1', 'p'))
        .to.throw(FeatureViewNotFoundException)
        .with.property('message', 'Feature view v1 does not exist in project p');
      expect(snapshot.listFeatureServices('p')).to.deep.equal([]);
      // Calls keep being answered without a warning per call, and the registry is not stale.
      await source.snapshot();
      expect(warnings()).to.have.length(1);
      expect(source.status!().state).to.equal('fresh');
    });

    it('serves the objects as soon as feast apply writes the file', async () => {
      const { logger, lines } = capturingLogger();
      const source = await open(logger);
      expect(await viewNames(source)).to.deep.equal([]);
      writeFileSync(path, registryBytes('v1'));
      expect(await viewNames(source)).to.deep.equal(['v1']);
      expect(lines.filter((l) => l.msg === 'registry reloaded')).to.have.length(1);
    });

    it("does not create the file (the registry is Feast's to write)", async () => {
      await open(capturingLogger().logger);
      expect(existsSync(path)).to.equal(false);
    });
  });

  it('serves the same snapshot while the file is unchanged', async () => {
    writeFileSync(path, registryBytes('v1'));
    const source = await open(capturingLogger().logger);
    const first = await source.snapshot();
    expect(await source.snapshot()).to.equal(first);
    expect(await viewNames(source)).to.deep.equal(['v1']);
  });

  it('reloads when the file changes', async () => {
    writeFileSync(path, registryBytes('v1'));
    const { logger, lines } = capturingLogger();
    const source = await open(logger);
    const first = await source.snapshot();
    writeFileSync(path, registryBytes('v2'));
    const second = await source.snapshot();
    expect(second).to.not.equal(first);
    expect(await viewNames(source)).to.deep.equal(['v2']);
    expect(lines.filter((l) => l.msg === 'registry reloaded')).to.have.length(1);
  });

  it('shares one reload between concurrent callers', async () => {
    writeFileSync(path, registryBytes('v1'));
    const { logger, lines } = capturingLogger();
    const source = await open(logger);
    writeFileSync(path, registryBytes('v2'));
    const snapshots = await Promise.all(Array.from({ length: 20 }, () => source.snapshot()));
    expect(new Set(snapshots).size).to.equal(1);
    expect(lines.filter((l) => l.msg === 'registry reloaded')).to.have.length(1);
  });

  describe('keeps the last good snapshot when the file is being rewritten', () => {
    it('on a truncated file, warning once with the path and the error', async () => {
      const good = registryBytes('v1');
      writeFileSync(path, good);
      const { logger, warnings } = capturingLogger();
      const source = await open(logger);
      const before = await source.snapshot();

      writeFileSync(path, good.subarray(0, good.length - 5));
      expect(await source.snapshot()).to.equal(before);
      expect(await source.snapshot()).to.equal(before);
      expect(warnings()).to.have.length(1);
      expect(warnings()[0]!.path).to.equal(path);
      expect(warnings()[0]!.err?.message).to.be.a('string').and.not.equal('');

      // Once the write completes, the new content is picked up.
      writeFileSync(path, registryBytes('v3'));
      expect(await viewNames(source)).to.deep.equal(['v3']);
    });

    it('on garbage', async () => {
      writeFileSync(path, registryBytes('v1'));
      const { logger, warnings } = capturingLogger();
      const source = await open(logger);
      expect(source.status!().state).to.equal('fresh');
      writeFileSync(path, 'this is not a registry, it is a text file');
      expect(await viewNames(source)).to.deep.equal(['v1']);
      expect(warnings()).to.have.length(1);
      // The health service's `registry` and larder_registry_stale read this.
      expect(source.status!().state).to.equal('stale');
      expect(source.status!().error).to.be.a('string').and.not.equal('');
      writeFileSync(path, registryBytes('v2'));
      expect(await viewNames(source)).to.deep.equal(['v2']);
      expect(source.status!()).to.deep.include({ state: 'fresh' });
    });

    it('on an empty file (feast apply truncates before writing)', async () => {
      writeFileSync(path, registryBytes('v1'));
      const { logger, warnings } = capturingLogger();
      const source = await open(logger);
      writeFileSync(path, new Uint8Array(0));
      expect(await viewNames(source)).to.deep.equal(['v1']);
      expect(warnings()[0]!.err?.message).to.contain('empty');
    });

    it('on a file that parses but lost its registry_schema_version (cut inside the entities)', async () => {
      const good = encodeRegistry({
        project: 'p',
        entities: [{ name: 'e', joinKey: 'e_id' }],
        featureViews: [{ name: 'v1', features: [] }],
      });
      writeFileSync(path, good);
      const { logger, warnings } = capturingLogger();
      const source = await open(logger);
      // The first entity is a complete field; cutting right after it still parses.
      const firstFieldLength = 2 + good[1]!;
      writeFileSync(path, good.subarray(0, firstFieldLength));
      expect(await viewNames(source)).to.deep.equal(['v1']);
      expect(warnings()[0]!.err?.message).to.contain('registry_schema_version');
    });

    it('when the file disappears', async () => {
      writeFileSync(path, registryBytes('v1'));
      const { logger, warnings } = capturingLogger();
      const source = await open(logger);
      unlinkSync(path);
      expect(await viewNames(source)).to.deep.equal(['v1']);
      expect(warnings()).to.have.length(1);
    });
  });

  describe('first load', () => {
    it('retries while the file is unreadable, then succeeds', async () => {
      writeFileSync(path, 'garbage garbage garbage');
      setTimeout(() => writeFileSync(path, registryBytes('v2')), 40);
      const source = await open(capturingLogger().logger, { initialAttempts: 20, retryDelayMs: 10 });
      expect(await viewNames(source)).to.deep.equal(['v2']);
    });

    it('gives up with the path and the parse error', async () => {
      writeFileSync(path, 'garbage garbage garbage');
      let error: Error | undefined;
      try {
        await open(capturingLogger().logger, { initialAttempts: 2, retryDelayMs: 1 });
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).to.match(new RegExp(`^Cannot read the registry at "${path}": `));
    });

    it('reads an empty file as an empty registry, like Python', async () => {
      writeFileSync(path, new Uint8Array(0));
      const source = await open(capturingLogger().logger);
      expect((await source.snapshot()).listFeatureServices('p')).to.deep.equal([]);
    });
  });

  it('refuses snapshots after close', async () => {
    writeFileSync(path, registryBytes('v1'));
    const source = await open(capturingLogger().logger);
    await source.close();
    let error: Error | undefined;
    await source.snapshot().catch((e: Error) => (error = e));
    expect(error?.message).to.equal('The registry has been closed');
  });
});
