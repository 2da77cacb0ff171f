/**
 * On-demand feature views through a running `larder` and the unchanged Feast client: refused with
 * advice when no worker is configured; with `larder.odfv_python` computed as Feast computes them;
 * a worker killed mid-call, or a transformation over `larder.odfv_timeout_seconds`, fails that call
 * with a Feast error that says so, and the next call is served. A client that sends no request
 * data (not Feast's SDK, which checks first) gets Feast's RequestDataNotFoundInEntityDfException.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { tableFromArrays } from 'apache-arrow';
import { expect } from 'chai';
import { applyExampleRepo, EXAMPLE_PROJECT, writeExampleYaml } from '../support/applied-example-repo.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { connect } from '../support/flight-client.ts';
import { rejection } from '../support/guarded-repo.ts';
import { freePort, startLarder, type ServerProcess, LARDER_DEV } from '../support/larder-process.ts';
import { ODFV_DEFINITIONS } from '../support/odfv-definitions.ts';

const run = promisify(execFile);

/** get_historical_features by the Feast client; prints RESULT {column: values} or ERROR class text. */
const CLIENT_HIST = `
import json, sys
import pandas as pd
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
entity_df = pd.DataFrame({
    "driver_id": [1001, 1002, 1003],
    "event_timestamp": pd.to_datetime(["2021-04-12 10:00:00"] * 3, utc=True),
    "val_to_add": [1, 2, 3],
    "val_to_add_2": [10, 20, 30],
})
try:
    df = store.get_historical_features(entity_df=entity_df, features=sys.argv[2].split(",")).to_df()
    print("RESULT " + json.dumps({c: [None if pd.isna(v) else float(v) for v in df[c]] for c in df.columns if c != "event_timestamp"}))
except Exception as e:
    print("ERROR " + type(e).__module__ + "." + type(e).__name__ + " " + str(e).replace("\\n", " | "))
`;

const QUICKSTART = [
  'driver_hourly_stats:conv_rate',
  'transformed_conv_rate:conv_rate_plus_val1',
  'transformed_conv_rate:conv_rate_plus_val2',
];

