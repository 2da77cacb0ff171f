/**
 * The fuzz properties. Each takes the running target and says, for every generated input: every
 * call it makes ends within the deadline with an allowed status (outcome.ts), and the server is
 * still alive afterwards. The token property also says no forged token is ever accepted.
 */
import { tableFromArrays, Table, makeVector, vectorFromArray, Float32, type Schema } from 'apache-arrow';
import fc from 'fast-check';
import type { FlightDescriptor } from '../../packages/flight/src/handler.ts';
import { concatBody, FlightDataEncoder } from '../../packages/flight/src/ipc.ts';
import type { OutgoingFlightData } from '../../packages/flight/src/protocol.ts';
import { fuzzedCommand, randomCommandBytes, type FuzzedCommand } from './arbitraries/commands.ts';
import { fuzzedUpload, timestampVector, type FuzzedUpload, type IpcMessage } from './arbitraries/ipc.ts';
import { authorizationHeader, fuzzedToken, tokenTamper } from './arbitraries/tokens.ts';
import { assertAllowed, outcomeOf, type Outcome } from './outcome.ts';
import { connectRaw, type RawFlightClient, type RawMessage } from './raw-client.ts';
import { summarize } from './runner.ts';
import type { FuzzTarget } from './target.ts';

// ---------------------------------------------------------------------------------------------
// Uploads that go with a command

const mockTable = () => tableFromArrays({ key: ['mock_key'] });

function entityTable(): Table {
  const ts = BigInt(Date.UTC(2021, 3, 12, 10)) * 1000n;
  return new Table({
    driver_id: makeVector(BigInt64Array.from([1001n, 1002n, 1003n, 9999n])),
    event_timestamp: timestampVector([ts, ts + 1n, ts - 3_600_000_000n, ts]),
  });
}

/** Rows shaped like the example's parquet file, for offline_write_batch. */
function featureRows(): Table {
  const ts = BigInt(Date.UTC(2021, 3, 12, 10)) * 1000n;
  return new Table({
    event_timestamp: timestampVector([ts]),
    driver_id: makeVector(BigInt64Array.from([1001n])),
    conv_rate: vectorFromArray([0.5], new Float32()),
    acc_rate: vectorFromArray([0.25], new Float32()),
    avg_daily_trips: makeVector(BigInt64Array.from([7n])),
    created: timestampVector([ts + 60_000_000n]),
  });
}

/** Entity rows with their timestamps as strings (a client mistake that once came back INTERNAL). */
const stringTimestamps = () => tableFromArrays({ driver_id: BigInt64Array.from([1001n]), event_timestamp: ['2021-04-12T10:00:00'] });

const UPLOADS = {
  mock: mockTable,
  entity: entityTable,
  strings: stringTimestamps,
  rows: featureRows,
  none: () => mockTable().slice(0, 0),
} as const;
type UploadKind = keyof typeof UPLOADS;

const cmdDescriptor = (cmd: Uint8Array): FlightDescriptor => ({ type: 'CMD', cmd, path: [] });

/** A table as FlightData messages, the descriptor on the first one. */
function uploadMessages(table: Table, descriptor: FlightDescriptor): OutgoingFlightData[] {
  const encoder = new FlightDataEncoder(table.schema as Schema);
  const out: OutgoingFlightData[] = [{ descriptor, dataHeader: encoder.schemaMessage().header }];
  for (const batch of table.batches) {
    for (const m of encoder.batchMessages(batch)) out.push({ dataHeader: m.header, dataBody: concatBody(m.body) });
  }
  return out;
}

function ipcToFlightData(messages: readonly IpcMessage[], descriptor: FlightDescriptor): OutgoingFlightData[] {
  return messages.map((m, i) => ({ descriptor: i === 0 ? descriptor : null, dataHeader: m.header, dataBody: m.body }));
}

