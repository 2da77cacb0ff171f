/**
 * The permission matrix of spec §6 through the unchanged Feast client: every offline-store call the
 * client makes, each by a user whose policy grants exactly the checked action on the checked
 * resource (it succeeds and returns the right rows) and by a user lacking it (FeastPermissionError
 * with Feast's exact text). A parquet-backed `file` store repo, a third-party auth plugin mapping
 * tokens to users, and role-, group-, namespace-based and combined policies with name patterns.
 *
 * One Python process (test/support/permissions_matrix_client.py) performs every call for every
 * user and prints one JSON line per (call, user); each outcome is asserted in its own `it()`.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Float64, Int64, TimeUnit, Timestamp } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import type { PermissionDraft } from '../../core/src/registry/draft.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { fixturePackage, installPackages } from '../support/guarded-repo.ts';
import { arrowTable, micros, writeParquetFile } from '../support/parquet-fixtures.ts';

const execFileAsync = promisify(execFile);
const clientScript = fileURLToPath(new URL('../support/permissions_matrix_client.py', import.meta.url));

/** token = user name; what the auth plugin maps each token to. */
const USERS: Record<string, { roles?: string[]; groups?: string[]; namespaces?: string[] }> = {
  fv_reader: { roles: ['fv_reader'] },
  teammate: { groups: ['team-drivers'] },
  analyst: { namespaces: ['ns-analytics'] },
  both: { roles: ['fv_reader'], namespaces: ['ns-analytics'] },
  src_reader: { groups: ['src-readers'] },
  writer: { groups: ['writers'] },
  etl: { namespaces: ['ns-etl'], groups: ['src-readers'] },
  persister: { roles: ['fv_reader', 'persister'] },
  archivist: { roles: ['persister'] },
  logger: { roles: ['logger'] },
  nobody: {},
};

// biome-ignore format: a table, one permission a line
const PERMISSIONS: PermissionDraft[] = [
  { name: 'read_driver_views', types: ['FEATURE_VIEW'], namePatterns: ['driver_.*'], actions: ['READ_OFFLINE'], policy: { kind: 'role', roles: ['fv_reader'] } },
  { name: 'read_driver_views_team', types: ['FEATURE_VIEW'], namePatterns: ['driver_stats'], actions: ['READ_OFFLINE'], policy: { kind: 'group', groups: ['team-drivers'] } },
  { name: 'read_customer_views', types: ['FEATURE_VIEW'], namePatterns: ['customer_.*'], actions: ['READ_OFFLINE'], policy: { kind: 'namespace', namespaces: ['ns-analytics'] } },
  { name: 'read_driver_sources', types: ['DATA_SOURCE'], namePatterns: ['driver_.*'], actions: ['READ_OFFLINE'], policy: { kind: 'group', groups: ['src-readers'] } },
  { name: 'write_views', types: ['FEATURE_VIEW'], actions: ['WRITE_OFFLINE'], policy: { kind: 'combined', groups: ['writers'], namespaces: ['ns-etl'] } },
  { name: 'write_saved_datasets', types: ['DATA_SOURCE'], namePatterns: ['.*/saved_[a-z]+\\.parquet'], actions: ['WRITE_OFFLINE'], policy: { kind: 'role', roles: ['persister'] } },
  { name: 'log_services', types: ['FEATURE_SERVICE'], actions: ['WRITE_OFFLINE'], policy: { kind: 'role', roles: ['logger'] } },
];

const denied = (...explanations: string[]) => `Permission error:\n${explanations.join(',')}`;
const explain = (permission: string, action: string, resource: string, why: string) =>
  `Permission ${permission} denied execution of ['${action}'] to ${resource}: ${why}`;
const unmanaged = (action: string, cls: string, name: string) =>
  `Permission error:\nNo permissions defined to manage [<AuthzedAction.${action}: '${action.toLowerCase()}'>] on <class '${cls}'>/${name}.`;
const FILE_SOURCE = 'feast.infra.offline_stores.file_source.FileSource';
const ROLES_FV_READER = "Requires roles ['fv_reader']";
const NOT_IN_GROUPS = 'User is not added into the permitted groups';
const NOT_IN_NAMESPACES = 'User is not added into the permitted namespaces';
const NOT_IN_EITHER = 'User must be in at least one of the permitted groups or namespaces';

