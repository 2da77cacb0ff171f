/**
 * larder's command line against Feast 0.67's click definitions: every global and `serve_offline`
 * option, short and long; `--help` printed to stdout with exit 0; click's usage errors (exit 2)
 * with its did-you-mean. The Feast side is the real `feast` CLI, run through click's CliRunner in
 * one Python process, so the messages are compared with what Feast prints today.
 * No case here starts a server: each ends at help or at a usage error.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { main, run } from '../../core/src/cli.ts';
import { closeMatches } from '../../core/src/cli/close-matches.ts';
import { feastPython } from '../support/feast-python.ts';

const exec = promisify(execFile);

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function larder(argv: string[], prog = 'larder'): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    prog,
    stdout: { write: (s: string) => void (stdout += s) },
    stderr: { write: (s: string) => void (stderr += s) },
  });
  return { code, stdout, stderr };
}

/** Runs each argv through Feast's click group in one Python process (importing feast takes seconds). */
async function feast(argvs: readonly (readonly string[])[]): Promise<Outcome[]> {
  const script = [
    'import json, sys',
    'from click.testing import CliRunner',
    'from feast.cli.cli import cli',
    'out = []',
    'for argv in json.loads(sys.argv[1]):',
    '    r = CliRunner().invoke(cli, argv, prog_name="feast")',
    '    out.append({"code": r.exit_code, "stdout": r.stdout, "stderr": r.stderr})',
    'print(json.dumps(out))',
  ].join('\n');
  const { stdout } = await exec(feastPython().python, ['-c', script, JSON.stringify(argvs)], {
    cwd: tmpdir(),
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Outcome[];
}

/** Usage errors larder answers word for word as Feast's click does (with `feast` as the program name). */
const SAME_AS_FEAST: readonly (readonly string[])[] = [
  // a typo of every serve_offline option, and of --help
  ['serve_offline', '--prot', '1'],
  ['serve_offline', '--hots', 'x'],
  ['serve_offline', '--ky', 'x'],
  ['serve_offline', '--kye', 'x'],
  ['serve_offline', '--cret', 'x'],
  ['serve_offline', '--c', 'x'],
  ['serve_offline', '--k'],
  ['serve_offline', '--hlep'],
  // a typo of every global option, and of --help
  ['--chdri', 'x', 'serve_offline'],
  ['--c', 'x', 'serve_offline'],
  ['--log-levl', 'x', 'serve_offline'],
  ['--log', 'x'],
  ['--feature-store-yml', 'x', 'serve_offline'],
  ['--hepl'],
  // unknown short options (click offers no suggestion for those)
  ['-x', 'serve_offline'],
  ['serve_offline', '-x'],
  // global options are not serve_offline options
  ['serve_offline', '--chdir', 'x'],
  // values click refuses
  ['serve_offline', '-p', 'abc'],
  ['serve_offline', '--port=abc'],
  ['serve_offline', '-k', 'key.pem'],
  ['serve_offline', '--cert', 'cert.pem'],
  ['serve_offline', 'extra'],
  ['serve_offline', 'a', 'b'],
  ['serve_offline', '--', 'x'],
  // an option without its value, a flag with one (click prints no usage line for these)
  ['-c'],
  ['-f'],
  ['--log-level'],
  ['serve_offline', '-p'],
  ['serve_offline', '--cert'],
  ['serve_offline', '--help=1'],
  // global options and no command
  ['-c', 'x'],
];

describe('CLI: Feast 0.67 global and serve_offline options', function () {
  this.timeout(60_000);

  describe('usage errors, compared with the real feast CLI', () => {
    let feastOutcomes: Outcome[];
    before(async () => {
      feastOutcomes = await feast(SAME_AS_FEAST);
    });

    SAME_AS_FEAST.forEach((argv, i) => {
      it(`feast ${argv.join(' ')}: the same message and exit code 2`, async () => {
        const ours = await larder([...argv], 'feast');
        const theirs = feastOutcomes[i]!;
        expect(theirs.code, theirs.stderr).to.equal(2);
        expect(ours.code).to.equal(2);
        expect(ours.stderr).to.equal(theirs.stderr);
        expect(ours.stdout).to.equal('');
      });
    });
  });

  describe('did-you-mean, for the options larder adds and its commands', () => {
    for (const [argv, message] of [
      [['serve_offline', '--metrics-prot', '9'], "Error: No such option '--metrics-prot'. Did you mean '--metrics-port'?"],
      [['serve_offline', '--odfv-pyton', 'x'], "Error: No such option '--odfv-pyton'. Did you mean '--odfv-python'?"],
      [['servee_offline'], "Error: No such command 'servee_offline'. Did you mean 'serve_offline'?"],
      [['serv'], "Error: No such command 'serv'. Did you mean 'serve'?"],
      [['exmaple'], "Error: No such command 'exmaple'. Did you mean 'example'?"],
    ] as const) {
      it(`larder ${argv.join(' ')}`, async () => {
        const { code, stderr } = await larder([...argv]);
        expect(code).to.equal(2);
        expect(stderr).to.include(message);
        expect(stderr).to.match(/^Usage: larder /);
      });
    }

    it('names Feast commands larder does not serve, and what to run instead', async () => {
      const { code, stderr } = await larder(['-c', '/tmp', 'apply']);
      expect(code).to.equal(2);
      expect(stderr).to.include("Error: No such command 'apply'.");
      expect(stderr).to.include('larder serves only serve_offline');
    });
  });

  describe('--help', () => {
    const serveOptions = [
      /^ {2}-h, --host TEXT +.*\[default: 127\.0\.0\.1\]$/m,
      /^ {2}-p, --port INTEGER +/m,
      /^ {2}-k, --key TEXT +/m,
      /^ {2}-c, --cert TEXT +/m,
      /^ {2}--metrics-port INTEGER +/m,
      /^ {2}--odfv-python TEXT +/m,
      /^ {2}--help +Show this message and exit\.$/m,
    ];

    for (const argv of [
      ['serve_offline', '--help'],
      ['serve', '--help'],
      // eager, as in click: before any value is checked and before the repo is looked at
      ['-c', '/nonexistent', 'serve_offline', '-p', 'abc', '--help'],
      ['serve_offline', 'extra', '--help'],
      ['--', 'serve_offline', '--help'],
    ]) {
      it(`larder ${argv.join(' ')}: serve_offline's options on stdout, exit 0`, async () => {
        const { code, stdout, stderr } = await larder(argv);
        expect(code, stderr).to.equal(0);
        expect(stderr).to.equal('');
        expect(stdout).to.match(/^Usage: larder serve_offline \[OPTIONS\]\n/);
        for (const line of serveOptions) expect(stdout).to.match(line);
      });
    }

    it('larder --help: the global options and the commands on stdout, exit 0', async () => {
      const { code, stdout } = await larder(['--help']);
      expect(code).to.equal(0);
      expect(stdout).to.match(/^Usage: larder \[OPTIONS\] COMMAND \[ARGS\]\.\.\.\n/);
      expect(stdout).to.match(/^ {2}-c, --chdir TEXT +/m);
      expect(stdout).to.match(/^ {2}--log-level TEXT +/m);
      expect(stdout).to.match(/^ {2}-f, --feature-store-yaml TEXT +/m);
      expect(stdout).to.match(/^ {2}--help +Show this message and exit\.$/m);
      expect(stdout).to.match(/^ {2}serve_offline +/m);
      expect(stdout).to.match(/^ {2}example +/m);
    });

    it('larder with no arguments: the help on stderr, exit 2 (click: no_args_is_help)', async () => {
      const { code, stdout, stderr } = await larder([]);
      expect(code).to.equal(2);
      expect(stdout).to.equal('');
      expect(stderr).to.match(/^Usage: larder \[OPTIONS\] COMMAND \[ARGS\]\.\.\.\n/);
    });

    it('larder example DIR --help prints the help without writing the example repo', async () => {
      const dir = path.join(mkdtempSync(path.join(tmpdir(), 'larder-cli-args-')), 'example');
      try {
        let stdout = '';
        const code = await run(['example', dir, '--help'], { stdout: { write: (s: string) => void (stdout += s) } });
        expect(code).to.equal(0);
        expect(stdout).to.include('--metrics-port');
        expect(existsSync(dir), 'example repo written').to.equal(false);
      } finally {
        rmSync(path.dirname(dir), { recursive: true, force: true });
      }
    });
  });

  describe('--log-level: the names Feast accepts, in any case', () => {
    for (const level of ['DEBUG', 'debug', 'Info', 'WARNING', 'warn', 'error', 'CRITICAL', 'fatal', 'notset']) {
      it(`--log-level ${level} is accepted`, async () => {
        const { code, stderr } = await larder(['--log-level', level, 'serve_offline', '--help']);
        expect(code, stderr).to.equal(0);
      });
    }
    it('an unknown level is a usage error naming the choices (Feast: a traceback, exit 1)', async () => {
      const { code, stderr } = await larder(['--log-level=bogus', 'serve_offline', '--help']);
      expect(code).to.equal(2);
      expect(stderr).to.include("Error: Invalid value for '--log-level': 'bogus' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL");
    });
  });

  describe("closeMatches: Python's difflib.get_close_matches, as click uses it", () => {
    it('picks the same candidates as difflib for typed words', async () => {
      const candidates = ['--host', '--port', '--key', '--cert', '--metrics-port', '--odfv-python', '--help', '--chdir', '--log-level'];
      const words = [
        '--prot',
        '--hots',
        '--c',
        '--k',
        '--ce',
        '--porthost',
        '--log',
        '--lvl',
        '-p',
        '--metrics',
        'x',
        '--helper',
        '--odfv',
        '--ht',
      ];
      const script =
        'import difflib, json, sys\nw, c = json.loads(sys.argv[1])\nprint(json.dumps([difflib.get_close_matches(x, c) for x in w]))';
      const { stdout } = await exec(feastPython().python, ['-c', script, JSON.stringify([words, candidates])]);
      expect(words.map((w) => closeMatches(w, candidates))).to.deep.equal(JSON.parse(stdout));
    });
  });
});
