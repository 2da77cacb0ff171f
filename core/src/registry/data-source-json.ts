/**
 * The `data_source_proto` text of validate_data_source / get_table_column_names_and_types: Python's
 * `str(DataSource)`, i.e. `MessageToJson(proto)` — proto3 JSON (spec §6).
 *
 * protobufjs' `fromObject` knows neither JSON names nor RFC 3339 timestamps, so this is a small
 * explicit converter for the DataSource fields larder uses, following the proto3 JSON rules that
 * Python's `json_format.Parse` applies: lowerCamelCase or original snake_case keys, enum names or
 * numbers, base64 bytes, `null` meaning "unset". Unknown keys are ignored (Python would reject
 * them; leniency is harmless here). The result goes through the same conversion as a registry
 * entry, so both paths produce identical DataSource objects.
 */
import type protobuf from 'protobufjs';
import { InvalidArgumentError } from '../errors.ts';
import { dataSourceFromMessage } from './decode.ts';
import type { DataSource } from './model.ts';
import { enumValue, registryTypes, type PbDataSource, type PbFeatureSpec, type PbFileFormat, type PbTimestamp } from './proto.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Parses `data_source_proto`; throws InvalidArgumentError naming what is wrong. */
export function parseDataSourceJson(text: unknown): DataSource {
  if (typeof text !== 'string') throw invalid('data_source_proto', 'must be a string holding the JSON of a DataSource');
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch (error) {
    throw new InvalidArgumentError(`Invalid data_source_proto: not valid JSON (${(error as Error).message})`);
  }
  const source = dataSourceMessage(asObject(parsed, 'data_source_proto'), 'data_source_proto');
  if (!source.type) {
    // DataSource.from_proto's own refusal of a source without a type.
    throw new InvalidArgumentError('Invalid data_source_proto: Could not identify the source type being added.');
  }
  return dataSourceFromMessage(source);
}

// ---------------------------------------------------------------------------------------------

/** A JSON object read with proto3 JSON key rules. */
class Reader {
  constructor(
    private readonly obj: JsonObject,
    readonly path: string,
  ) {}

  /** The value under the field's JSON name or its proto name; `undefined` when absent or null. */
  get(protoName: string): Json | undefined {
    const jsonName = toJsonName(protoName);
    const hasJson = Object.hasOwn(this.obj, jsonName);
    const hasProto = jsonName !== protoName && Object.hasOwn(this.obj, protoName);
    if (hasJson && hasProto) throw invalid(this.at(protoName), `is given twice (as ${jsonName} and ${protoName})`);
    const value = hasJson ? this.obj[jsonName] : hasProto ? this.obj[protoName] : undefined;
    return value === null ? undefined : value;
  }

  /** Where a field is, for error messages (in the JSON spelling clients send). */
  at(protoName: string): string {
    return `${this.path}.${toJsonName(protoName)}`;
  }

  string(protoName: string): string | undefined {
    const v = this.get(protoName);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalid(this.at(protoName), 'must be a string');
    return v;
  }

  object(protoName: string): Reader | undefined {
    const v = this.get(protoName);
    return v === undefined ? undefined : new Reader(asObject(v, this.at(protoName)), this.at(protoName));
  }

  stringMap(protoName: string): Record<string, string> | undefined {
    const v = this.get(protoName);
    if (v === undefined) return undefined;
    const obj = asObject(v, this.at(protoName));
    for (const [key, value] of Object.entries(obj)) {
      if (typeof value !== 'string') throw invalid(`${this.at(protoName)}[${JSON.stringify(key)}]`, 'must be a string');
    }
    return obj as Record<string, string>;
  }

  array(protoName: string): Reader[] | undefined {
    const v = this.get(protoName);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw invalid(this.at(protoName), 'must be an array');
    return v.map((item, i) => new Reader(asObject(item, `${this.at(protoName)}[${i}]`), `${this.at(protoName)}[${i}]`));
  }

  /** An enum given by name or by number (proto3 JSON accepts both). */
  enumValue(protoName: string, e: protobuf.Enum): number | undefined {
    const v = this.get(protoName);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string') {
      const n = enumValue(e, v);
      if (n === undefined)
        throw invalid(this.at(protoName), `has unknown value ${JSON.stringify(v)} (expected one of ${Object.keys(e.values).join(', ')})`);
      return n;
    }
    throw invalid(this.at(protoName), 'must be an enum name or number');
  }

  bytes(protoName: string): Uint8Array | undefined {
    const v = this.string(protoName);
    if (v === undefined) return undefined;
    // Standard or URL-safe alphabet, padding optional (proto3 JSON accepts both).
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(v) || v.replace(/=+$/, '').length % 4 === 1) {
      throw invalid(this.at(protoName), 'must be base64');
    }
    return new Uint8Array(Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
  }

  timestamp(protoName: string): PbTimestamp | undefined {
    const v = this.string(protoName);
    return v === undefined ? undefined : parseRfc3339(v, this.at(protoName));
  }
}