type Expectation = { result: unknown } | { denied: string };
interface Case {
  readonly call: string;
  readonly user: string;
  readonly what: string;
  /** Built once the repo (and so the saved dataset's path) exists. */
  readonly expect: (savedPath: string) => Expectation;
}

const HIST_DRIVER = [
  [1001, 0.2],
  [1002, 0.5],
];
const HIST_CUSTOMER = [
  [1001, 7, 12.5],
  [1002, 7, 12.5],
];
const PULL_ALL_DRIVER = [
  [1001, 0.1],
  [1001, 0.2],
  [1002, 0.5],
];

/** In the order the Python process runs them: the reads, then the writes, then what they wrote. */
// biome-ignore format: a table, one case a line
const CASES: Case[] = [
  // get_historical_features: READ_OFFLINE on each feature view (first matching grant wins).
  { call: 'hist_driver', user: 'fv_reader', what: 'a role grants the view (name pattern driver_.*)', expect: () => ({ result: HIST_DRIVER }) },
  { call: 'hist_driver', user: 'teammate', what: 'a group grants the view (the second matching permission)', expect: () => ({ result: HIST_DRIVER }) },
  {
    call: 'hist_driver', user: 'analyst', what: 'both matching permissions deny, every explanation joined',
    expect: () => ({ denied: denied(explain('read_driver_views', 'READ_OFFLINE', 'FeatureView:driver_stats', ROLES_FV_READER), explain('read_driver_views_team', 'READ_OFFLINE', 'FeatureView:driver_stats', NOT_IN_GROUPS)) }),
  },
  { call: 'hist_customer', user: 'analyst', what: 'a namespace grants the view', expect: () => ({ result: HIST_CUSTOMER }) },
  { call: 'hist_customer', user: 'fv_reader', what: 'the namespace policy denies', expect: () => ({ denied: denied(explain('read_customer_views', 'READ_OFFLINE', 'FeatureView:customer_stats', NOT_IN_NAMESPACES)) }) },
  {
    call: 'hist_service', user: 'both', what: 'through a feature service: READ_OFFLINE on both views granted',
    expect: () => ({ result: [[1001, 7, 0.2, 12.5], [1002, 7, 0.5, 12.5]] }),
  },
  { call: 'hist_service', user: 'fv_reader', what: 'through a feature service: the second view denied', expect: () => ({ denied: denied(explain('read_customer_views', 'READ_OFFLINE', 'FeatureView:customer_stats', NOT_IN_NAMESPACES)) }) },
  {
    call: 'hist_service', user: 'analyst', what: 'through a feature service: the first view denied, which aborts',
    expect: () => ({ denied: denied(explain('read_driver_views', 'READ_OFFLINE', 'FeatureView:driver_stats', ROLES_FV_READER), explain('read_driver_views_team', 'READ_OFFLINE', 'FeatureView:driver_stats', NOT_IN_GROUPS)) }),
  },
  {
    call: 'hist_service', user: 'logger', what: 'through a feature service: the service itself grants no read (FeatureServices are not checked)',
    expect: () => ({ denied: denied(explain('read_driver_views', 'READ_OFFLINE', 'FeatureView:driver_stats', ROLES_FV_READER), explain('read_driver_views_team', 'READ_OFFLINE', 'FeatureView:driver_stats', NOT_IN_GROUPS)) }),
  },

  // pull_all / pull_latest: READ_OFFLINE on the data source.
  { call: 'pull_all_driver', user: 'src_reader', what: 'a group grants the source', expect: () => ({ result: PULL_ALL_DRIVER }) },
  { call: 'pull_all_driver', user: 'fv_reader', what: 'reading the view does not grant its source', expect: () => ({ denied: denied(explain('read_driver_sources', 'READ_OFFLINE', 'FileSource:driver_source', NOT_IN_GROUPS)) }) },
  { call: 'pull_latest_driver', user: 'src_reader', what: 'a group grants the source', expect: () => ({ result: HIST_DRIVER }) },
  { call: 'pull_latest_driver', user: 'nobody', what: 'the group policy denies', expect: () => ({ denied: denied(explain('read_driver_sources', 'READ_OFFLINE', 'FileSource:driver_source', NOT_IN_GROUPS)) }) },
  { call: 'pull_latest_customer', user: 'src_reader', what: 'no permission matches customer_source (name pattern)', expect: () => ({ denied: unmanaged('READ_OFFLINE', FILE_SOURCE, 'customer_source') }) },

  // validate_data_source / get_table_column_names_and_types: READ_OFFLINE on the client-sent source.
  { call: 'validate_driver', user: 'src_reader', what: 'a group grants the source', expect: () => ({ result: 'valid' }) },
  { call: 'validate_driver', user: 'nobody', what: 'the group policy denies', expect: () => ({ denied: denied(explain('read_driver_sources', 'READ_OFFLINE', 'FileSource:driver_source', NOT_IN_GROUPS)) }) },
  { call: 'validate_adhoc', user: 'src_reader', what: 'the client names the source: driver_adhoc matches driver_.* though it is not in the registry', expect: () => ({ result: 'valid' }) },
  { call: 'validate_adhoc', user: 'fv_reader', what: 'the client-named source denied', expect: () => ({ denied: denied(explain('read_driver_sources', 'READ_OFFLINE', 'FileSource:driver_adhoc', NOT_IN_GROUPS)) }) },
  {
    call: 'columns_driver', user: 'src_reader', what: 'a group grants the source; its columns are listed',
    expect: () => ({ result: [['conv_rate', 'double'], ['driver_id', 'int64'], ['ts', 'timestamp[us, tz=UTC]']] }),
  },
  { call: 'columns_driver', user: 'nobody', what: 'the group policy denies', expect: () => ({ denied: denied(explain('read_driver_sources', 'READ_OFFLINE', 'FileSource:driver_source', NOT_IN_GROUPS)) }) },
  { call: 'columns_customer', user: 'src_reader', what: 'no permission matches customer_source', expect: () => ({ denied: unmanaged('READ_OFFLINE', FILE_SOURCE, 'customer_source') }) },

  // offline_write_batch: WRITE_OFFLINE on the view.
  { call: 'write_batch', user: 'writer', what: 'the combined policy grants by group', expect: () => ({ result: 'written' }) },
  { call: 'write_batch', user: 'src_reader', what: 'the combined policy denies', expect: () => ({ denied: denied(explain('write_views', 'WRITE_OFFLINE', 'FeatureView:driver_trips', NOT_IN_EITHER)) }) },
  { call: 'write_batch', user: 'fv_reader', what: 'READ_OFFLINE on the view does not grant the write', expect: () => ({ denied: denied(explain('write_views', 'WRITE_OFFLINE', 'FeatureView:driver_trips', NOT_IN_EITHER)) }) },
  // write_to_offline_store: the column listing (READ_OFFLINE on the source), then offline_write_batch.
  { call: 'write_to_offline_store', user: 'etl', what: 'the combined policy grants by namespace (and a group the source)', expect: () => ({ result: 'written' }) },
  { call: 'write_to_offline_store', user: 'src_reader', what: 'the columns are listed, the write denied', expect: () => ({ denied: denied(explain('write_views', 'WRITE_OFFLINE', 'FeatureView:driver_trips', NOT_IN_EITHER)) }) },
  {
    call: 'write_to_offline_store', user: 'writer', what: 'a writer without READ_OFFLINE on the source is stopped at the column listing',
    expect: () => ({ denied: denied(explain('read_driver_sources', 'READ_OFFLINE', 'FileSource:driver_trips_source', NOT_IN_GROUPS)) }),
  },

  // persist (create_saved_dataset): READ_OFFLINE of the retrieval, then WRITE_OFFLINE on the destination.
  { call: 'persist_hist', user: 'fv_reader', what: 'the retrieval is granted, the destination denied', expect: (saved) => ({ denied: denied(explain('write_saved_datasets', 'WRITE_OFFLINE', `FileSource:${saved}`, "Requires roles ['persister']")) }) },
  {
    call: 'persist_hist', user: 'archivist', what: 'the retrieval is checked first and denied',
    expect: () => ({ denied: denied(explain('read_driver_views', 'READ_OFFLINE', 'FeatureView:driver_stats', ROLES_FV_READER), explain('read_driver_views_team', 'READ_OFFLINE', 'FeatureView:driver_stats', NOT_IN_GROUPS)) }),
  },
  { call: 'persist_hist', user: 'persister', what: 'both granted: the saved dataset holds the retrieval', expect: () => ({ result: HIST_DRIVER }) },
  { call: 'persist_pull', user: 'src_reader', what: "a pull's persist checks WRITE_OFFLINE on the pulled source (the client's data_source_name)", expect: () => ({ denied: unmanaged('WRITE_OFFLINE', FILE_SOURCE, 'driver_source') }) },

  // write_logged_features: WRITE_OFFLINE on the feature service (file logging destination).
  { call: 'log_features', user: 'logger', what: 'a role grants the service; the rows land under its file destination', expect: () => ({ result: [['req-1', 1001, 0.2]] }) },
  { call: 'log_features', user: 'both', what: 'reading every view of the service does not grant logging', expect: () => ({ denied: denied(explain('log_services', 'WRITE_OFFLINE', 'FeatureService:driver_service', "Requires roles ['logger']")) }) },

  // What the granted writes left behind, read back by a permitted user.
  { call: 'pull_all_trips', user: 'src_reader', what: 'the two granted writes are in the source, the denied ones are not', expect: () => ({ result: [[2000, 5], [2001, 11], [2002, 22]] }) },
];