describe('on demand feature views through larder and the Feast client', function () {
  this.timeout(240_000);
  let dir: string;
  let repo: string;
  const servers: ServerProcess[] = [];

  /** A Feast client of the server on `port`, reading the registry feast apply wrote. */
  const hist = async (port: number, features: readonly string[]): Promise<string> => {
    const client = mkdtempSync(path.join(dir, 'client-'));
    writeFileSync(
      path.join(client, 'feature_store.yaml'),
      [
        `project: ${EXAMPLE_PROJECT}`,
        `registry: ${path.join(repo, 'data', 'registry.db')}`,
        'provider: local',
        'offline_store:',
        '  type: remote',
        '  host: 127.0.0.1',
        `  port: ${port}`,
        'entity_key_serialization_version: 3',
        '',
      ].join('\n'),
    );
    const { stdout } = await run(feastPython().python, ['-c', CLIENT_HIST, client, features.join(',')], {
      env: feastEnv(),
      encoding: 'utf8',
      timeout: 120_000,
    });
    return stdout.trim().split('\n').pop() ?? '';
  };
  const result = (line: string) => {
    expect(line).to.match(/^RESULT /);
    return JSON.parse(line.slice('RESULT '.length)) as Record<string, Array<number | null>>;
  };
  const serve = async (options: { args?: string[]; larderLines?: string[] } = {}) => {
    writeExampleYaml(repo, ['path: data/registry.db'], options.larderLines ? ['larder:', ...options.larderLines.map((l) => `  ${l}`)] : []);
    const server = await startLarder({ repoPath: repo, args: options.args, logLevel: 'debug' });
    servers.push(server);
    return server;
  };
  /** The worker's pid, once larder has logged that it started. */
  const workerPid = async (server: ServerProcess): Promise<number> => {
    for (let waited = 0; waited < 60_000; waited += 200) {
      const found = [...server.logs().matchAll(/"workerPid":(\d+)[^\n]*"msg":"ODFV worker started"/g)].pop();
      if (found) return Number(found[1]);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the ODFV worker never started:\n${server.logs().slice(-3000)}`);
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-odfv-server-'));
    repo = await applyExampleRepo(path.join(dir, 'repo'), ['path: data/registry.db'], ODFV_DEFINITIONS);
    mkdirSync(path.join(dir, 'clients'), { recursive: true });
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses ODFV refs without a worker, saying how to enable one, and still serves plain refs', async () => {
    const server = await serve();
    const line = await hist(server.port, QUICKSTART);
    expect(line).to.match(
      /^ERROR feast\.errors\.FeastObjectNotFoundException On demand feature view transformed_conv_rate cannot be computed by this server/,
    );
    expect(line).to.include('--odfv-python').and.to.include('larder.odfv_python');
    expect(result(await hist(server.port, ['driver_hourly_stats:conv_rate'])).conv_rate).to.have.length(3);
  });

  describe('with larder.odfv_python in feature_store.yaml', () => {
    let server: ServerProcess;
    let metricsPort: number;
    before(async () => {
      metricsPort = await freePort();
      server = await serve({
        args: ['--metrics-port', String(metricsPort)],
        larderLines: [`odfv_python: ${feastPython().python}`, 'odfv_timeout_seconds: 8'],
      });
    });

    it("computes Feast quick-start's ODFV from the request data", async () => {
      const got = result(await hist(server.port, QUICKSTART));
      // The client also asks for every feature the view reads (in an order of a Python set), as with Feast's server.
      expect(Object.keys(got).slice(0, 4)).to.deep.equal(['driver_id', 'val_to_add', 'val_to_add_2', 'conv_rate']);
      expect(Object.keys(got).slice(4, 6)).to.have.members(['acc_rate', 'avg_daily_trips']);
      expect(Object.keys(got).slice(6)).to.deep.equal(['conv_rate_plus_val1', 'conv_rate_plus_val2']);
      got.conv_rate!.forEach((rate, i) => {
        expect(rate).to.be.a('number');
        expect(got.conv_rate_plus_val1![i]).to.be.closeTo(rate! + got.val_to_add![i]!, 1e-9);
        expect(got.conv_rate_plus_val2![i]).to.be.closeTo(rate! + got.val_to_add_2![i]!, 1e-9);
      });
    });

    it('fails the call whose worker is killed, with a Feast error that says so, and serves the next from a fresh worker', async () => {
      const pid = await workerPid(server);
      const slow = hist(server.port, ['slow_view:slow_rate']);
      for (let waited = 0; !server.logs().includes('slow_view started'); waited += 100) {
        if (waited > 60_000) throw new Error(`slow_view never started:\n${server.logs().slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      process.kill(pid, 'SIGKILL');
      expect(await slow).to.match(
        new RegExp(`^ERROR feast\\.errors\\.FeastError The ODFV worker \\(pid ${pid}\\) was killed \\(SIGKILL\\)`),
      );
      expect(result(await hist(server.port, ['acc_rate_doubled:acc_rate_doubled'])).acc_rate_doubled).to.have.length(3);
    });

    it('stops a transformation over odfv_timeout_seconds and serves the next call', async () => {
      expect(await hist(server.port, ['slow_view:slow_rate'])).to.equal(
        'ERROR feast.errors.FeastError Computing on demand feature view slow_view took longer than 8 s; the ODFV worker was restarted',
      );
      expect(result(await hist(server.port, QUICKSTART)).conv_rate_plus_val1).to.have.length(3);
    });

    it("answers a client that sends no request data with Feast's RequestDataNotFoundInEntityDfException", async () => {
      const client = connect(`127.0.0.1:${server.port}`);
      try {
        const command = JSON.stringify({
          command_id: 'no-request-data',
          api: 'get_historical_features',
          feature_view_names: ['driver_hourly_stats'],
          name_aliases: [null],
          feature_refs: QUICKSTART,
          project: EXAMPLE_PROJECT,
          full_feature_names: false,
        });
        const entities = tableFromArrays({ driver_id: BigInt64Array.from([1001n]), event_timestamp: [new Date('2021-04-12T10:00:00Z')] });
        const error = await rejection(
          (async () => {
            await client.doPut(command, entities);
            const info = await client.getFlightInfo(command);
            await client.doGet(info.endpoints[0]!.ticket);
          })(),
        );
        expect(error.details).to.include('RequestDataNotFoundInEntityDfException');
        expect(error.details).to.include(
          'Feature val_to_add not found in the entity dataframe, but required by feature view transformed_conv_rate',
        );
      } finally {
        client.close();
      }
    });

    it('reports the worker in its metrics: up, starts and stops, batches transformed and failed, time spent', async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(value('larder_odfv_worker_up')).to.equal(1);
      // Started, then restarted after the kill and after the timeout.
      expect(value('larder_odfv_worker_starts_total')).to.equal(3);
      expect(value('larder_odfv_worker_stops_total')).to.equal(2);
      expect(value('larder_odfv_batches_transformed_total')).to.be.at.least(3);
      expect(value('larder_odfv_batches_failed_total')).to.equal(2);
      expect(value('larder_odfv_transform_seconds_total')).to.be.above(8);
    });
  });

  it('refuses to start when the named interpreter does not exist, naming the key or the flag', async () => {
    const larder = (args: string[]) =>
      run(process.execPath, [...LARDER_DEV, '-c', repo, 'serve_offline', '-p', '0', ...args], { timeout: 60_000 }).catch(
        (e) => e,
      ) as Promise<{ code: number; stderr: string }>;
    writeExampleYaml(repo, ['path: data/registry.db'], ['larder:', '  odfv_python: venv/bin/no-python']);
    const fromYaml = await larder([]);
    expect(fromYaml.code).to.equal(1);
    expect(fromYaml.stderr).to.include(
      `feature_store.yaml: larder.odfv_python: ${path.join(repo, 'venv/bin/no-python')} does not exist; it must name a Python interpreter with feast installed`,
    );
    writeExampleYaml(repo, ['path: data/registry.db']);
    const fromFlag = await larder(['--odfv-python', './no-python']);
    expect(fromFlag.code).to.equal(1);
    expect(fromFlag.stderr).to.include(`--odfv-python: ${path.resolve('no-python')} does not exist`);
    writeExampleYaml(repo, ['path: data/registry.db'], ['larder:', '  odfv_timeout_seconds: 0']);
    expect((await larder([])).stderr).to.include('larder.odfv_timeout_seconds');
  });

  it('takes the interpreter from --odfv-python, which overrides the yaml', async () => {
    const server = await serve({
      args: ['--odfv-python', feastPython().python],
      larderLines: [`odfv_python: ${path.join(dir, 'no-such-python')}`],
    });
    expect(result(await hist(server.port, ['acc_rate_doubled:acc_rate_doubled'])).acc_rate_doubled).to.deep.equal(
      result(await hist(server.port, ['driver_hourly_stats:acc_rate'])).acc_rate!.map((x) => x! * 2),
    );
  });
});
