/**
 * The `kubernetes` auth provider under attack and under faults (issue 16): tokens the TokenReview
 * rejects, forged service-account JWTs, expired and audience-bound tokens, an API server that is
 * slow, down, failing or answering garbage, floods of token checks, impersonation headers, huge and
 * malformed tokens, and how service-account and user identities meet Feast's group and namespace
 * policies. The API server is the stand-in of test/support/kube-api-server.ts; the larder under
 * test is the provider itself, then a real larder process called over Flight and by the Feast client.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pino from 'pino';
import type { AuthProvider } from '../../core/src/auth.ts';
import type { Policy } from '../../core/src/registry/model.ts';
import plugin from '../../plugins/auth-k8s/src/index.ts';
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
import { jwtShaped, kubeconfigYaml, startKubeApiServer, type KubeApiServer, type KubeRequest } from '../support/kube-api-server.ts';
import { freePort, startLarder, type ServerProcess } from '../support/larder-process.ts';

const logger = pino({ level: 'silent' });
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';
const RBAC = '/apis/rbac.authorization.k8s.io/v1';

const READER_SA = 'system:serviceaccount:team-a:reader-bot';
const saClaims = (sub: string, extra: Record<string, unknown> = {}) => ({
  iss: 'https://kubernetes.default.svc.cluster.local',
  sub,
  aud: ['https://kubernetes.default.svc'],
  exp: inAnHour(),
  ...extra,
});
const SA_GROUPS = (ns: string) => ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'];
const readerToken = jwtShaped(saClaims(READER_SA));
const otherSaToken = jwtShaped(saClaims('system:serviceaccount:team-b:other-bot'));
const aliceToken = 'alice-opaque-token-0123456789';
const carolToken = 'carol-opaque-token-0123456789';
const lookalikeToken = 'lookalike-opaque-token-0123456789';
const ghostToken = 'ghost-opaque-token-0123456789';
/** Unsigned, with the `kubernetes.io` claim block a projected service-account token carries. */
const forgedToken = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(
  saClaims(READER_SA, {
    'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'reader-bot', uid: '00000000-1111-2222-3333-444444444444' } },
  }),
)}.`;

/** Answers with `code` and a JSON (or raw string) body. */
const answer = (res: ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};
const isReview = (req: KubeRequest) => req.method === 'POST' && req.path === REVIEWS;

/** Resolves with the promise's rejection, or with a marker when it neither settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<Error & { code?: number }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Error>((resolve) => (timer = setTimeout(() => resolve(new Error(`still pending after ${ms} ms`)), ms)));
  try {
    return await Promise.race([rejection(promise), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('kubernetes auth under attack and faults (@larder/plugin-auth-k8s)', function () {
  this.timeout(60_000);
  let kube: KubeApiServer;
  let dir: string;
  const providers: AuthProvider[] = [];
  /** Responses a test left open (a hanging API server); ended after each test. */
  const hanging: ServerResponse[] = [];

  const kubeconfig = (name: string, server = kube.url) => {
    const file = path.join(dir, name);
    writeFileSync(file, kubeconfigYaml(server, { token: kube.callerToken }, { caFile: kube.caFile, namespace: 'feast' }));
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
    const created = await plugin.create(withDefaults(config), { repoPath: dir, logger });
    providers.push(created);
    return created;
  };
  const reviews = () => kube.count('POST', REVIEWS);
  const rbacLists = () => kube.count('GET', RBAC);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-auth-k8s-hostile-'));
    kube = await startKubeApiServer();
    kube.identities.set(readerToken, { username: READER_SA, groups: SA_GROUPS('team-a') });
    kube.identities.set(otherSaToken, { username: 'system:serviceaccount:team-b:other-bot', groups: SA_GROUPS('team-b') });
    kube.identities.set(aliceToken, { username: 'alice', groups: ['data-team', 'system:authenticated'], extra: { scopes: ['admin'] } });
    // A user (not a service account) whose groups put it in namespace team-a, as Feast reads groups.
    kube.identities.set(carolToken, { username: 'carol', groups: ['system:serviceaccounts:team-a', 'system:authenticated'] });
    // A name shaped like a service account's, vouched for by some authenticator without the SA groups.
    kube.identities.set(lookalikeToken, { username: READER_SA, groups: ['system:authenticated'] });
    kube.identities.set(ghostToken, { username: 'ghost', groups: ['system:authenticated'] });
    kube.bindings.push(
      {
        name: 'feast-readers',
        namespace: 'feast',
        subjects: [{ kind: 'ServiceAccount', name: 'reader-bot', namespace: 'team-a' }],
        roleRef: { kind: 'Role', name: 'feast-reader' },
      },
      {
        name: 'alice-admin',
        namespace: 'ml',
        subjects: [{ kind: 'User', name: 'alice' }],
        roleRef: { kind: 'ClusterRole', name: 'admin' },
      },
    );
  });

  afterEach(() => {
    kube.intercept = undefined;
    for (const res of hanging.splice(0)) res.destroy();
  });

  after(async () => {
    await Promise.all(providers.map((p) => p.close?.()));
    await kube?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('tokens the TokenReview rejects', () => {
    it("authenticated: false with an error string is UNAUTHENTICATED with the reviewer's reason, and no RBAC lookups", async () => {
      const auth = await provider();
      const before = { reviews: reviews(), lists: rbacLists() };
      const error = await rejection(auth.authenticate('nobody-knows-this-token'));
      expect(error.code).to.equal(status.UNAUTHENTICATED);
      expect(error.message).to.equal(
        'Invalid token: the Kubernetes API server did not authenticate it (TokenReview: [invalid bearer token, token lookup failed])',
      );
      expect(reviews()).to.equal(before.reviews + 1);
      expect(rbacLists()).to.equal(before.lists);
    });

    it('authenticated: false without an error, or a status missing entirely, is UNAUTHENTICATED', async () => {
      const auth = await provider();
      for (const body of [
        { kind: 'TokenReview', status: { authenticated: false } },
        { kind: 'TokenReview' },
        { kind: 'TokenReview', status: { authenticated: 'true', user: { username: 'alice' } } },
      ]) {
        kube.intercept = (req, res) => isReview(req) && (answer(res, 201, body), true);
        const error = await rejection(auth.authenticate(aliceToken));
        expect(error.code, JSON.stringify(body)).to.equal(status.UNAUTHENTICATED);
        expect(error.message).to.equal('Invalid token: the Kubernetes API server did not authenticate it (TokenReview)');
      }
    });

    it('a forged JWT (unsigned, sub system:serviceaccount:team-a:reader-bot, a kubernetes.io claim) is UNAUTHENTICATED, never its unverified sub', async () => {
      const auth = await provider();
      const before = rbacLists();
      const error = await rejection(auth.authenticate(forgedToken));
      expect(error.code).to.equal(status.UNAUTHENTICATED);
      expect(error.message).to.match(/did not authenticate it \(TokenReview: \[invalid bearer token, token lookup failed\]\)$/);
      expect(rbacLists()).to.equal(before);
    });

    it('an authenticated review naming no user, or a user name that is not a string, is UNAUTHENTICATED (not INTERNAL)', async () => {
      const auth = await provider({ cache_ttl_seconds: 0 });
      for (const user of [{}, { username: '' }, { username: 42, groups: ['x'] }, { username: ['alice'] }]) {
        kube.intercept = (req, res) =>
          isReview(req) && (answer(res, 201, { kind: 'TokenReview', status: { authenticated: true, user } }), true);
        const error = await rejection(auth.authenticate(aliceToken));
        expect(error.code, JSON.stringify(user)).to.equal(status.UNAUTHENTICATED);
        expect(error.message).to.equal('Invalid token: the Kubernetes TokenReview authenticated it but named no user');
      }
    });

    it("a reviewer's reason is cut to a readable length: a 100 KiB error string does not become a 100 KiB gRPC status", async () => {
      const auth = await provider();
      kube.intercept = (req, res) =>
        isReview(req) && (answer(res, 201, { kind: 'TokenReview', status: { error: 'x'.repeat(100 * 1024) } }), true);
      const error = await rejection(auth.authenticate(aliceToken));
      expect(error.code).to.equal(status.UNAUTHENTICATED);
      expect(error.message.length).to.be.below(1024);
      expect(error.message).to.match(/^Invalid token: the Kubernetes API server did not authenticate it \(TokenReview: x+… \(cut\)\)$/);
    });
  });

  describe('expired and audience-bound tokens', () => {
    it("without `audiences` larder sends none (the API server's own audience, as Feast): a token bound to another audience is refused", async () => {
      const bound = jwtShaped(saClaims(READER_SA, { aud: ['larder'] }));
      kube.identities.set(bound, { username: READER_SA, groups: SA_GROUPS('team-a'), audiences: ['larder'] });
      const auth = await provider();
      const start = kube.requests.length;
      expect((await auth.authenticate(readerToken)).username).to.equal(READER_SA);
      const sent = kube.requests.slice(start).find(isReview)!.body as { spec: Record<string, unknown> };
      expect(sent.spec).to.deep.equal({ token: readerToken });
      const error = await rejection(auth.authenticate(bound));
      expect(error.code).to.equal(status.UNAUTHENTICATED);
      expect(error.message).to.match(
        /token audiences \["larder"\] is invalid for the target audiences \["https:\/\/kubernetes.default.svc"\]/,
      );
    });

    it('with `audiences`, they are sent as spec.audiences: a token for them passes, a token for the API server is refused', async () => {
      const bound = jwtShaped(saClaims(READER_SA, { aud: ['larder'] }));
      kube.identities.set(bound, { username: READER_SA, groups: SA_GROUPS('team-a'), audiences: ['larder'] });
      const auth = await provider({ audiences: ['larder', 'feast-offline'] });
      const start = kube.requests.length;
      expect((await auth.authenticate(bound)).roles).to.deep.equal(['feast-reader']);
      const sent = kube.requests.slice(start).find(isReview)!.body as { spec: Record<string, unknown> };
      expect(sent.spec).to.deep.equal({ token: bound, audiences: ['larder', 'feast-offline'] });
      const error = await rejection(auth.authenticate(readerToken));
      expect(error.code).to.equal(status.UNAUTHENTICATED);
      expect(error.message).to.match(
        /token audiences \["https:\/\/kubernetes.default.svc"\] is invalid for the target audiences \["larder","feast-offline"\]/,
      );
    });

    it('with `audiences`, a review that authenticates without naming one of them (an audience-unaware reviewer) is UNAUTHENTICATED', async () => {
      const auth = await provider({ audiences: ['larder'], cache_ttl_seconds: 0 });
      for (const audiences of [undefined, [], ['https://kubernetes.default.svc'], 'larder']) {
        const status_ = { authenticated: true, user: { username: 'alice', groups: [] }, ...(audiences === undefined ? {} : { audiences }) };
        kube.intercept = (req, res) => isReview(req) && (answer(res, 201, { kind: 'TokenReview', status: status_ }), true);
        const error = await rejection(auth.authenticate(aliceToken));
        expect(error.code, JSON.stringify(audiences)).to.equal(status.UNAUTHENTICATED);
        expect(error.message).to.match(/^Invalid token: the Kubernetes TokenReview did not confirm the token is meant for \["larder"\]/);
      }
    });

    it('a cached token is not used past its exp: the next call is reviewed again and refused as expired', async function () {
      this.timeout(15_000);
      const exp = Math.floor(Date.now() / 1000) + 2;
      const shortLived = jwtShaped(saClaims(READER_SA, { exp }));
      kube.identities.set(shortLived, { username: READER_SA, groups: SA_GROUPS('team-a') });
      const auth = await provider({ cache_ttl_seconds: 600 });
      await auth.authenticate(shortLived);
      const start = reviews();
      await auth.authenticate(shortLived);
      expect(reviews()).to.equal(start, 'cached within its lifetime');
      await sleep(exp * 1000 - Date.now() + 50);
      const error = await rejection(auth.authenticate(shortLived));
      expect(error.code).to.equal(status.UNAUTHENTICATED);
      expect(error.message).to.match(/service account token has expired/);
      expect(reviews()).to.equal(start + 1);
    });
  });

  describe('an API server that is slow, down or answers garbage', () => {
    it('no answer at all: UNAVAILABLE after request_timeout_seconds', async function () {
      this.timeout(20_000);
      const auth = await provider({ request_timeout_seconds: 1 });
      kube.intercept = (req, res) => isReview(req) && (hanging.push(res), true);
      const started = Date.now();
      const error = await settlesWithin(auth.authenticate(aliceToken), 10_000);
      expect(error.code, error.message).to.equal(status.UNAVAILABLE);
      expect(error.message).to.match(/unreachable .*no answer within 1000 ms/);
      expect(Date.now() - started).to.be.below(10_000);
    });

    it('an answer dribbled a byte at a time never outlasts request_timeout_seconds (a total deadline, not an idle timer)', async function () {
      this.timeout(30_000);
      const auth = await provider({ request_timeout_seconds: 1 });
      const timers: NodeJS.Timeout[] = [];
      kube.intercept = (req, res) => {
        if (!isReview(req)) return false;
        res.writeHead(201, { 'content-type': 'application/json' });
        timers.push(setInterval(() => res.write(' '), 200));
        hanging.push(res);
        return true;
      };
      try {
        const error = await settlesWithin(auth.authenticate(aliceToken), 15_000);
        expect(error.code, error.message).to.equal(status.UNAVAILABLE);
        expect(error.message).to.match(/no answer within 1000 ms/);
      } finally {
        timers.forEach(clearInterval);
      }
    });

    it('connection refused, HTTP 500, HTTP 429 and a body that is not JSON are UNAVAILABLE; nothing is cached', async () => {
      const port = await freePort();
      const down = await provider({ kubeconfig: kubeconfig('down', `https://127.0.0.1:${port}`) });
      const refused = await rejection(down.authenticate(aliceToken));
      expect(refused.code).to.equal(status.UNAVAILABLE);
      expect(refused.message).to.match(/ECONNREFUSED/);

      const auth = await provider();
      const cases: [number, unknown, RegExp][] = [
        [500, { kind: 'Status', message: 'etcdserver: request timed out', code: 500 }, /HTTP 500: etcdserver: request timed out/],
        [429, { kind: 'Status', message: 'Too many requests, please try again later.', code: 429 }, /HTTP 429: Too many requests/],
        [201, '{"kind": "TokenReview", "status": {"authenticated": tr', /not JSON/],
        [201, '<html>proxy error</html>', /not JSON/],
      ];
      for (const [code, body, message] of cases) {
        kube.intercept = (req, res) => isReview(req) && (answer(res, code, body), true);
        const error = await rejection(auth.authenticate(aliceToken));
        expect(error.code, String(body)).to.equal(status.UNAVAILABLE);
        expect(error.message).to.match(message);
      }
      kube.intercept = undefined;
      expect((await auth.authenticate(aliceToken)).username).to.equal('alice');
    });

    it('a huge answer is not read past a bound: UNAVAILABLE, and the reviewer\'s 20 MiB "reason" never reaches the caller', async function () {
      this.timeout(30_000);
      const auth = await provider({ cache_ttl_seconds: 0 });
      let written = 0;
      kube.intercept = (req, res) => {
        if (!isReview(req)) return false;
        res.writeHead(201, { 'content-type': 'application/json' });
        res.write('{"kind": "TokenReview", "status": {"authenticated": false, "error": "');
        const chunk = 'x'.repeat(64 * 1024);
        const pump = () => {
          while (written < 20 * 1024 * 1024) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end('"}}');
        };
        res.on('error', () => undefined);
        pump();
        return true;
      };
      const error = await settlesWithin(auth.authenticate(aliceToken), 20_000);
      expect(error.code, error.message.slice(0, 200)).to.equal(status.UNAVAILABLE);
      expect(error.message).to.match(/answer to POST \/apis\/authentication.k8s.io\/v1\/tokenreviews is larger than 1048576 bytes/);
      expect(written).to.be.below(20 * 1024 * 1024, 'larder stopped reading');
    });

    it('RBAC lists that fail: 403 is FAILED_PRECONDITION naming the missing permission, 500 is UNAVAILABLE, a malformed list is UNAVAILABLE; never a user with fewer roles', async () => {
      const auth = await provider({ cache_ttl_seconds: 0 });
      const cases: [string, number, unknown, number, RegExp][] = [
        [
          `${RBAC}/namespaces/feast/rolebindings`,
          403,
          {
            kind: 'Status',
            code: 403,
            message:
              'rolebindings.rbac.authorization.k8s.io is forbidden: User "system:serviceaccount:feast:larder" cannot list resource "rolebindings"',
          },
          status.FAILED_PRECONDITION,
          /GET \/apis\/rbac.authorization.k8s.io\/v1\/namespaces\/feast\/rolebindings → HTTP 403: .*cannot list resource "rolebindings".*larder needs create on tokenreviews and list on rolebindings and clusterrolebindings/,
        ],
        [
          `${RBAC}/clusterrolebindings`,
          500,
          { kind: 'Status', code: 500, message: 'internal error' },
          status.UNAVAILABLE,
          /clusterrolebindings → HTTP 500: internal error/,
        ],
        [
          `${RBAC}/clusterrolebindings`,
          200,
          { kind: 'ClusterRoleBindingList', items: { a: 1 } },
          status.UNAVAILABLE,
          /malformed answer to GET \/apis\/rbac.authorization.k8s.io\/v1\/clusterrolebindings/,
        ],
        [
          `${RBAC}/namespaces/feast/rolebindings`,
          200,
          { kind: 'RoleBindingList', items: [null] },
          status.UNAVAILABLE,
          /malformed answer to GET .*\/namespaces\/feast\/rolebindings/,
        ],
        [
          `${RBAC}/namespaces/feast/rolebindings`,
          200,
          { kind: 'RoleBindingList', items: [{ metadata: { name: 'x' }, subjects: [{ kind: 'User', name: 'alice' }] }] },
          status.UNAVAILABLE,
          /malformed answer/,
        ],
      ];
      for (const [where, code, body, expected, message] of cases) {
        kube.intercept = (req, res) => req.method === 'GET' && req.path === where && (answer(res, code, body), true);
        const error = await rejection(auth.authenticate(readerToken));
        expect(error.code, `${where} ${code}`).to.equal(expected);
        expect(error.message).to.match(message);
      }
      kube.intercept = undefined;
      expect((await auth.authenticate(readerToken)).roles).to.deep.equal(['feast-reader']);
    });
  });

  describe('floods of token checks', () => {
    /** Holds every TokenReview until `release()`; counts how many were held at once. */
    const holdReviews = () => {
      const held: (() => void)[] = [];
      let inFlight = 0;
      let most = 0;
      kube.intercept = async (req, _res) => {
        if (!isReview(req)) return false;
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise<void>((release) => held.push(release));
        inFlight -= 1;
        return false; // the stand-in answers normally
      };
      return {
        held: () => held.length,
        most: () => most,
        release: () => held.splice(0).forEach((r) => r()),
      };
    };
    const until = async (condition: () => boolean, what: string) => {
      const deadline = Date.now() + 10_000;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(20);
      }
    };

    it('concurrent checks of one token share one review, even with cache_ttl_seconds: 0', async () => {
      const auth = await provider({ cache_ttl_seconds: 0 });
      const gate = holdReviews();
      const start = reviews();
      const checks = Array.from({ length: 20 }, () => auth.authenticate(aliceToken));
      await until(() => gate.held() >= 1, 'the review');
      await sleep(100);
      gate.release();
      const users = await Promise.all(checks);
      expect(users.every((u) => u.username === 'alice')).to.equal(true);
      expect(reviews()).to.equal(start + 1);
      kube.intercept = undefined;
      await auth.authenticate(aliceToken);
      expect(reviews()).to.equal(start + 2, 'ttl 0: a later call is reviewed again');
    });

    it('distinct tokens: at most max_concurrent_reviews reach the API server at once, more than max_pending_reviews waiting are refused at once (UNAVAILABLE)', async () => {
      const auth = await provider({ cache_ttl_seconds: 0, max_concurrent_reviews: 3, max_pending_reviews: 10 });
      const gate = holdReviews();
      const checks = Array.from({ length: 30 }, (_, i) => rejection(auth.authenticate(`flood-token-${i}`)));
      await until(() => gate.held() >= 3, 'three reviews');
      await sleep(200);
      expect(gate.most()).to.equal(3);
      // 3 running + 10 waiting; the other 17 were refused without waiting.
      const settled = await Promise.race([Promise.all(checks.slice(13)), sleep(5_000).then(() => null)]);
      expect(settled, 'the excess checks were refused without waiting').to.not.equal(null);
      for (const error of settled!) {
        expect(error.code).to.equal(status.UNAVAILABLE);
        expect(error.message).to.equal('Too many Kubernetes token checks waiting (3 running, 10 waiting): try again shortly');
      }
      const releaser = setInterval(() => gate.release(), 20);
      try {
        for (const error of await Promise.all(checks.slice(0, 13))) expect(error.code).to.equal(status.UNAUTHENTICATED);
      } finally {
        clearInterval(releaser);
      }
      expect(gate.most()).to.equal(3);
    });

    it('RBAC lists in flight are shared by the checks of different callers', async () => {
      const auth = await provider({ cache_ttl_seconds: 0 });
      const held: (() => void)[] = [];
      kube.intercept = async (req) => {
        if (req.method === 'GET') await new Promise<void>((release) => held.push(release));
        return false;
      };
      const start = { cluster: kube.count('GET', `${RBAC}/clusterrolebindings`), all: kube.count('GET', `${RBAC}/rolebindings`) };
      const users = Promise.all([aliceToken, ghostToken, carolToken].map((t) => auth.authenticate(t)));
      await until(() => held.length >= 2, 'the two lists');
      await sleep(200);
      held.splice(0).forEach((r) => r());
      expect((await users).map((u) => u.username)).to.deep.equal(['alice', 'ghost', 'carol']);
      expect(kube.count('GET', `${RBAC}/clusterrolebindings`)).to.equal(start.cluster + 1);
      expect(kube.count('GET', `${RBAC}/rolebindings`)).to.equal(start.all + 1);
    });

    it('a check waiting for a review slot waits at most request_timeout_seconds, then UNAVAILABLE', async function () {
      this.timeout(20_000);
      const auth = await provider({ cache_ttl_seconds: 0, max_concurrent_reviews: 1, request_timeout_seconds: 1 });
      kube.intercept = (req, res) => isReview(req) && (hanging.push(res), true);
      const first = rejection(auth.authenticate('slow-token-1'));
      await sleep(100);
      const second = await settlesWithin(auth.authenticate('slow-token-2'), 10_000);
      expect(second.code, second.message).to.equal(status.UNAVAILABLE);
      expect((await first).code).to.equal(status.UNAVAILABLE);
    });
  });

  describe('huge and malformed tokens are refused before any API call', () => {
    it('a token over max_token_bytes (default 16 KiB), non-ASCII or with control characters: UNAUTHENTICATED, no review', async () => {
      const auth = await provider();
      const start = reviews();
      const cases: [string, RegExp][] = [
        ['a'.repeat(1024 * 1024), /^Invalid token: longer than 16384 bytes$/],
        ['a'.repeat(16 * 1024 + 1), /^Invalid token: longer than 16384 bytes$/],
        ['tökén', /^Invalid token: only printable ASCII characters are allowed$/],
        ['abc\u0000def', /^Invalid token: only printable ASCII characters are allowed$/],
        ['', /^Invalid token: empty$/],
      ];
      for (const [token, message] of cases) {
        const started = Date.now();
        const error = await rejection(auth.authenticate(token));
        expect(error.code).to.equal(status.UNAUTHENTICATED);
        expect(error.message).to.match(message);
        expect(Date.now() - started).to.be.below(1_000);
      }
      expect(reviews()).to.equal(start);
    });

    it("a token of many dots within the bound is the reviewer's to judge (UNAUTHENTICATED), and max_token_bytes can be raised", async () => {
      const auth = await provider({ max_token_bytes: 32 * 1024 });
      const start = reviews();
      const error = await rejection(auth.authenticate('.'.repeat(20_000)));
      expect(error.code).to.equal(status.UNAUTHENTICATED);
      expect(error.message).to.match(/did not authenticate it/);
      expect(reviews()).to.equal(start + 1);
    });
  });

  describe('identities: service accounts, users and look-alikes', () => {
    it('status.user.extra is ignored; a user gets its groups and namespaces from the review and RBAC only', async () => {
      const user = await (await provider()).authenticate(aliceToken);
      expect(user).to.deep.equal({
        username: 'alice',
        roles: ['admin'],
        groups: ['data-team', 'system:authenticated'],
        namespaces: ['ml'],
      });
    });

    it('a user in group system:serviceaccounts:<ns> is in namespace <ns> (as Feast), but is not a service account', async () => {
      const user = await (await provider()).authenticate(carolToken);
      expect(user).to.deep.equal({
        username: 'carol',
        roles: [],
        groups: ['system:authenticated', 'system:serviceaccounts:team-a'],
        namespaces: ['team-a'],
      });
    });

    it('a username system:serviceaccount:<ns>:<name> is that service account whatever its groups, as Kubernetes RBAC decides', async () => {
      const user = await (await provider()).authenticate(lookalikeToken);
      expect(user).to.deep.equal({
        username: READER_SA,
        roles: ['feast-reader'],
        groups: ['system:authenticated'],
        namespaces: ['team-a'],
      });
    });
  });

  describe('a larder process: Flight clients, impersonation headers, policies, faults', function () {
    this.timeout(180_000);
    let repo: string;
    const servers: ServerProcess[] = [];
    const clients: FlightTestClient[] = [];

    const serve = async (policy: Policy, authExtra: string[] = [], timeoutSeconds = 2, env: NodeJS.ProcessEnv = {}) => {
      writeGuardedRepo(
        repo,
        ['auth:', '  type: kubernetes', '  kubeconfig: kubeconfig.yaml', `  request_timeout_seconds: ${timeoutSeconds}`, ...authExtra],
        [{ name: 'read_sources', types: ['DATA_SOURCE'], actions: ['READ_OFFLINE'], policy }],
      );
      const server = await startLarder({ repoPath: repo, env });
      servers.push(server);
      return server;
    };
    const client = (server: ServerProcess, headers: Record<string, string>) => {
      const c = connect(`127.0.0.1:${server.port}`, { headers });
      clients.push(c);
      return c;
    };
    const pull = async (server: ServerProcess, token: string, headers: Record<string, string> = {}) => {
      try {
        const table = await client(server, { authorization: `Bearer ${token}`, ...headers }).doExchange(
          pullAllCommand(),
          placeholderTable(),
        );
        return `rows ${table.numRows}`;
      } catch (error) {
        const e = error as { code: number; details: string };
        return `${status[e.code]} ${e.details}`;
      }
    };

    before(async () => {
      repo = mkdtempSync(path.join(tmpdir(), 'larder-k8s-hostile-repo-'));
      installPackages(repo, [fixturePackage('larder-store-static')]);
      writeFileSync(
        path.join(repo, 'kubeconfig.yaml'),
        kubeconfigYaml(kube.url, { token: kube.callerToken }, { caFile: kube.caFile, namespace: 'feast' }),
      );
    });

    afterEach(async () => {
      clients.splice(0).forEach((c) => c.close());
      await Promise.all(servers.splice(0).map((s) => s.stop(5_000)));
    });

    after(() => {
      if (repo) rmSync(repo, { recursive: true, force: true });
    });

    it('impersonation headers change nothing and never reach the API server', async () => {
      const server = await serve({ kind: 'role', roles: ['feast-reader'] });
      const impersonate = {
        'impersonate-user': READER_SA,
        'impersonate-group': 'system:masters',
        'impersonate-uid': 'uid-reader',
        'impersonate-extra-scopes': 'admin',
      };
      const start = kube.requests.length;
      expect(await pull(server, ghostToken, impersonate)).to.match(
        /^PERMISSION_DENIED .*FeastPermissionError.*Requires roles \['feast-reader'\]/,
      );
      expect(await pull(server, forgedToken, impersonate)).to.match(/^UNAUTHENTICATED .*did not authenticate it/);
      expect(await pull(server, readerToken, { 'impersonate-user': 'ghost', 'impersonate-group': 'nobody' })).to.equal('rows 1');
      const seen = kube.requests.slice(start);
      expect(seen.length).to.be.above(0);
      for (const req of seen)
        expect(
          Object.keys(req.headers).filter((h) => h.startsWith('impersonate-')),
          `${req.method} ${req.path}`,
        ).to.deep.equal([]);
    });

    it('Feast\'s intra-communication token (unsigned, sub ":::<INTRA_COMMUNICATION_BASE64>") is just a token the review rejects', async () => {
      const intra = 'aW50cmEtc2VydmVyLWNvbW11bmljYXRpb24=';
      const server = await serve({ kind: 'role', roles: ['feast-reader'] }, [], 2, { INTRA_COMMUNICATION_BASE64: intra });
      const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: `:::${intra}`, exp: inAnHour() })}.`;
      expect(await pull(server, token)).to.equal(
        'UNAUTHENTICATED Invalid token: the Kubernetes API server did not authenticate it (TokenReview: [invalid bearer token, token lookup failed])',
      );
    });

    it('huge and non-ASCII bearer tokens over Flight: refused quickly, no review, and the server keeps serving', async () => {
      const server = await serve({ kind: 'role', roles: ['feast-reader'] });
      const start = reviews();
      expect(await pull(server, 'a'.repeat(20 * 1024))).to.equal('UNAUTHENTICATED Invalid token: longer than 16384 bytes');
      // 1 MiB of metadata is over HTTP/2's header list limit: the transport resets the stream before larder's code runs.
      expect(await pull(server, 'a'.repeat(1024 * 1024))).to.match(/^INTERNAL Received RST_STREAM/);
      // grpc-js clients refuse to send non-ASCII metadata; a raw HTTP/2 client can, and grpc-js's
      // server drops such a value, so the call has no token at all (the plugin checks it as well).
      expect(await rawListActions(server.port, 'Bearer t\u00f6k\u00e9n')).to.deep.equal({
        status: String(status.UNAUTHENTICATED),
        message: 'Missing authorization header: send "authorization: Bearer <token>"',
      });
      expect(await rawListActions(server.port, `Bearer ${'.'.repeat(16 * 1024 + 1)}`)).to.deep.equal({
        status: String(status.UNAUTHENTICATED),
        message: 'Invalid token: longer than 16384 bytes',
      });
      expect(reviews()).to.equal(start);
      expect(await pull(server, readerToken)).to.equal('rows 1');
    });

    it('a review API that never answers, and a flood of new tokens: bounded waits, excess refused at once, cached callers still served', async function () {
      this.timeout(60_000);
      // A timeout long enough for all 40 calls to arrive while the first two reviews hang.
      const server = await serve({ kind: 'role', roles: ['feast-reader'] }, ['  max_concurrent_reviews: 2', '  max_pending_reviews: 5'], 8);
      expect(await pull(server, readerToken)).to.equal('rows 1'); // cached now
      kube.intercept = (req, res) => isReview(req) && (hanging.push(res), true);
      const started = Date.now();
      const stuck = Array.from({ length: 40 }, (_, i) => pull(server, `stuck-token-${i}`));
      expect(await pull(server, readerToken)).to.equal('rows 1');
      const answers = await Promise.all(stuck);
      expect(Date.now() - started).to.be.below(40_000);
      const unanswered = answers.filter((a) => /^UNAVAILABLE .*no answer within 8000 ms/.test(a));
      const refused = answers.filter(
        (a) => a === 'UNAVAILABLE Too many Kubernetes token checks waiting (2 running, 5 waiting): try again shortly',
      );
      // 2 reviews ran (and timed out); of the 5 waiting, the first 2 got a slot after them (and timed out too) and the other 3 gave up waiting.
      const gaveUp = answers.filter((a) => /^UNAVAILABLE No Kubernetes token check could start within 8000 ms \(2 running\)/.test(a));
      expect([unanswered.length, gaveUp.length, refused.length]).to.deep.equal([4, 3, 33]);
      expect(hanging.length).to.equal(4, 'reviews that reached the API server');
      expect((await client(server, { authorization: `Bearer ${readerToken}` }).listActions()).length).to.be.above(0);
    });

    it('an expired token cached by the server is refused after its exp', async function () {
      this.timeout(30_000);
      const server = await serve({ kind: 'role', roles: ['feast-reader'] }, ['  cache_ttl_seconds: 600']);
      const exp = Math.floor(Date.now() / 1000) + 3;
      const shortLived = jwtShaped(saClaims(READER_SA, { exp }));
      kube.identities.set(shortLived, { username: READER_SA, groups: SA_GROUPS('team-a') });
      expect(await pull(server, shortLived)).to.equal('rows 1');
      await sleep(exp * 1000 - Date.now() + 100);
      expect(await pull(server, shortLived)).to.match(/^UNAUTHENTICATED .*service account token has expired/);
    });

    it("Feast's namespace policy: a service account's namespace, a user's admin-binding namespace and a system:serviceaccounts:<ns> group count; others are denied", async () => {
      const server = await serve({ kind: 'namespace', namespaces: ['team-a', 'ml'] });
      expect(await pull(server, readerToken)).to.equal('rows 1');
      expect(await pull(server, aliceToken)).to.equal('rows 1');
      expect(await pull(server, carolToken)).to.equal('rows 1');
      expect(await pull(server, lookalikeToken)).to.equal('rows 1');
      expect(await pull(server, otherSaToken)).to.match(/FeastPermissionError.*User is not added into the permitted namespaces/);
      expect(await pull(server, ghostToken)).to.match(/FeastPermissionError.*User is not added into the permitted namespaces/);
    });

    it("Feast's group policy matches the review's groups exactly; a namespace does not make a group", async () => {
      const server = await serve({ kind: 'group', groups: ['data-team', 'system:serviceaccounts:team-b'] });
      expect(await pull(server, aliceToken)).to.equal('rows 1');
      expect(await pull(server, otherSaToken)).to.equal('rows 1');
      expect(await pull(server, readerToken)).to.match(/FeastPermissionError.*User is not added into the permitted groups/);
      expect(await pull(server, carolToken)).to.match(/FeastPermissionError.*User is not added into the permitted groups/);
    });

    it("Feast's combined policy: a group or a namespace; and the Feast client gets FeastPermissionError", async () => {
      const server = await serve({ kind: 'combined', groups: ['data-team'], namespaces: ['team-b'] });
      expect(await pull(server, aliceToken)).to.equal('rows 1');
      expect(await pull(server, otherSaToken)).to.equal('rows 1');
      expect(await pull(server, readerToken)).to.match(/User must be in at least one of the permitted groups or namespaces/);
      const feast = (token: string) => feastClientPull(repo, server.port, ['auth:', '  type: kubernetes', `  user_token: ${token}`]);
      expect(await feast(otherSaToken)).to.equal('rows 1');
      expect(await feast(readerToken)).to.equal(
        "feast.errors.FeastPermissionError Permission error: | Permission read_sources denied execution of ['READ_OFFLINE'] to FileSource:driver_source: User must be in at least one of the permitted groups or namespaces",
      );
    });
  });
});

/**
 * ListActions over a raw HTTP/2 stream with the given authorization header (bytes a grpc-js client
 * will not send); resolves with the grpc-status and decoded grpc-message trailers.
 */
function rawListActions(port: number, authorization: string): Promise<{ status: string; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/arrow.flight.protocol.FlightService/ListActions',
      'content-type': 'application/grpc',
      te: 'trailers',
      authorization,
    });
    const found: Record<string, string> = {};
    const take = (headers: http2.IncomingHttpHeaders) => {
      for (const name of ['grpc-status', 'grpc-message']) if (typeof headers[name] === 'string') found[name] = headers[name] as string;
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', () => undefined);
    stream.on('error', reject);
    stream.on('close', () => {
      session.close();
      resolve({ status: found['grpc-status'] ?? '', message: decodeURIComponent(found['grpc-message'] ?? '') });
    });
    // One gRPC frame: not compressed, length 0 (an Empty message).
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

/** The plugin's config with its schema defaults filled in, as larder's config loader does. */
function withDefaults(config: Record<string, unknown>): Record<string, unknown> {
  const properties = (plugin.configSchema as { properties?: Record<string, { default?: unknown }> }).properties ?? {};
  const defaults = Object.fromEntries(
    Object.entries(properties)
      .filter(([, p]) => p.default !== undefined)
      .map(([k, p]) => [k, p.default]),
  );
  return { ...defaults, ...config };
}
