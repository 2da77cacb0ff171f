import { expect } from 'chai';
import { registryTypes } from '../../core/src/registry/proto.ts';
import { decodeRegistryRows } from '../../core/src/registry/rows.ts';

describe('registry rows (one serialized proto per row)', () => {
  const { Registry } = registryTypes();
  const encode = (field: string, value: object) => {
    const type = Registry.fields[field]!.resolvedType as import('protobufjs').Type;
    return type.encode(type.fromObject(value)).finish();
  };

  it('decodes each table into the registry, the project column winning over the proto', () => {
    const registry = decodeRegistryRows([
      { table: 'data_sources', project: 'p1', proto: encode('data_sources', { name: 'src', project: 'stale', type: 1 }) },
      { table: 'entities', project: 'p1', proto: encode('entities', { spec: { name: 'driver', project: 'stale' } }) },
      { table: 'feature_views', project: 'p2', proto: encode('feature_views', { spec: { name: 'fv' } }) },
    ]);
    expect(registry.dataSources.map((s) => [s.name, s.project])).to.deep.equal([['src', 'p1']]);
    expect(registry.entities.map((e) => [e.name, e.project])).to.deep.equal([['driver', 'p1']]);
    expect(registry.featureViews.map((v) => [v.name, v.project])).to.deep.equal([['fv', 'p2']]);
  });

  it('names the table and project of a row that is not a valid proto', () => {
    expect(() => decodeRegistryRows([{ table: 'permissions', project: 'p', proto: new Uint8Array([0xff, 0xff, 0xff]) }])).to.throw(
      /a row of table permissions \(project p\) does not hold a valid Permission/,
    );
  });
});
