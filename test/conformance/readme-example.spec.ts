/**
 * The README's promise, tested as a new user would follow it: `larder example` writes and serves
 * the bundled repo, and the README's client feature_store.yaml and Python snippet, taken verbatim
 * from README.md, fetch features from it with the real Feast client.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { REPO_ROOT, startLarder, type ServerProcess } from '../support/larder-process.ts';

const run = promisify(execFile);

/** The fenced code blocks of README.md that follow a given heading, by language. */
function readmeBlocks(heading: string): { sh: string[]; python: string[] } {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`README.md has no "## ${heading}" section`);
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)];
  return {
    sh: blocks.filter((b) => b[1] === 'sh').map((b) => b[2]!),
    python: blocks.filter((b) => b[1] === 'python').map((b) => b[2]!),
  };
}

describe('README walkthrough: the example repo with the Feast client snippet', function () {
  this.timeout(180_000);
  let workdir: string;
  let server: ServerProcess;

  before(async () => {
    workdir = mkdtempSync(path.join(tmpdir(), 'larder-readme-'));
    await writeExampleRepo(path.join(workdir, 'larder-example'));
    server = await startLarder({ repoPath: path.join(workdir, 'larder-example') });
  });

  after(async () => {
    if (server) expect(await server.stop()).to.equal(0);
    rmSync(workdir, { recursive: true, force: true });
  });

  it('returns one row of features per entity row, with no missing value', async () => {
    const { sh, python } = readmeBlocks('Fetching features with the Feast client');
    expect(sh, 'the client feature_store.yaml block').to.have.length(1);
    expect(python, 'the Python snippet').to.have.length(1);
    // The README's client points at port 8815; the test server runs on a free port.
    await run('bash', ['-c', sh[0]!.replace('port: 8815', `port: ${server.port}`)], { cwd: workdir });
    mkdirSync(path.join(workdir, 'client'), { recursive: true });
    const script = `${python[0]}\nimport json\nprint("RESULT" + training_df.to_json(orient="records"))\n`;
    const rows = await runSnippet(script);
    expect(rows.map((r) => r.driver_id)).to.deep.equal([1001, 1002, 1003]);
    for (const row of rows) {
      for (const column of ['conv_rate', 'acc_rate', 'avg_daily_trips']) {
        expect(row[column], `${column} of driver ${row.driver_id}`).to.be.a('number');
      }
    }
    // The same request answered by Python Feast's own file store on the example repo.
    const local = await runSnippet(script.replace('repo_path="client"', 'repo_path="larder-example"'));
    const byDriver = (r: Array<Record<string, unknown>>) => [...r].sort((a, b) => Number(a.driver_id) - Number(b.driver_id));
    expect(rows).to.deep.equal(byDriver(local));
  });

  async function runSnippet(script: string): Promise<Array<Record<string, unknown>>> {
    writeFileSync(path.join(workdir, 'snippet.py'), script);
    const { stdout } = await run(feastPython().python, ['snippet.py'], {
      cwd: workdir,
      env: { ...process.env, FEAST_USAGE: 'False' },
    });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT'));
    expect(line, stdout).to.be.a('string');
    return JSON.parse(line!.slice('RESULT'.length)) as Array<Record<string, unknown>>;
  }
});
