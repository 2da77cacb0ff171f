/**
 * End to end: the unchanged Feast client (`offline_store: remote`) applies feature views whose
 * FileSources are in S3 (`s3://…` with `s3_endpoint_override`, a single file and a hive-partitioned
 * directory) and fetches training data from a larder process whose `file` store reads them from a
 * real S3-compatible server (S3Proxy), with credentials only in larder's environment. The answers
 * are the point-in-time values the data implies; a missing object reaches the client as
 * `feast.errors.DataSourceNotFoundException`, and a larder holding a wrong secret makes it raise
 * `feast.errors.FeastPermissionError` naming the source and the S3 permission.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Float64, Int64, tableToIPC } from 'apache-arrow';
import { expect } from 'chai';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { feastPython } from '../support/feast-python.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';
import { tsUtc } from '../support/generated-data.ts';
import { arrowTable, micros } from '../support/parquet-fixtures.ts';
import { createBucket, putObject, type S3Server, s3Client, startS3Server } from '../support/s3-server.ts';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../support/feast_s3_client.py', import.meta.url));
const BUCKET = 'feast-offline';
const HOUR_MS = 3_600_000;
const T0_MS = Date.UTC(2024, 0, 1);

type Answer =
  | { id: string; ok: true; columns: string[]; rows: Array<Array<string | number | null>> }
  | { id: string; ok: false; error: string; message: string };

/** Parquet bytes of drivers rows: [driver_id, hours after T0 (ts = created), rate]. */
function driversParquet(rows: Array<[number, number, number]>): Uint8Array {
  const at = rows.map(([, h]) => micros(T0_MS + h * HOUR_MS));
  const table = arrowTable([
    ['driver_id', new Int64(), rows.map(([id]) => BigInt(id))],
    ['ts', tsUtc, at],
    ['created', tsUtc, at],
    ['rate', new Float64(), rows.map(([, , rate]) => rate)],
  ]);
  const properties = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), properties);
}

describe('the Feast client against larder reading FileSources in S3 (S3Proxy)', function () {
  this.timeout(300_000);
  let s3: S3Server | undefined;
  let dir = '';
  let server = '';
  let client = '';
  let larder: ServerProcess | undefined;

  const larderEnv = (secret: string) => ({
    AWS_ACCESS_KEY_ID: s3!.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  const writeClientYaml = (port: number) =>
    writeFileSync(
      path.join(client, 'feature_store.yaml'),
      [
        'project: s3_e2e',
        `registry: ${path.join(server, 'data', 'registry.db')}`,
        'provider: local',
        'offline_store:',
        '  type: remote',
        '  host: 127.0.0.1',
        `  port: ${port}`,
        'entity_key_serialization_version: 3',
        '',
      ].join('\n'),
    );
  /** The client runs with no AWS credentials at all: everything S3 happens in larder. */
  const clientEnv = () => {
    const env = feastEnv(dir);
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete env[key];
    return { ...env, TZ: 'UTC' };
  };
  const ask = async (cases: Array<{ id: string; features: string[] }>): Promise<Map<string, Answer>> => {
    const { stdout } = await run(feastPython().python, [script, 'query', client, JSON.stringify(cases)], {
      env: clientEnv(),
      timeout: 180_000,
      maxBuffer: 16 << 20,
    });
    const answers = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Answer);
    return new Map(answers.map((a) => [a.id, a]));
  };

  before(async () => {
    s3 = await startS3Server();
    const s3c = s3Client(s3);
    try {
      await createBucket(s3c, BUCKET);
      await putObject(
        s3c,
        BUCKET,
        'repo/drivers.parquet',
        driversParquet([
          [1, 1, 1],
          [1, 2, 2],
          [1, 3, 3],
          [2, 0.5, 20],
          [3, 3.5, 33],
        ]),
      );
      await putObject(
        s3c,
        BUCKET,
        'repo/hive_drivers/day=0/part-0.parquet',
        driversParquet([
          [1, 1, 1.5],
          [2, 0.5, 21],
        ]),
      );
      await putObject(
        s3c,
        BUCKET,
        'repo/hive_drivers/day=1/part-0.parquet',
        driversParquet([
          [1, 2, 2.5],
          [3, 3.5, 34],
        ]),
      );
      await putObject(s3c, BUCKET, 'repo/hive_drivers/_SUCCESS', Buffer.alloc(0));
    } finally {
      s3c.destroy();
    }
    dir = mkdtempSync(path.join(tmpdir(), 'larder-s3-feast-'));
    server = path.join(dir, 'server');
    client = path.join(dir, 'client');
    mkdirSync(path.join(server, 'data'), { recursive: true });
    mkdirSync(client);
    writeFileSync(
      path.join(server, 'feature_store.yaml'),
      [
        'project: s3_e2e',
        'registry:',
        '  path: data/registry.db',
        '  cache_ttl_seconds: 0',
        'provider: local',
        'offline_store:',
        '  type: file',
        '  s3:',
        `    endpoint_url: ${s3.endpoint}`,
        `    region: ${s3.region}`,
        'entity_key_serialization_version: 3',
        'larder:',
        `  data_roots: ["s3://${BUCKET}/repo"]`,
        '',
      ].join('\n'),
    );
    larder = await startLarder({ repoPath: server, env: larderEnv(s3.secretAccessKey) });
    writeClientYaml(larder.port);
    await run(feastPython().python, [script, 'apply', client, `s3://${BUCKET}/repo`, s3.endpoint], {
      env: clientEnv(),
      timeout: 180_000,
    });
  });

  after(async () => {
    await larder?.stop();
    await s3?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers get_historical_features from a parquet object and from a hive-partitioned prefix', async () => {
    const answers = await ask([
      { id: 'file', features: ['drivers:rate'] },
      { id: 'hive', features: ['hive:rate'] },
    ]);
    const rates = (id: string) => {
      const answer = answers.get(id)!;
      if (!answer.ok) throw new Error(`${id}: ${answer.error}: ${answer.message}\n${larder?.logs().slice(-3000)}`);
      expect(answer.columns).to.deep.equal(['driver_id', 'event_timestamp', 'rate']);
      return answer.rows.map((row) => row[2]);
    };
    // Entity rows (driver, hour): (1, 2.5), (2, 1), (3, 4), (1, 0.5), (9, 3); ttl 2 h.
    expect(rates('file')).to.deep.equal([2, 20, 33, null, null]);
    expect(rates('hive')).to.deep.equal([2.5, 21, 34, null, null]);
  });

  it('a source whose object is missing raises DataSourceNotFoundException in the client', async () => {
    const answer = (await ask([{ id: 'gone', features: ['gone:rate'] }])).get('gone')!;
    expect(answer.ok).to.equal(false);
    if (answer.ok) return;
    expect(answer.error).to.equal('feast.errors.DataSourceNotFoundException');
    expect(answer.message).to.include(`s3://${BUCKET}/repo/no_such.parquet`);
  });

  it('a larder holding a wrong secret makes the client raise FeastPermissionError naming the source and permission', async () => {
    await larder?.stop();
    larder = await startLarder({ repoPath: path.join(dir, 'server'), env: larderEnv('not-the-secret') });
    writeClientYaml(larder.port);
    const answer = (await ask([{ id: 'denied', features: ['drivers:rate'] }])).get('denied')!;
    expect(answer.ok).to.equal(false);
    if (answer.ok) return;
    expect(answer.error).to.equal('feast.errors.FeastPermissionError');
    expect(answer.message).to.include('data source drivers').and.include('s3:GetObject').and.include(`s3://${BUCKET}/repo/drivers.parquet`);
  });
});