function assertAlive(target: FuzzTarget): void {
  const dead = target.dead();
  if (dead) throw new Error(`the server did not survive the input: ${dead}`);
}

/**
 * Headers beyond what HTTP/2's header compression accepts (~100 KB in Node's http2) are reset by
 * the transport before gRPC or larder see the call; grpc-js clients report that reset as INTERNAL
 * ("Received RST_STREAM with code 9"). That status comes from the client library, not the server,
 * so it is accepted for such headers only.
 */
const HTTP2_HEADER_LIMIT = 64 * 1024;

function isTransportReset(outcome: Outcome, headerBytes: number): boolean {
  return headerBytes > HTTP2_HEADER_LIMIT && outcome.code === 13 && /^Received RST_STREAM with code (9|11)\b/.test(outcome.details);
}

/** The case during which each target's process died, summarised (see `guarded`). */
const fatalInputs = new WeakMap<FuzzTarget, string>();

/** The input that killed the target's process, if one did. */
export function fatalInput(target: FuzzTarget): string | undefined {
  return fatalInputs.get(target);
}

/**
 * Wraps a property's predicate. Once the process is dead every case fails, so fast-check's
 * shrinking converges on an input that has nothing to do with the death: the case during which
 * the process died is remembered here for the report, and later cases say the server was gone.
 */
function guarded<Ts extends unknown[]>(target: FuzzTarget, predicate: (...args: Ts) => Promise<void>): (...args: Ts) => Promise<void> {
  return async (...args: Ts) => {
    if (target.dead()) throw new Error('the server was already gone before this case');
    try {
      await predicate(...args);
    } finally {
      if (target.dead() && !fatalInputs.has(target)) fatalInputs.set(target, summarize(args));
    }
  };
}

/** Runs a call, checks its outcome and that the server lives; returns the outcome. */
async function judged(target: FuzzTarget, what: string, call: Promise<Outcome>, headerBytes = 0): Promise<Outcome> {
  const outcome = await call;
  assertAlive(target);
  if (!isTransportReset(outcome, headerBytes)) assertAllowed(outcome, what);
  return outcome;
}

/**
 * A command through one of the two ways the Feast client sends it: DoExchange (Feast >= 0.67
 * reads), or DoPut then GetFlightInfo then DoGet (older reads; writes run inside DoPut).
 */
async function sendCommand(
  target: FuzzTarget,
  raw: RawFlightClient,
  cmd: Uint8Array,
  transport: 'exchange' | 'put',
  upload: UploadKind,
): Promise<void> {
  const messages = uploadMessages(UPLOADS[upload](), cmdDescriptor(cmd));
  if (transport === 'exchange') {
    await judged(target, 'DoExchange', raw.stream('DoExchange', messages));
    return;
  }
  const put = await judged(target, 'DoPut', raw.stream('DoPut', messages));
  if (put.code !== 0) return;
  let ticket: Uint8Array | undefined;
  await judged(target, 'GetFlightInfo', outcomeOf(raw.flight.getFlightInfo(cmd).then((info) => (ticket = info.endpoints[0]?.ticket))));
  if (!ticket) return;
  await judged(target, 'DoGet', raw.doGet(ticket));
  // A ticket is good once.
  await judged(target, 'DoGet (again)', raw.doGet(ticket));
}

/** Every call of the command property carries this header (the valid token on an auth target). */
function headersFor(target: FuzzTarget): Record<string, string> {
  return target.readerToken ? { authorization: `Bearer ${target.readerToken}` } : {};
}

// ---------------------------------------------------------------------------------------------
// Properties

