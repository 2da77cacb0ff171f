/**
 * registry_type remote: how the `registry:` section becomes channel settings (Feast's TLS rules
 * and error texts), how a failed call is worded, and the protobuf wire helpers that write the
 * project back into listed objects.
 */
import { status, type ServiceError, Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeRegistryRows } from '../../core/src/registry/rows.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { callFailure, feastMessage } from '../../plugins/registry-remote/src/call-failure.ts';
import {
  authorityHost,
  configSchema,
  DEFAULT_TIMEOUT_SECONDS,
  MTLS_PAIR_MESSAGE,
  NO_CA_MESSAGE,
  remoteSettingsFrom,
  type RemoteRegistryConfig,
} from '../../plugins/registry-remote/src/config.ts';
import { repeatedMessages, stringField, varint, wireFields } from '../../plugins/registry-remote/src/wire.ts';
import { Ajv } from 'ajv';

const REPO = '/srv/repo';
const settings = (config: Partial<RemoteRegistryConfig>, env: NodeJS.ProcessEnv = {}) =>
  remoteSettingsFrom({ path: 'registry.internal:6570', ...config }, REPO, env);
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('registry_type remote: config', () => {
  it('is plaintext without cert or is_tls, with the 30 s read timeout and no authority', () => {
    const s = settings({});
    expect(s).to.deep.include({ target: 'registry.internal:6570', tls: null, authority: null, timeoutMs: DEFAULT_TIMEOUT_SECONDS * 1000 });
    expect(s.warnings).to.deep.equal([]);
  });

  it('uses TLS with `cert` as the CA, resolved against the feature repo; an absolute path stays', () => {
    expect(settings({ cert: 'certs/ca.pem' }).tls).to.deep.equal({ caPath: '/srv/repo/certs/ca.pem', caFrom: 'cert', client: null });
    expect(settings({ cert: '/etc/ca.pem', is_tls: false }).tls?.caPath).to.equal('/etc/ca.pem');
  });

  it('with is_tls and no cert, takes SSL_CERT_FILE, then REQUESTS_CA_BUNDLE, as Feast does', () => {
    const both = { SSL_CERT_FILE: '/etc/ssl/a.pem', REQUESTS_CA_BUNDLE: '/etc/ssl/b.pem' };
    expect(settings({ is_tls: true }, both).tls).to.deep.include({ caPath: '/etc/ssl/a.pem', caFrom: 'SSL_CERT_FILE' });
    expect(settings({ is_tls: true }, { REQUESTS_CA_BUNDLE: '/etc/ssl/b.pem' }).tls).to.deep.include({
      caPath: '/etc/ssl/b.pem',
      caFrom: 'REQUESTS_CA_BUNDLE',
    });
    // `cert` wins over the environment.
    expect(settings({ is_tls: true, cert: '/x/ca.pem' }, both).tls?.caFrom).to.equal('cert');
  });

  it("refuses is_tls without any CA with Feast's EnvironmentError text", () => {
    expect(thrown(() => settings({ is_tls: true })).message).to.equal(NO_CA_MESSAGE);
    expect(NO_CA_MESSAGE).to.match(/^SSL_CERT_FILE or REQUESTS_CA_BUNDLE environment variable must be set/);
    // Empty strings are unset, as in Feast.
    expect(thrown(() => settings({ is_tls: true, cert: '' }, { SSL_CERT_FILE: '' })).message).to.equal(NO_CA_MESSAGE);
  });

  it("takes client_cert and client_key together for mTLS, and refuses half a pair with Feast's text", () => {
    expect(settings({ cert: 'ca.pem', client_cert: 'me.pem', client_key: 'me.key' }).tls?.client).to.deep.equal({
      certPath: '/srv/repo/me.pem',
      keyPath: '/srv/repo/me.key',
    });
    expect(thrown(() => settings({ cert: 'ca.pem', client_cert: 'me.pem' })).message).to.equal(MTLS_PAIR_MESSAGE);
    expect(thrown(() => settings({ cert: 'ca.pem', client_key: 'me.key' })).message).to.equal(MTLS_PAIR_MESSAGE);
    expect(MTLS_PAIR_MESSAGE).to.equal(
      'Both client_cert and client_key must be provided for mTLS. Only one was set in the remote registry configuration.',
    );
  });

  it('warns (as Feast silently ignores them) about client certificates on a plaintext channel', () => {
    const s = settings({ client_cert: 'me.pem', client_key: 'me.key' });
    expect(s.tls).to.equal(null);
    expect(s.warnings).to.have.length(1);
    expect(s.warnings[0]).to.match(/client_cert and client_key are ignored: TLS is off/);
  });

  it('keeps authority and the larder timeout; refuses an empty path', () => {
    const s = settings({ authority: 'feast-registry.svc:443', larder: { timeout_seconds: 2.5 } });
    expect(s.authority).to.equal('feast-registry.svc:443');
    expect(s.timeoutMs).to.equal(2500);
    expect(thrown(() => settings({ path: '  ' })).message).to.match(/registry.path must be the registry server's gRPC address/);
  });

  it('takes the certificate name from the authority: host, host:port, [v6]:port, bare v6', () => {
    expect(authorityHost('registry.internal')).to.equal('registry.internal');
    expect(authorityHost('registry.internal:443')).to.equal('registry.internal');
    expect(authorityHost('[::1]:6570')).to.equal('::1');
    expect(authorityHost('fe80::1')).to.equal('fe80::1');
  });

  describe('schema', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(configSchema);
    it("accepts Feast's RemoteRegistryConfig keys, the common ones and larder.timeout_seconds", () => {
      const ok = validate({
        registry_type: 'remote',
        path: 'h:1',
        cert: 'ca.pem',
        is_tls: true,
        client_cert: 'c',
        client_key: 'k',
        authority: 'a',
        cache_ttl_seconds: 5,
        cache_mode: 'thread',
        registry_store_type: null,
        larder: { timeout_seconds: 10 },
      });
      expect(validate.errors ?? []).to.deep.equal([]);
      expect(ok).to.equal(true);
    });
    it('refuses unknown keys (a typo), a missing path, and a non-positive timeout', () => {
      expect(validate({ registry_type: 'remote', path: 'h:1', is_tsl: true })).to.equal(false);
      expect(validate({ registry_type: 'remote' })).to.equal(false);
      expect(validate({ registry_type: 'remote', path: 'h:1', larder: { timeout_seconds: 0 } })).to.equal(false);
      expect(validate({ registry_type: 'remote', path: 'h:1', larder: { deadline: 3 } })).to.equal(false);
    });
  });
});

