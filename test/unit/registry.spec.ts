import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import {
  DataSourceObjectNotFoundException,
  FeatureServiceNotFoundException,
  FeatureViewNotFoundException,
  InvalidArgumentError,
} from '../../core/src/errors.ts';
import { decodeRegistry } from '../../core/src/registry/decode.ts';
import { encodeRegistry, type FieldDraft, type RegistryDraft } from '../../core/src/registry/encode.ts';
import { nameToUse, type FeatureView } from '../../core/src/registry/model.ts';
import { DecodedRegistrySnapshot } from '../../core/src/registry/snapshot.ts';

const conv: FieldDraft = { name: 'conv_rate', valueType: 'FLOAT' };
const acc: FieldDraft = { name: 'acc_rate', valueType: 'FLOAT' };
const trips: FieldDraft = { name: 'trips', valueType: 'INT64', description: 'daily trips' };

/** One registry exercising every lookup rule; project "p" unless stated. */
const draft: RegistryDraft = {
  project: 'p',
  entities: [
    { name: 'driver', joinKey: 'driver_id', valueType: 'INT64' },
    { name: 'customer', joinKey: 'customer_id', valueType: 'STRING', project: 'other' },
  ],
  dataSources: [
    { kind: 'file', name: 'driver_src', path: 'data/driver.parquet', timestampField: 'event_timestamp', createdTimestampColumn: 'created' },
    { kind: 'push', name: 'driver_push', batchSource: 'driver_src' },
    { kind: 'file', name: 'other_src', path: 'data/other.parquet', timestampField: 'ts', project: 'other' },
  ],
  featureViews: [
    {
      name: 'driver_stats',
      entities: ['driver'],
      features: [conv, acc, trips],
      ttlSeconds: 86400,
      source: 'driver_src',
      tags: { team: 't' },
    },
    { name: 'global_stats', features: [trips], source: 'driver_src' },
    { name: 'fresh', entities: ['driver'], features: [conv], source: 'driver_push' },
    {
      name: 'half_dummy',
      entities: ['driver', '__dummy'],
      entityColumns: [
        { name: 'driver_id', valueType: 'INT64' },
        { name: '__dummy_id', valueType: 'STRING' },
      ],
      features: [conv],
      source: 'driver_src',
    },
    { name: 'dup', features: [conv], source: 'driver_src' },
    { name: 'dup', features: [acc], source: 'driver_src' },
    {
      name: 'driver_stats',
      project: 'other',
      entities: ['customer'],
      entityColumns: [{ name: 'customer_id', valueType: 'STRING' }],
      features: [acc],
      source: 'other_src',
    },
  ],
  streamFeatureViews: [
    { name: 'streamy', entities: ['driver'], features: [conv], ttlSeconds: 60, source: 'driver_push' },
    { name: 'driver_stats', entities: ['driver'], features: [acc], source: 'driver_push' },
    { name: 'stream_global', features: [conv], source: 'driver_push' },
  ],
  onDemandFeatureViews: [
    { name: 'odfv', features: [{ name: 'plus', valueType: 'DOUBLE' }], sources: ['driver_stats'] },
    { name: 'odfv_other', project: 'other', features: [], sources: ['driver_stats'] },
  ],
  featureServices: [
    {
      name: 'svc_a',
      projections: [
        { view: 'driver_stats', alias: 'a', features: ['conv_rate'], joinKeyMap: { driver_id: 'a_id' } },
        { view: 'driver_stats', alias: 'b', joinKeyMap: { driver_id: 'b_id' } },
      ],
      loggingConfig: { sampleRate: 0.5, destination: { kind: 'file', path: 'logs', partitionBy: ['day'] } },
      tags: { owner: 'me' },
    },
    { name: 'svc_b', projections: [{ view: 'driver_stats', alias: 'a', features: ['acc_rate'], joinKeyMap: { driver_id: 'a2_id' } }] },
    { name: 'svc_other', project: 'other', projections: [{ view: 'driver_stats', alias: 'o', features: ['acc_rate'] }] },
    { name: 'svc_plain', projections: [{ view: 'driver_stats' }, { view: 'global_stats' }, { view: 'odfv' }] },
    { name: 'svc_bad_name', projections: [{ view: 'global_stats', alias: 'wrong_view' }] },
    { name: 'svc_bad_feature', projections: [{ view: 'driver_stats', alias: 'ghost', features: [{ name: 'ghost', valueType: 'INT64' }] }] },
    {
      name: 'svc_stale_type',
      projections: [{ view: 'driver_stats', alias: 'stale', features: [{ name: 'conv_rate', valueType: 'DOUBLE' }] }],
    },
    { name: 'svc_stream', projections: [{ view: 'streamy', alias: 'sa', joinKeyMap: { driver_id: 'x' } }] },
    { name: 'svc_dupe', projections: [{ view: 'driver_stats', alias: 'b', joinKeyMap: { driver_id: 'b_last' } }] },
  ],
  permissions: [
    {
      name: 'readers',
      types: ['FEATURE_VIEW'],
      namePatterns: ['driver_.*'],
      actions: ['READ_OFFLINE'],
      policy: { kind: 'role', roles: ['r'] },
    },
    { name: 'elsewhere', project: 'other', policy: { kind: 'group', groups: ['g'] } },
  ],
};