/** Commands: valid-ish Feast commands, mutated, sent the ways the Feast client sends them. */
export function commandProperty(target: FuzzTarget) {
  const raw = connectRaw(target.address, headersFor(target));
  const property = fc.asyncProperty(
    fc.oneof(
      { weight: 5, arbitrary: fuzzedCommand },
      { weight: 1, arbitrary: randomCommandBytes.map((bytes): FuzzedCommand => ({ bytes, api: undefined })) },
    ),
    fc.constantFrom<'exchange' | 'put'>('exchange', 'put'),
    fc.constantFrom<UploadKind>('mock', 'entity', 'strings', 'rows', 'none'),
    guarded(target, async (cmd: FuzzedCommand, transport: 'exchange' | 'put', upload: UploadKind) =>
      sendCommand(target, raw, cmd.bytes, transport, upload),
    ),
  );
  return { property, close: () => raw.close() };
}

const descriptorArb: fc.Arbitrary<FlightDescriptor> = fc.record({
  type: fc.constantFrom<FlightDescriptor['type']>('CMD', 'PATH', 'UNKNOWN'),
  cmd: fc.oneof(
    fc.constant(new Uint8Array(0)),
    fc.uint8Array({ maxLength: 64 }),
    fuzzedCommand.map((c) => c.bytes),
  ),
  path: fc.oneof(
    fc.constant([] as string[]),
    fc.array(fc.string({ maxLength: 20 }), { maxLength: 8 }),
    fc.integer({ min: 100, max: 50_000 }).map((n) => Array.from({ length: n }, (_, i) => `segment-${i}`)),
    fc.constantFrom(['..', '..', 'etc', 'passwd'], ['driver_hourly_stats'], ['data', 'driver_stats.parquet'], ['x'.repeat(200_000)]),
  ),
});

/** A ticket: random bytes, a UUID (the shape of larder's tickets), Feast's repr(key) shape, huge. */
const ticketArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.uint8Array({ maxLength: 128 }),
  fc.uuid().map((u) => Buffer.from(u, 'utf8')),
  fc.string({ maxLength: 40 }).map((s) => Buffer.from(`('CMD', b'{"api": "${s}"}', ())`, 'utf8')),
  fc.integer({ min: 10_000, max: 3_000_000 }).map((n) => new Uint8Array(n).fill(0x41)),
);

type DescriptorCall =
  | { kind: 'GetFlightInfo' | 'GetSchema'; descriptor: FlightDescriptor }
  | { kind: 'DoPut' | 'DoExchange'; descriptor: FlightDescriptor; everyMessage: boolean }
  | { kind: 'DoGet'; ticket: Uint8Array }
  | { kind: 'DoAction'; type: string; body: Uint8Array }
  | { kind: 'ListFlights'; criteria: Uint8Array }
  | { kind: 'RawPut'; bytes: Uint8Array[] };

