/**
 * The token the `kubernetes` auth plugin presents when larder calls another Feast service (a
 * remote registry), found where Feast's Kubernetes client manager finds it: user_token, the
 * service account token file, LOCAL_K8S_TOKEN. Then once through core's serviceTokenSource, where
 * INTRA_COMMUNICATION_BASE64 comes first.
 */
import { existsSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import type { AuthProvider } from '../../core/src/auth.ts';
import { serviceTokenSource } from '../../core/src/service-token.ts';
import plugin from '../../plugins/auth-k8s/src/index.ts';
import { kubernetesServiceToken, SERVICE_ACCOUNT_TOKEN_FILE } from '../../plugins/auth-k8s/src/service-token.ts';
import { kubeconfigYaml } from '../support/kube-api-server.ts';
import { rejection } from '../support/guarded-repo.ts';

const logger = pino({ level: 'silent' });
const ENV_NAMES = ['LOCAL_K8S_TOKEN', 'INTRA_COMMUNICATION_BASE64'];

describe('auth kubernetes: the token larder presents to other Feast services', () => {
  let dir: string;
  let tokenFile: string;
  let savedEnv: Record<string, string | undefined>;
  const providers: AuthProvider[] = [];
  const noFile = () => path.join(dir, 'no-such-token');

  /**
   * A provider as create() builds it. Nothing here calls the API server (creating a provider
   * does not connect), so the kubeconfig names an address where nothing listens.
   */
  const provider = async (config: Record<string, unknown> = {}) => {
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml('https://127.0.0.1:9', { token: 'larder-own-api-token' }, { namespace: 'feast' }));
    const created = await plugin.create(
      { type: 'kubernetes', cache_ttl_seconds: 0, cache_max_entries: 1, request_timeout_seconds: 1, kubeconfig, ...config },
      { repoPath: dir, logger },
    );
    providers.push(created);
    return created;
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-k8s-service-token-'));
    tokenFile = path.join(dir, 'token');
  });
  after(async () => {
    await Promise.all(providers.map((p) => p.close?.()));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    savedEnv = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
    for (const name of ENV_NAMES) delete process.env[name];
    rmSync(tokenFile, { force: true });
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("presents the configured user_token first, through the plugin's provider", async () => {
    process.env.LOCAL_K8S_TOKEN = 'from-the-environment';
    const auth = await provider({ user_token: 'configured-user-token' });
    expect(await auth.serviceToken!()).to.equal('configured-user-token');
  });

  it('otherwise reads the service account token file (trimmed) on every call, before LOCAL_K8S_TOKEN', async () => {
    process.env.LOCAL_K8S_TOKEN = 'from-the-environment';
    const source = kubernetesServiceToken({ tokenFile });
    writeFileSync(tokenFile, 'sa-token-1\n');
    expect(await source()).to.equal('sa-token-1');
    writeFileSync(tokenFile, 'sa-token-2 (rotated)\n');
    expect(await source()).to.equal('sa-token-2 (rotated)');
  });

  it('falls back to LOCAL_K8S_TOKEN when the file is missing or empty', async () => {
    process.env.LOCAL_K8S_TOKEN = 'from-the-environment';
    expect(await kubernetesServiceToken({ tokenFile: noFile() })()).to.equal('from-the-environment');
    writeFileSync(tokenFile, '  \n');
    expect(await kubernetesServiceToken({ tokenFile })()).to.equal('from-the-environment');
  });

  it('fails naming all three sources when none gives a token (an empty LOCAL_K8S_TOKEN counts as unset)', async () => {
    process.env.LOCAL_K8S_TOKEN = '';
    const error = await rejection(kubernetesServiceToken({ userToken: null, tokenFile: noFile() })());
    expect(error.message).to.equal(
      'No Kubernetes token to call other Feast services with: auth.user_token is not set, ' +
        `the service account token file ${noFile()} does not exist, and the LOCAL_K8S_TOKEN environment variable is not set.`,
    );
  });

  it("reads the pod's standard token path by default, through the plugin's provider", async () => {
    expect(SERVICE_ACCOUNT_TOKEN_FILE).to.equal('/var/run/secrets/kubernetes.io/serviceaccount/token');
    const auth = await provider();
    process.env.LOCAL_K8S_TOKEN = 'from-the-environment';
    if (existsSync(SERVICE_ACCOUNT_TOKEN_FILE)) {
      // Inside a pod the mounted token answers first.
      expect(await auth.serviceToken!()).to.equal(readFileSync(SERVICE_ACCOUNT_TOKEN_FILE, 'utf8').trim());
      return;
    }
    // Outside a pod the file is absent, so LOCAL_K8S_TOKEN answers.
    expect(await auth.serviceToken!()).to.equal('from-the-environment');
    delete process.env.LOCAL_K8S_TOKEN;
    expect((await rejection(auth.serviceToken!())).message).to.include(
      `the service account token file ${SERVICE_ACCOUNT_TOKEN_FILE} does not exist`,
    );
  });

  it('sends the unsigned intra-server token (sub ":::<value>") through core\'s serviceTokenSource when INTRA_COMMUNICATION_BASE64 is set', async () => {
    const auth = await provider({ user_token: 'configured-user-token' });
    const source = serviceTokenSource('kubernetes', auth);
    process.env.INTRA_COMMUNICATION_BASE64 = 'aW50cmEtc2VjcmV0';
    const [header, payload, signature] = (await source())!.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).to.deep.equal({ alg: 'none', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).to.deep.equal({ sub: ':::aW50cmEtc2VjcmV0' });
    expect(signature).to.equal('');
    delete process.env.INTRA_COMMUNICATION_BASE64;
    expect(await source()).to.equal('configured-user-token');
  });
});
