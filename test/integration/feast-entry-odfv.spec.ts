/**
 * The `feast` entry stands in for `feast serve_offline`, whose server computes on-demand feature
 * views in its own Python. Feast's integration harness starts the server as `feast -c <repo>
 * serve_offline …` with its venv on PATH and nothing in feature_store.yaml about Python: through
 * the `feast` entry, larder then computes ODFVs with the Python on PATH. Where PATH has no Python
 * (larder's image), they are refused with advice, and `larder serve_offline` keeps them opt-in
 * (`--odfv-python` / `larder.odfv_python`) whatever PATH holds.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { EXAMPLE_PROJECT, writeExampleYaml } from '../support/applied-example-repo.ts';
import { writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { writeRemoteClientRepo } from '../support/guarded-repo.ts';
import { DRIVER_VIEW_DEFINITION, historicalWithOdfv } from '../support/odfv-client.ts';
import { REPO_ROOT, freePort, launch, startLarder, type ServerProcess } from '../support/larder-process.ts';

const run = promisify(execFile);

const DEFINITIONS = `${DRIVER_VIEW_DEFINITION}
import pandas as pd
from feast.on_demand_feature_view import on_demand_feature_view

@on_demand_feature_view(sources=[driver_hourly_stats], schema=[Field(name="tripled_rate", dtype=Float64)])
def tripled(inputs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"tripled_rate": inputs["conv_rate"] * 3})
`;

describe("the feast entry computes ODFVs with the Python on PATH, as Feast's server does", function () {
  this.timeout(300_000);
  let dir: string;
  let repo: string;
  let server: ServerProcess | undefined;

  /** The feast entry from the sources, as `feast -c <repo> serve_offline`, with PATH set to `searchPath`. */
  async function startFeastEntry(searchPath: string): Promise<ServerProcess> {
    const port = await freePort();
    const args = ['--conditions=larder-source', '--import', 'tsx', path.join(REPO_ROOT, 'cli', 'bin', 'feast.js')];
    args.push('-c', repo, 'serve_offline', '--host', '127.0.0.1', '--port', String(port));
    return launch(process.execPath, args, port, { repoPath: repo, cwd: REPO_ROOT, env: { PATH: searchPath } }, 'feast entry');
  }

  const answer = (port: number) => historicalWithOdfv(writeRemoteClientRepo(repo, EXAMPLE_PROJECT, port, []), 'tripled:tripled_rate');

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-feast-entry-odfv-'));
    repo = await writeExampleRepo(path.join(dir, 'repo'));
    // Nothing about Python in the yaml, as in Feast's harness.
    writeExampleYaml(repo, ['path: data/registry.db']);
    writeFileSync(path.join(repo, 'definitions.py'), DEFINITIONS);
    await run(feastPython().feast, ['-c', repo, 'apply'], { cwd: repo, env: feastEnv(), timeout: 180_000 });
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("computes them with the venv's python3 when the venv is on PATH", async () => {
    server = await startFeastEntry(`${path.dirname(feastPython().python)}${path.delimiter}/usr/bin${path.delimiter}/bin`);
    const got = await answer(server.port);
    if ('error' in got) expect.fail(`the client's answer: ${got.error} (larder's log: ${server.logs().slice(-2000)})`);
    expect(got.rates).to.have.length(2);
    got.rates.forEach((rate, i) => expect(got.values[i]).to.be.closeTo(rate * 3, 1e-6));
    expect(server.logs()).to.include("computed by the Python on PATH, as by Feast's server");
  });

  it('refuses them with advice when PATH has no Python (as in the image)', async () => {
    const empty = path.join(dir, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    server = await startFeastEntry(empty);
    const got = await answer(server.port);
    expect('error' in got ? got.error : 'values were computed').to.match(/^ERROR .*odfv.python/i);
  });

  it('larder serve_offline keeps them opt-in, even with a Python on PATH', async () => {
    server = await startLarder({
      repoPath: repo,
      env: { PATH: `${path.dirname(feastPython().python)}${path.delimiter}${process.env.PATH}` },
    });
    const got = await answer(server.port);
    expect('error' in got ? got.error : 'values were computed').to.match(/^ERROR .*odfv.python/i);
  });
});