const snapshot = new DecodedRegistrySnapshot(decodeRegistry(encodeRegistry(draft)));

function expectThrows(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('registry lookups (Feast file-registry semantics)', () => {
  describe('getFeatureView', () => {
    it('returns the decoded view with its default projection', () => {
      const view = snapshot.getFeatureView('driver_stats', 'p');
      expect(view.kind).to.equal('featureView');
      expect(view.entities).to.deep.equal(['driver']);
      expect(view.entityColumns.map((c) => [c.name, c.valueType])).to.deep.equal([['driver_id', 4]]);
      expect(view.features.map((f) => f.name)).to.deep.equal(['conv_rate', 'acc_rate', 'trips']);
      expect(view.ttlSeconds).to.equal(86400);
      expect(view.tags).to.deep.equal({ team: 't' });
      expect(view.batchSource?.name).to.equal('driver_src');
      expect(view.projection).to.deep.equal({
        name: 'driver_stats',
        nameAlias: null,
        features: view.features,
        joinKeyMap: {},
        versionTag: null,
      });
      expect(nameToUse(view.projection)).to.equal('driver_stats');
    });

    it('matches name and project exactly', () => {
      expect(snapshot.getFeatureView('driver_stats', 'other').features.map((f) => f.name)).to.deep.equal(['acc_rate']);
      for (const [name, project] of [
        ['Driver_stats', 'p'],
        ['driver_stats', 'P'],
        ['driver_stats ', 'p'],
      ]) {
        expect(() => snapshot.getFeatureView(name!, project!)).to.throw(FeatureViewNotFoundException);
      }
    });

    it('returns the first of two views with the same name', () => {
      expect(snapshot.getFeatureView('dup', 'p').features.map((f) => f.name)).to.deep.equal(['conv_rate']);
    });

    it("throws Feast's FeatureViewNotFoundException text, and ignores stream views", () => {
      const error = expectThrows(() => snapshot.getFeatureView('streamy', 'p')) as FeatureViewNotFoundException;
      expect(error).to.be.instanceOf(FeatureViewNotFoundException);
      expect(error.message).to.equal('Feature view streamy does not exist in project p');
      expect(error.code).to.equal(status.NOT_FOUND);
      expect(error.wireMessage()).to.equal(
        'Flight error: {"module": "feast.errors", "class": "FeatureViewNotFoundException", "message": "Feature view streamy does not exist in project p"}',
      );
    });
  });

  describe('getStreamFeatureView', () => {
    it('finds stream views only', () => {
      expect(snapshot.getStreamFeatureView('streamy', 'p').kind).to.equal('streamFeatureView');
      expect(snapshot.getStreamFeatureView('streamy', 'p').ttlSeconds).to.equal(60);
      const error = expectThrows(() => snapshot.getStreamFeatureView('global_stats', 'p'));
      expect(error).to.be.instanceOf(FeatureViewNotFoundException);
      expect(error.message).to.equal('Feature view global_stats does not exist in project p');
    });
  });

  describe('getFeatureViewByName (offline server)', () => {
    it('applies no projection when the alias is null', () => {
      const view = snapshot.getFeatureViewByName('driver_stats', null, 'p');
      expect(view.projection.nameAlias).to.equal(null);
      expect(view.projection.joinKeyMap).to.deep.equal({});
      expect(view.projection.features).to.have.length(3);
    });

    it('applies the LAST projection whose alias matches, across all services of the project', () => {
      // svc_a has alias "a" first, svc_b later: svc_b's projection wins.
      const view = snapshot.getFeatureViewByName('driver_stats', 'a', 'p');
      expect(view.projection.nameAlias).to.equal('a');
      expect(view.projection.joinKeyMap).to.deep.equal({ driver_id: 'a2_id' });
      expect(view.projection.features.map((f) => f.name)).to.deep.equal(['acc_rate']);
      expect(nameToUse(view.projection)).to.equal('a');
      // The view itself is unchanged.
      expect(view.features.map((f) => f.name)).to.deep.equal(['conv_rate', 'acc_rate', 'trips']);
      expect(view.name).to.equal('driver_stats');
    });

    it('uses the join_key_map of the matching projection', () => {
      // "b" appears in svc_a and again in svc_dupe, which comes later.
      const view = snapshot.getFeatureViewByName('driver_stats', 'b', 'p');
      expect(view.projection.joinKeyMap).to.deep.equal({ driver_id: 'b_last' });
      expect(view.projection.features).to.have.length(3);
    });

    it('never matches an alias of "" (stored empty aliases mean "no alias")', () => {
      const view = snapshot.getFeatureViewByName('driver_stats', '', 'p');
      expect(view.projection).to.deep.equal(snapshot.getFeatureView('driver_stats', 'p').projection);
    });

    it('keeps the default projection when no service of the request project has the alias', () => {
      // "o" exists only in project "other".
      const view = snapshot.getFeatureViewByName('driver_stats', 'o', 'p');
      expect(view.projection.nameAlias).to.equal(null);
      expect(snapshot.getFeatureViewByName('driver_stats', 'o', 'other').projection.nameAlias).to.equal('o');
    });

    it('does not modify the stored view', () => {
      snapshot.getFeatureViewByName('driver_stats', 'a', 'p');
      expect(snapshot.getFeatureView('driver_stats', 'p').projection.nameAlias).to.equal(null);
    });

    it('raises with_projection\'s "differs in name" ValueError text', () => {
      const error = expectThrows(() => snapshot.getFeatureViewByName('driver_stats', 'wrong_view', 'p'));
      expect(error).to.be.instanceOf(InvalidArgumentError);
      expect(error.message).to.equal(
        'The projection for the driver_stats FeatureView cannot be applied because it differs in name. ' +
          'The projection is named global_stats and the name indicates which FeatureView the projection is for.',
      );
    });

    it('raises with_projection\'s "contains a feature the view does not have" ValueError text', () => {
      const error = expectThrows(() => snapshot.getFeatureViewByName('driver_stats', 'ghost', 'p'));
      expect(error).to.be.instanceOf(InvalidArgumentError);
      expect(error.message).to.equal(
        "The projection for driver_stats cannot be applied because it contains ghost which the FeatureView doesn't have.",
      );
    });

    it('compares projected features by type too (Field.__eq__)', () => {
      const error = expectThrows(() => snapshot.getFeatureViewByName('driver_stats', 'stale', 'p'));
      expect(error.message).to.contain('contains conv_rate which');
    });

    it('falls back to stream views, with no alias handling', () => {
      const view = snapshot.getFeatureViewByName('streamy', 'sa', 'p');
      expect(view.kind).to.equal('streamFeatureView');
      expect(view.projection.nameAlias).to.equal(null);
      expect(view.projection.joinKeyMap).to.deep.equal({});
    });

    it('prefers a feature view over a stream view of the same name', () => {
      expect(snapshot.getFeatureViewByName('driver_stats', null, 'p').kind).to.equal('featureView');
    });

    it("re-raises the stream lookup's FeatureViewNotFoundException", () => {
      const error = expectThrows(() => snapshot.getFeatureViewByName('nope', 'x', 'p'));
      expect(error).to.be.instanceOf(FeatureViewNotFoundException);
      expect(error.message).to.equal('Feature view nope does not exist in project p');
      expect(() => snapshot.getFeatureViewByName('streamy', null, 'other')).to.throw(
        'Feature view streamy does not exist in project other',
      );
    });

    describe('remove_dummies', () => {
      it('blanks entities and entity columns of an entityless view, leaving the projection', () => {
        const stored = snapshot.getFeatureView('global_stats', 'p');
        expect(stored.entities).to.deep.equal(['__dummy']);
        expect(stored.entityColumns.map((c) => [c.name, c.valueType])).to.deep.equal([['__dummy_id', 2]]);
        const view = snapshot.getFeatureViewByName('global_stats', null, 'p');
        expect(view.entities).to.deep.equal([]);
        expect(view.entityColumns).to.deep.equal([]);
        expect(view.projection).to.equal(stored.projection);
        // The stored view keeps its dummy.
        expect(snapshot.getFeatureView('global_stats', 'p').entities).to.deep.equal(['__dummy']);
      });

      it('blanks both when __dummy is anywhere in the entities', () => {
        const view = snapshot.getFeatureViewByName('half_dummy', null, 'p');
        expect(view.entities).to.deep.equal([]);
        expect(view.entityColumns).to.deep.equal([]);
      });

      it('applies to stream views too', () => {
        const view = snapshot.getFeatureViewByName('stream_global', null, 'p');
        expect(view.kind).to.equal('streamFeatureView');
        expect(view.entities).to.deep.equal([]);
      });

      it('leaves views with entities alone', () => {
        const view = snapshot.getFeatureViewByName('driver_stats', null, 'p');
        expect(view).to.equal(snapshot.getFeatureView('driver_stats', 'p'));
      });
    });
  });

  describe('data sources', () => {
    it('finds registered sources by name and project', () => {
      const source = snapshot.getDataSource('driver_src', 'p');
      expect(source.type).to.equal('BATCH_FILE');
      expect(source.project).to.equal('p');
      expect(source.fileOptions).to.deep.equal({ uri: 'data/driver.parquet', fileFormat: 'parquet', s3EndpointOverride: '' });
      expect(source.timestampField).to.equal('event_timestamp');
      expect(source.createdTimestampColumn).to.equal('created');
      const push = snapshot.getDataSource('driver_push', 'p');
      expect(push.type).to.equal('PUSH_SOURCE');
      expect(push.batchSource?.fileOptions?.uri).to.equal('data/driver.parquet');
    });

    it("throws Feast's DataSourceObjectNotFoundException text", () => {
      const error = expectThrows(() => snapshot.getDataSource('other_src', 'p'));
      expect(error).to.be.instanceOf(DataSourceObjectNotFoundException);
      expect(error.message).to.equal('Data source other_src does not exist in project p');
    });

    it('gives a push-source view the batch source and the push source as stream source', () => {
      const view = snapshot.getFeatureView('fresh', 'p');
      expect(view.batchSource?.type).to.equal('BATCH_FILE');
      expect(view.streamSource?.type).to.equal('PUSH_SOURCE');
    });
  });

  describe('feature services', () => {
    it('decodes projections, aliases, join key maps and the logging config', () => {
      const service = snapshot.getFeatureService('svc_a', 'p');
      expect(service.tags).to.deep.equal({ owner: 'me' });
      expect(service.projections.map((p) => [p.name, p.nameAlias, p.joinKeyMap, p.features.length])).to.deep.equal([
        ['driver_stats', 'a', { driver_id: 'a_id' }, 1],
        ['driver_stats', 'b', { driver_id: 'b_id' }, 3],
      ]);
      expect(service.loggingConfig).to.deep.equal({
        sampleRate: 0.5,
        destinationKind: 'file_destination',
        fileDestination: { path: 'logs', s3EndpointOverride: '', partitionBy: ['day'] },
      });
      expect(snapshot.getFeatureService('svc_plain', 'p').loggingConfig).to.equal(null);
      expect(snapshot.getFeatureService('svc_plain', 'p').projections.map((p) => p.nameAlias)).to.deep.equal([null, null, null]);
    });

    it("throws Feast's FeatureServiceNotFoundException text", () => {
      const error = expectThrows(() => snapshot.getFeatureService('svc_other', 'p'));
      expect(error).to.be.instanceOf(FeatureServiceNotFoundException);
      expect(error.message).to.equal('Feature service svc_other does not exist in project p');
    });

    it('lists the services of one project in registry order', () => {
      expect(snapshot.listFeatureServices('p').map((s) => s.name)).to.deep.equal([
        'svc_a',
        'svc_b',
        'svc_plain',
        'svc_bad_name',
        'svc_bad_feature',
        'svc_stale_type',
        'svc_stream',
        'svc_dupe',
      ]);
      expect(snapshot.listFeatureServices('other').map((s) => s.name)).to.deep.equal(['svc_other']);
      expect(snapshot.listFeatureServices('nobody')).to.deep.equal([]);
    });
  });

  describe('project-filtered lists', () => {
    it('lists on-demand views, permissions and entities of the project', () => {
      expect(snapshot.listOnDemandFeatureViews('p').map((v) => v.name)).to.deep.equal(['odfv']);
      expect(snapshot.listOnDemandFeatureViews('other').map((v) => v.name)).to.deep.equal(['odfv_other']);
      expect(snapshot.listPermissions('p').map((v) => v.name)).to.deep.equal(['readers']);
      expect(snapshot.listPermissions('other').map((v) => v.name)).to.deep.equal(['elsewhere']);
      expect(snapshot.listEntities('p').map((e) => [e.name, e.joinKey])).to.deep.equal([
        ['driver', 'driver_id'],
        ['__dummy', '__dummy_id'],
      ]);
      expect(snapshot.listEntities('other').map((e) => e.name)).to.deep.equal(['customer', '__dummy']);
    });
  });

  it('hands out frozen objects, so no request can change what another one sees', () => {
    const view = snapshot.getFeatureView('driver_stats', 'p') as { -readonly [K in keyof FeatureView]: FeatureView[K] };
    expect(() => {
      view.ttlSeconds = 1;
    }).to.throw(TypeError);
    expect(() => (view.features as unknown as unknown[]).push(1)).to.throw(TypeError);
    expect(Object.isFrozen(snapshot.getFeatureViewByName('driver_stats', 'a', 'p'))).to.equal(true);
    expect(Object.isFrozen(snapshot.getFeatureViewByName('global_stats', null, 'p').entities)).to.equal(true);
  });
});
