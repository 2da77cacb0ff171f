/**
 * Writes stay under the feature repo and `larder.data_roots` (issue 16): persist,
 * offline_write_batch and write_logged_features aimed outside through `..`, an absolute path, a
 * symbolic link in the repo, a link as the file itself, a partition value, or a link swapped in
 * between the check and the write, are refused with PERMISSION_DENIED (FeastPermissionError)
 * naming the path, and nothing is written outside. Both parquet stores share these writers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pino from 'pino';
import type { Table } from 'apache-arrow';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import filePlugin from '../../plugins/parquet-files/src/index.ts';
import { FeastPermissionError } from '../../core/src/errors.ts';
import type { FeatureService } from '../../core/src/registry/model.ts';
import type { OfflineStore } from '../../core/src/store.ts';
import { fileSource, featureView } from '../support/feature-views.ts';
import { callContext, writeParquetFile } from '../support/parquet-fixtures.ts';
import { driverIds, statsRows } from '../support/write-repo.ts';

/** Every file under `dir` with its size, links not followed. */
function files(dir: string): Array<[string, number]> {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => [path.relative(dir, path.join(e.parentPath, e.name)), statSync(path.join(e.parentPath, e.name)).size] as [string, number])
    .sort();
}

const stream = (table: Table) => ({
  schema: table.schema,
  batches: (async function* () {
    yield* table.batches;
  })(),
});

async function refusal(promise: Promise<unknown>): Promise<FeastPermissionError> {
  const error = await promise.then(
    () => null,
    (e: Error) => e,
  );
  expect(error, 'the write was not refused').to.be.instanceOf(FeastPermissionError);
  expect((error as FeastPermissionError).code).to.equal(status.PERMISSION_DENIED);
  return error as FeastPermissionError;
}

const loggingService = (logPath: string, partitionBy: string[] = []): FeatureService => ({
  name: 'svc',
  project: 'p',
  projections: [],
  tags: {},
  loggingConfig: { sampleRate: 1, destinationKind: 'file', fileDestination: { path: logPath, s3EndpointOverride: '', partitionBy } },
});

