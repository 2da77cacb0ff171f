/**
 * registry_type remote over a real gRPC connection to a grpc-js server standing in for Feast's
 * registry server, for what `feast serve_registry` cannot be made to do: demand a client
 * certificate (mutual TLS), or never answer. The stand-in answers the List RPCs the way Feast's
 * does — objects without their project — and records what larder sent.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import pino from 'pino';
import type { RegistrySource } from '../../core/src/registry/model.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import plugin from '../../plugins/registry-remote/src/index.ts';
import { MTLS_PAIR_MESSAGE } from '../../plugins/registry-remote/src/config.ts';
import { OBJECT_LISTS } from '../../plugins/registry-remote/src/list-registry.ts';
import { lenField, repeatedMessages, stringField, wireFields } from '../../plugins/registry-remote/src/wire.ts';

const run = promisify(execFile);
const RPCS = ['ListProjects', ...OBJECT_LISTS.map((list) => list.rpc)];

interface Seen {
  readonly rpc: string;
  /** Field 1 of the request (the project of a List*Request), or null. */
  readonly project: string | null;
  readonly authorization: string | null;
  readonly peerCommonName: string | null;
}

interface StandIn {
  readonly target: string;
  readonly seen: Seen[];
  stop(): Promise<void>;
}

/** A view `fv` as Feast's ListFeatureViews returns it: complete, but with no project. */
function projectlessView(): Buffer {
  const registry = encodeRegistry({
    project: '',
    entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
    featureViews: [{ name: 'fv', entities: ['driver'], features: [{ name: 'a', valueType: 'FLOAT' }] }],
  });
  return repeatedMessages(Buffer.from(registry), 6)[0]!;
}
/** feast.core.Project: spec (1) → name (1). */
const project = (name: string) => lenField(1, stringField(1, name));

