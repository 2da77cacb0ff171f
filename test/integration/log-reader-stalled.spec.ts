/**
 * A larder whose stdout is a pipe nobody reads, as Feast's integration harness starts the offline
 * server (`stdout=subprocess.PIPE`, never read). Once the pipe is full larder must go on serving,
 * keep a bounded amount of log in memory (dropping and counting the rest), stop on SIGTERM, and
 * never tear a line. With pino's default destination every line was queued in memory for ever,
 * and SIGTERM left the process running, waiting for the queue to drain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { connect } from '../support/flight-client.ts';
import { placeholderTable, pullAllCommand, rejection } from '../support/guarded-repo.ts';
import { freePort, LARDER_DEV } from '../support/larder-process.ts';

/** Calls made while nobody reads: at debug level each logs about 1.4 KiB, some 7 MiB in all. */
const CALLS = 5_000;
const PARALLEL = 20;

describe('larder with a stdout pipe that nobody reads', function () {
  this.timeout(240_000);
  let repo: string;
  let child: ChildProcess | undefined;

  before(() => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-stalled-log-'));
    // No registry yet (as in Feast's harness before `feast apply`): every pull is NOT_FOUND, logged.
    writeFileSync(
      path.join(repo, 'feature_store.yaml'),
      'project: stalled\nregistry: data/registry.db\nprovider: local\noffline_store:\n  type: file\nentity_key_serialization_version: 3\n',
    );
  });

  after(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(repo, { recursive: true, force: true });
  });

  it('keeps answering, drops and counts what the reader cannot take, stops on SIGTERM, and tears no line', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    // The drops are certain: the parent's paused stream and the kernel's pipe take about 128 KiB,
    // larder's queue 4 MiB, and the calls log some 7 MiB.
    child = spawn(
      process.execPath,
      [...LARDER_DEV, '--log-level', 'debug', '-c', repo, 'serve_offline', '--host', '127.0.0.1', '--port', String(port)].concat([
        '--metrics-port',
        String(metricsPort),
      ]),
      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // Nobody reads stdout until larder has exited: the stream stays paused, so the pipe fills and
    // stays full. (The listener is there from the start: Node resumes an unread stream of a child
    // that exits, discarding what it holds, which is what this test reads at the end.)
    const chunks: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stdout!.pause();
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const ended = once(child.stdout!, 'end');

    const client = connect(`127.0.0.1:${port}`);
    let metrics: string;
    try {
      await waitForPort(client, stderr);
      let answered = 0;
      for (let i = 0; i < CALLS; i += PARALLEL) {
        const batch = Array.from({ length: PARALLEL }, () => rejection(client.doExchange(pullAllCommand(), placeholderTable())));
        for (const error of await withDeadline(Promise.all(batch), 20_000, `calls ${i}..${i + PARALLEL} got no answer`)) {
          expect(error.code).to.equal(status.NOT_FOUND);
          answered++;
        }
      }
      expect(answered).to.equal(CALLS);

      metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    } finally {
      client.close();
    }

    child.kill('SIGTERM');
    const [code] = await withDeadline(exited, 30_000, 'larder did not stop on SIGTERM while its stdout was full');
    expect(code).to.equal(0);
    const dropped = Number(/^larder_log_lines_dropped_total (\d+)$/m.exec(metrics)?.[1]);
    expect(dropped, 'larder_log_lines_dropped_total').to.be.greaterThan(0);

    // What reached the pipe: whole JSON lines, the startup lines first.
    child.stdout!.resume();
    await ended;
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text.endsWith('\n')).to.equal(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string });
    expect(lines.map((line) => line.msg)).to.include('larder serving');
    expect(lines.length).to.be.greaterThan(100);
  });
});

/** Resolves once larder answers a call (the port is open and served). */
async function waitForPort(client: ReturnType<typeof connect>, stderr: string): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 200) {
    try {
      await client.listActions();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`larder did not start:\n${stderr}`);
}

function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}
