/**
 * `registry_type: remote` against Feast's own registry server: `feast serve_registry` from the
 * test venv serving the registry that `feast apply` wrote for the conformance repo, and larder
 * started in this process reading it over gRPC — plaintext, TLS, with Feast's OIDC auth (larder
 * presenting the intra-communication token), and through the registry server going away and
 * coming back.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Int64 } from 'apache-arrow';
import { expect } from 'chai';
import pino, { type Logger } from 'pino';
import YAML from 'yaml';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { tableValues } from '../support/arrow-samples.ts';
import { connect } from '../support/flight-client.ts';
import { feastPython } from '../support/feast-python.ts';
import { buildFeastRepo, feastEnv, PROJECT, type FeastRepo } from '../support/feast-repo.ts';
import { startFeastRegistryServer, type FeastRegistryServer, type RegistryServerOptions } from '../support/feast-registry-server.ts';
import { tsUtc } from '../support/generated-data.ts';
import { placeholderTable, pullAllCommand, rejection } from '../support/guarded-repo.ts';
import { connectHealth } from '../support/health-client.ts';
import { freePort, LARDER_DEV } from '../support/larder-process.ts';
import { startOidcProvider, type OidcTestProvider } from '../support/oidc-provider.ts';
import { arrowTable } from '../support/parquet-fixtures.ts';
import { selfSignedCert } from '../support/self-signed-cert.ts';

const run = promisify(execFile);
/** A second project in the same registry, with a view and a source of the same names as the first's. */
const OTHER_PROJECT = 'larder_other';
const OTHER_DEFINITIONS = `
from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Float32

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
source = FileSource(name="driver_hourly_stats_source", path="data/driver_stats.parquet",
                    timestamp_field="event_timestamp", created_timestamp_column="created")
driver_hourly_stats = FeatureView(name="driver_hourly_stats", entities=[driver], ttl=timedelta(minutes=10),
                                  schema=[Field(name="acc_rate", dtype=Float32)], source=source, online=False)
`;
const INTRA = 'larder-registry-remote-intra';
const CLIENT_ID = 'feast-client';
const HOUR_US = 3_600_000_000n;
const START_US = BigInt(Date.UTC(2024, 2, 1)) * 1000n;

/** driver_hourly_stats at three moments inside the generated data's 72 hours (ttl 1 day). */
const historicalCommand = (project = PROJECT, features = ['conv_rate', 'acc_rate', 'avg_daily_trips']) =>
  JSON.stringify({
    command_id: `hist-${Math.random().toString(36).slice(2)}`,
    api: 'get_historical_features',
    feature_view_names: ['driver_hourly_stats'],
    name_aliases: [null],
    feature_refs: features.map((f) => `driver_hourly_stats:${f}`),
    project,
    full_feature_names: false,
  });
const entityTable = () =>
  arrowTable([
    ['driver_id', new Int64(), [1001n, 1002n, 1005n]],
    ['event_timestamp', tsUtc, [START_US + 12n * HOUR_US + HOUR_US / 2n, START_US + 24n * HOUR_US, START_US + 54n * HOUR_US]],
  ]);
/** Feast's pull_all_from_table_or_query on the driver stats' FileSource. */
const pullCommand = () =>
  pullAllCommand({
    data_source_name: 'driver_hourly_stats_source',
    timestamp_field: 'event_timestamp',
    created_timestamp_column: 'created',
    start_date: '2024-03-01T00:00:00+00:00',
    end_date: '2024-03-02T00:00:00+00:00',
  });

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A logger whose JSON lines are kept, to look for warnings. */
function recordingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  return {
    logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
    lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Runs `body` with these environment variables set (undefined: unset), then restores them. */
async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}

/** `feast apply` of OTHER_DEFINITIONS as project OTHER_PROJECT into the registry at `registryPath`. */
async function applyOtherProject(workdir: string, registryPath: string): Promise<void> {
  const dir = path.join(workdir, 'other-project');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'definitions.py'), OTHER_DEFINITIONS);
  writeFileSync(
    path.join(dir, 'feature_store.yaml'),
    YAML.stringify({
      project: OTHER_PROJECT,
      registry: registryPath,
      provider: 'local',
      offline_store: { type: 'file' },
      online_store: { type: 'sqlite', path: path.join(dir, 'online_store.db') },
      entity_key_serialization_version: 3,
    }),
  );
  await run(feastPython().feast, ['-c', dir, 'apply'], { cwd: dir, env: feastEnv(dir), maxBuffer: 8 << 20 });
}