async function startStandIn(
  credentials: grpc.ServerCredentials,
  answer: (rpc: string, project: string | null) => Buffer | 'hang',
): Promise<StandIn> {
  const seen: Seen[] = [];
  const identity = (b: Buffer) => b;
  const definition: grpc.ServiceDefinition = Object.fromEntries(
    RPCS.map((rpc) => [
      rpc,
      {
        path: `/feast.registry.RegistryServer/${rpc}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    ]),
  );
  const implementation: grpc.UntypedServiceImplementation = Object.fromEntries(
    RPCS.map((rpc) => [
      rpc,
      (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const field1 = [...wireFields(call.request)].find((f) => f.field === 1)?.payload?.toString('utf8') ?? null;
        const peer = call.getAuthContext().sslPeerCertificate;
        seen.push({
          rpc,
          project: field1,
          authorization: call.metadata.get('authorization').map(String)[0] ?? null,
          peerCommonName: [peer?.subject?.CN ?? []].flat().join(',') || null,
        });
        const response = answer(rpc, field1);
        if (response !== 'hang') callback(null, response);
      },
    ]),
  );
  const server = new grpc.Server();
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, p) => (error ? reject(error) : resolve(p))),
  );
  return {
    target: `127.0.0.1:${port}`,
    seen,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** Answers project `p` with one view, lists `listed` as the projects, and everything else empty. */
const oneView = (listed: string[]) => (rpc: string, requested: string | null) => {
  if (rpc === 'ListProjects') return Buffer.concat(listed.map((name) => lenField(1, project(name))));
  if (rpc === 'ListFeatureViews' && requested === 'p') return lenField(1, projectlessView());
  return Buffer.alloc(0);
};

async function openRegistry(
  config: Record<string, unknown>,
  options: { project?: string; logger?: pino.Logger; repoPath?: string } = {},
): Promise<RegistrySource> {
  return plugin.create(
    { registry_type: 'remote', cache_ttl_seconds: 0, ...config },
    {
      repoPath: options.repoPath ?? '/',
      project: options.project ?? 'p',
      logger: options.logger ?? pino({ level: 'silent' }),
      serviceToken: async () => 'service-token',
    },
  );
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('registry_type remote against a grpc-js stand-in registry server', function () {
  this.timeout(30_000);
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-registry-remote-grpc-'));
    const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
    await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
    writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    for (const [name, cn, ext] of [
      ['server', 'localhost', ['-extfile', 'server.ext']],
      ['client', 'larder-client', []],
    ] as const) {
      await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
      await ssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '1',
        '-out',
        `${name}.pem`,
        ...ext,
      );
    }
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('a server demanding a client certificate (mutual TLS)', () => {
    let standIn: StandIn;
    before(async () => {
      const read = (f: string) => readFileSync(path.join(dir, f));
      const credentials = grpc.ServerCredentials.createSsl(
        read('ca.pem'),
        [{ private_key: read('server.key'), cert_chain: read('server.pem') }],
        true,
      );
      standIn = await startStandIn(credentials, oneView(['p']));
    });
    after(() => standIn?.stop());

    it('presents client_cert/client_key (relative to the repo), sends the bearer token, and reads the project back into the objects', async () => {
      const registry = await openRegistry(
        { path: standIn.target, cert: 'ca.pem', client_cert: 'client.pem', client_key: 'client.key' },
        { repoPath: dir },
      );
      try {
        const view = (await registry.snapshot()).getFeatureView('fv', 'p');
        expect(view.project).to.equal('p');
        expect(view.features.map((f) => f.name)).to.deep.equal(['a']);
      } finally {
        await registry.close();
      }
      expect(standIn.seen.map((s) => s.rpc).sort()).to.deep.equal([...RPCS].sort());
      expect(standIn.seen.filter((s) => s.rpc !== 'ListProjects').every((s) => s.project === 'p')).to.equal(true);
      expect(new Set(standIn.seen.map((s) => s.authorization))).to.deep.equal(new Set(['Bearer service-token']));
      expect(new Set(standIn.seen.map((s) => s.peerCommonName))).to.deep.equal(new Set(['larder-client']));
    });

    it('without a client certificate the handshake fails and the registry does not open', async () => {
      const error = await rejection(openRegistry({ path: standIn.target, cert: path.join(dir, 'ca.pem') }));
      expect(error.name).to.equal('RegistryUnavailableError');
      expect(error.message).to.include(`registry server ${standIn.target} is not reachable: UNAVAILABLE`);
    });

    it("half a client pair is refused with Feast's message before connecting", async () => {
      const before = standIn.seen.length;
      const error = await rejection(
        openRegistry({ path: standIn.target, cert: path.join(dir, 'ca.pem'), client_key: path.join(dir, 'client.key') }),
      );
      expect(error.message).to.equal(MTLS_PAIR_MESSAGE);
      expect(standIn.seen.length).to.equal(before);
    });

    it('a certificate file that does not exist is named', async () => {
      const error = await rejection(openRegistry({ path: standIn.target, cert: path.join(dir, 'missing.pem') }));
      expect(error.message).to.equal(`registry.cert: cannot read ${path.join(dir, 'missing.pem')} (ENOENT)`);
    });
  });

  describe('a plaintext server', () => {
    it('reads the configured project even when ListProjects leaves it out, and every listed one', async () => {
      const standIn = await startStandIn(grpc.ServerCredentials.createInsecure(), oneView(['other']));
      try {
        const registry = await openRegistry({ path: standIn.target });
        expect((await registry.snapshot()).getFeatureView('fv', 'p').name).to.equal('fv');
        await registry.close();
        const projects = new Set(standIn.seen.filter((s) => s.rpc === 'ListFeatureViews').map((s) => s.project));
        expect(projects).to.deep.equal(new Set(['p', 'other']));
      } finally {
        await standIn.stop();
      }
    });

    it('warns when the configured project holds nothing (what an identity without DESCRIBE permissions reads)', async () => {
      const standIn = await startStandIn(grpc.ServerCredentials.createInsecure(), oneView([]));
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
      try {
        const registry = await openRegistry({ path: standIn.target }, { project: 'empty', logger });
        await registry.close();
        const warnings = lines.map((l) => JSON.parse(l) as { msg: string; project?: string });
        expect(warnings.filter((w) => w.msg.startsWith('the registry server lists no entities') && w.project === 'empty')).to.have.length(
          1,
        );
      } finally {
        await standIn.stop();
      }
    });

    it('gives up on a server that never answers after larder.timeout_seconds', async () => {
      const standIn = await startStandIn(grpc.ServerCredentials.createInsecure(), () => 'hang');
      try {
        const started = Date.now();
        const error = await rejection(openRegistry({ path: standIn.target, larder: { timeout_seconds: 0.5 } }));
        expect(Date.now() - started).to.be.within(400, 5_000);
        expect(error.message).to.include(
          `registry server ${standIn.target} did not answer ListProjects in time (a registry read may take 0.5 s): DEADLINE_EXCEEDED`,
        );
      } finally {
        await standIn.stop();
      }
    });
  });
});
