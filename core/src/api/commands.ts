/**
 * The Feast commands a client sends as the JSON of a CMD FlightDescriptor, each with its own JSON
 * Schema. A command is validated before any work is done, so a bad field is refused with
 * INVALID_ARGUMENT naming the field (fastify-style schemas at the edge).
 */
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { InvalidArgumentError, UnimplementedError } from '../errors.ts';

const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const strList = { type: 'array', items: str } as const;
const isoDate = { type: ['string', 'null'], minLength: 1 } as const;

const historicalProperties = {
  feature_view_names: strList,
  name_aliases: { type: 'array', items: strOrNull },
  feature_refs: strList,
  project: str,
  full_feature_names: { type: 'boolean' },
  start_date: isoDate,
  end_date: isoDate,
  entity_df_sql: strOrNull,
} as const;
const historicalRequired = ['feature_view_names', 'name_aliases', 'feature_refs', 'project', 'full_feature_names'];

const pullProperties = {
  data_source_name: str,
  join_key_columns: strList,
  feature_name_columns: strList,
  timestamp_field: str,
  created_timestamp_column: strOrNull,
  start_date: isoDate,
  end_date: isoDate,
} as const;
const pullRequired = ['data_source_name', 'join_key_columns', 'feature_name_columns', 'timestamp_field'];

/** JSON Schema of each command, by its `api` name. */
export const commandSchemas = {
  get_historical_features: { properties: historicalProperties, required: historicalRequired },
  pull_latest_from_table_or_query: { properties: pullProperties, required: [...pullRequired, 'start_date', 'end_date'] },
  pull_all_from_table_or_query: { properties: pullProperties, required: pullRequired },
  get_table_column_names_and_types_from_data_source: {
    properties: { data_source_proto: str },
    required: ['data_source_proto'],
  },
  validate_data_source: { properties: { data_source_proto: str }, required: ['data_source_proto'] },
  offline_write_batch: {
    properties: {
      feature_view_names: { ...strList, minItems: 1, maxItems: 1 },
      name_aliases: { type: 'array', items: strOrNull, maxItems: 1 },
      progress: { type: 'null' },
    },
    required: ['feature_view_names'],
  },
  write_logged_features: { properties: { feature_service_name: str }, required: ['feature_service_name'] },
  persist: {
    properties: {
      ...historicalProperties,
      ...pullProperties,
      retrieve_func: {
        enum: ['get_historical_features', 'pull_latest_from_table_or_query', 'pull_all_from_table_or_query'],
      },
      data_source_name: str,
      allow_overwrite: { type: 'boolean' },
      timeout: { type: ['integer', 'null'] },
    },
    required: ['retrieve_func', 'data_source_name'],
  },
} as const;

export type ApiName = keyof typeof commandSchemas;

export const apiNames = Object.keys(commandSchemas) as ApiName[];

/** A validated command. Fields follow Feast's JSON names. */
export interface FeastCommand {
  readonly command_id?: string;
  readonly api: ApiName;
  readonly [field: string]: unknown;
}

// Compiled on first use: compiling every api's schema at import cost about 150 ms of start-up, and
// ajv itself (some 65 modules) is loaded by the first command, not by the server's start.
let ajv: Ajv | undefined;
const validators = new Map<ApiName, ValidateFunction>();

/** The validator of `api`, or undefined for a name that is not an api. */
function validatorOf(api: string): ValidateFunction | undefined {
  if (!Object.hasOwn(commandSchemas, api)) return undefined;
  let validate = validators.get(api as ApiName);
  if (!validate) {
    ajv ??= new (createRequire(import.meta.url)('ajv') as typeof import('ajv')).Ajv({ allErrors: false, strict: false });
    validate = ajv.compile({ type: 'object', ...commandSchemas[api as ApiName] });
    validators.set(api as ApiName, validate);
  }
  return validate;
}

/**
 * JSON objects and arrays a command may hold. Feast's have a handful (the command, its lists of
 * names); each costs tens of bytes once parsed, so a command of `[{},{},…]` would cost about 20
 * times its size. Scalars cost at most about 4 times theirs.
 */
export const MAX_COMMAND_CONTAINERS = 10_000;

/** Counts objects and arrays outside strings, refusing a command with too many before it is parsed. */
function checkContainers(bytes: Uint8Array): void {
  let containers = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if ((b === 0x7b || b === 0x5b) && ++containers > MAX_COMMAND_CONTAINERS) {
      throw new InvalidArgumentError(
        `The Flight command holds more than ${MAX_COMMAND_CONTAINERS} JSON objects and arrays; a Feast command has a few`,
      );
    }
  }
}

/**
 * Parses and validates command bytes; throws InvalidArgumentError naming the bad field. The
 * transport has already bounded their length (larder.max_command_bytes); what parsing them can
 * cost is bounded here, before JSON.parse.
 */
export function parseCommand(bytes: Uint8Array): FeastCommand {
  if (bytes.byteLength === 0) throw new InvalidArgumentError('The Flight descriptor carries no command: expected a JSON Feast command');
  checkContainers(bytes);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`The Flight command is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError('The Flight command must be a JSON object with an "api" field');
  }
  const api = (value as { api?: unknown }).api;
  if (api === undefined) throw new InvalidArgumentError('The Flight command has no "api" field (api parameter is mandatory)');
  if (typeof api !== 'string') {
    // Named by its JSON type: String() of an array nested thousands deep overflows the stack.
    throw new InvalidArgumentError(`Unknown api: expected a string naming one of ${apiNames.join(', ')}, got ${jsonType(api)}`);
  }
  const validate = validatorOf(api);
  // UNIMPLEMENTED, as Feast's server (its NotImplementedError): the client raises ArrowNotImplementedError.
  if (!validate) throw new UnimplementedError(`Unknown api "${api}": expected one of ${apiNames.join(', ')}`);
  if (!validate(value)) throw new InvalidArgumentError(describe(`${api} command`, validate.errors?.[0]));
  if (api === 'persist') {
    // persist re-runs its retrieve_func on its own fields: they must make a valid command of that api.
    const retrieveFunc = (value as { retrieve_func: ApiName }).retrieve_func;
    const retrieval = validatorOf(retrieveFunc)!;
    if (!retrieval({ ...value, api: retrieveFunc })) {
      throw new InvalidArgumentError(describe(`persist command (retrieve_func ${retrieveFunc})`, retrieval.errors?.[0]));
    }
  }
  return value as FeastCommand;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The refusal naming the bad field; `what` names the command ("persist command", …). */
function describe(what: string, error: ErrorObject | undefined): string {
  if (!error) return `Invalid ${what}`;
  const field = error.instancePath.split('/').slice(1).join('.');
  if (error.keyword === 'required') return `The ${what} is missing the field "${String(error.params.missingProperty)}"`;
  const problem = error.keyword === 'type' ? `must be of type ${String(error.params.type)}` : error.message;
  return `The ${what}'s field "${field}" ${problem}`;
}