/** Descriptors of every type and shape, tickets, actions, criteria, and non-protobuf FlightData. */
export function descriptorProperty(target: FuzzTarget) {
  const raw = connectRaw(target.address, headersFor(target));
  const call: fc.Arbitrary<DescriptorCall> = fc.oneof(
    fc.record({ kind: fc.constantFrom<'GetFlightInfo' | 'GetSchema'>('GetFlightInfo', 'GetSchema'), descriptor: descriptorArb }),
    fc.record({
      kind: fc.constantFrom<'DoPut' | 'DoExchange'>('DoPut', 'DoExchange'),
      descriptor: descriptorArb,
      everyMessage: fc.boolean(),
    }),
    fc.record({ kind: fc.constant<'DoGet'>('DoGet'), ticket: ticketArb }),
    fc.record({
      kind: fc.constant<'DoAction'>('DoAction'),
      type: fc.oneof(
        fc.constantFrom('offline_write_batch', 'persist', 'write_logged_features', 'validate_data_source', ''),
        fc.string({ maxLength: 30 }),
      ),
      body: fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        fuzzedCommand.map((c) => c.bytes),
      ),
    }),
    fc.record({ kind: fc.constant<'ListFlights'>('ListFlights'), criteria: fc.uint8Array({ maxLength: 64 }) }),
    // Bytes that are not a FlightData protobuf at all, or one with impossible field lengths.
    fc.record({
      kind: fc.constant<'RawPut'>('RawPut'),
      bytes: fc.array(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.constantFrom(
            Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // descriptor of 4 GiB
            Uint8Array.from([0x12, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), // 10-byte varint
            Uint8Array.from([0xc2, 0x3e, 0x05, 0x01]), // body shorter than declared
            Uint8Array.from([0x0a, 0x03, 0x08, 0x02, 0x12]), // descriptor with a truncated cmd
          ),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    }),
  );
  const valid = uploadMessages(entityTable(), cmdDescriptor(new Uint8Array(0)));
  const property = fc.asyncProperty(
    call,
    guarded(target, async (c: DescriptorCall) => {
      switch (c.kind) {
        case 'GetFlightInfo':
          await judged(target, c.kind, raw.getFlightInfo(c.descriptor));
          break;
        case 'GetSchema':
          await judged(target, c.kind, raw.getSchema(c.descriptor));
          break;
        case 'DoPut':
        case 'DoExchange': {
          const messages = valid.map((m, i) => ({ ...m, descriptor: i === 0 || c.everyMessage ? c.descriptor : null }));
          await judged(target, c.kind, raw.stream(c.kind, messages));
          break;
        }
        case 'DoGet':
          await judged(target, c.kind, raw.doGet(c.ticket));
          break;
        case 'DoAction':
          await judged(target, c.kind, raw.doAction(c.type, c.body));
          break;
        case 'ListFlights':
          await judged(target, c.kind, raw.listFlights(c.criteria));
          break;
        case 'RawPut':
          await judged(target, 'DoPut of raw bytes', raw.stream('DoPut', c.bytes as RawMessage[]));
          break;
      }
    }),
  );
  return { property, close: () => raw.close() };
}

/** Valid commands that take an upload: a read left pending, a read answered at once, a write. */
const IPC_COMMANDS = [
  {
    api: 'get_historical_features',
    feature_view_names: ['driver_hourly_stats'],
    name_aliases: [null],
    feature_refs: ['driver_hourly_stats:conv_rate'],
    project: 'larder_example',
    full_feature_names: false,
  },
  {
    api: 'pull_all_from_table_or_query',
    data_source_name: 'driver_hourly_stats_source',
    join_key_columns: ['driver_id'],
    feature_name_columns: ['conv_rate'],
    timestamp_field: 'event_timestamp',
    created_timestamp_column: null,
  },
  { api: 'offline_write_batch', feature_view_names: ['driver_hourly_stats'], name_aliases: [null], progress: null },
];

/** Arrow IPC: valid schema and record-batch messages, mutated, uploaded with a valid command. */
export function ipcProperty(target: FuzzTarget) {
  const raw = connectRaw(target.address, headersFor(target));
  const property = fc.asyncProperty(
    fuzzedUpload,
    fc.constantFrom(...IPC_COMMANDS.keys()),
    fc.constantFrom<'DoPut' | 'DoExchange'>('DoPut', 'DoExchange'),
    fc.uuid(),
    guarded(target, async (upload: FuzzedUpload, commandIndex: number, method: 'DoPut' | 'DoExchange', id: string) => {
      // A fresh command_id each time, so DoPut's pending entries never collide.
      const cmd = Buffer.from(JSON.stringify({ command_id: id, ...IPC_COMMANDS[commandIndex]! }), 'utf8');
      await judged(target, `${method} of mutated IPC`, raw.stream(method, ipcToFlightData(upload.messages, cmdDescriptor(cmd))));
    }),
  );
  return { property, close: () => raw.close() };
}

/** The decoded parts of a bearer token in an authorization header, to compare tokens by meaning. */
function tokenParts(header: string): string | null {
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return null;
  const parts = match[1]!.split('.');
  if (parts.length !== 3) return null;
  return parts.map((p) => Buffer.from(p, 'base64url').toString('hex')).join('.');
}

/** Statuses only a call that got past authentication can end with. */
const PAST_AUTHENTICATION: ReadonlySet<number> = new Set([
  0 /* OK */, 3 /* INVALID_ARGUMENT */, 5 /* NOT_FOUND */, 6 /* ALREADY_EXISTS */, 7 /* PERMISSION_DENIED */, 9 /* FAILED_PRECONDITION */,
]);

type TokenCall = 'ListActions' | 'GetFlightInfo' | 'DoGet' | 'DoExchange' | 'DoPut';

/**
 * Bearer tokens against an OIDC-protected server: random, JWT-shaped garbage, alg none, huge,
 * the valid token tampered with, and tokens the real IdP signed over hostile claims. Beyond the
 * status codes: a call succeeds only with the valid token (byte for byte once decoded) or an
 * IdP-signed one.
 */
export function tokenProperty(target: FuzzTarget) {
  if (!target.idp || !target.readerToken) throw new Error('the token property needs an auth target');
  const idp = target.idp;
  const valid = target.readerToken;
  const validParts = tokenParts(`Bearer ${valid}`);
  const header = fc.oneof(
    {
      weight: 3,
      arbitrary: authorizationHeader(fuzzedToken).map((h) => ({ header: h, signedByIdp: null as Record<string, unknown> | null })),
    },
    {
      weight: 2,
      arbitrary: authorizationHeader(tokenTamper.map((tamper) => tamper(valid))).map((h) => ({
        header: h,
        signedByIdp: null as Record<string, unknown> | null,
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record(
          {
            preferred_username: fc.oneof(fc.string({ maxLength: 12 }), fc.integer()),
            roles: fc.jsonValue({ maxDepth: 2 }),
            groups: fc.jsonValue({ maxDepth: 2 }),
            aud: fc.jsonValue({ maxDepth: 1 }),
          },
          { requiredKeys: [] },
        )
        .map((claims) => ({ header: '', signedByIdp: claims as Record<string, unknown> | null })),
    },
  );
  const pull = Buffer.from(JSON.stringify(IPC_COMMANDS[1]), 'utf8');
  const property = fc.asyncProperty(
    header,
    fc.constantFrom<TokenCall>('ListActions', 'GetFlightInfo', 'DoGet', 'DoExchange', 'DoPut'),
    guarded(
      target,
      async ({ header: h, signedByIdp }: { header: string; signedByIdp: Record<string, unknown> | null }, which: TokenCall) => {
        const headerValue = signedByIdp ? `Bearer ${await idp.sign('rsa-1', { azp: 'feast-client', ...signedByIdp })}` : h;
        const raw = connectRaw(target.address, { authorization: headerValue });
        const size = headerValue.length;
        try {
          let outcome: Outcome;
          switch (which) {
            case 'ListActions':
              outcome = await judged(target, which, raw.listActions(), size);
              break;
            case 'GetFlightInfo':
              outcome = await judged(target, which, raw.getFlightInfo(cmdDescriptor(pull)), size);
              break;
            case 'DoGet':
              outcome = await judged(target, which, raw.doGet(Buffer.from('00000000-0000-4000-8000-000000000000')), size);
              break;
            case 'DoExchange':
            case 'DoPut':
              outcome = await judged(target, which, raw.stream(which, uploadMessages(mockTable(), cmdDescriptor(pull))), size);
              break;
          }
          // Calls that got past authentication: only the valid token, or one the IdP signed.
          const authenticated = PAST_AUTHENTICATION.has(outcome.code);
          if (authenticated && !signedByIdp && tokenParts(headerValue) !== validParts) {
            throw new Error(`a forged token got past authentication (${which} answered ${outcome.code}: ${outcome.details.slice(0, 200)})`);
          }
        } finally {
          raw.close();
        }
      },
    ),
  );
  return { property, close: () => {} };
}
