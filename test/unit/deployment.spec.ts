/**
 * The Dockerfile and the Kubernetes manifests under deploy/kubernetes, checked against larder itself:
 * the container arguments are run through the real CLI (ports swapped for free ones, container
 * paths for temp dirs) against the example repo, the ConfigMap's feature_store.yaml goes through
 * larder's config and plugin validation, and ports, probes, mounts and RBAC must agree with each
 * other and with what the code does. kustomize is not needed: the TLS overlay's JSON patches are
 * applied here (`kubectl kustomize deploy/kubernetes/tls` renders the same).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { loadRepoConfig } from '../../core/src/config/load.ts';
import { validateSection } from '../../core/src/config/validate.ts';
import { createHooks } from '../../core/src/hooks.ts';
import { resolvePlugin, tapDefaultResolvers } from '../../core/src/plugins/resolve.ts';
import { writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { REPO_ROOT, freePort } from '../support/larder-process.ts';

// biome-ignore lint/suspicious/noExplicitAny: parsed Kubernetes manifests of many kinds, probed field by field
type K8s = any;
const KUBE = path.join(REPO_ROOT, 'deploy', 'kubernetes');
const read = (...p: string[]) => readFileSync(path.join(REPO_ROOT, ...p), 'utf8');

function yamlDocs(file: string): K8s[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    expect(doc.errors, `${file}: ${doc.errors.map((e) => e.message).join('; ')}`).to.deep.equal([]);
    return doc.toJS();
  });
}

/** Renders a kustomization the way kustomize does, for the features used here (resources, JSON6902 patches). */
function kustomize(dir: string): K8s[] {
  const k = parseYaml(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
  expect(Object.keys(k).sort(), `${dir}: only resources and patches are understood here`).to.satisfy((keys: string[]) =>
    keys.every((key) => ['apiVersion', 'kind', 'resources', 'patches'].includes(key)),
  );
  const docs = (k.resources as string[]).flatMap((r) => {
    const target = path.resolve(dir, r);
    return statSync(target).isDirectory() ? kustomize(target) : yamlDocs(target);
  });
  for (const { target, patch } of k.patches ?? []) {
    const matches = docs.filter((d) => d.kind === target.kind && d.metadata?.name === target.name);
    expect(matches, `patch target ${target.kind}/${target.name}`).to.have.length(1);
    applyJsonPatch(matches[0], parseYaml(patch));
  }
  return docs;
}

function applyJsonPatch(doc: K8s, ops: Array<{ op: string; path: string; value?: unknown }>): void {
  for (const { op, path: pointer, value } of ops) {
    const keys = pointer
      .split('/')
      .slice(1)
      .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    const parent = keys.reduce((node, key) => {
      expect(node?.[key], `${pointer}: ${key} missing`).to.not.equal(undefined);
      return node[key];
    }, doc);
    if (op === 'test') expect(parent[last], `test ${pointer}`).to.deep.equal(value);
    else if (op === 'replace') {
      expect(parent[last], `replace ${pointer}: nothing there`).to.not.equal(undefined);
      parent[last] = value;
    } else if (op === 'add' && Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, value);
    else if (op === 'add') parent[last] = value;
    else if (op === 'remove') {
      expect(parent[last], `remove ${pointer}: nothing there`).to.not.equal(undefined);
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else throw new Error(`JSON patch op "${op}" is not handled here`);
  }
}

const find = (docs: K8s[], kind: string, name?: string): K8s => {
  const doc = docs.find((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  expect(doc, `${kind} ${name ?? ''}`).to.not.equal(undefined);
  return doc;
};

/** Dockerfile instructions by stage, line continuations joined. */
function dockerfile(): Array<{ stage: string; instructions: Array<{ cmd: string; args: string }> }> {
  const stages: Array<{ stage: string; instructions: Array<{ cmd: string; args: string }> }> = [];
  for (const line of read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    const cmd = m[1]!.toUpperCase();
    if (cmd === 'FROM') stages.push({ stage: / AS (\S+)/i.exec(m[2]!)?.[1] ?? `stage${stages.length}`, instructions: [] });
    stages.at(-1)?.instructions.push({ cmd, args: m[2]!.trim() });
  }
  return stages;
}
const runtimeStage = () => dockerfile().at(-1)!.instructions;
const instruction = (cmd: string) =>
  runtimeStage()
    .filter((i) => i.cmd === cmd)
    .at(-1)?.args;
const copySources = (instructions: Array<{ cmd: string; args: string }>) =>
  instructions.filter((i) => i.cmd === 'COPY' && !i.args.includes('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));

/** Whether .dockerignore keeps `file` out of the build context (Docker's rule: the last matching pattern wins). */
function dockerIgnored(file: string): boolean {
  let ignored = false;
  for (const raw of read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())) {
    if (!raw || raw.startsWith('#')) continue;
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/\/+$/, '');
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*\//g, '\0')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]');
    const re = new RegExp(`^${body.replace(/\0/g, '(.*/)?')}$`);
    const parts = file.split('/');
    if (parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')))) ignored = !negate;
  }
  return ignored;
}

const argAfter = (args: string[], ...flags: string[]) => {
  const i = args.findIndex((a) => flags.includes(a));
  return i < 0 ? undefined : args[i + 1];
};
const container = (docs: K8s[]) =>
  find(docs, 'Deployment', 'larder-offline').spec.template.spec.containers.find((c: K8s) => c.name === 'offline');
const flightPort = (docs: K8s[]) => Number(argAfter(container(docs).args, '-p', '--port'));

/** grpc.health.v1.Health/Check over plaintext, as the kubelet's grpc probe calls it; resolves with the status number (1 = SERVING). */
function healthCheck(port: number, service: string): Promise<number> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const request = service ? Buffer.concat([Buffer.from([0x0a, service.length]), Buffer.from(service)]) : Buffer.alloc(0);
  return new Promise<number>((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (b: Buffer) => b,
      (b: Buffer) => b,
      request,
      { deadline: Date.now() + 5_000 },
      (error, response) => (error ? reject(error) : resolve(response && response[0] === 0x08 ? response[1]! : 0)),
    );
  }).finally(() => client.close());
}

interface Served {
  logs: string;
  exitCode: number | null;
  metrics?: number;
  health?: { ready: number; liveness: number };
}

/**
 * Runs a container's ENTRYPOINT + args on this machine: /app is this checkout, the given container
 * paths map to local dirs, the Flight and metrics ports become free ones and the host 127.0.0.1.
 * Waits until larder serves, probes it as Kubernetes would, then SIGTERM: larder must exit 0.
 */
async function serveAsContainer(entrypoint: string[], args: string[], paths: Record<string, string>): Promise<Served> {
  const local = (arg: string) =>
    Object.entries({ '/app': REPO_ROOT, ...paths }).reduce(
      (a, [from, to]) => (a === from || a.startsWith(`${from}/`) ? to + a.slice(from.length) : a),
      arg,
    );
  const argv = [...entrypoint, ...args].map(local);
  const ports: Record<string, number> = {};
  for (const [i, a] of argv.entries()) {
    if (['-p', '--port', '--metrics-port'].includes(a))
      argv[i + 1] = String((ports[a === '--metrics-port' ? 'metrics' : 'flight'] = await freePort()));
    if (['-h', '--host'].includes(a)) argv[i + 1] = '127.0.0.1';
  }
  expect(argv[0]).to.equal('node');
  const child = spawn(process.execPath, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const served: Served = { logs: '', exitCode: null };
  child.stdout.on('data', (c: Buffer) => (served.logs += c));
  child.stderr.on('data', (c: Buffer) => (served.logs += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!served.logs.includes('"larder serving"') && child.exitCode === null && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  try {
    if (child.exitCode !== null || !served.logs.includes('"larder serving"'))
      throw new Error(`larder did not serve (${argv.join(' ')}):\n${served.logs}`);
    if (ports.metrics) served.metrics = (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).status;
    if (!argv.includes('--cert')) {
      served.health = { ready: await healthCheck(ports.flight!, ''), liveness: await healthCheck(ports.flight!, 'liveness') };
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
    served.exitCode = await exited;
  }
  return served;
}

describe('deployment: Dockerfile and Kubernetes manifests', () => {
  const plain = kustomize(path.join(KUBE, 'base'));
  const tls = kustomize(path.join(KUBE, 'tls'));
  const secrets = yamlDocs(path.join(KUBE, 'secrets.example.yaml'));
  const monitoring = kustomize(path.join(KUBE, 'monitoring'));
  const autoscaling = kustomize(path.join(KUBE, 'autoscaling'));
  const trino = kustomize(path.join(KUBE, 'trino'));
  let work: string;
  let exampleRepo: string;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'larder-deploy-'));
    exampleRepo = await writeExampleRepo(path.join(work, 'feature_repo'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        path.join(work, 'tls.key'),
        '-out',
        path.join(work, 'tls.crt'),
      ],
      { stdio: 'pipe' },
    );
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);

  it("the PodDisruptionBudget covers the Deployment's pods and lets a drain evict one of them", () => {
    const deployment = find(plain, 'Deployment', 'larder-offline');
    const pdb = find(plain, 'PodDisruptionBudget', 'larder-offline');
    expect(pdb.metadata.namespace).to.equal(deployment.metadata.namespace);
    expect(selects(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels), 'PDB selector').to.equal(true);
    expect(pdb.spec.minAvailable, 'minAvailable below replicas, or no drain can proceed').to.be.below(deployment.spec.replicas);
    expect(pdb.spec.minAvailable).to.be.at.least(1);
  });

  it("the ServiceMonitor scrapes the Service's metrics port, where larder serves /metrics", () => {
    const monitor = find(monitoring, 'ServiceMonitor', 'larder-offline');
    const service = find(monitoring, 'Service', 'larder-offline');
    expect(monitor.spec.namespaceSelector.matchNames).to.include(service.metadata.namespace);
    expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels), 'ServiceMonitor selector').to.equal(true);
    const endpoint = monitor.spec.endpoints[0];
    expect(endpoint.path).to.equal('/metrics');
    const port = service.spec.ports.find((p: K8s) => p.name === endpoint.port);
    expect(port, `Service port named ${endpoint.port}`).to.not.equal(undefined);
    const c = container(monitoring);
    const target = c.ports.find((p: K8s) => p.name === port.targetPort);
    expect(Number(argAfter(c.args, '--metrics-port')), "the container port the Service targets is larder's --metrics-port").to.equal(
      target.containerPort,
    );
  });

  it('the HPA owns the replica count of the Deployment it scales, on a CPU request, above the PDB', () => {
    const hpa = find(autoscaling, 'HorizontalPodAutoscaler', 'larder-offline');
    const deployment = find(autoscaling, 'Deployment', 'larder-offline');
    expect(hpa.spec.scaleTargetRef).to.deep.equal({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.metadata.namespace).to.equal(deployment.metadata.namespace);
    expect(deployment.spec.replicas, 'an apply would reset what the HPA chose').to.equal(undefined);
    const cpu = hpa.spec.metrics.find((m: K8s) => m.resource?.name === 'cpu');
    expect(cpu.resource.target.type).to.equal('Utilization');
    expect(container(autoscaling).resources.requests.cpu, 'CPU utilisation is relative to the request').to.be.a('string');
    expect(hpa.spec.minReplicas).to.be.above(find(autoscaling, 'PodDisruptionBudget', 'larder-offline').spec.minAvailable);
    expect(hpa.spec.maxReplicas).to.be.at.least(hpa.spec.minReplicas);
  });

  it('every manifest document parses and names its apiVersion, kind and metadata.name', () => {
    for (const doc of [...plain, ...tls, ...secrets, ...monitoring, ...autoscaling, ...trino]) {
      expect(doc.apiVersion, JSON.stringify(doc).slice(0, 80)).to.be.a('string');
      expect(doc.kind).to.be.a('string');
      expect(doc.metadata?.name, `${doc.kind} without a name`).to.be.a('string');
    }
    expect(tls.map((d) => d.kind)).to.deep.equal(plain.map((d) => d.kind));
    expect(trino.map((d) => d.kind)).to.deep.equal(plain.map((d) => d.kind));
  });

  for (const [variant, docs] of [
    ['plain', plain],
    ['TLS', tls],
  ] as const) {
    it(`${variant}: the args, container ports, probes, Service and scrape annotations agree on the ports`, () => {
      const c = container(docs);
      const pod = find(docs, 'Deployment', 'larder-offline').spec.template;
      const port = flightPort(docs);
      const metrics = Number(argAfter(c.args, '--metrics-port'));
      expect(port).to.equal(variant === 'plain' ? 8815 : 8816);
      expect(c.ports).to.deep.include({ name: 'flight', containerPort: port });
      expect(c.ports).to.deep.include({ name: 'metrics', containerPort: metrics });
      expect(pod.metadata.annotations).to.include({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(metrics),
        'prometheus.io/path': '/metrics',
      });
      if (variant === 'plain') {
        expect(c.startupProbe.grpc).to.deep.equal({ port, service: 'liveness' });
        expect(c.livenessProbe.grpc).to.deep.equal({ port, service: 'liveness' });
        expect(c.readinessProbe.grpc).to.deep.equal({ port }); // service "": ready
      } else {
        // The kubelet's grpc probes speak plaintext: none may point at the TLS port.
        for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) expect(probe.grpc).to.equal(undefined);
        expect(c.startupProbe.tcpSocket.port).to.equal(port);
        expect(c.readinessProbe.tcpSocket.port).to.equal(port);
        expect(c.livenessProbe.httpGet).to.deep.equal({ path: '/metrics', port: metrics });
      }
      const service = find(docs, 'Service', 'larder-offline');
      expect(service.spec.type).to.equal('ClusterIP');
      expect(service.spec.selector).to.deep.equal(pod.metadata.labels);
      expect(find(docs, 'Deployment', 'larder-offline').spec.selector.matchLabels).to.deep.equal(pod.metadata.labels);
      const flight = service.spec.ports[0];
      expect(c.ports.find((p: K8s) => p.name === flight.targetPort || p.containerPort === flight.targetPort)?.containerPort).to.equal(port);
      expect(flight).to.include(variant === 'plain' ? { port: 80, appProtocol: 'grpc' } : { port: 443, name: 'https' });
    });
  }

  it('TLS: the kubernetes.io/tls Secret is mounted read-only where --key and --cert point', () => {
    const c = container(tls);
    const pod = find(tls, 'Deployment', 'larder-offline').spec.template.spec;
    for (const [flag, key] of [
      ['--key', 'tls.key'],
      ['--cert', 'tls.crt'],
    ]) {
      const file = argAfter(c.args, flag)!;
      expect(file).to.equal(`/tls/offline/${key}`);
      const mount = c.volumeMounts.find((m: K8s) => m.mountPath === path.dirname(file));
      expect(mount?.readOnly, `a read-only mount at ${path.dirname(file)}`).to.equal(true);
      const secretName = pod.volumes.find((v: K8s) => v.name === mount.name).secret.secretName;
      const secret = find(secrets, 'Secret', secretName);
      expect(secret.type).to.equal('kubernetes.io/tls');
      expect(secret.stringData).to.have.property(path.basename(file));
    }
    expect(argAfter(container(plain).args, '--key', '-k', '--cert')).to.equal(undefined);
  });

  for (const [variant, docs, store] of [
    ['base', plain, 'postgres'],
    ['trino', trino, 'trino'],
  ] as const)
    it(`${variant}: the ConfigMap's feature_store.yaml passes larder's validation, with the store's and auth plugin's own schemas`, async () => {
      const c = container(docs);
      const pod = find(docs, 'Deployment', 'larder-offline').spec.template.spec;
      const repoDir = argAfter(c.args, '-c', '--chdir')!;
      const repoMount = c.volumeMounts.find((m: K8s) => m.mountPath === repoDir);
      const configMap = find(docs, 'ConfigMap', pod.volumes.find((v: K8s) => v.name === repoMount.name).configMap.name);
      const text: string = configMap.data['feature_store.yaml'];
      const env = Object.fromEntries(c.env.map((e: K8s) => [e.name, 'from-a-secret']));
      for (const [, name] of text.matchAll(/\$\{?([A-Za-z_]\w*)/g))
        expect(env, `\${${name}} needs a container env var`).to.have.property(name!);

      const validate = async (yaml: string) => {
        const dir = mkdtempSync(path.join(work, 'cm-'));
        writeFileSync(path.join(dir, 'feature_store.yaml'), yaml);
        const config = await loadRepoConfig({ chdir: dir, env });
        const hooks = createHooks();
        tapDefaultResolvers(hooks);
        const store = await resolvePlugin(hooks, 'offline_store', config.offlineStore.type, { repoPath: dir });
        validateSection(store.configSchema, config.offlineStore, config.configPath, 'offline_store');
        const auth = await resolvePlugin(hooks, 'auth', config.auth.type, { repoPath: dir });
        validateSection(auth.configSchema, config.auth, config.configPath, 'auth');
        return config;
      };
      const config = await validate(text);
      if (store === 'postgres') expect(config.offlineStore).to.include({ type: 'postgres', password: 'from-a-secret' });
      else
        expect(config.offlineStore).to.deep.include({
          type: 'trino',
          auth: { type: 'basic', config: { username: 'feast', password: 'from-a-secret' } },
        });
      // Every Secret the container reads is one secrets.example.yaml shows.
      for (const e of c.env.filter((e: K8s) => e.valueFrom?.secretKeyRef))
        expect(find(secrets, 'Secret', e.valueFrom.secretKeyRef.name).stringData, e.name).to.have.property(e.valueFrom.secretKeyRef.key);
      expect(config.auth.type).to.equal('kubernetes');
      const registry = String(config.registry);
      const registryMount = c.volumeMounts.find((m: K8s) => registry.startsWith(`${m.mountPath}/`));
      expect(pod.volumes.find((v: K8s) => v.name === registryMount?.name)?.persistentVolumeClaim?.claimName, 'registry on a PVC').to.equal(
        find(docs, 'PersistentVolumeClaim').metadata.name,
      );
      // Uploads are held in memory: those of running calls, those being received or waiting for a
      // call slot, and pending ones must fit under the limit.
      const {
        max_concurrent_calls: calls,
        max_concurrent_uploads: uploads,
        max_upload_bytes: upload,
        pending_max_bytes: pending,
      } = config.larder as Record<string, number>;
      const limit = /^(\d+)Gi$/.exec(c.resources.limits.memory);
      expect(uploads, 'larder.max_concurrent_uploads set in the ConfigMap').to.be.a('number');
      expect((calls! + uploads!) * upload! + pending!).to.be.below(Number(limit![1]) * 1024 ** 3);
      // The postgres store holds one pooled connection per running call.
      if (store === 'postgres') expect(Number(config.offlineStore.max_conn)).to.be.at.least(calls!);
    });

  it("SIGTERM: terminationGracePeriodSeconds covers the preStop sleep and larder's drain grace", () => {
    const grace = /stop\(graceMs = ([\d_]+)\)/.exec(read('core', 'src', 'server.ts'));
    expect(grace, "core/src/server.ts: stop(graceMs = …) moved; update this test's source of the drain grace").to.not.equal(null);
    const drainSeconds = Number(grace![1]!.replace(/_/g, '')) / 1000;
    const c = container(plain);
    const [cmd, seconds] = c.lifecycle.preStop.exec.command;
    expect(cmd).to.equal('sleep');
    expect(find(plain, 'Deployment', 'larder-offline').spec.template.spec.terminationGracePeriodSeconds).to.be.above(
      Number(seconds) + drainSeconds,
    );
    expect(instruction('STOPSIGNAL')).to.equal('SIGTERM');
  });

  it('security: a numeric non-root uid shared by image and pod, read-only root with a writable /tmp', () => {
    const pod = find(plain, 'Deployment', 'larder-offline').spec.template.spec;
    const c = container(plain);
    const user = instruction('USER')!;
    expect(user, 'runAsNonRoot can only verify a numeric USER').to.match(/^\d+(:\d+)?$/);
    expect(pod.securityContext).to.include({ runAsNonRoot: true, runAsUser: Number(user.split(':')[0]) });
    expect(c.securityContext).to.include({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    // FEATURE_STORE_YAML_BASE64 and the stores write to os.tmpdir().
    const tmp = c.volumeMounts.find((m: K8s) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v: K8s) => v.name === tmp?.name)?.emptyDir).to.not.equal(undefined);
  });

  it('RBAC: the service account may make every Kubernetes API call the kubernetes auth plugin makes', () => {
    const deployment = find(plain, 'Deployment', 'larder-offline');
    const account = {
      kind: 'ServiceAccount',
      name: deployment.spec.template.spec.serviceAccountName,
      namespace: deployment.metadata.namespace,
    };
    expect(find(plain, 'ServiceAccount', account.name).metadata.namespace).to.equal(account.namespace);
    const bound = plain.filter(
      (d) => d.kind === 'ClusterRoleBinding' && d.subjects.some((s: K8s) => Object.entries(account).every(([k, v]) => s[k] === v)),
    );
    const granted = new Set<string>(
      bound.some((b) => b.roleRef.name === 'system:auth-delegator') ? ['create tokenreviews', 'create subjectaccessreviews'] : [],
    );
    for (const binding of bound) {
      const role = plain.find((d) => d.kind === 'ClusterRole' && d.metadata.name === binding.roleRef.name);
      for (const rule of role?.rules ?? []) for (const v of rule.verbs) for (const r of rule.resources) granted.add(`${v} ${r}`);
    }
    const dir = path.join(REPO_ROOT, 'plugins', 'auth-k8s', 'src');
    const source = readdirSync(dir)
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
    const calls = [...source.matchAll(/api\.(get|post)\b[^(]*\(\s*[`'"][^`'"]*\/([a-z]+)[`'"]/g)].map(
      ([, m, r]) => `${m === 'get' ? 'list' : 'create'} ${r}`,
    );
    expect(calls).to.include.members(['create tokenreviews', 'list rolebindings', 'list clusterrolebindings']);
    for (const call of calls) expect([...granted], `RBAC for "${call}"`).to.include(call);
  });

  it('the Dockerfile copies what the runtime needs, from paths the build context keeps', () => {
    const stages = dockerfile();
    for (const source of stages.flatMap((s) => copySources(s.instructions))) {
      expect(existsSync(path.join(REPO_ROOT, source)), `COPY ${source}`).to.equal(true);
      expect(dockerIgnored(source.replace(/\/$/, '')), `.dockerignore drops ${source}`).to.equal(false);
    }
    expect(dockerIgnored('core/src/cli.ts')).to.equal(false);
    expect(dockerIgnored('core/node_modules/x/index.js')).to.equal(true);
    expect(dockerIgnored('core/dist/index.js'), 'a stale local dist/ must not reach the build').to.equal(true);
    // Every workspace manifest reaches `npm ci`, or the workspace's dependencies are missing.
    const deps = stages.find((s) => s.instructions.some((i) => i.cmd === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args)))!;
    const workspaces = (JSON.parse(read('package.json')).workspaces as string[]).flatMap((w) =>
      w.endsWith('/*') ? readdirSync(path.join(REPO_ROOT, w.slice(0, -2))).map((d) => `${w.slice(0, -2)}/${d}`) : [w],
    );
    for (const w of workspaces)
      expect(copySources(deps.instructions), `${w}/package.json in the npm ci stage`).to.include(`${w}/package.json`);
    // The runtime stage gets each published workspace's built output (what its `exports` point at)
    // and the data files it reads at run time, from the build stage; never its TypeScript sources.
    const fromBuild = runtimeStage()
      .filter((i) => i.cmd === 'COPY' && i.args.startsWith('--from=build'))
      .map((i) => i.args.split(/\s+/).at(-1)!);
    for (const w of workspaces) {
      const manifest = JSON.parse(read(w, 'package.json'));
      const needed = (manifest.files as string[]).filter((f) => !['src', 'README.md'].includes(f));
      for (const f of needed) expect(fromBuild, `${w}/${f} in the runtime stage`).to.include(`${w}/${f}`);
      expect(
        fromBuild.some((t) => t.startsWith(`${w}/src`)),
        `${w}/src in the runtime stage`,
      ).to.equal(false);
    }
    // The entrypoint is the published CLI's bin, which imports only its package's production dependencies.
    const entry = JSON.parse(instruction('ENTRYPOINT')!) as string[];
    expect(entry.slice(0, 2)).to.deep.equal(['node', '/app/cli/bin/larder.js']);
    const cli = JSON.parse(read('cli', 'package.json'));
    for (const [, spec] of read('cli', 'bin', 'larder.js').matchAll(/(?:from |import\()'([^.'][^']*)'/g)) {
      if (spec!.startsWith('node:')) continue;
      expect(Object.keys(cli.dependencies), `${spec} is a dependency of the larder package`).to.include(
        spec!.split('/').slice(0, 2).join('/'),
      );
    }
    expect(read('Dockerfile')).to.not.match(/\btsx\b/);
    const exposed = instruction('EXPOSE')!.split(/\s+/).map(Number);
    expect(exposed).to.include.members(container(plain).ports.map((p: K8s) => p.containerPort));
  });

  it('the image has `feast` on PATH for the Feast operator and Helm chart: /usr/local/bin/feast -> cli/bin/feast.js', () => {
    // Both replace the entrypoint with `feast … serve_offline …` (test/unit/feast-entry.spec.ts runs those command lines).
    const runtime = runtimeStage();
    const link = runtime.findIndex((i) => i.cmd === 'RUN' && /\bln -s \/app\/cli\/bin\/feast\.js \/usr\/local\/bin\/feast\b/.test(i.args));
    expect(link, 'RUN ln -s /app/cli/bin/feast.js /usr/local/bin/feast in the runtime stage').to.be.above(-1);
    const copiesBin = runtime.findIndex((i) => i.cmd === 'COPY' && /^--from=build \/src\/cli\/bin cli\/bin$/.test(i.args));
    expect(copiesBin, 'cli/bin is copied to /app/cli/bin before it is linked').to.be.within(0, link - 1);
    const workdir = runtime
      .slice(0, copiesBin)
      .filter((i) => i.cmd === 'WORKDIR')
      .at(-1)?.args;
    expect(workdir, 'cli/bin is copied under /app').to.equal('/app');
    expect(
      runtime.findIndex((i) => i.cmd === 'USER'),
      'linked as root, before USER',
    ).to.be.above(link);
    // Run as a program through the link: executable in git (COPY keeps the mode), with a node shebang.
    expect(execFileSync('git', ['ls-files', '-s', 'cli/bin/feast.js'], { cwd: REPO_ROOT, encoding: 'utf8' })).to.match(/^100755 /);
    expect(read('cli', 'bin', 'feast.js').split('\n')[0]).to.equal('#!/usr/bin/env node');
    // Not an npm bin: installed on a user's machine it would shadow Python Feast's `feast`.
    expect(Object.keys(JSON.parse(read('cli', 'package.json')).bin)).to.deep.equal(['larder']);
  });

  it("the Dockerfile's ENTRYPOINT and CMD start larder, which serves and exits 0 on SIGTERM", async () => {
    const entrypoint = JSON.parse(instruction('ENTRYPOINT')!);
    const cmd = JSON.parse(instruction('CMD')!);
    expect(argAfter(cmd, '-c', '--chdir')).to.equal(instruction('WORKDIR'));
    const served = await serveAsContainer(entrypoint, cmd, { '/feature_repo': exampleRepo });
    expect(served.exitCode, served.logs).to.equal(0);
    expect(served.metrics).to.equal(200);
  });

  for (const [variant, docs] of [
    ['plain', plain],
    ['TLS', tls],
  ] as const) {
    it(`${variant}: the Deployment's args start larder, which answers its probes and exits 0 on SIGTERM`, async () => {
      const c = container(docs);
      expect(c.command, 'the image ENTRYPOINT is used').to.equal(undefined);
      const served = await serveAsContainer(JSON.parse(instruction('ENTRYPOINT')!), c.args, {
        '/feature_repo': exampleRepo,
        '/tls/offline': work,
      });
      expect(served.logs).to.include(variant === 'plain' ? 'grpc+tcp://' : 'grpc+tls://');
      expect(served.exitCode, served.logs).to.equal(0);
      expect(served.metrics).to.equal(200);
      if (variant === 'plain') expect(served.health).to.deep.equal({ ready: 1, liveness: 1 }); // SERVING
    });
  }
});
