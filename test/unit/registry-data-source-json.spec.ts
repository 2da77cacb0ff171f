import { expect } from 'chai';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import { parseDataSourceJson } from '../../core/src/registry/data-source-json.ts';
import { decodeRegistry } from '../../core/src/registry/decode.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';

/** `str(FileSource(...))` as Python's MessageToJson prints it (spec §6). */
const fileSourceJson = `{
  "type": "BATCH_FILE",
  "fieldMapping": {
    "src_col": "feat_col"
  },
  "timestampField": "event_timestamp",
  "createdTimestampColumn": "created",
  "fileOptions": {
    "fileFormat": {
      "parquetFormat": {}
    },
    "uri": "data/driver_stats.parquet"
  },
  "name": "driver_hourly_stats_source",
  "tags": {
    "team": "x"
  },
  "meta": {
    "createdTimestamp": "2024-05-01T12:00:00.123456Z",
    "lastUpdatedTimestamp": "2024-05-01T12:00:00Z"
  }
}`;

const POSTGRES_CLASS = 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource';
const pgConfig = { name: 'driver_pg', query: '', table: 'public.driver_stats' };
const postgresJson = JSON.stringify(
  {
    type: 'CUSTOM_SOURCE',
    timestampField: 'event_timestamp',
    createdTimestampColumn: 'created',
    customOptions: { configuration: Buffer.from(JSON.stringify(pgConfig)).toString('base64') },
    dataSourceClassType: POSTGRES_CLASS,
    name: 'driver_pg',
    meta: { createdTimestamp: '2024-05-01T12:00:00.5Z', lastUpdatedTimestamp: '2024-05-01T14:00:00.000000001+02:00' },
  },
  null,
  2,
);