const caseId = (c: Case) => `${c.call}/${c.user}`;
const at = (h: number) => micros(Date.UTC(2021, 3, 12, h));
const TS = new Timestamp(TimeUnit.MICROSECOND, 'UTC');

interface Outcome {
  readonly id: string;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
  readonly message?: string;
}

describe('permission matrix through the Feast client (file store, third-party auth plugin)', function () {
  this.timeout(180_000);
  let repo: string;
  let savedPath: string;
  let server: RunningServer;
  const outcomes = new Map<string, Outcome>();

  before(async function () {
    this.timeout(180_000);
    const { python } = feastPython();
    repo = mkdtempSync(path.join(tmpdir(), 'larder-permissions-matrix-'));
    const data = path.join(repo, 'data');
    savedPath = path.join(data, 'saved_snapshot.parquet');
    installPackages(repo, [fixturePackage('larder-auth-static')]);

    writeParquetFile(
      path.join(data, 'driver.parquet'),
      arrowTable([
        ['driver_id', new Int64(), [1001n, 1001n, 1002n]],
        ['conv_rate', new Float64(), [0.1, 0.2, 0.5]],
        ['ts', TS, [at(10), at(12), at(11)]],
      ]),
    );
    writeParquetFile(
      path.join(data, 'customer.parquet'),
      arrowTable([
        ['customer_id', new Int64(), [7n, 7n]],
        ['spend', new Float64(), [12.5, 99]],
        ['ts', TS, [at(10), at(14)]],
      ]),
    );
    writeParquetFile(
      path.join(data, 'driver_trips.parquet'),
      arrowTable([
        ['driver_id', new Int64(), [2000n]],
        ['trips', new Int64(), [5n]],
        ['ts', TS, [micros(Date.UTC(2021, 3, 1))]],
      ]),
    );
    const registryPath = path.join(data, 'registry.db');
    writeFileSync(
      registryPath,
      encodeRegistry({
        project: 'matrix',
        entities: [
          { name: 'driver', joinKey: 'driver_id', valueType: 'INT64' },
          { name: 'customer', joinKey: 'customer_id', valueType: 'INT64' },
        ],
        dataSources: [
          { kind: 'file', name: 'driver_source', path: 'data/driver.parquet', timestampField: 'ts' },
          { kind: 'file', name: 'customer_source', path: 'data/customer.parquet', timestampField: 'ts' },
          { kind: 'file', name: 'driver_trips_source', path: 'data/driver_trips.parquet', timestampField: 'ts' },
          // What SavedDatasetFileStorage(path).to_data_source() names itself: its path.
          { kind: 'file', name: savedPath, path: savedPath },
        ],
        featureViews: [
          { name: 'driver_stats', entities: ['driver'], source: 'driver_source', features: [{ name: 'conv_rate', valueType: 'DOUBLE' }] },
          { name: 'customer_stats', entities: ['customer'], source: 'customer_source', features: [{ name: 'spend', valueType: 'DOUBLE' }] },
          { name: 'driver_trips', entities: ['driver'], source: 'driver_trips_source', features: [{ name: 'trips', valueType: 'INT64' }] },
        ],
        featureServices: [
          {
            name: 'driver_service',
            projections: [{ view: 'driver_stats' }, { view: 'customer_stats' }],
            loggingConfig: { sampleRate: 1, destination: { kind: 'file', path: 'data/logs' } },
          },
        ],
        permissions: PERMISSIONS,
      }),
    );
    const list = (xs?: string[]) => `[${(xs ?? []).join(', ')}]`;
    writeFileSync(
      path.join(repo, 'feature_store.yaml'),
      [
        'project: matrix',
        'registry: data/registry.db',
        'provider: local',
        'offline_store:',
        '  type: file',
        'auth:',
        '  type: larder-auth-static',
        '  users:',
        ...Object.entries(USERS).map(
          ([name, u]) =>
            `    ${name}: {username: ${name}, roles: ${list(u.roles)}, groups: ${list(u.groups)}, namespaces: ${list(u.namespaces)}}`,
        ),
        'entity_key_serialization_version: 3',
        '',
      ].join('\n'),
    );
    server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });

    // One client repo per user: Feast's kubernetes auth with a fixed user_token sends it as the bearer.
    // Each has its own copy of the registry, since create_saved_dataset writes the client's registry.
    const clients: Record<string, string> = {};
    for (const user of Object.keys(USERS)) {
      const dir = path.join(repo, 'clients', user);
      mkdirSync(dir, { recursive: true });
      copyFileSync(registryPath, path.join(dir, 'registry.db'));
      writeFileSync(
        path.join(dir, 'feature_store.yaml'),
        [
          'project: matrix',
          `registry: ${path.join(dir, 'registry.db')}`,
          'provider: local',
          'offline_store:',
          '  type: remote',
          '  host: 127.0.0.1',
          `  port: ${server.port}`,
          'auth:',
          '  type: kubernetes',
          `  user_token: ${user}`,
          'entity_key_serialization_version: 3',
          '',
        ].join('\n'),
      );
      clients[user] = dir;
    }
    const input = {
      clients,
      cases: CASES.map((c) => [caseId(c), c.call, c.user]),
      paths: {
        saved: savedPath,
        saved_pull: path.join(data, 'saved_pull.parquet'),
        customer_data: path.join(data, 'customer.parquet'),
        logs: path.join(data, 'logs'),
      },
    };
    // Asynchronously: the server runs in this process and must keep answering meanwhile.
    const { stdout } = await execFileAsync(python, [clientScript, JSON.stringify(input)], {
      env: feastEnv(repo),
      encoding: 'utf8',
      timeout: 150_000,
      maxBuffer: 16 << 20,
    });
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      const outcome = JSON.parse(line) as Outcome;
      outcomes.set(outcome.id, outcome);
    }
  });

  after(async () => {
    await server?.stop(1000);
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.call} as ${c.user}: ${c.what}`, () => {
      const outcome = outcomes.get(caseId(c));
      expect(outcome, `no outcome printed for ${caseId(c)}`).to.not.equal(undefined);
      const expected = c.expect(savedPath);
      if ('result' in expected) {
        expect(outcome!.ok, `${caseId(c)} failed: ${outcome!.error} ${outcome!.message}`).to.equal(true);
        expect(outcome!.result).to.deep.equal(expected.result);
      } else {
        expect(outcome!.ok, `${caseId(c)} succeeded: ${JSON.stringify(outcome!.result)}`).to.equal(false);
        expect(outcome!.error).to.equal('feast.errors.FeastPermissionError');
        expect(outcome!.message).to.equal(expected.denied);
      }
    });
  }
});
