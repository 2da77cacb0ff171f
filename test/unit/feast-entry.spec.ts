/**
 * The image's `feast` entry (cli/bin/feast.js, linked as /usr/local/bin/feast by the Dockerfile)
 * run with the exact command lines, working directories and environment that Feast's operator and
 * its `feast-feature-server` Helm chart give the offline server's container:
 *
 * - operator (feast-dev/feast infra/feast-operator/internal/controller/services/services.go,
 *   getContainerCommand/setContainer/getProbeHandler; services_types.go FeastServiceConstants):
 *   `feast [--log-level LEVEL] serve_offline -h 0.0.0.0 [--key /tls/offline/<key> --cert
 *   /tls/offline/<crt>] -p 8815|8816`, WorkingDir the feature repo dir into which the init
 *   container wrote feature_store.yaml, env TMP_FEATURE_STORE_YAML_BASE64 (which Feast's CLI does
 *   not read), TCP socket startup/liveness/readiness probes on the Flight port;
 * - Helm chart (infra/charts/feast-feature-server/templates/deployment.yaml): `command:` either
 *   `feast --log-level <logLevel> serve_offline -h 0.0.0.0` or the user's `commandArgs`, env
 *   FEATURE_STORE_YAML_BASE64 and INTRA_COMMUNICATION_BASE64, tcpSocket probes on 8815.
 *
 * Runs the built checkout as the image does: a symlink named `feast` to cli/bin/feast.js, executed
 * through its shebang, so the link, the executable bit and the module resolution through the link
 * are all exercised. Container paths become temp dirs and ports free ones.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import YAML from 'yaml';
import { EXAMPLE_PROJECT, writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { startFeastRegistryServer, type FeastRegistryServer } from '../support/feast-registry-server.ts';
import { connectHealth } from '../support/health-client.ts';
import { REPO_ROOT, freePort, launch } from '../support/larder-process.ts';

const REFUSAL = /this image is larder.*only serves `feast serve_offline`/;

describe("the image's feast entry: the Feast operator's and Helm chart's offline-server command lines", function () {
  this.timeout(120_000);
  let work: string;
  let feastBin: string;
  let repo: string;
  let tlsDir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    expect(existsSync(path.join(REPO_ROOT, 'core', 'dist', 'cli.js')), 'the built checkout (npm run build)').to.equal(true);
    work = mkdtempSync(path.join(tmpdir(), 'larder-feast-entry-'));
    // /usr/local/bin/feast -> /app/cli/bin/feast.js, as the Dockerfile links it.
    mkdirSync(path.join(work, 'bin'));
    feastBin = path.join(work, 'bin', 'feast');
    symlinkSync(path.join(REPO_ROOT, 'cli', 'bin', 'feast.js'), feastBin);
    // The image's environment: node on PATH, nothing of the test runner's (no tsx, no source condition).
    env = { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, NODE_OPTIONS: '', HOME: work };
    // /feast-data/<project>/feature_repo, the operator's WorkingDir, holding the repo the init container staged.
    repo = await writeExampleRepo(path.join(work, 'feast-data', EXAMPLE_PROJECT, 'feature_repo'));
    tlsDir = path.join(work, 'tls', 'offline');
    mkdirSync(tlsDir, { recursive: true });
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
        '-keyout',
        path.join(tlsDir, 'tls.key'),
        '-out',
        path.join(tlsDir, 'tls.crt'),
      ]),
      { stdio: 'pipe' },
    );
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  /**
   * The feature_store.yaml the operator generates for its services (repo_config.go,
   * getServiceRepoConfig): offline_store dask (the default file persistence), a sqlite online
   * store and a file registry under /feast-data, `auth` from `authz` (noAuth here), and the
   * serialization version. `registry` replaces the file registry (e.g. a remote one).
   */
  const operatorYaml = (registry?: Record<string, unknown>) =>
    YAML.stringify({
      project: EXAMPLE_PROJECT,
      provider: 'local',
      offline_store: { type: 'dask' },
      online_store: { type: 'sqlite', path: path.join(work, 'feast-data', 'online_store.db') },
      registry: registry ?? { path: path.join(repo, 'data', 'registry.db'), registry_type: 'file' },
      auth: { type: 'no_auth' },
      entity_key_serialization_version: 3,
    });

  /** The container's command with container paths mapped to this machine and -p to a free port. */
  async function local(command: string[]): Promise<{ args: string[]; port: number }> {
    expect(command[0]).to.equal('feast');
    const args = command.slice(1).map((a) => (a.startsWith('/tls/offline/') ? path.join(tlsDir, a.slice('/tls/offline/'.length)) : a));
    const port = await freePort();
    const p = args.indexOf('-p');
    if (p >= 0) args[p + 1] = String(port);
    else args.push('-p', String(port)); // the chart's legacy command relies on the default port, 8815
    return { args, port };
  }

  /**
   * Starts the command as the container would and waits until it serves: `launch` resolves once
   * the port accepts a TCP connection, the operator's and the chart's probe (startup, liveness and
   * readiness alike); larder has then loaded its config, registry and store, and finishes its
   * readiness check next ("larder serving" at INFO, or grpc.health.v1 SERVING on a plain port).
   * Then the TCP probe again, `check`, and SIGTERM, which must drain and exit 0.
   */
  async function serveLikeThePod(command: string[], cwd: string, podEnv: Record<string, string>, check?: (port: number) => Promise<void>) {
    const { args, port } = await local(command);
    const tls = args.includes('--cert');
    const server = await launch(feastBin, args, port, { repoPath: cwd, env: { ...env, ...podEnv } }, command.join(' '));
    try {
      const deadline = Date.now() + 30_000;
      while (!server.logs().includes('"larder serving"') && !(!tls && (await readiness(port)) === 'SERVING')) {
        expect(Date.now(), `larder did not become ready:\n${server.logs()}`).to.be.below(deadline);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await tcpProbe(port), 'the TCP socket probe').to.equal(true);
      await check?.(port);
    } finally {
      expect(await server.stop(), server.logs()).to.equal(0); // SIGTERM: drained and exited 0
    }
    return server.logs();
  }

  async function readiness(port: number): Promise<string> {
    const health = connectHealth(`127.0.0.1:${port}`);
    try {
      return await health.check('');
    } catch (error) {
      return (error as Error).message;
    } finally {
      health.close();
    }
  }

  /** What the kubelet's tcpSocket probe does: open a TCP connection to the port. */
  function tcpProbe(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.setTimeout(5_000, () => (socket.destroy(), resolve(false)));
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
  }

  const ready = async (port: number) => {
    expect(await readiness(port), 'readiness: the registry and the store answer').to.equal('SERVING');
  };

  const operatorPod = () => {
    const yaml = operatorYaml();
    writeFileSync(path.join(repo, 'feature_store.yaml'), yaml); // what the feast-init container writes
    return { TMP_FEATURE_STORE_YAML_BASE64: Buffer.from(yaml).toString('base64') };
  };

  it('operator, plain, no logLevel: feast serve_offline -h 0.0.0.0 -p 8815 in the feature repo dir', async () => {
    const logs = await serveLikeThePod(['feast', 'serve_offline', '-h', '0.0.0.0', '-p', '8815'], repo, operatorPod(), ready);
    expect(logs).to.include('grpc+tcp://');
  });

  for (const level of ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']) {
    // The CRD's logLevel enum (debug … critical), upper-cased by getContainerCommand.
    it(`operator, plain, logLevel ${level.toLowerCase()}: feast --log-level ${level} serve_offline -h 0.0.0.0 -p 8815`, async () => {
      await serveLikeThePod(['feast', '--log-level', level, 'serve_offline', '-h', '0.0.0.0', '-p', '8815'], repo, operatorPod(), ready);
    });
  }

  it('operator, TLS: --key /tls/offline/tls.key --cert /tls/offline/tls.crt -p 8816', async () => {
    const command = ['feast', '--log-level', 'INFO', 'serve_offline', '-h', '0.0.0.0'];
    command.push('--key', '/tls/offline/tls.key', '--cert', '/tls/offline/tls.crt', '-p', '8816');
    const logs = await serveLikeThePod(command, repo, operatorPod());
    expect(logs).to.include('grpc+tls://');
  });

  describe('operator, registry as a remote service (registry.remote, or another FeatureStore by feastRef)', () => {
    let registryServer: FeastRegistryServer;
    before(async function () {
      this.timeout(120_000);
      registryServer = await startFeastRegistryServer({
        registryPath: path.join(repo, 'data', 'registry.db'),
        project: EXAMPLE_PROJECT,
        workdir: work,
      });
    });
    after(async () => registryServer?.stop());

    it('serves with registry_type: remote pointing at a Feast registry server', async () => {
      // getClientRepoConfig: registry {registry_type: remote, path: <service host>:<port>}.
      const remoteDir = path.join(work, 'feast-data', 'remote', 'feature_repo');
      mkdirSync(path.join(remoteDir, 'data'), { recursive: true });
      writeFileSync(path.join(remoteDir, 'data', 'driver_stats.parquet'), readFileSync(path.join(repo, 'data', 'driver_stats.parquet')));
      const yaml = operatorYaml({ registry_type: 'remote', path: registryServer.target });
      writeFileSync(path.join(remoteDir, 'feature_store.yaml'), yaml);
      await serveLikeThePod(
        ['feast', '--log-level', 'INFO', 'serve_offline', '-h', '0.0.0.0', '-p', '8815'],
        remoteDir,
        { TMP_FEATURE_STORE_YAML_BASE64: Buffer.from(yaml).toString('base64') },
        ready,
      );
    });
  });

  describe('Helm chart feast-feature-server, feast_mode: offline', () => {
    // The chart's env: feature_store.yaml only as FEATURE_STORE_YAML_BASE64 (the image's WORKDIR is
    // an empty /feature_repo), plus the intra-communication token it always sets.
    const chartPod = () => {
      const cwd = mkdtempSync(path.join(work, 'feature_repo-'));
      return {
        cwd,
        env: {
          FEATURE_STORE_YAML_BASE64: Buffer.from(operatorYaml()).toString('base64'),
          INTRA_COMMUNICATION_BASE64: Buffer.from('intra-server-communication').toString('base64'),
        },
      };
    };

    it('the legacy command: feast --log-level WARNING serve_offline -h 0.0.0.0', async () => {
      const pod = chartPod();
      await serveLikeThePod(['feast', '--log-level', 'WARNING', 'serve_offline', '-h', '0.0.0.0'], pod.cwd, pod.env, ready);
    });

    it('commandArgs: [feast, --log-level, INFO, serve_offline, -h, 0.0.0.0, -p, "8815"]', async () => {
      const pod = chartPod();
      await serveLikeThePod(['feast', '--log-level', 'INFO', 'serve_offline', '-h', '0.0.0.0', '-p', '8815'], pod.cwd, pod.env, ready);
    });
  });

  describe('every other Feast subcommand is refused with exit code 2, naming larder and serve_offline', () => {
    const refused = [
      ['apply'],
      ['init', 'my_project'],
      ['--log-level', 'INFO', 'serve', '-h', '0.0.0.0', '-p', '6566'], // the operator's online server
      ['serve_registry', '--grpc', '-p', '6570'], // the operator's registry server
      ['--log-level', 'INFO', 'ui', '-h', '0.0.0.0', '-p', '8888'],
      ['serve_lineage', '-h', '0.0.0.0', '-p', '6580'],
      ['-c', '/feature_repo', 'materialize-incremental', '2026-12-07T00:00:00'],
      ['--log-level', 'INFO'],
      [],
    ];
    for (const args of refused) {
      it(`feast ${args.join(' ') || '(nothing)'}`, () => {
        const result = spawnSync(feastBin, args, { cwd: work, env, encoding: 'utf8', timeout: 30_000 });
        expect(result.status, result.stderr).to.equal(2);
        expect(result.stderr).to.match(REFUSAL);
        const command = args.find((a, i) => !a.startsWith('-') && !['-c', '--log-level'].includes(args[i - 1] ?? ''));
        if (command) expect(result.stderr).to.include(`feast ${command}`);
      });
    }
  });
});
