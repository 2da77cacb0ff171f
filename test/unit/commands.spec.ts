import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import { parseCommand } from '../../core/src/api/commands.ts';
import { parseIsoDate } from '../../core/src/api/dates.ts';
import { InvalidArgumentError, UnimplementedError } from '../../core/src/errors.ts';

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

function refusal(value: unknown): InvalidArgumentError {
  try {
    parseCommand(bytes(value));
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).to.equal(status.INVALID_ARGUMENT);
    return error as InvalidArgumentError;
  }
  throw new Error('expected the command to be refused');
}

describe('Feast commands', () => {
  const historical = {
    command_id: 'c1',
    api: 'get_historical_features',
    feature_view_names: ['fv'],
    name_aliases: [null],
    feature_refs: ['fv:a'],
    project: 'p',
    full_feature_names: false,
  };

  it('accepts a valid command', () => {
    expect(parseCommand(bytes(historical)).api).to.equal('get_historical_features');
  });

  it('refuses malformed JSON, unknown apis and missing or mistyped fields, naming them', () => {
    expect(refusal('{"api": ').message).to.match(/not valid JSON/);
    // An unknown api name is UNIMPLEMENTED, as Feast's NotImplementedError (ArrowNotImplementedError on the client).
    const unknown = (() => {
      try {
        parseCommand(bytes({ api: 'drop_everything' }));
      } catch (error) {
        return error as UnimplementedError;
      }
      throw new Error('expected the unknown api to be refused');
    })();
    expect(unknown).to.be.instanceOf(UnimplementedError);
    expect(unknown.code).to.equal(status.UNIMPLEMENTED);
    expect(unknown.message).to.match(/Unknown api "drop_everything"/);
    expect(refusal({ command_id: 'x' }).message).to.match(/no "api" field/);
    expect(refusal({ ...historical, project: undefined }).message).to.equal(
      'The get_historical_features command is missing the field "project"',
    );
    expect(refusal({ ...historical, feature_refs: 'fv:a' }).message).to.equal(
      'The get_historical_features command\'s field "feature_refs" must be of type array',
    );
    expect(refusal({ api: 'offline_write_batch', feature_view_names: ['a', 'b'] }).message).to.match(/feature_view_names/);
    expect(refusal([1, 2]).message).to.match(/JSON object/);
  });

  it('refuses a command of many JSON objects and arrays before parsing it, counting none inside strings', () => {
    const many = refusal({ ...historical, extra: Array.from({ length: 10_000 }, () => ({})) });
    expect(many.message).to.match(/holds more than 10000 JSON objects and arrays/);
    expect(refusal({ ...historical, extra: Array.from({ length: 10_000 }, () => []) }).message).to.match(/more than 10000/);
    // Brackets and escaped quotes inside strings are text, not containers.
    const text = '{"[\\"'.repeat(20_000);
    expect(parseCommand(bytes({ ...historical, entity_df_sql: text })).api).to.equal('get_historical_features');
  });

  it('refuses an api that is not a string by its JSON type, however deeply it nests (found by fuzzing, seed 1001)', () => {
    // String() of an array nested a few thousand deep overflowed the stack: INTERNAL, not INVALID_ARGUMENT.
    const depth = 9_000; // deep enough to overflow String(), within the 10,000-container cap
    const nested = `{"api": ${'['.repeat(depth)}${']'.repeat(depth)}}`;
    expect(refusal(nested).message).to.match(/^Unknown api: expected a string naming one of get_historical_features, .*, got an array$/);
    expect(refusal({ api: { toString: 'x' } }).message).to.match(/, got an object$/);
    expect(refusal({ api: 7 }).message).to.match(/, got a number$/);
    expect(refusal({ api: null }).message).to.match(/, got null$/);
  });

  it('refuses a persist that lacks a field its retrieve_func needs (found by fuzzing, seed 2002)', () => {
    // The pull then ran with join_key_columns undefined and answered INTERNAL.
    const persist = {
      api: 'persist',
      retrieve_func: 'pull_latest_from_table_or_query',
      data_source_name: 'src',
      feature_name_columns: [],
      timestamp_field: 'event_timestamp',
      start_date: '2021-04-09T00:00:00',
      end_date: '2021-04-12T10:59:42',
    };
    expect(refusal(persist).message).to.equal(
      'The persist command (retrieve_func pull_latest_from_table_or_query) is missing the field "join_key_columns"',
    );
    expect(refusal({ ...persist, join_key_columns: [7] }).message).to.equal(
      'The persist command\'s field "join_key_columns.0" must be of type string',
    );
    expect(parseCommand(bytes({ ...persist, join_key_columns: ['driver_id'] })).api).to.equal('persist');
    expect(
      refusal({ ...historical, api: 'persist', retrieve_func: 'get_historical_features', data_source_name: 'src', project: 7 }).message,
    ).to.match(/field "project" must be of type string/);
  });

  it('reads naive ISO dates as UTC, as Feast does', () => {
    expect(parseIsoDate('2021-04-12T10:59:42', 'd')!.toISOString()).to.equal('2021-04-12T10:59:42.000Z');
    expect(parseIsoDate('2021-04-12T10:59:42.123456+01:00', 'd')!.toISOString()).to.equal('2021-04-12T09:59:42.123Z');
    expect(parseIsoDate(null, 'd')).to.equal(null);
    expect(() => parseIsoDate('yesterday', 'end_date')).to.throw(/"end_date" is not an ISO 8601 date/);
  });
});