function errorOf(text: unknown): InvalidArgumentError {
  try {
    parseDataSourceJson(text);
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('expected parseDataSourceJson to throw');
}

describe('data_source_proto JSON', () => {
  it("parses a FileSource as Python's MessageToJson prints it", () => {
    expect(parseDataSourceJson(fileSourceJson)).to.deep.equal({
      name: 'driver_hourly_stats_source',
      project: '',
      type: 'BATCH_FILE',
      dataSourceClassType: '',
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created',
      datePartitionColumn: '',
      fieldMapping: { src_col: 'feat_col' },
      description: '',
      owner: '',
      tags: { team: 'x' },
      fileOptions: { uri: 'data/driver_stats.parquet', fileFormat: 'parquet', s3EndpointOverride: '' },
    });
  });

  it('parses a PostgreSQLSource: CUSTOM_SOURCE with base64 JSON configuration', () => {
    const source = parseDataSourceJson(postgresJson);
    expect(source.type).to.equal('CUSTOM_SOURCE');
    expect(source.dataSourceClassType).to.equal(POSTGRES_CLASS);
    expect(source.timestampField).to.equal('event_timestamp');
    expect(source.fileOptions).to.equal(undefined);
    expect(JSON.parse(new TextDecoder().decode(source.customConfiguration))).to.deep.equal(pgConfig);
  });

  it('accepts snake_case keys and enum numbers exactly like lowerCamelCase and names', () => {
    const snake = JSON.stringify({
      type: 1,
      field_mapping: { src_col: 'feat_col' },
      timestamp_field: 'event_timestamp',
      created_timestamp_column: 'created',
      file_options: { file_format: { parquet_format: {} }, uri: 'data/driver_stats.parquet' },
      name: 'driver_hourly_stats_source',
      tags: { team: 'x' },
      meta: { created_timestamp: '2024-05-01T12:00:00.123456Z' },
    });
    expect(parseDataSourceJson(snake)).to.deep.equal(parseDataSourceJson(fileSourceJson));
  });

  it('reads delta and unset file formats, S3 endpoint overrides and URL-safe base64', () => {
    const delta = parseDataSourceJson(
      JSON.stringify({
        type: 'BATCH_FILE',
        fileOptions: { fileFormat: { deltaFormat: {} }, uri: 's3://b/t', s3EndpointOverride: 'http://minio:9000' },
      }),
    );
    expect(delta.fileOptions).to.deep.equal({ uri: 's3://b/t', fileFormat: 'delta', s3EndpointOverride: 'http://minio:9000' });
    expect(parseDataSourceJson('{"type": "BATCH_FILE", "fileOptions": {"uri": "x.parquet"}}').fileOptions?.fileFormat).to.equal(undefined);
    const urlSafe = parseDataSourceJson(JSON.stringify({ type: 'CUSTOM_SOURCE', customOptions: { configuration: '-_8' } }));
    expect([...urlSafe.customConfiguration!]).to.deep.equal([0xfb, 0xff]);
  });

  it('reads a push source with its nested batch source', () => {
    const push = parseDataSourceJson(
      JSON.stringify({ type: 'PUSH_SOURCE', name: 'p', batchSource: { type: 'BATCH_FILE', name: 'b', fileOptions: { uri: 'b.parquet' } } }),
    );
    expect(push.batchSource?.name).to.equal('b');
    expect(push.batchSource?.fileOptions?.uri).to.equal('b.parquet');
  });

  it('treats null as unset', () => {
    const source = parseDataSourceJson(
      '{"type": "BATCH_FILE", "name": null, "fileOptions": {"uri": "x", "fileFormat": null}, "tags": null}',
    );
    expect(source.name).to.equal('');
    expect(source.tags).to.deep.equal({});
    expect(source.fileOptions?.fileFormat).to.equal(undefined);
  });

  it('gives the same DataSource as the registry does for the same source', () => {
    const registry = decodeRegistry(
      encodeRegistry({
        project: 'p',
        dataSources: [
          {
            kind: 'file',
            name: 'driver_hourly_stats_source',
            path: 'data/driver_stats.parquet',
            timestampField: 'event_timestamp',
            createdTimestampColumn: 'created',
            fieldMapping: { src_col: 'feat_col' },
            tags: { team: 'x' },
          },
        ],
      }),
    );
    const fromRegistry = { ...registry.dataSources[0]!, project: '', dataSourceClassType: '' };
    expect(parseDataSourceJson(fileSourceJson)).to.deep.equal(fromRegistry);
  });

  describe('rejects bad input with an InvalidArgumentError naming the problem', () => {
    it('non-strings and non-JSON', () => {
      expect(errorOf(undefined).message).to.equal(
        'Invalid data_source_proto: data_source_proto must be a string holding the JSON of a DataSource',
      );
      expect(errorOf('{"type": ').message).to.match(/^Invalid data_source_proto: not valid JSON \(/);
      expect(errorOf('[1]').message).to.equal('Invalid data_source_proto: data_source_proto must be a JSON object');
    });

    it('wrongly typed fields, by path', () => {
      expect(errorOf('{"type": "BATCH_FILE", "fileOptions": {"uri": 5}}').message).to.equal(
        'Invalid data_source_proto: data_source_proto.fileOptions.uri must be a string',
      );
      expect(errorOf('{"type": "BATCH_FILE", "field_mapping": {"a": 1}}').message).to.equal(
        'Invalid data_source_proto: data_source_proto.fieldMapping["a"] must be a string',
      );
      expect(errorOf('{"type": "BATCH_FILE", "fileOptions": "x"}').message).to.equal(
        'Invalid data_source_proto: data_source_proto.fileOptions must be a JSON object',
      );
    });

    it('unknown enum names, bad base64, bad timestamps', () => {
      expect(errorOf('{"type": "BATCH_FLIE"}').message).to.match(
        /^Invalid data_source_proto: data_source_proto\.type has unknown value "BATCH_FLIE" \(expected one of INVALID, BATCH_FILE/,
      );
      expect(errorOf('{"type": "CUSTOM_SOURCE", "customOptions": {"configuration": "not base64!"}}').message).to.equal(
        'Invalid data_source_proto: data_source_proto.customOptions.configuration must be base64',
      );
      expect(errorOf('{"type": "BATCH_FILE", "meta": {"createdTimestamp": "yesterday"}}').message).to.equal(
        'Invalid data_source_proto: data_source_proto.meta.createdTimestamp must be an RFC 3339 timestamp, got "yesterday"',
      );
    });

    it('two members of the options oneof, or one field given twice', () => {
      expect(errorOf('{"type": "BATCH_FILE", "fileOptions": {}, "customOptions": {}}').message).to.equal(
        'Invalid data_source_proto: data_source_proto sets more than one source option (fileOptions, customOptions)',
      );
      expect(errorOf('{"type": "BATCH_FILE", "timestampField": "a", "timestamp_field": "b"}').message).to.equal(
        'Invalid data_source_proto: data_source_proto.timestampField is given twice (as timestampField and timestamp_field)',
      );
    });

    it("a source without a type, with DataSource.from_proto's text", () => {
      expect(errorOf('{"name": "x"}').message).to.equal('Invalid data_source_proto: Could not identify the source type being added.');
      expect(errorOf('{"type": "INVALID"}').message).to.equal('Invalid data_source_proto: Could not identify the source type being added.');
    });
  });
});
