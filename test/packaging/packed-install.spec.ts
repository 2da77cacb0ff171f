/**
 * larder as a user installs it: every published workspace and two third-party example plugins
 * packed with `npm pack`, installed from the tarballs into an empty directory outside the checkout
 * with the current Node.js LTS (scripts/ensure-node-lts.sh) — no workspaces, no tsx, no sources.
 * There `npx larder serve_offline` serves a feature repo through the plugins named by `type:` to
 * the real Feast client, `npx larder-conformance` runs the store kit on the example store, and a
 * TypeScript plugin compiles against the packed declarations.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { REPO_ROOT, freePort } from '../support/larder-process.ts';

const run = promisify(execFile);
const EXAMPLES = ['examples/store-plugin', 'examples/auth-plugin'];

/** The environment of a user's shell: Node LTS first on PATH, nothing inherited from `npm test`. */
function userEnv(nodeBin: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_|^NODE_OPTIONS$|^INIT_CWD$/i.test(k)) env[k] = v;
  return { ...env, PATH: `${nodeBin}${path.delimiter}${process.env.PATH}`, ...extra };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

interface Served {
  readonly port: number;
  readonly child: ChildProcess;
  logs(): string;
}

/** `npx larder -c repo serve_offline` in `cwd` (or the given larder executable), as a user types it; resolves once the port accepts. */
async function serve(cwd: string, repo: string, env: NodeJS.ProcessEnv, larder?: string): Promise<Served> {
  const port = await freePort();
  const [file, ...args] = larder ? [larder] : ['npx', 'larder'];
  const child = spawn(file!, [...args, '-c', repo, 'serve_offline', '-h', '127.0.0.1', '-p', String(port)], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: npx runs larder as a grandchild that a SIGTERM to npx alone leaves running.
    detached: true,
  });
  let logs = '';
  child.stdout!.on('data', (c: Buffer) => (logs += c));
  child.stderr!.on('data', (c: Buffer) => (logs += c));
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npx larder did not serve (exit ${child.exitCode}):\n${logs}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, child, logs: () => logs };
}

