/**
 * A stand-in Kubernetes API server for auth tests: HTTPS with a throwaway CA (made with the
 * openssl CLI), answering the calls larder's kubernetes auth makes with the real API shapes:
 *
 *   POST /apis/authentication.k8s.io/v1/tokenreviews          authenticated only for known tokens
 *   GET  /apis/rbac.authorization.k8s.io/v1/namespaces/<ns>/rolebindings
 *   GET  /apis/rbac.authorization.k8s.io/v1/rolebindings        (all namespaces)
 *   GET  /apis/rbac.authorization.k8s.io/v1/clusterrolebindings
 *
 * Like a real API server it demands credentials of its caller: the bearer `callerToken`, or a
 * client certificate signed by its CA. Every request is recorded (with its headers and body) so
 * tests can count and inspect them. A TokenReview checks what the API server checks besides the
 * signature: a JWT-shaped token's `exp`, and its audiences against `spec.audiences` (the API
 * server's own audience when none are asked for), answering `status.audiences` as the
 * intersection. `intercept` lets a test answer a request itself: slowly, with an error, with
 * garbage, or not at all.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';

export interface KubeSubject {
  readonly kind: 'User' | 'Group' | 'ServiceAccount';
  readonly name: string;
  readonly namespace?: string;
}

export interface KubeBinding {
  readonly name: string;
  /** Set for a RoleBinding, absent for a ClusterRoleBinding. */
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly subjects: readonly KubeSubject[];
  readonly roleRef: { readonly kind: 'Role' | 'ClusterRole'; readonly name: string };
}

export interface KubeIdentity {
  readonly username: string;
  readonly groups: readonly string[];
  /** The token's audiences. Default: the API server's own, API_AUDIENCE. */
  readonly audiences?: readonly string[];
  /** `status.user.extra`, as a TokenReview returns it. */
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** The audience of this stand-in API server (a real one: its --api-audiences). */
export const API_AUDIENCE = 'https://kubernetes.default.svc';

export interface KubeRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON body of a POST. */
  readonly body?: unknown;
}

/**
 * Answers a request in place of the stand-in (after the caller's credentials were checked).
 * Returns false to let the stand-in answer as usual.
 */
export type KubeIntercept = (req: KubeRequest, res: ServerResponse) => boolean | Promise<boolean>;

export interface KubeApiServer {
  readonly url: string;
  readonly port: number;
  /** The CA that signed the server's and the client's certificates. */
  readonly caFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** The bearer token this server accepts from its caller (larder's own service account). */
  readonly callerToken: string;
  /** Tokens a TokenReview authenticates, and as whom. Mutable. */
  readonly identities: Map<string, KubeIdentity>;
  readonly bindings: KubeBinding[];
  readonly requests: KubeRequest[];
  /** Set by a test to answer requests itself; undefined for the normal behaviour. */
  intercept: KubeIntercept | undefined;
  count(method: string, pathPrefix: string): number;
  stop(): Promise<void>;
}

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

function makeCertificates(dir: string) {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
  const signed = (name: string, subject: string, ext: string) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`));
    writeFileSync(file(`${name}.ext`), ext);
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.pem`),
    );
  };
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=kube test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  signed('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\n');
  signed('client', '/CN=larder/O=larder', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
  };
}

/** A Kubernetes `Status` error body, as the API server sends it. */
function statusBody(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function bindingItem(b: KubeBinding, index: number) {
  return {
    metadata: {
      name: b.name,
      ...(b.namespace ? { namespace: b.namespace } : {}),
      uid: `00000000-0000-0000-0000-${String(index).padStart(12, '0')}`,
      resourceVersion: String(1000 + index),
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(b.labels ? { labels: b.labels } : {}),
    },
    subjects: b.subjects.map((s) => (s.kind === 'ServiceAccount' ? { ...s } : { apiGroup: 'rbac.authorization.k8s.io', ...s })),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...b.roleRef },
  };
}

