/**
 * The ODFV worker (core/src/odfv): the user's Python with the pinned feast, applying on-demand
 * feature views that `feast apply` registered (pandas and python modes, request data, full feature
 * names), and its supervision: a transformation that raises, a worker killed mid-request, a
 * request over its time limit, an interpreter that does not exist. Each failure is an error that
 * says what happened, and the next request is served.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Field as ArrowField, Float32, Float64, Schema, tableFromArrays, type Table } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import { OdfvWorker, OdfvWorkerError } from '../../core/src/odfv/odfv-worker.ts';
import { decodeRegistry } from '../../core/src/registry/decode.ts';
import type { OnDemandFeatureView } from '../../core/src/registry/model.ts';
import { applyExampleRepo, EXAMPLE_PROJECT } from '../support/applied-example-repo.ts';
import { ODFV_DEFINITIONS } from '../support/odfv-definitions.ts';
import { feastPython } from '../support/feast-python.ts';

const rows = (extra: Record<string, unknown[]> = {}): Table =>
  tableFromArrays({
    driver_id: BigInt64Array.from([1001n, 1002n, 1003n]),
    conv_rate: Float32Array.from([0.5, 0.25, 0.125]),
    acc_rate: Float32Array.from([0.75, 0.5, 1]),
    val_to_add: BigInt64Array.from([1n, 2n, 3n]),
    val_to_add_2: BigInt64Array.from([10n, 20n, 30n]),
    ...extra,
  } as unknown as Record<string, never>);

const values = (table: Table, column: string) => [...table.getChild(column)!].map(Number);

describe("the ODFV worker (Feast transformations in the user's Python)", function () {
  this.timeout(180_000);
  let dir: string;
  let repo: string;
  const workers: OdfvWorker[] = [];
  const worker = (options: { requestTimeoutMs?: number; python?: string } = {}) => {
    const w = new OdfvWorker({
      python: options.python ?? feastPython().python,
      repoPath: repo,
      logger: pino({ level: 'silent' }),
      requestTimeoutMs: options.requestTimeoutMs,
    });
    workers.push(w);
    return w;
  };
  let views: Map<string, OnDemandFeatureView>;
  const request = (names: string[], table = rows(), fullFeatureNames = false) => ({
    odfvs: names.map((name) => ({ view: views.get(name)!, columns: null })),
    fullFeatureNames,
    table,
  });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-odfv-worker-'));
    repo = await applyExampleRepo(path.join(dir, 'repo'), ['path: data/registry.db'], ODFV_DEFINITIONS);
    const registry = decodeRegistry(readFileSync(path.join(repo, 'data/registry.db')));
    views = new Map(registry.onDemandFeatureViews.filter((v) => v.project === EXAMPLE_PROJECT).map((v) => [v.name, v]));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies pandas- and python-mode ODFVs with request data, returning their output columns in Feast's order", async () => {
    const out = await worker().transform(request(['transformed_conv_rate', 'acc_rate_doubled']));
    expect(out.schema.fields.map((f) => f.name)).to.deep.equal(['conv_rate_plus_val1', 'conv_rate_plus_val2', 'acc_rate_doubled']);
    expect(values(out, 'conv_rate_plus_val1')).to.deep.equal([1.5, 2.25, 3.125]);
    expect(values(out, 'conv_rate_plus_val2')).to.deep.equal([10.5, 20.25, 30.125]);
    expect(values(out, 'acc_rate_doubled')).to.deep.equal([1.5, 1, 2]);
    expect(String(out.schema.fields[0]!.type)).to.equal('Float64');
  });

  it('names the columns view__feature with full_feature_names, reading source features given either way', async () => {
    const table = rows();
    const full = tableFromArrays({
      driver_hourly_stats__conv_rate: table.getChild('conv_rate')!.toArray(),
      val_to_add: table.getChild('val_to_add')!.toArray(),
      val_to_add_2: table.getChild('val_to_add_2')!.toArray(),
    });
    const out = await worker().transform(request(['transformed_conv_rate'], full, true));
    expect(out.schema.fields.map((f) => f.name)).to.deep.equal([
      'transformed_conv_rate__conv_rate_plus_val1',
      'transformed_conv_rate__conv_rate_plus_val2',
    ]);
    expect(values(out, 'transformed_conv_rate__conv_rate_plus_val1')).to.deep.equal([1.5, 2.25, 3.125]);
  });

  it('reports a transformation that raises, naming the view and the exception, and keeps serving', async () => {
    const w = worker();
    const missing = rows();
    const withoutRequestData = tableFromArrays({
      driver_id: missing.getChild('driver_id')!.toArray(),
      conv_rate: missing.getChild('conv_rate')!.toArray(),
    });
    const error = await w.transform(request(['transformed_conv_rate'], withoutRequestData)).catch((e: Error) => e);
    expect(error).to.be.instanceOf(OdfvWorkerError);
    expect((error as Error).message).to.match(
      /^Computing on demand feature view transformed_conv_rate failed in the ODFV worker: KeyError: .*val_to_add/,
    );
    const pid = w.pid;
    expect(values(await w.transform(request(['acc_rate_doubled'])), 'acc_rate_doubled')).to.deep.equal([1.5, 1, 2]);
    expect(w.pid, 'the same process').to.equal(pid);
    const garbled = {
      ...request([]),
      odfvs: [{ view: { ...views.get('acc_rate_doubled')!, proto: Uint8Array.of(0xff, 0xff) }, columns: null }],
    };
    const unreadable = await w.transform(garbled).catch((e: Error) => e);
    expect((unreadable as Error).message).to.match(
      /^Computing on demand feature view acc_rate_doubled failed in the ODFV worker: \w*Error/,
    );
    expect(w.pid, 'still the same process').to.equal(pid);
  });

  it("keeps only the requested columns, and casts a later batch to an earlier batch's types", async () => {
    const w = worker();
    const only = await w.transform({
      ...request([]),
      odfvs: [{ view: views.get('transformed_conv_rate')!, columns: ['conv_rate_plus_val2'] }],
    });
    expect(only.schema.fields.map((f) => f.name)).to.deep.equal(['conv_rate_plus_val2']);
    const float32 = new Schema([new ArrowField('acc_rate_doubled', new Float32(), true)]);
    const cast = await w.transform({ ...request(['acc_rate_doubled']), outputSchema: float32 });
    expect(String(cast.schema.fields[0]!.type)).to.equal('Float32');
    expect(values(cast, 'acc_rate_doubled')).to.deep.equal([1.5, 1, 2]);
    const renamed = new Schema([new ArrowField('other', new Float64(), true)]);
    const mismatch = await w.transform({ ...request(['acc_rate_doubled']), outputSchema: renamed }).catch((e: Error) => e);
    expect((mismatch as Error).message).to.include("returned columns ['acc_rate_doubled'] where an earlier batch returned ['other']");
  });

  it('fails the request in flight when the worker is killed, and serves the next one from a fresh worker', async () => {
    const w = worker();
    await w.transform(request(['acc_rate_doubled']));
    const pid = w.pid!;
    const slow = w.transform(request(['slow_view']));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    process.kill(pid, 'SIGKILL');
    const error = await slow.catch((e: Error) => e);
    expect(error).to.be.instanceOf(OdfvWorkerError);
    expect((error as Error).message).to.include(`The ODFV worker (pid ${pid}) was killed (SIGKILL)`);
    expect(values(await w.transform(request(['acc_rate_doubled'])), 'acc_rate_doubled')).to.deep.equal([1.5, 1, 2]);
    expect(w.pid).to.not.equal(pid);
  });

  it('stops a transformation over requestTimeoutMs, and one whose caller gave up, without hanging the next', async () => {
    const w = worker({ requestTimeoutMs: 1_500 });
    const timedOut = await w.transform(request(['slow_view'])).catch((e: Error) => e);
    expect((timedOut as Error).message).to.equal(
      'Computing on demand feature view slow_view took longer than 1.5 s; the ODFV worker was restarted',
    );
    const controller = new AbortController();
    const abandoned = w.transform({ ...request(['slow_view']), signal: controller.signal });
    setTimeout(() => controller.abort(new Error('client disconnected')), 200);
    expect(((await abandoned.catch((e: Error) => e)) as Error).message).to.include('was abandoned');
    expect(values(await w.transform(request(['acc_rate_doubled'])), 'acc_rate_doubled')).to.deep.equal([1.5, 1, 2]);
  });

  it('says so when the interpreter cannot be started', async () => {
    const error = await worker({ python: path.join(dir, 'no-such-python') })
      .transform(request(['acc_rate_doubled']))
      .catch((e: Error) => e);
    expect(error).to.be.instanceOf(OdfvWorkerError);
    expect((error as Error).message).to.include(`The ODFV worker could not be started with ${path.join(dir, 'no-such-python')}`);
  });
});
