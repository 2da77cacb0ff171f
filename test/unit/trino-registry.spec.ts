/**
 * Feast's TrinoSource reaches the trino store from the registry: `trino_options` {table, query}
 * decoded into DataSource.trinoOptions, from a registry file and from the `data_source_proto` JSON
 * of column listing alike.
 *
 * The registry is written by Feast 0.67's own protobuf classes in the test venv, the way
 * TrinoSource._to_proto_impl and DataSource.to_proto fill them: `feast apply` cannot run here, because
 * importing TrinoSource needs the `trino` Python package, which the venv does not have.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parseDataSourceJson } from '../../core/src/registry/data-source-json.ts';
import { decodeRegistry } from '../../core/src/registry/decode.ts';
import { feastPython } from '../support/feast-python.ts';
import { TRINO_SOURCE_CLASS } from '../support/feature-views.ts';

const run = promisify(execFile);

/** Writes registry.db with two TrinoSources (a table, a query) and a view over the first; prints the query source's JSON. */
const WRITE_REGISTRY = `
import sys
from google.protobuf.json_format import MessageToJson
from feast.protos.feast.core.DataSource_pb2 import DataSource
from feast.protos.feast.core.FeatureView_pb2 import FeatureView
from feast.protos.feast.core.Registry_pb2 import Registry

CLASS = "${TRINO_SOURCE_CLASS}"

def trino_source(name, table="", query=""):
    s = DataSource(
        name=name, type=DataSource.BATCH_TRINO, field_mapping={"rate": "conv_rate"},
        trino_options=DataSource.TrinoOptions(table=table, query=query),
        description="", tags={"team": "x"}, owner="",
    )
    s.timestamp_field = "event_timestamp"
    s.created_timestamp_column = "created"
    s.data_source_class_type = CLASS
    s.project = "p"
    return s

table = trino_source("driver_table", table="hive.feast.driver_stats")
query = trino_source("driver_query", query="SELECT * FROM hive.feast.driver_stats WHERE conv_rate > 0")
view = FeatureView()
view.spec.name = "driver_stats"
view.spec.project = "p"
view.spec.batch_source.CopyFrom(table)
registry = Registry(registry_schema_version="1", data_sources=[table, query], feature_views=[view])
with open(sys.argv[1], "wb") as f:
    f.write(registry.SerializeToString())
print(MessageToJson(query))
`;

describe('trino: TrinoSource options from the registry', function () {
  this.timeout(60_000);
  let dir: string;
  let registryBytes: Uint8Array;
  let queryJson: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'larder-trino-registry-'));
    const file = join(dir, 'registry.db');
    const { stdout } = await run(feastPython().python, ['-c', WRITE_REGISTRY, file]);
    registryBytes = readFileSync(file);
    queryJson = stdout;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes a table source and a query source, registered and as a view’s batch source', () => {
    const registry = decodeRegistry(registryBytes);
    const byName = Object.fromEntries(registry.dataSources.map((s) => [s.name, s]));
    expect(byName.driver_table).to.deep.include({
      type: 'BATCH_TRINO',
      dataSourceClassType: TRINO_SOURCE_CLASS,
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created',
      fieldMapping: { rate: 'conv_rate' },
    });
    expect(byName.driver_table!.trinoOptions).to.deep.equal({ table: 'hive.feast.driver_stats', query: '' });
    expect(byName.driver_query!.trinoOptions).to.deep.equal({
      table: '',
      query: 'SELECT * FROM hive.feast.driver_stats WHERE conv_rate > 0',
    });
    expect(registry.featureViews[0]!.batchSource!.trinoOptions).to.deep.equal({ table: 'hive.feast.driver_stats', query: '' });
    expect(byName.driver_table!.customConfiguration).to.equal(undefined);
  });

  it("reads the same source from Python's MessageToJson (data_source_proto of column listing)", () => {
    const fromJson = parseDataSourceJson(queryJson);
    const fromRegistry = decodeRegistry(registryBytes).dataSources.find((s) => s.name === 'driver_query');
    expect(JSON.parse(queryJson)).to.have.property('trinoOptions');
    expect(fromJson).to.deep.equal(fromRegistry);
  });
});
