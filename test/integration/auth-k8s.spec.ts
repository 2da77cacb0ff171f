/**
 * The `kubernetes` auth provider (@larder/plugin-auth-k8s) against a stand-in API server speaking
 * the real TokenReview and RBAC shapes over HTTPS: identities, roles and namespaces as Feast
 * derives them, a forged service-account JWT refused (Feast would accept it), caching, failures of
 * the API server, kubeconfig and in-cluster configuration, and the unchanged Feast client end to end.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pino from 'pino';
import type { AuthProvider, User } from '../../core/src/auth.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import plugin from '../../plugins/auth-k8s/src/index.ts';
import { KubernetesAuthProvider } from '../../plugins/auth-k8s/src/authenticator.ts';
import { inClusterConnection } from '../../plugins/auth-k8s/src/in-cluster.ts';
import { KubeApi } from '../../plugins/auth-k8s/src/kube-api.ts';
import { kubeconfigConnection } from '../../plugins/auth-k8s/src/kubeconfig.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import {
  feastClientPull,
  fixturePackage,
  installPackages,
  placeholderTable,
  pullAllCommand,
  rejection,
  writeGuardedRepo,
} from '../support/guarded-repo.ts';
import { jwtShaped, kubeconfigYaml, startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { freePort } from '../support/larder-process.ts';

const logger = pino({ level: 'silent' });
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

const READER_SA = 'system:serviceaccount:team-a:reader-bot';
const saClaims = (sub: string) => ({
  iss: 'https://kubernetes.default.svc.cluster.local',
  sub,
  aud: ['https://kubernetes.default.svc'],
  exp: inAnHour(),
});
const readerToken = jwtShaped(saClaims(READER_SA));
const idleToken = jwtShaped(saClaims('system:serviceaccount:team-b:idle-bot'));
const aliceToken = 'alice-opaque-token-0123456789';
/** Well-formed, unsigned, naming a real service account: Feast's parser takes its `sub` on trust. */
const forgedToken = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(saClaims(READER_SA))}.`;

describe('kubernetes auth (@larder/plugin-auth-k8s) against a Kubernetes API server', function () {
  this.timeout(60_000);
  let kube: KubeApiServer;
  let dir: string;
  const providers: AuthProvider[] = [];

  /** A kubeconfig file reaching the test API server with `user` credentials. */
  const kubeconfig = (name: string, user: Record<string, string> = { token: kube.callerToken }, server = kube.url) => {
    const file = path.join(dir, name);
    writeFileSync(file, kubeconfigYaml(server, user, { caFile: kube.caFile, namespace: 'feast' }));
    return file;
  };
  const provider = async (options: Record<string, unknown> = {}) => {
    const config = {
      type: 'kubernetes',
      cache_ttl_seconds: 60,
      cache_max_entries: 100,
      request_timeout_seconds: 5,
      kubeconfig: kubeconfig('config'),
      ...options,
    };
    const created = await plugin.create(config, { repoPath: dir, logger });
    providers.push(created);
    return created;
  };
  const reviews = () => kube.count('POST', '/apis/authentication.k8s.io/v1/tokenreviews');

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-auth-k8s-'));
    kube = await startKubeApiServer();
    kube.identities.set(readerToken, {
      username: READER_SA,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
    });
    kube.identities.set(idleToken, {
      username: 'system:serviceaccount:team-b:idle-bot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-b', 'system:authenticated'],
    });
    kube.identities.set(aliceToken, { username: 'alice', groups: ['data-team', 'system:authenticated'] });
    kube.bindings.push(
      // In the server's namespace (feast): the service account's role, as Feast reads it.
      {
        name: 'feast-readers',
        namespace: 'feast',
        subjects: [{ kind: 'ServiceAccount', name: 'reader-bot', namespace: 'team-a' }],
        roleRef: { kind: 'Role', name: 'feast-reader' },
      },
      // Elsewhere: Feast does not read a service account's RoleBindings outside the server's namespace.
      {
        name: 'local-only',
        namespace: 'team-a',
        subjects: [{ kind: 'ServiceAccount', name: 'reader-bot' }],
        roleRef: { kind: 'Role', name: 'team-a-only' },
      },
      {
        name: 'sa-viewers',
        subjects: [{ kind: 'Group', name: 'system:serviceaccounts:team-a' }],
        roleRef: { kind: 'ClusterRole', name: 'viewer' },
      },
      {
        name: 'alice-admin',
        namespace: 'ml',
        subjects: [{ kind: 'User', name: 'alice' }],
        roleRef: { kind: 'ClusterRole', name: 'admin' },
      },
      {
        name: 'dashboard-permissions-alice',
        namespace: 'research',
        labels: { 'opendatahub.io/dashboard': 'true' },
        subjects: [{ kind: 'User', name: 'alice' }],
        roleRef: { kind: 'ClusterRole', name: 'edit' },
      },
      {
        name: 'data-team-writers',
        namespace: 'ml',
        subjects: [{ kind: 'Group', name: 'data-team' }],
        roleRef: { kind: 'Role', name: 'feast-writer' },
      },
      { name: 'bob-global', subjects: [{ kind: 'User', name: 'bob' }], roleRef: { kind: 'ClusterRole', name: 'auditor' } },
    );
  });

  after(async () => {
    await Promise.all(providers.map((p) => p.close?.()));
    await kube?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('identities', () => {
    it('a service-account token: its TokenReview name and groups, roles from the server namespace and ClusterRoleBindings, its namespace', async () => {
      const user = await (await provider()).authenticate(readerToken);
      expect(user).to.deep.equal({
        username: READER_SA,
        roles: ['feast-reader', 'viewer'],
        groups: ['system:authenticated', 'system:serviceaccounts', 'system:serviceaccounts:team-a'],
        namespaces: ['team-a'],
      });
    });

    it('a service account bound to nothing has no roles', async () => {
      const user = await (await provider()).authenticate(idleToken);
      expect(user).to.include({ username: 'system:serviceaccount:team-b:idle-bot' });
      expect(user.roles).to.deep.equal([]);
      expect(user.namespaces).to.deep.equal(['team-b']);
    });

    it('a user token: roles from RoleBindings in every namespace and ClusterRoleBindings (by user or group), namespaces from admin/dashboard bindings', async () => {
      const user = await (await provider()).authenticate(aliceToken);
      expect(user).to.deep.equal({
        username: 'alice',
        roles: ['admin', 'edit', 'feast-writer'],
        groups: ['data-team', 'system:authenticated'],
        namespaces: ['ml', 'research'],
      });
    });

    it('the server namespace can be set; a service account then gets the RoleBindings of that namespace', async () => {
      const user = await (await provider({ namespace: 'team-a' })).authenticate(readerToken);
      expect(user.roles).to.deep.equal(['team-a-only', 'viewer']);
    });

    it('a forged service-account JWT (unsigned, plausible sub) is UNAUTHENTICATED: the TokenReview decides, not the claims', async () => {
      const before = { reviews: reviews(), lists: kube.count('GET', '/apis/rbac') };
      const error = await rejection((await provider()).authenticate(forgedToken));
      expect(error.code).to.equal(status.UNAUTHENTICATED);
      expect(error.message).to.equal(
        'Invalid token: the Kubernetes API server did not authenticate it (TokenReview: [invalid bearer token, token lookup failed])',
      );
      expect(reviews()).to.equal(before.reviews + 1);
      expect(kube.count('GET', '/apis/rbac')).to.equal(before.lists, 'no RBAC lookups for an unauthenticated token');
    });
  });

  describe('caching', () => {
    it('within the TTL a token is not reviewed again; after it, once more', async () => {
      const auth = await provider({ cache_ttl_seconds: 0.4 });
      const start = reviews();
      const first = await auth.authenticate(readerToken);
      expect(await auth.authenticate(readerToken)).to.equal(first);
      expect(await Promise.all([auth.authenticate(readerToken), auth.authenticate(readerToken)])).to.have.length(2);
      expect(reviews()).to.equal(start + 1);
      await new Promise((r) => setTimeout(r, 500));
      await auth.authenticate(readerToken);
      expect(reviews()).to.equal(start + 2);
    });

    it('failures are not cached; concurrent checks of one new token share one review', async () => {
      const auth = await provider();
      const start = reviews();
      await rejection(auth.authenticate(forgedToken));
      await rejection(auth.authenticate(forgedToken));
      expect(reviews()).to.equal(start + 2);
      const users = await Promise.all([1, 2, 3].map(() => auth.authenticate(aliceToken)));
      expect(users.map((u: User) => u.username)).to.deep.equal(['alice', 'alice', 'alice']);
      expect(reviews()).to.equal(start + 3);
    });

    it('a token is not reused past its own expiry, and the cache is bounded', async function () {
      this.timeout(10_000);
      const exp = Math.floor(Date.now() / 1000) + 2;
      const shortLived = jwtShaped({ ...saClaims(READER_SA), exp });
      kube.identities.set(shortLived, kube.identities.get(readerToken)!);
      const auth = await provider({ cache_ttl_seconds: 600, cache_max_entries: 1 });
      const start = reviews();
      await auth.authenticate(shortLived);
      await auth.authenticate(shortLived);
      expect(reviews()).to.equal(start + 1);
      await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
      // Reviewed again, and the API server now refuses it as expired.
      expect((await rejection(auth.authenticate(shortLived))).message).to.match(/token has expired/);
      expect(reviews()).to.equal(start + 2);

      await auth.authenticate(aliceToken);
      await auth.authenticate(readerToken); // evicts alice's entry: one entry at most
      await auth.authenticate(aliceToken);
      expect(reviews()).to.equal(start + 5);
    });

    it('cache_ttl_seconds: 0 reviews every call, as Feast does', async () => {
      const auth = await provider({ cache_ttl_seconds: 0 });
      const start = reviews();
      await auth.authenticate(aliceToken);
      await auth.authenticate(aliceToken);
      expect(reviews()).to.equal(start + 2);
    });
  });

  describe('API server failures', () => {
    it('an unreachable API server is UNAVAILABLE, naming the server and the cause', async () => {
      const port = await freePort();
      const auth = await provider({ kubeconfig: kubeconfig('unreachable', { token: kube.callerToken }, `https://127.0.0.1:${port}`) });
      const error = await rejection(auth.authenticate(aliceToken));
      expect(error.code).to.equal(status.UNAVAILABLE);
      expect(error.message).to.match(
        new RegExp(
          `^Cannot verify the token: the Kubernetes API server https://127.0.0.1:${port} is unreachable \\(POST /apis/authentication.k8s.io/v1/tokenreviews: .*ECONNREFUSED`,
        ),
      );
    });

    it('refused larder credentials are FAILED_PRECONDITION, saying what larder needs', async () => {
      const auth = await provider({ kubeconfig: kubeconfig('wrong-token', { token: 'not-the-server-token' }) });
      const error = await rejection(auth.authenticate(aliceToken));
      expect(error.code).to.equal(status.FAILED_PRECONDITION);
      expect(error.message).to.match(/refused larder's own credentials .*HTTP 401: Unauthorized\. larder needs create on tokenreviews/);
    });

    it('a server certificate from another CA is refused (UNAVAILABLE, the TLS error named)', async () => {
      const file = path.join(dir, 'other-ca');
      writeFileSync(file, kubeconfigYaml(kube.url, { token: kube.callerToken }));
      const auth = await provider({ kubeconfig: file });
      const error = await rejection(auth.authenticate(aliceToken));
      expect(error.code).to.equal(status.UNAVAILABLE);
      expect(error.message).to.match(/self[- ]signed|unable to verify|UNABLE_TO_VERIFY|SELF_SIGNED/i);
    });
  });

  describe('configuration', () => {
    it('kubeconfig: several files merge (first wins), relative paths resolve against each file, tokenFile is read', () => {
      const sub = path.join(dir, 'split');
      mkdirSync(path.join(sub, 'certs'), { recursive: true });
      writeFileSync(path.join(sub, 'certs', 'ca.pem'), readFileSync(kube.caFile));
      writeFileSync(path.join(sub, 'token'), `${kube.callerToken}\n`);
      writeFileSync(
        path.join(sub, 'a.yaml'),
        [
          'current-context: work',
          'contexts:',
          '- name: work',
          '  context: {cluster: c, user: u, namespace: analytics}',
          'users:',
          '- name: u',
          '  user: {tokenFile: token}',
          '',
        ].join('\n'),
      );
      writeFileSync(
        path.join(sub, 'b.yaml'),
        [
          'current-context: ignored',
          'clusters:',
          `- name: c`,
          `  cluster: {server: '${kube.url}/', certificate-authority: certs/ca.pem}`,
          'contexts:',
          '- name: work',
          '  context: {cluster: other}',
          '',
        ].join('\n'),
      );
      const connection = kubeconfigConnection([path.join(sub, 'a.yaml'), path.join(sub, 'b.yaml')]);
      expect(connection.server.href).to.equal(`${kube.url}/`);
      expect(connection.namespace).to.equal('analytics');
      expect(connection.ca?.toString()).to.equal(readFileSync(kube.caFile, 'utf8'));
      expect(connection.description).to.match(/context "work"/);
      return connection.bearerToken().then((token) => expect(token).to.equal(kube.callerToken));
    });

    it('kubeconfig: inline CA and client-certificate data authenticate larder without a token', async () => {
      const file = path.join(dir, 'client-cert');
      const data = (f: string) => readFileSync(f).toString('base64');
      writeFileSync(
        file,
        kubeconfigYaml(
          kube.url,
          { 'client-certificate-data': data(kube.clientCertFile), 'client-key-data': data(kube.clientKeyFile) },
          { caData: data(kube.caFile), namespace: 'feast' },
        ),
      );
      const user = await (await provider({ kubeconfig: file })).authenticate(readerToken);
      expect(user.roles).to.deep.equal(['feast-reader', 'viewer']);
    });

    it('kubeconfig: credential plugins and undefined names are refused at start with the reason', () => {
      const exec = path.join(dir, 'exec');
      writeFileSync(exec, kubeconfigYaml(kube.url, { exec: '{command: aws, apiVersion: client.authentication.k8s.io/v1}' }));
      expect(() => kubeconfigConnection([exec])).to.throw(/user "test-user" uses "exec", which larder does not support/);
      expect(() => kubeconfigConnection([exec], 'missing')).to.throw(/context "missing" is not defined/);
      const file = path.join(dir, 'bad.yaml');
      writeFileSync(file, 'clusters: [');
      expect(() => kubeconfigConnection([file])).to.throw(/is not valid YAML/);
      const config = {
        type: 'kubernetes',
        kubeconfig: 'nope.yaml',
        cache_ttl_seconds: 1,
        cache_max_entries: 1,
        request_timeout_seconds: 1,
      };
      expect(() => plugin.create(config, { repoPath: dir, logger })).to.throw(/auth\.kubeconfig: .*nope\.yaml does not exist/);
    });

    it('in-cluster: the service address from the environment, the pod token, CA and namespace files', async () => {
      const sa = path.join(dir, 'serviceaccount');
      mkdirSync(sa);
      writeFileSync(path.join(sa, 'token'), kube.callerToken);
      writeFileSync(path.join(sa, 'ca.crt'), readFileSync(kube.caFile));
      writeFileSync(path.join(sa, 'namespace'), 'team-a');
      expect(inClusterConnection({}, sa)).to.equal(null);
      const connection = inClusterConnection({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(kube.port) }, sa)!;
      expect(connection.server.origin).to.equal(kube.url);
      expect(connection.namespace).to.equal('team-a');
      const auth = new KubernetesAuthProvider(new KubeApi(connection, 5000), {
        serverNamespace: connection.namespace!,
        cacheTtlMs: 0,
        cacheMaxEntries: 1,
      });
      providers.push(auth);
      expect((await auth.authenticate(readerToken)).roles).to.deep.equal(['team-a-only', 'viewer']);
      expect(() => inClusterConnection({ KUBERNETES_SERVICE_HOST: '127.0.0.1' }, path.join(dir, 'none'))).to.throw(
        /service-account files are missing/,
      );
    });
  });

  describe('end to end: a larder server with auth type kubernetes and the unchanged Feast client', function () {
    this.timeout(180_000);
    let repo: string;
    let server: RunningServer;
    const clients: FlightTestClient[] = [];

    before(async () => {
      repo = mkdtempSync(path.join(tmpdir(), 'larder-k8s-repo-'));
      installPackages(repo, [fixturePackage('larder-store-static')]);
      writeFileSync(
        path.join(repo, 'kubeconfig.yaml'),
        kubeconfigYaml(kube.url, { token: kube.callerToken }, { caFile: kube.caFile, namespace: 'feast' }),
      );
      writeGuardedRepo(
        repo,
        ['auth:', '  type: kubernetes', '  kubeconfig: kubeconfig.yaml'],
        [{ name: 'read_sources', types: ['DATA_SOURCE'], actions: ['READ_OFFLINE'], policy: { kind: 'role', roles: ['feast-reader'] } }],
      );
      server = await startServer({ chdir: repo, port: 0, logger });
    });

    after(async () => {
      clients.forEach((c) => c.close());
      await server?.stop(1000);
      if (repo) rmSync(repo, { recursive: true, force: true });
    });

    it('a forged service-account token is UNAUTHENTICATED over Flight', async () => {
      const client = connect(`127.0.0.1:${server.port}`, { headers: { authorization: `Bearer ${forgedToken}` } });
      clients.push(client);
      const error = await rejection(client.doExchange(pullAllCommand(), placeholderTable()));
      expect(error.code).to.equal(status.UNAUTHENTICATED);
      expect(error.details).to.match(/did not authenticate it/);
    });

    it('the Feast client reads with a token whose RoleBinding role is permitted, and gets FeastPermissionError otherwise', async () => {
      // Feast's kubernetes client auth sends a fixed `user_token` as the bearer token.
      const pull = (token: string) => feastClientPull(repo, server.port, ['auth:', '  type: kubernetes', `  user_token: ${token}`]);
      expect(await pull(readerToken)).to.equal('rows 1');
      expect(await pull(idleToken)).to.equal(
        "feast.errors.FeastPermissionError Permission error: | Permission read_sources denied execution of ['READ_OFFLINE'] to FileSource:driver_source: Requires roles ['feast-reader']",
      );
      expect(await pull(forgedToken)).to.match(/did not authenticate it/);
    });
  });
});
