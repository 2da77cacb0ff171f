/**
 * An on-demand feature view whose transformation lives in a module outside the feature repo,
 * found through a relative PYTHONPATH entry: Feast's own integration harness runs this way
 * (`PYTHONPATH=.` from sdk/python, its views' UDFs in the `tests` package, `feast -c <repo>
 * serve_offline` started from sdk/python). Feast pickles such a UDF by reference (module and
 * name), so the ODFV worker must import that module from where larder was started, as Feast's
 * server process does; it used to run in the repo directory and fail with ModuleNotFoundError.
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
import { startLarder, type ServerProcess } from '../support/larder-process.ts';

const run = promisify(execFile);

/** The transformation, in its own importable module (so Feast pickles it by reference). */
const SHARED_UDFS = `
def doubled_rate(inputs: dict) -> dict:
    return {"doubled_rate": [None if x is None else x * 2 for x in inputs["conv_rate"]]}
`;

const DEFINITIONS = `${DRIVER_VIEW_DEFINITION}
from feast import OnDemandFeatureView
from feast.transformation.python_transformation import PythonTransformation
from shared_udfs import doubled_rate

# Built as Feast's harness builds its views: the constructor, not the decorator (which re-homes the
# function in __main__ so that it is pickled by value), so the UDF is pickled by reference.
doubled = OnDemandFeatureView(
    name="doubled",
    sources=[driver_hourly_stats],
    schema=[Field(name="doubled_rate", dtype=Float64)],
    feature_transformation=PythonTransformation(udf=doubled_rate, udf_string="doubled_rate"),
    mode="python",
)
`;

describe('an ODFV whose transformation a relative PYTHONPATH entry finds (as in Feast harness)', function () {
  this.timeout(240_000);
  let dir: string;
  let server: ServerProcess | undefined;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-odfv-paths-'));
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is computed by the worker, importing the module from where larder was started', async () => {
    // work/shared_udfs.py is importable only through PYTHONPATH=. from work/, never from the repo.
    const work = path.join(dir, 'work');
    mkdirSync(work);
    writeFileSync(path.join(work, 'shared_udfs.py'), SHARED_UDFS);
    const repo = await writeExampleRepo(path.join(dir, 'repo'));
    writeExampleYaml(repo, ['path: data/registry.db'], ['larder:', `  odfv_python: ${feastPython().python}`]);
    writeFileSync(path.join(repo, 'definitions.py'), DEFINITIONS);
    await run(feastPython().feast, ['-c', repo, 'apply'], { cwd: repo, env: { ...feastEnv(), PYTHONPATH: work }, timeout: 180_000 });

    server = await startLarder({ repoPath: repo, cwd: work, env: { PYTHONPATH: '.' } });
    // The client reads the ODFV from the registry too (dill needs shared_udfs there as well).
    const client = writeRemoteClientRepo(repo, EXAMPLE_PROJECT, server.port, []);
    const got = await historicalWithOdfv(client, 'doubled:doubled_rate', { ...feastEnv(), PYTHONPATH: work });
    if ('error' in got) expect.fail(`the client's answer: ${got.error} (larder's log: ${server.logs().slice(-2000)})`);
    expect(got.rates).to.have.length(2);
    got.rates.forEach((rate, i) => expect(got.values[i]).to.be.closeTo(rate * 2, 1e-6));
  });
});