for (const [kind, create] of [
  ['file', (env: Parameters<typeof filePlugin.create>[1]) => filePlugin.create({ type: 'file' }, env)],
  ['duckdb', (env: Parameters<typeof filePlugin.create>[1]) => duckdbPlugin.create({ type: 'duckdb' }, env)],
] as const) {
  describe(`writes confined to the repo and larder.data_roots (${kind} store)`, function () {
    this.timeout(120_000);
    let base: string;
    let repo: string;
    let outside: string;
    let root: string;
    let store: OfflineStore;

    beforeEach(async () => {
      base = mkdtempSync(path.join(tmpdir(), 'larder-confine-'));
      repo = path.join(base, 'repo');
      outside = path.join(base, 'outside');
      root = path.join(base, 'root');
      for (const d of [repo, outside, root]) mkdirSync(d);
      writeParquetFile(path.join(outside, 'secret.parquet'), statsRows(666));
      // A short stale time: a lock directory stranded by a flip (made through a link) holds writers up briefly.
      store = await create({
        repoPath: repo,
        dataRoots: [root],
        repoConfig: { larder: { write_lock_stale_seconds: 2 } },
        logger: pino({ level: 'silent' }),
      });
    });

    afterEach(async () => {
      await store.close();
      rmSync(base, { recursive: true, force: true });
    });

    const persistTo = (uri: string) =>
      store.persist({ result: stream(statsRows(1)), destination: fileSource('dest', uri), allowOverwrite: true }, callContext());
    const writeTo = (uri: string) =>
      store.offlineWriteBatch(
        { featureView: featureView('stats', fileSource('stats_source', uri), ['driver_id'], ['rate'], 0), table: statsRows(1) },
        callContext(),
      );

    it('persist through .. or to an absolute path outside is refused, naming the path', async () => {
      const error = await refusal(persistTo('../outside/out.parquet'));
      expect(error.message).to.contain(path.join(outside, 'out.parquet')).and.to.contain('outside');
      await refusal(persistTo(path.join(outside, 'abs.parquet')));
      await refusal(persistTo('data/../../outside/dataset'));
      expect(files(outside)).to.deep.equal([['secret.parquet', statSync(path.join(outside, 'secret.parquet')).size]]);
    });

    it('an absolute path under a data root, and a link in the repo that stays inside it, are written', async () => {
      await persistTo(path.join(root, 'saved', 'out.parquet'));
      expect(await driverIds(path.join(root, 'saved', 'out.parquet'))).to.deep.equal([1]);
      symlinkSync(root, path.join(repo, 'shared'));
      await writeTo('shared/stats.parquet');
      expect(await driverIds(path.join(root, 'stats.parquet'))).to.deep.equal([1]);
    });

    it('a directory link in the repo pointing outside: persist, offline_write_batch and logging are refused', async () => {
      symlinkSync(outside, path.join(repo, 'link'));
      await refusal(persistTo('link/out.parquet'));
      await refusal(persistTo('link/sub/dataset'));
      await refusal(writeTo('link/secret.parquet'));
      await refusal(store.writeLoggedFeatures({ featureService: loggingService('link/logs'), table: statsRows(1) }, callContext()));
      expect(files(outside).map(([f]) => f)).to.deep.equal(['secret.parquet']);
      expect(await driverIds(path.join(outside, 'secret.parquet'))).to.deep.equal([666]);
    });

    it('a source file that is itself a link to a file outside is neither read nor replaced', async () => {
      mkdirSync(path.join(repo, 'data'));
      symlinkSync(path.join(outside, 'secret.parquet'), path.join(repo, 'data', 'stats.parquet'));
      const error = await refusal(writeTo('data/stats.parquet'));
      expect(error.message).to.contain('symbolic link');
      await refusal(persistTo('data/stats.parquet'));
      expect(await driverIds(path.join(outside, 'secret.parquet'))).to.deep.equal([666]);
    });

    it('a logging destination outside, or partition values like "..", never leave the destination', async () => {
      await refusal(store.writeLoggedFeatures({ featureService: loggingService('../outside/logs'), table: statsRows(1) }, callContext()));
      const { arrowTable } = await import('../support/parquet-fixtures.ts');
      const { Utf8, Int64 } = await import('apache-arrow');
      const logged = arrowTable([
        ['part', new Utf8(), ['..', '../../outside', 'a/b', 'ok']],
        ['v', new Int64(), [1n, 2n, 3n, 4n]],
      ]);
      const error = await store
        .writeLoggedFeatures({ featureService: loggingService('logs', ['part']), table: logged }, callContext())
        .catch((e: Error) => e);
      expect((error as Error).message).to.match(/partition column part/);
      const safe = arrowTable([
        ['part', new Utf8(), ['../../outside', 'a/b', 'ok']],
        ['v', new Int64(), [2n, 3n, 4n]],
      ]);
      await store.writeLoggedFeatures({ featureService: loggingService('logs', ['part']), table: safe }, callContext());
      expect(readdirSync(path.join(repo, 'logs')).sort()).to.deep.equal(['..%2F..%2Foutside', 'a%2Fb', 'ok']);
      expect(files(outside).map(([f]) => f)).to.deep.equal(['secret.parquet']);
    });

    describe('a link swapped in between the check and the write', () => {
      let swapper: ChildProcess | null = null;
      afterEach(async () => {
        if (swapper && swapper.exitCode === null && swapper.signalCode === null) {
          const exited = new Promise((r) => swapper!.once('exit', r));
          swapper.kill('SIGKILL');
          await exited;
        }
        swapper = null;
      });

      it('nothing reaches the outside directory while links flip under the writes', async () => {
        const real = path.join(repo, 'real');
        mkdirSync(real);
        symlinkSync(real, path.join(repo, 'swap'));
        // Flips, as fast as it can: `swap` between `real` and `outside` (atomic rename of a new
        // link), and `real` itself between the directory and a link to `outside` (each state held
        // for a couple of milliseconds, so the flips land between the writers' steps).
        const script = [
          'import os, sys, time',
          'repo, real, outside = sys.argv[1:4]',
          'swap = os.path.join(repo, "swap"); tmp = os.path.join(repo, "swap.tmp"); away = os.path.join(repo, "real.away")',
          'print("ready", flush=True)',
          'while True:',
          '    for target in (outside, real):',
          '        try:',
          '            os.symlink(target, tmp); os.replace(tmp, swap)',
          '        except OSError: pass',
          '    try:',
          '        os.rename(real, away); os.symlink(outside, real); time.sleep(0.002); os.unlink(real); os.rename(away, real)',
          '    except OSError: pass',
          '    time.sleep(0.002)',
        ].join('\n');
        swapper = spawn('python3', ['-c', script, repo, real, outside], { stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise((r) => swapper!.stdout!.once('data', r));
        let written = 0;
        for (let i = 0; i < 100; i++) {
          const outcomes = await Promise.allSettled([
            persistTo(`swap/out-${i}.parquet`),
            persistTo(`real/dataset-${i}`),
            writeTo('real/stats.parquet'),
            store.writeLoggedFeatures({ featureService: loggingService('swap/logs'), table: statsRows(i) }, callContext()),
          ]);
          for (const o of outcomes) {
            if (o.status === 'fulfilled') written++;
            // A write that fails does so with a refusal, because the path vanished mid-flip, or because its
            // lock directory changed under it (UNAVAILABLE); never anything else.
            else
              expect((o.reason as NodeJS.ErrnoException).code ?? '', String(o.reason)).to.be.oneOf([
                status.PERMISSION_DENIED,
                status.NOT_FOUND,
                status.UNAVAILABLE,
                'ENOENT',
                'ENOTDIR',
                'EEXIST',
                'ENOTEMPTY',
              ]);
          }
        }
        swapper.kill('SIGKILL');
        // Nothing but the secret file outside: not a byte of any write (an empty leftover at most).
        expect(
          files(outside)
            .filter(([, size]) => size > 0)
            .map(([f]) => f),
        ).to.deep.equal(['secret.parquet']);
        expect(await driverIds(path.join(outside, 'secret.parquet'))).to.deep.equal([666]);
        expect(written).to.be.greaterThan(0);
        expect(readFileSync(path.join(outside, 'secret.parquet')).subarray(0, 4).toString()).to.equal('PAR1');
      });
    });
  });
}