/** Whether any process of the server's group (npx, its shell, larder) is still alive. */
function groupAlive(served: Served): boolean {
  try {
    process.kill(-served.child.pid!, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERMs the whole group npx started and waits until its port closes and every process in it has exited. */
async function stop(served: Served | undefined): Promise<void> {
  if (!served || !groupAlive(served)) return;
  process.kill(-served.child.pid!, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (groupAlive(served) || (await portOpen(served.port))) {
    if (Date.now() > deadline) {
      process.kill(-served.child.pid!, 'SIGKILL');
      throw new Error(`larder on port ${served.port} did not exit within 30 s of SIGTERM:\n${served.logs()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** get_historical_features through Feast's remote offline store client, as JSON rows sorted by driver and time. */
const CLIENT = `
import json, sys
import pandas as pd
from datetime import datetime, timezone
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
entity_df = pd.DataFrame({
    "driver_id": [1001, 1002, 1003, 1001],
    "event_timestamp": [datetime(2021, 4, 11, 12, 30, tzinfo=timezone.utc), datetime(2021, 4, 12, 0, 30, tzinfo=timezone.utc),
                        datetime(2021, 4, 12, 6, tzinfo=timezone.utc), datetime(2020, 1, 1, tzinfo=timezone.utc)],
})
try:
    df = store.get_historical_features(entity_df=entity_df, features=["driver_hourly_stats:conv_rate", "driver_hourly_stats:avg_daily_trips"]).to_df()
except Exception as e:
    print(json.dumps({"error": type(e).__name__ + " " + str(e).splitlines()[0]}))
    sys.exit(0)
df = df.sort_values(["driver_id", "event_timestamp"]).reset_index(drop=True)
df["event_timestamp"] = df["event_timestamp"].astype(str)
print(json.dumps({"rows": json.loads(df.to_json(orient="records"))}))
`;

function clientRepo(dir: string, project: string, port: number, token: string | undefined): string {
  const auth = token ? ['auth:', '  type: kubernetes', `  user_token: ${token}`] : [];
  writeFileSync(
    path.join(dir, 'feature_store.yaml'),
    [
      `project: ${project}`,
      'registry: ../repo/data/registry.db',
      'provider: local',
      'offline_store:',
      '  type: remote',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      ...auth,
      'entity_key_serialization_version: 3',
      '',
    ].join('\n'),
  );
  return dir;
}

describe('packed install: larder and third-party plugins from tarballs, outside the checkout, on Node LTS', function () {
  this.timeout(900_000);
  let nodeBin: string;
  let packs: string;
  let app: string;
  let expected: unknown;
  const servers: Served[] = [];
  const python = () => feastPython().python;
  const ask = async (port: number, token?: string) => {
    const dir = clientRepo(mkdtempSync(path.join(app, 'client-')), 'larder_example', port, token);
    const { stdout } = await run(python(), ['-c', CLIENT, dir], { env: { ...process.env, FEAST_USAGE: 'False' }, timeout: 180_000 });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  };

  before(async () => {
    nodeBin = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'ensure-node-lts.sh')], { encoding: 'utf8' }).trim();
    // The test command builds first; building again is a no-op then, and makes this spec standalone.
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.build.json'], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    });
    packs = mkdtempSync(path.join(tmpdir(), 'larder-packs-'));
    app = mkdtempSync(path.join(tmpdir(), 'larder-user-'));
    const env = userEnv(nodeBin);
    const pack = (args: string[]) =>
      execFileSync('npm', ['pack', '--silent', '--pack-destination', packs, ...args], { cwd: REPO_ROOT, env, stdio: 'pipe' });
    pack(['--workspaces']);
    for (const example of EXAMPLES) pack([`./${example}`]);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'a-feast-users-app', private: true }));
    const tarballs = readdirSync(packs).map((f) => path.join(packs, f));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs], {
      cwd: app,
      env,
      timeout: 600_000,
    });
  });

  after(async () => {
    for (const s of servers) await stop(s);
    if (app) rmSync(app, { recursive: true, force: true });
    if (packs) rmSync(packs, { recursive: true, force: true });
  });

  it('installs built packages only: dist with declarations, no compiler, no tsx', async () => {
    expect(app.startsWith(REPO_ROOT), 'the install is outside the checkout').to.equal(false);
    for (const absent of ['typescript', 'tsx', 'ts-node', 'esbuild'])
      expect(existsSync(path.join(app, 'node_modules', absent)), `node_modules/${absent}`).to.equal(false);
    for (const pkg of [
      'flight',
      'core',
      'plugin-parquet-files',
      'plugin-duckdb',
      'plugin-postgres',
      'plugin-auth-oidc',
      'plugin-auth-k8s',
      'plugin-registry-sql',
      'plugin-registry-remote',
      'plugin-trino',
    ]) {
      const dir = path.join(app, 'node_modules', '@larder', pkg);
      expect(existsSync(path.join(dir, 'dist', 'index.js')), `@larder/${pkg}/dist/index.js`).to.equal(true);
      expect(existsSync(path.join(dir, 'dist', 'index.d.ts')), `@larder/${pkg}/dist/index.d.ts`).to.equal(true);
      expect(existsSync(path.join(dir, 'LICENSE')), `@larder/${pkg}/LICENSE`).to.equal(true);
      expect(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).engines.node).to.equal('>=22.12');
    }
    const { stdout } = await run(path.join(nodeBin, 'node'), ['--version'], {});
    const help = await run('npx', ['larder', '--help'], { cwd: app, env: userEnv(nodeBin) }).catch((e) => e);
    expect(`${help.stdout}${help.stderr}`).to.include('serve_offline');
    expect(stdout.trim()).to.match(/^v26\./);
  });

  it('serves the Feast client through the third-party store and auth plugins named by type:, answering as the built-in file store', async () => {
    const repo = await writeExampleRepo(path.join(app, 'repo'));
    const yaml = readFileSync(path.join(repo, 'feature_store.yaml'), 'utf8');
    const key = randomBytes(24).toString('hex');
    // The example repo as written, then with the example plugins selected by their npm names.
    const builtin = await serve(app, repo, userEnv(nodeBin));
    servers.push(builtin);
    const pluginRepo = path.join(app, 'plugin-repo');
    cpSync(repo, pluginRepo, { recursive: true });
    writeFileSync(
      path.join(pluginRepo, 'feature_store.yaml'),
      yaml.replace(/offline_store:\n {2}type: file\n/, 'offline_store:\n  type: larder-store-example\n') +
        'auth:\n  type: larder-auth-apikey\n  keys:\n    - {token_env: RITA_API_KEY, user: rita, roles: [reader]}\n',
    );
    const plugged = await serve(app, pluginRepo, userEnv(nodeBin, { RITA_API_KEY: key }));
    servers.push(plugged);
    expect(plugged.logs()).to.include('"offlineStore":"larder-store-example"');

    const answer = await ask(builtin.port);
    expect(answer.rows, JSON.stringify(answer)).to.have.length(4);
    expect(answer.rows.filter((r: Record<string, unknown>) => r.conv_rate !== null)).to.have.length(3);
    expected = answer;
    expect(await ask(plugged.port, key)).to.deep.equal(expected);
    const refused = await ask(plugged.port, `${key}x`);
    expect(refused.error).to.match(/^FlightUnauthenticatedError .*Invalid API key/);

    // Stopping what the user started leaves nothing behind: larder itself exits, not only npx.
    await stop(plugged);
    expect(groupAlive(plugged), 'a process of `npx larder` outlived SIGTERM').to.equal(false);
    expect(await portOpen(plugged.port), 'the port still accepts').to.equal(false);
  });

  it("a plugin installed in the feature repo, larder installed elsewhere (as in the image), shares the server's core and Arrow", async () => {
    // npm installs the plugin's peers (@larder/core, apache-arrow) beside it in the repo: second
    // copies, which larder must not hand the plugin. The repo is outside the app's directory tree.
    const repo = mkdtempSync(path.join(tmpdir(), 'larder-feature-repo-'));
    try {
      await writeExampleRepo(repo);
      const yaml = readFileSync(path.join(repo, 'feature_store.yaml'), 'utf8');
      writeFileSync(
        path.join(repo, 'feature_store.yaml'),
        yaml.replace(/offline_store:\n {2}type: file\n/, 'offline_store:\n  type: larder-store-example\n'),
      );
      writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'feature-repo', private: true }));
      const peers = readdirSync(packs)
        .filter((f) => /^larder-store-example-|^larder-core-|^larder-flight-/.test(f))
        .map((f) => path.join(packs, f));
      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...peers], {
        cwd: repo,
        env: userEnv(nodeBin),
        timeout: 600_000,
      });
      expect(
        existsSync(path.join(repo, 'node_modules', 'apache-arrow', 'package.json')),
        'a second apache-arrow beside the plugin',
      ).to.equal(true);
      const served = await serve(repo, repo, userEnv(nodeBin), path.join(app, 'node_modules', '.bin', 'larder'));
      servers.push(served);
      expect(await ask(served.port)).to.deep.equal(expected);
      expect(served.logs()).to.not.include('different copy of apache-arrow');
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('npx larder-conformance runs the store kit on the installed example store: every read check passes', async () => {
    const target = path.join('node_modules', 'larder-store-example', 'conformance-target.js');
    const result = await run('npx', ['larder-conformance', target], { cwd: app, env: userEnv(nodeBin), timeout: 300_000 }).catch((e) => e);
    const output = `${result.stdout}${result.stderr ?? ''}`;
    const summary = /^(\d+) passed, (\d+) failed(?: \((\d+) not implemented\))?$/m.exec(output);
    expect(summary, output).to.not.equal(null);
    expect(Number(summary![2]), output).to.equal(0);
    expect(Number(summary![1]), output).to.be.at.least(20);
    expect(output).to.match(/^ok {3}.*point-in-time/m);
  });

  it('a TypeScript plugin compiles against the packed declarations, and a wrong one does not', async () => {
    const dir = path.join(app, 'ts-plugin');
    cpSync(path.join(REPO_ROOT, 'examples', 'ts-plugin-check'), dir, { recursive: true });
    const tsc = (project: string) =>
      run(
        path.join(nodeBin, 'node'),
        [
          path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          project,
          '--typeRoots',
          path.join(REPO_ROOT, 'node_modules', '@types'),
        ],
        {
          cwd: dir,
        },
      ).then(
        () => '',
        (e) => String(e.stdout),
      );
    expect(await tsc('.')).to.equal('');
    writeFileSync(
      path.join(dir, 'wrong.ts'),
      "import type { OfflineStorePlugin } from '@larder/core';\nexport const p: OfflineStorePlugin = { kind: 'auth', configSchema: {}, create: () => ({}) };\n",
    );
    writeFileSync(path.join(dir, 'tsconfig.wrong.json'), JSON.stringify({ extends: './tsconfig.json', files: ['wrong.ts'] }));
    expect(await tsc('tsconfig.wrong.json')).to.match(/wrong\.ts.*error TS2322/s);
  });
});