function dataSourceMessage(json: JsonObject, path: string): PbDataSource {
  const r = new Reader(json, path);
  const { SourceType, ValueType } = registryTypes();
  const m: PbDataSource = {
    name: r.string('name'),
    project: r.string('project'),
    description: r.string('description'),
    tags: r.stringMap('tags'),
    owner: r.string('owner'),
    type: r.enumValue('type', SourceType),
    field_mapping: r.stringMap('field_mapping'),
    timestamp_field: r.string('timestamp_field'),
    date_partition_column: r.string('date_partition_column'),
    created_timestamp_column: r.string('created_timestamp_column'),
    timestamp_field_type: r.string('timestamp_field_type'),
    data_source_class_type: r.string('data_source_class_type'),
  };
  const batch = r.get('batch_source');
  if (batch !== undefined) m.batch_source = dataSourceMessage(asObject(batch, r.at('batch_source')), r.at('batch_source'));
  const meta = r.object('meta');
  if (meta) {
    m.meta = {
      earliestEventTimestamp: meta.timestamp('earliestEventTimestamp'),
      latestEventTimestamp: meta.timestamp('latestEventTimestamp'),
      created_timestamp: meta.timestamp('created_timestamp'),
      last_updated_timestamp: meta.timestamp('last_updated_timestamp'),
    };
  }

  const options = OPTION_MEMBERS.filter((name) => r.get(name) !== undefined);
  if (options.length > 1) throw invalid(path, `sets more than one source option (${options.map(toJsonName).join(', ')})`);
  const file = r.object('file_options');
  if (file) {
    m.file_options = {
      file_format: fileFormatMessage(file.object('file_format')),
      uri: file.string('uri'),
      s3_endpoint_override: file.string('s3_endpoint_override'),
    };
  }
  const custom = r.object('custom_options');
  if (custom) m.custom_options = { configuration: custom.bytes('configuration') ?? new Uint8Array(0) };
  const trino = r.object('trino_options');
  if (trino) m.trino_options = { table: trino.string('table'), query: trino.string('query') };
  const request = r.object('request_data_options');
  if (request) {
    m.request_data_options = {
      schema: (request.array('schema') ?? []).map(
        (f): PbFeatureSpec => ({ name: f.string('name'), value_type: f.enumValue('value_type', ValueType), tags: f.stringMap('tags') }),
      ),
    };
  }
  if (r.get('push_options') !== undefined) m.push_options = {};
  return m;
}

function fileFormatMessage(r: Reader | undefined): PbFileFormat | undefined {
  if (!r) return undefined;
  const members = (['parquet_format', 'delta_format'] as const).filter((k) => r.get(k) !== undefined);
  if (members.length > 1) throw invalid(r.path, 'sets both parquetFormat and deltaFormat');
  if (members[0] === 'parquet_format') {
    r.object('parquet_format');
    return { parquet_format: {} };
  }
  if (members[0] === 'delta_format') {
    const delta = r.object('delta_format')!;
    return { delta_format: { checkpoint_location: delta.string('checkpoint_location'), properties: delta.stringMap('properties') } };
  }
  return {};
}

/** Members of DataSource's `options` oneof. */
const OPTION_MEMBERS = [
  'file_options',
  'bigquery_options',
  'kafka_options',
  'kinesis_options',
  'redshift_options',
  'request_data_options',
  'custom_options',
  'snowflake_options',
  'push_options',
  'spark_options',
  'trino_options',
  'athena_options',
] as const;

/**
 * RFC 3339 as proto3 JSON writes Timestamps: `YYYY-MM-DDThh:mm:ss[.f{1,9}]` then `Z` or an offset.
 */
function parseRfc3339(text: string, path: string): PbTimestamp {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) throw invalid(path, `must be an RFC 3339 timestamp, got ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone![0] === '-' ? -1 : 1;
    ms -= sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6))) * 60_000;
  }
  if (Number.isNaN(ms)) throw invalid(path, `must be an RFC 3339 timestamp, got ${JSON.stringify(text)}`);
  return { seconds: Math.floor(ms / 1000), nanos: Number(frac.padEnd(9, '0')) };
}

/** protoc's JSON name: snake_case → lowerCamelCase. */
function toJsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function asObject(v: Json, path: string): JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(path, 'must be a JSON object');
  return v;
}

function invalid(path: string, problem: string): InvalidArgumentError {
  return new InvalidArgumentError(`Invalid data_source_proto: ${path} ${problem}`);
}