export async function startKubeApiServer(): Promise<KubeApiServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'larder-kube-'));
  const certs = makeCertificates(dir);
  const callerToken = 'larder-server-sa-token';
  const identities = new Map<string, KubeIdentity>();
  const bindings: KubeBinding[] = [];
  const requests: KubeRequest[] = [];

  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const list = (kind: string, items: KubeBinding[]) => ({
    kind,
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: { resourceVersion: '4242' },
    items: items.map((b) => bindingItem(b, bindings.indexOf(b))),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    let body: unknown;
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, statusBody(400, 'BadRequest', 'the request body is not JSON'));
      }
    }
    const request: KubeRequest = { method: req.method ?? '', path: url.pathname, headers: { ...req.headers }, body };
    requests.push(request);
    const socket = req.socket as TLSSocket;
    const byCert = socket.authorized && socket.getPeerCertificate().subject?.CN === 'larder';
    if (!byCert && req.headers.authorization !== `Bearer ${callerToken}`)
      return send(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
    if (api.intercept && (await api.intercept(request, res))) return;

    if (req.method === 'POST' && url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews') {
      const review = body as { kind?: string; spec?: { token?: string; audiences?: string[] } };
      const token = review.spec?.token;
      if (review.kind !== 'TokenReview' || !token) {
        return send(res, 422, statusBody(422, 'Invalid', 'TokenReview.authentication.k8s.io "" is invalid: spec.token: Required value'));
      }
      const status = reviewStatus(identities.get(token), token, review.spec?.audiences ?? []);
      return send(res, 201, {
        kind: 'TokenReview',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: review.spec,
        status,
      });
    }
    if (req.method === 'GET') {
      const namespaced = new RegExp(`^${RBAC}/namespaces/([^/]+)/rolebindings$`).exec(url.pathname);
      if (namespaced)
        return send(
          res,
          200,
          list(
            'RoleBindingList',
            bindings.filter((b) => b.namespace === decodeURIComponent(namespaced[1]!)),
          ),
        );
      if (url.pathname === `${RBAC}/rolebindings`)
        return send(
          res,
          200,
          list(
            'RoleBindingList',
            bindings.filter((b) => b.namespace),
          ),
        );
      if (url.pathname === `${RBAC}/clusterrolebindings`)
        return send(
          res,
          200,
          list(
            'ClusterRoleBindingList',
            bindings.filter((b) => !b.namespace),
          ),
        );
    }
    return send(res, 404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
  };

  const server = https.createServer(
    {
      key: readFileSync(certs.serverKey),
      cert: readFileSync(certs.serverCert),
      ca: readFileSync(certs.ca),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => void handle(req, res).catch((error: Error) => send(res, 500, statusBody(500, 'InternalError', error.message))),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const api: KubeApiServer = {
    url: `https://127.0.0.1:${port}`,
    port,
    caFile: certs.ca,
    clientCertFile: certs.clientCert,
    clientKeyFile: certs.clientKey,
    callerToken,
    identities,
    bindings,
    requests,
    intercept: undefined,
    count: (method, prefix) => requests.filter((r) => r.method === method && r.path.startsWith(prefix)).length,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return api;
}

/**
 * The verdict of a TokenReview, decided as the API server decides it once the signature is good:
 * unknown tokens, expired JWTs and tokens for none of the asked audiences are not authenticated.
 */
function reviewStatus(who: KubeIdentity | undefined, token: string, asked: readonly string[]) {
  const invalid = (why: string) => ({ user: {}, error: `[invalid bearer token, ${why}]` });
  if (!who) return invalid('token lookup failed');
  const exp = jwtExpiry(token);
  if (exp !== undefined && exp * 1000 <= Date.now()) return invalid('service account token has expired');
  const tokenAudiences = who.audiences ?? [API_AUDIENCE];
  const target = asked.length > 0 ? asked : [API_AUDIENCE];
  const audiences = tokenAudiences.filter((a) => target.includes(a));
  if (audiences.length === 0)
    return invalid(`token audiences ${JSON.stringify(tokenAudiences)} is invalid for the target audiences ${JSON.stringify(target)}`);
  const user = { username: who.username, uid: `uid-${who.username}`, groups: [...who.groups], ...(who.extra ? { extra: who.extra } : {}) };
  return { authenticated: true, user, audiences };
}

function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

/** A JWT-shaped token (header.claims.signature). The signature is junk: only the API server can tell. */
export function jwtShaped(claims: Record<string, unknown>, signature = 'c2lnbmF0dXJl'): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'test-key' })}.${part(claims)}.${signature}`;
}

/** A kubeconfig (YAML) for one cluster, context and user; `user` holds the credential keys. */
export function kubeconfigYaml(
  server: string,
  user: Record<string, string>,
  options: { caFile?: string; caData?: string; namespace?: string } = {},
): string {
  const cluster = options.caData
    ? `    certificate-authority-data: ${options.caData}`
    : options.caFile
      ? `    certificate-authority: ${options.caFile}`
      : '';
  return [
    'apiVersion: v1',
    'kind: Config',
    'current-context: test',
    'clusters:',
    '- name: test-cluster',
    '  cluster:',
    `    server: ${server}`,
    cluster,
    'contexts:',
    '- name: test',
    '  context:',
    '    cluster: test-cluster',
    '    user: test-user',
    options.namespace ? `    namespace: ${options.namespace}` : '',
    'users:',
    '- name: test-user',
    '  user:',
    ...Object.entries(user).map(([k, v]) => `    ${k}: ${v}`),
    '',
  ]
    .filter((line, i, all) => line !== '' || i === all.length - 1)
    .join('\n');
}