describe('registry_type remote: the registry read from feast serve_registry', function () {
  this.timeout(60_000);
  let repo: FeastRepo;
  let idp: OidcTestProvider;
  let workdir: string;
  let tlsFiles: { keyPath: string; certPath: string };
  let otherCa: { keyPath: string; certPath: string };
  let plain: FeastRegistryServer;
  let tls: FeastRegistryServer;
  let guarded: FeastRegistryServer;
  let flaky: FeastRegistryServer;
  const running: RunningServer[] = [];
  const silent = pino({ level: 'silent' });

  const serverOptions = (extra: Partial<RegistryServerOptions> = {}): RegistryServerOptions => ({
    registryPath: repo.registryPath,
    project: PROJECT,
    workdir,
    ...extra,
  });

  /** Writes feature_store.<name>.yaml in the conformance repo (file store) with this registry and auth. */
  function writeConfig(name: string, registry: Record<string, unknown> | string, auth?: Record<string, unknown>): string {
    const file = path.join(repo.serverRepo, `feature_store.${name}.yaml`);
    writeFileSync(
      file,
      YAML.stringify({
        project: PROJECT,
        registry,
        provider: 'local',
        offline_store: { type: 'file' },
        entity_key_serialization_version: 3,
        ...(auth ? { auth } : {}),
      }),
    );
    return file;
  }

  async function serve(
    name: string,
    registry: Record<string, unknown> | string,
    options: { auth?: Record<string, unknown>; logger?: Logger } = {},
  ) {
    const server = await startServer({
      chdir: repo.serverRepo,
      featureStoreYaml: writeConfig(name, registry, options.auth),
      port: 0,
      logger: options.logger ?? silent,
      healthRecheckMs: 100,
    });
    running.push(server);
    return server;
  }

  async function stopAll(servers: Array<RunningServer | FeastRegistryServer | undefined>) {
    await Promise.all(servers.map((s) => s?.stop(1_000)));
  }

  before(async function () {
    // Python Feast starts slowly (seconds per process): the repo and all four registry servers are
    // made once, side by side.
    this.timeout(180_000);
    workdir = mkdtempSync(path.join(tmpdir(), 'larder-registry-remote-'));
    [repo, idp, tlsFiles, otherCa] = await Promise.all([
      buildFeastRepo(),
      startOidcProvider(),
      selfSignedCert(workdir, { name: 'registry' }),
      selfSignedCert(workdir, { name: 'other-ca' }),
    ]);
    await idp.issuer.keys.generate('RS256', { kid: 'rsa-1' });
    // Before any server reads the registry: Feast rewrites the file in place.
    await applyOtherProject(workdir, repo.registryPath);
    [plain, tls, guarded, flaky] = await Promise.all([
      startFeastRegistryServer(serverOptions()),
      startFeastRegistryServer(serverOptions({ tls: tlsFiles })),
      startFeastRegistryServer(
        serverOptions({
          auth: { type: 'oidc', client_id: CLIENT_ID, auth_discovery_url: idp.discoveryUrl },
          env: { INTRA_COMMUNICATION_BASE64: INTRA },
        }),
      ),
      startFeastRegistryServer(serverOptions()),
    ]);
  });

  afterEach(async () => {
    await stopAll(running.splice(0));
  });

  after(async () => {
    await stopAll([plain, tls, guarded, flaky]);
    await idp?.stop();
    repo?.cleanup();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  it('answers get_historical_features and pulls with the definitions the registry server holds', async () => {
    const remote = await serve('remote', { registry_type: 'remote', path: plain.target, cache_ttl_seconds: 60 });
    // The same repo read through its registry file: what the answers must equal.
    const local = await serve('local', 'data/registry.db');
    const [viaRemote, viaFile] = [connect(`127.0.0.1:${remote.port}`), connect(`127.0.0.1:${local.port}`)];
    try {
      const historical = await viaRemote.doExchange(historicalCommand(), entityTable());
      expect(historical.numRows).to.equal(3);
      expect(historical.schema.fields.map((f) => f.name)).to.include.members(['driver_id', 'conv_rate', 'acc_rate', 'avg_daily_trips']);
      expect(String(historical.getChild('conv_rate')!.type)).to.equal('Float32');
      expect(historical.getChild('conv_rate')!.nullCount, 'every entity row has a match within the ttl').to.equal(0);
      expect(tableValues(historical)).to.deep.equal(tableValues(await viaFile.doExchange(historicalCommand(), entityTable())));

      // The other project's view of the same name: its own features and ttl, not the first project's.
      const other = await viaRemote.doExchange(historicalCommand(OTHER_PROJECT, ['acc_rate']), entityTable());
      expect(other.schema.fields.map((f) => f.name)).to.not.include('conv_rate');
      expect(other.getChild('acc_rate')!.nullCount, 'a 10 minute ttl misses the 12:30 row').to.equal(1);
      expect(tableValues(other)).to.deep.equal(
        tableValues(await viaFile.doExchange(historicalCommand(OTHER_PROJECT, ['acc_rate']), entityTable())),
      );

      const pulled = await viaRemote.doExchange(pullCommand(), placeholderTable());
      expect(pulled.numRows).to.be.greaterThan(100);
      expect(tableValues(pulled)).to.deep.equal(tableValues(await viaFile.doExchange(pullCommand(), placeholderTable())));

      // A name the registry server does not hold is Feast's not-found error, naming it.
      const missing = await rejection(
        viaRemote.doExchange(pullCommand().replace('driver_hourly_stats_source', 'no_such_source'), placeholderTable()),
      );
      expect(missing.details).to.include('no_such_source');
    } finally {
      viaRemote.close();
      viaFile.close();
    }
  });

  describe('TLS', () => {
    const tlsRegistry = (extra: Record<string, unknown>) => ({
      registry_type: 'remote',
      path: tls.target,
      cache_ttl_seconds: 60,
      ...extra,
    });
    const pullsRows = async (server: RunningServer) => {
      const client = connect(`127.0.0.1:${server.port}`);
      try {
        return (await client.doExchange(pullCommand(), placeholderTable())).numRows;
      } finally {
        client.close();
      }
    };

    it('reads a registry server started with --key/--cert, trusting the `cert:` CA', async () => {
      const server = await serve('tls', tlsRegistry({ cert: tlsFiles.certPath }));
      expect(await pullsRows(server)).to.be.greaterThan(100);
    });

    it('with is_tls and no cert, trusts the CA bundle named by SSL_CERT_FILE', async () => {
      const server = await withEnv({ SSL_CERT_FILE: tlsFiles.certPath, REQUESTS_CA_BUNDLE: undefined }, () =>
        serve('tls-env', tlsRegistry({ is_tls: true })),
      );
      expect(await pullsRows(server)).to.be.greaterThan(100);
    });

    it('refuses to start when the server certificate is not signed by the configured CA', async () => {
      const error = await rejection(serve('tls-wrong-ca', tlsRegistry({ cert: otherCa.certPath })));
      expect(error.name).to.equal('RegistryUnavailableError');
      expect(error.message).to.include(`registry server ${tls.target} is not reachable: UNAVAILABLE`);
      expect(error.message).to.match(/self[- ]signed certificate|unable to verify|certificate/i);
    });

    it('checks the certificate against `authority` when one is set', async () => {
      const mismatch = await rejection(
        serve('tls-authority-other', tlsRegistry({ cert: tlsFiles.certPath, authority: 'registry.invalid' })),
      );
      expect(mismatch.message).to.include(`registry server ${tls.target} is not reachable`);
      expect(mismatch.message).to.include('registry.invalid');
      const server = await serve('tls-authority', tlsRegistry({ cert: tlsFiles.certPath, authority: 'localhost' }));
      expect(await pullsRows(server)).to.be.greaterThan(100);
    });

    it('refuses a plaintext channel to the TLS server', async () => {
      const error = await rejection(serve('tls-plaintext', { registry_type: 'remote', path: tls.target }));
      expect(error.message).to.include(`registry server ${tls.target}`);
    });
  });

  describe('registry server not running at start', () => {
    let downTarget: string;
    before(async () => {
      downTarget = `127.0.0.1:${await freePort()}`;
    });

    it('startServer rejects, naming the target', async () => {
      const error = await rejection(serve('down', { registry_type: 'remote', path: downTarget }));
      expect(error.name).to.equal('RegistryUnavailableError');
      expect(error.message).to.include(`registry server ${downTarget} is not reachable: UNAVAILABLE`);
    });

    it('the larder CLI exits non-zero with that message', async () => {
      const yaml = writeConfig('down-cli', { registry_type: 'remote', path: downTarget });
      const child = spawn(process.execPath, [...LARDER_DEV, '-c', repo.serverRepo, '-f', yaml, 'serve_offline', '--port', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.stdout!.resume();
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code).to.equal(1);
      expect(stderr).to.include(`registry server ${downTarget} is not reachable`);
    });
  });

  it('keeps answering from the last good copy while the registry server is down, and says so in its health', async function () {
    this.timeout(90_000);
    const { logger, lines } = recordingLogger();
    const server = await serve('flaky', { registry_type: 'remote', path: flaky.target, cache_ttl_seconds: 1 }, { logger });
    const client = connect(`127.0.0.1:${server.port}`);
    const health = connectHealth(`127.0.0.1:${server.port}`);
    try {
      expect(await health.check('registry')).to.equal('SERVING');
      const before = tableValues(await client.doExchange(historicalCommand(), entityTable()));

      await flaky.stop();
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      // The TTL has passed: this call checks the registry server, finds it gone, and is answered anyway.
      expect(tableValues(await client.doExchange(historicalCommand(), entityTable()))).to.deep.equal(before);
      await until('registry NOT_SERVING', async () => (await health.check('registry')) === 'NOT_SERVING');
      expect(await health.check('')).to.equal('SERVING');
      const warning = lines().find((l) => l.msg === 'registry could not be read; still serving the last good copy');
      expect(warning, 'a warning is logged').to.not.equal(undefined);
      expect(String(warning!.err)).to.include(`registry server ${flaky.target} is not reachable: UNAVAILABLE`);

      flaky = await startFeastRegistryServer(serverOptions({ port: flaky.port }));
      await until(
        'registry SERVING again',
        async () => {
          await client.doExchange(pullCommand(), placeholderTable());
          return (await health.check('registry')) === 'SERVING';
        },
        30_000,
      );
      expect(lines().some((l) => l.msg === 'registry readable again')).to.equal(true);
      // One warning per distinct failure, not one per failed check (about eight of them here).
      expect(lines().filter((l) => l.msg === 'registry could not be read; still serving the last good copy').length).to.be.within(1, 2);
    } finally {
      client.close();
      health.close();
    }
  });

  describe("a registry server with Feast's OIDC auth", () => {
    const guardedRegistry = () => ({ registry_type: 'remote', path: guarded.target, cache_ttl_seconds: 60 });
    const oidcAuth = () => ({ type: 'oidc', auth_discovery_url: idp.discoveryUrl, client_id: CLIENT_ID });

    it('accepts the intra-communication token larder presents when INTRA_COMMUNICATION_BASE64 is set', async () => {
      const server = await withEnv({ INTRA_COMMUNICATION_BASE64: INTRA }, () =>
        serve('oidc-intra', guardedRegistry(), { auth: oidcAuth() }),
      );
      // larder's own callers still need a real token from the identity provider.
      const token = await idp.sign('rsa-1', { preferred_username: 'alice', azp: CLIENT_ID, aud: 'account' });
      const client = connect(`127.0.0.1:${server.port}`, { headers: { authorization: `Bearer ${token}` } });
      try {
        const historical = await client.doExchange(historicalCommand(), entityTable());
        expect(historical.numRows).to.equal(3);
        expect(historical.getChild('conv_rate')!.nullCount).to.equal(0);
      } finally {
        client.close();
      }
    });

    it("presents a token larder obtains from the identity provider itself (password grant of its own account), which Feast's registry server accepts", async () => {
      idp.claimsForUser('larder-service', { preferred_username: 'larder-service', azp: CLIENT_ID });
      const tokensBefore = idp.requests('/token');
      const server = await withEnv({ INTRA_COMMUNICATION_BASE64: undefined, FEAST_OIDC_TOKEN: undefined }, () =>
        serve('oidc-own-token', guardedRegistry(), {
          auth: { ...oidcAuth(), client_secret: 'larder-secret', username: 'larder-service', password: 'larder-password' },
        }),
      );
      expect(idp.requests('/token') - tokensBefore, 'larder fetched its own token').to.equal(1);
      const token = await idp.sign('rsa-1', { preferred_username: 'alice', azp: CLIENT_ID, aud: 'account' });
      const client = connect(`127.0.0.1:${server.port}`, { headers: { authorization: `Bearer ${token}` } });
      try {
        expect((await client.doExchange(historicalCommand(), entityTable())).numRows).to.equal(3);
      } finally {
        client.close();
      }
    });

    it('is refused by the registry server when the intra-communication value differs', async () => {
      const error = await rejection(
        withEnv({ INTRA_COMMUNICATION_BASE64: 'not-the-servers-value' }, () =>
          serve('oidc-wrong-intra', guardedRegistry(), { auth: oidcAuth() }),
        ),
      );
      expect(error.message).to.include(`registry server ${guarded.target} refused ListProjects: UNKNOWN`);
      expect(error.message).to.include('bearer token it does not accept');
    });

    it('without a token (auth no_auth) the registry server refuses, and larder says why', async () => {
      const error = await rejection(withEnv({ INTRA_COMMUNICATION_BASE64: undefined }, () => serve('oidc-no-auth', guardedRegistry())));
      expect(error.message).to.include(`registry server ${guarded.target} refused ListProjects: UNKNOWN`);
      expect(error.message).to.include('larder sent none');
    });

    it('with auth oidc but no INTRA_COMMUNICATION_BASE64 and no token source, start fails naming the registry server', async () => {
      const error = await rejection(
        withEnv({ INTRA_COMMUNICATION_BASE64: undefined, FEAST_OIDC_TOKEN: undefined }, () =>
          serve('oidc-no-token', guardedRegistry(), { auth: oidcAuth() }),
        ),
      );
      expect(error.name).to.equal('RegistryUnavailableError');
      expect(error.message).to.include(`no bearer token to present to registry server ${guarded.target}`);
    });
  });
});
