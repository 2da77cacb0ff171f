/**
 * planOnDemandViews: which refs are on-demand views, what the store is asked for instead (Feast's
 * client adds an ODFV's source features; a client that does not gets them added here), the
 * columns kept per view, and the refusals (no worker; request data missing from the entity rows).
 */
import { tableFromArrays } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import type { ApiContext } from '../../core/src/api/context.ts';
import { planOnDemandViews } from '../../core/src/api/on-demand-views.ts';
import { OdfvWorker } from '../../core/src/odfv/odfv-worker.ts';
import { decodeRegistry } from '../../core/src/registry/decode.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import type { FeatureView } from '../../core/src/registry/model.ts';
import { DecodedRegistrySnapshot } from '../../core/src/registry/snapshot.ts';

const registry = new DecodedRegistrySnapshot(
  decodeRegistry(
    encodeRegistry({
      project: 'p',
      entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
      dataSources: [
        { kind: 'file', name: 'stats', path: 'data/stats.parquet', timestampField: 'ts' },
        { kind: 'request', name: 'vals', schema: [{ name: 'val', valueType: 'INT64' }] },
      ],
      featureViews: [
        {
          name: 'stats',
          entities: ['driver'],
          features: [
            { name: 'conv', valueType: 'FLOAT' },
            { name: 'acc', valueType: 'FLOAT' },
          ],
          source: 'stats',
        },
        { name: 'other', entities: ['driver'], features: [{ name: 'trips', valueType: 'INT64' }], source: 'stats' },
      ],
      onDemandFeatureViews: [
        {
          name: 'plus',
          features: [
            { name: 'conv_plus', valueType: 'DOUBLE' },
            { name: 'acc_plus', valueType: 'DOUBLE' },
          ],
          sources: ['stats', 'vals'],
        },
        { name: 'stats_only', features: [{ name: 'doubled', valueType: 'DOUBLE' }], sources: ['stats'], mode: 'python' },
      ],
    }),
  ),
);

// Never started: planning does not touch the process.
const worker = new OdfvWorker({ python: 'python3', repoPath: '.', logger: pino({ level: 'silent' }) });
const context = (odfvWorker: OdfvWorker | null = worker) => ({ registry, odfvWorker }) as unknown as ApiContext;
const view = (name: string): FeatureView => registry.getFeatureViewByName(name, null, 'p');
const entities = (columns: Record<string, unknown[]> = { val: [1] }) =>
  tableFromArrays({ driver_id: BigInt64Array.from([1n]), ...columns } as unknown as Record<string, never>);
const plan = (
  refs: string[],
  views: FeatureView[],
  options: { full?: boolean; table?: ReturnType<typeof entities> | null; ctx?: ApiContext } = {},
) =>
  planOnDemandViews(refs, views, options.ctx ?? context(), 'p', {
    fullFeatureNames: options.full ?? false,
    entityTable: options.table === undefined ? entities() : options.table,
  });

describe('planOnDemandViews', () => {
  it('is null without ODFV refs, so plain calls are untouched', () => {
    expect(plan(['stats:conv'], [view('stats')])).to.equal(null);
  });

  it("takes the ODFV refs out of the store's refs and keeps the requested columns, view by view in first-seen order", () => {
    const got = plan(['stats:conv', 'stats_only:doubled', 'stats:acc', 'plus:acc_plus'], [view('stats')])!;
    expect(got.featureRefs).to.deep.equal(['stats:conv', 'stats:acc']);
    expect(got.odfvs.map((o) => [o.view.name, o.columns])).to.deep.equal([
      ['stats_only', ['doubled']],
      ['plus', ['acc_plus']],
    ]);
    expect(got.featureViews.map((v) => v.name)).to.deep.equal(['stats']);
  });

  it("adds the source view and features a client left out (Feast's SDK sends them)", () => {
    const got = plan(['other:trips', 'plus:conv_plus'], [view('other')])!;
    expect(got.featureRefs).to.deep.equal(['other:trips', 'stats:conv', 'stats:acc']);
    expect(got.featureViews.map((v) => v.name)).to.deep.equal(['other', 'stats']);
  });

  it('names the kept columns view__feature with full_feature_names', () => {
    expect(plan(['plus:conv_plus', 'plus:acc_plus'], [view('stats')], { full: true })!.odfvs[0]!.columns).to.deep.equal([
      'plus__conv_plus',
      'plus__acc_plus',
    ]);
  });

  it('refuses an ODFV ref without a worker, naming the view and how to enable one', () => {
    expect(() => plan(['stats:conv', 'plus:conv_plus'], [view('stats')], { ctx: context(null) }))
      .to.throw(
        'On demand feature view plus cannot be computed by this server: its ODFV worker is off. Start larder with --odfv-python PYTHON, or set larder.odfv_python in feature_store.yaml',
      )
      .with.property('className', 'FeastObjectNotFoundException');
  });

  it("refuses entity rows without a request column the view reads, with Feast's error; no upload (entity_df_sql, dates) is not checked", () => {
    expect(() => plan(['plus:conv_plus'], [view('stats')], { table: entities({}) }))
      .to.throw('Feature val not found in the entity dataframe, but required by feature view plus')
      .with.property('className', 'RequestDataNotFoundInEntityDfException');
    expect(plan(['plus:conv_plus'], [view('stats')], { table: null })!.odfvs).to.have.length(1);
    expect(plan(['stats_only:doubled'], [view('stats')], { table: entities({}) })!.odfvs).to.have.length(1);
  });

  it('treats a ref to a regular view that shares a name with an ODFV as regular', () => {
    const aliased = { ...view('other'), projection: { ...view('other').projection, nameAlias: 'plus' } };
    expect(plan(['plus:trips'], [aliased])).to.equal(null);
  });
});