describe('registry_type remote: call failures', () => {
  const failure = (code: status, details: string, sentToken = true) =>
    callFailure(Object.assign(new Error(details), { code, details, metadata: new Metadata() }) as ServiceError, {
      target: '127.0.0.1:6570',
      method: 'ListFeatureViews (project p)',
      timeoutMs: 30_000,
      sentToken,
    }).message;

  it("names the server, the call, the gRPC code and Feast's message out of its FeastError JSON", () => {
    const details = JSON.stringify({ module: 'feast.errors', class: 'FeastPermissionError', message: 'Permission error:\nnot allowed' });
    expect(failure(status.PERMISSION_DENIED, details)).to.equal(
      'registry server 127.0.0.1:6570 refused ListFeatureViews (project p): PERMISSION_DENIED: Permission error:\nnot allowed',
    );
    expect(feastMessage('{"not": "feast"}')).to.equal('{"not": "feast"}');
    expect(feastMessage('{broken')).to.equal('{broken');
  });

  it("says unreachable for UNAVAILABLE (without grpc-js's empty resolution note) and names the timeout for DEADLINE_EXCEEDED", () => {
    expect(failure(status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED. Resolution note: ')).to.equal(
      'registry server 127.0.0.1:6570 is not reachable: UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED.',
    );
    expect(failure(status.DEADLINE_EXCEEDED, 'Deadline exceeded')).to.match(
      /did not answer ListFeatureViews \(project p\) in time \(a registry read may take 30 s\): DEADLINE_EXCEEDED$/,
    );
  });

  it("explains Python grpc's bare UNKNOWN as the token being refused, or missing", () => {
    expect(failure(status.UNKNOWN, 'Error in service handler!')).to.include('a bearer token it does not accept');
    expect(failure(status.UNKNOWN, 'Error in service handler!', false)).to.include('larder sent none');
    expect(failure(status.UNKNOWN, 'something else')).to.equal(
      'registry server 127.0.0.1:6570 refused ListFeatureViews (project p): UNKNOWN: something else',
    );
  });
});

describe('registry_type remote: protobuf wire helpers', () => {
  it('writes varints and string fields as protobuf does', () => {
    expect([...varint(0)]).to.deep.equal([0]);
    expect([...varint(300)]).to.deep.equal([0xac, 0x02]);
    expect([...varint(2 ** 35)]).to.deep.equal([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect([...stringField(1, 'ab')]).to.deep.equal([0x0a, 2, 0x61, 0x62]);
    expect([...stringField(21, 'p')]).to.deep.equal([0xaa, 0x01, 1, 0x70]);
  });

  it('walks fields of every wire type and refuses truncated input', () => {
    const message = Buffer.concat([
      Buffer.from([0x08, 0x96, 0x01]),
      Buffer.from([0x11, 1, 2, 3, 4, 5, 6, 7, 8]),
      stringField(3, 'x'),
      Buffer.from([0x25, 1, 2, 3, 4]),
    ]);
    expect([...wireFields(message)].map((f) => [f.field, f.wireType, f.payload?.toString()])).to.deep.equal([
      [1, 0, undefined],
      [2, 1, undefined],
      [3, 2, 'x'],
      [4, 5, undefined],
    ]);
    expect(() => [...wireFields(Buffer.from([0x1a, 5, 0x61]))]).to.throw(/past the end/);
    expect(() => [...wireFields(Buffer.from([0x08]))]).to.throw(/truncated varint/);
  });

  it('takes the repeated objects of a list answer out whole, for core to decode with their project', () => {
    // A registry as Feast's list RPCs return objects: everything, but no project.
    const registry = encodeRegistry({
      project: '',
      entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
      featureViews: [{ name: 'fv', entities: ['driver'], features: [{ name: 'a', valueType: 'FLOAT' }] }],
    });
    const views = repeatedMessages(Buffer.from(registry), 6);
    expect(views).to.have.length(1);
    const decoded = decodeRegistryRows([{ table: 'feature_views', project: 'driver_ranking', proto: views[0]! }]).featureViews[0]!;
    expect([decoded.project, decoded.name, decoded.features.map((f) => f.name)]).to.deep.equal(['driver_ranking', 'fv', ['a']]);
  });
});
