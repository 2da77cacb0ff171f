/**
 * withEntityMetadata: the uploaded entity table's pandas metadata and field metadata reach the
 * entity columns of a store's result, so pyarrow's `to_pandas` on the client restores nullable
 * `Int64` keys instead of float64 (issue 18, item 3). The upload is written by pyarrow from a real
 * pandas frame, and the result is read back by pyarrow, as the Feast client does.
 */
import { execFileSync } from 'node:child_process';
import {
  Field,
  Float64,
  Int64,
  RecordBatch,
  Schema,
  tableFromIPC,
  tableToIPC,
  Table,
  TimestampMicrosecond,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { expect } from 'chai';
import { pandasMetadataFor, withEntityMetadata } from '../../core/src/api/entity-metadata.ts';
import type { ResultStream } from '../../core/src/store.ts';
import { feastPython } from '../support/feast-python.ts';

/** Runs a Python snippet in the Feast venv with `input` on stdin; returns its stdout. */
function python(code: string, input?: Uint8Array): Buffer {
  return execFileSync(feastPython().python, ['-c', code], { input, maxBuffer: 16 << 20 });
}

/** The entity frame as the Feast client uploads it: pa.Table.from_pandas of Int64 columns, plus field metadata. */
function uploadedEntityTable(): Table {
  const ipc = python(`
import sys, pandas as pd, pyarrow as pa
df = pd.DataFrame({"driver_id": pd.array([1001, None, 1002], dtype="Int64"),
                   "trip_count": pd.array([3, None, 5], dtype="Int64"),
                   "event_timestamp": pd.to_datetime(["2021-04-12 10:00", "2021-04-12 11:00", "2021-04-12 12:00"], utc=True)})
t = pa.Table.from_pandas(df)
t = t.cast(pa.schema([f.with_metadata({"origin": "client"}) if f.name == "driver_id" else f for f in t.schema], t.schema.metadata))
sink = pa.BufferOutputStream()
with pa.ipc.new_stream(sink, t.schema) as w:
    w.write_table(t)
sys.stdout.buffer.write(sink.getvalue().to_pybytes())
`);
  return tableFromIPC(ipc);
}

/** A store's answer: the entity columns (without metadata, as a store builds them) and one feature. */
function storeResult(upload: Table, storeMetadata = new Map<string, string>()): ResultStream {
  const columns: Record<string, Vector> = {
    driver_id: upload.getChild('driver_id')!,
    trip_count: upload.getChild('trip_count')!,
    event_timestamp: upload.getChild('event_timestamp')!,
    conv_rate: vectorFromArray([0.5, null, 0.25], new Float64()),
  };
  const fields = Object.entries(columns).map(
    ([name, v]) => new Field(name, v.type, true, name === 'driver_id' ? new Map([['origin', 'store']]) : undefined),
  );
  const schema = new Schema(fields, storeMetadata);
  const table = new Table(schema, columns);
  return {
    schema,
    batches: (async function* () {
      yield* table.batches;
    })(),
  };
}

/** What the client's `to_arrow().to_pandas()` gives for a result stream: column -> dtype. */
async function clientDtypes(result: ResultStream): Promise<Record<string, string>> {
  const batches: RecordBatch[] = [];
  // As the Flight encoder does: the stream's schema once, then each batch's data under it.
  for await (const batch of result.batches) batches.push(new RecordBatch(result.schema, batch.data));
  const ipc = tableToIPC(new Table(result.schema, batches), 'stream');
  const out = python(
    `
import sys, json, pyarrow as pa
df = pa.ipc.open_stream(sys.stdin.buffer.read()).read_all().to_pandas()
print(json.dumps({c: str(t) for c, t in df.dtypes.items()}))
`,
    ipc,
  );
  return JSON.parse(out.toString()) as Record<string, string>;
}

describe('withEntityMetadata (the upload’s metadata on the result’s entity columns)', function () {
  this.timeout(60_000);
  let upload: Table;
  before(() => {
    upload = uploadedEntityTable();
  });

  it('a store result without it reads back as float64: the premise', async () => {
    const dtypes = await clientDtypes(storeResult(upload));
    expect([dtypes.driver_id, dtypes.trip_count]).to.deep.equal(['float64', 'float64']);
  });

  it('restores nullable Int64 on the client, with features converted as before', async () => {
    const dtypes = await clientDtypes(withEntityMetadata(storeResult(upload), upload));
    expect(dtypes).to.deep.equal({
      driver_id: 'Int64',
      trip_count: 'Int64',
      event_timestamp: 'datetime64[ns, UTC]',
      conv_rate: 'float64',
    });
  });

  it('keeps field metadata on entity columns (the store’s own keys win) and the store’s schema metadata', () => {
    const result = withEntityMetadata(storeResult(upload, new Map([['store', 'x']])), upload);
    const field = (name: string) => result.schema.fields.find((f) => f.name === name)!;
    expect(field('driver_id').metadata.get('origin')).to.equal('store');
    expect(field('conv_rate').metadata.size).to.equal(0);
    expect(result.schema.metadata.get('store')).to.equal('x');
    const pandas = JSON.parse(result.schema.metadata.get('pandas')!) as { columns: { name: string; numpy_type: string }[] };
    expect(pandas.columns.map((c) => [c.name, c.numpy_type])).to.deep.equal([
      ['driver_id', 'Int64'],
      ['trip_count', 'Int64'],
      ['event_timestamp', 'datetime64[ns]'],
    ]);
  });

  it('carries an upload field’s metadata when the store set none', () => {
    const plain = storeResult(upload);
    const stripped: ResultStream = {
      ...plain,
      schema: new Schema(plain.schema.fields.map((f) => new Field(f.name, f.type, f.nullable))),
    };
    const result = withEntityMetadata(stripped, upload);
    expect(result.schema.fields[0]!.metadata.get('origin')).to.equal('client');
  });

  it('leaves a column the store returns with another Arrow type to the default conversion', () => {
    // As the postgres store answers: naive timestamps where the client sent UTC ones. The upload's
    // `datetimetz` entry would make pyarrow turn them into UTC nanoseconds, unlike Feast's store.
    const plain = storeResult(upload);
    const naive: ResultStream = {
      ...plain,
      schema: new Schema(
        plain.schema.fields.map((f) => (f.name === 'event_timestamp' ? new Field(f.name, new TimestampMicrosecond(), true) : f)),
      ),
    };
    const pandas = JSON.parse(withEntityMetadata(naive, upload).schema.metadata.get('pandas')!) as { columns: { name: string }[] };
    expect(pandas.columns.map((c) => c.name)).to.deep.equal(['driver_id', 'trip_count']);
  });

  it('describes only the columns the result has; drops pandas metadata it cannot read', () => {
    const meta = JSON.stringify({
      index_columns: ['__index_level_0__', { kind: 'range', name: null, start: 0, stop: 2, step: 1 }],
      column_indexes: [],
      columns: [
        { name: 'driver_id', field_name: 'driver_id', pandas_type: 'int64', numpy_type: 'Int64', metadata: null },
        { name: 'gone', field_name: 'gone', pandas_type: 'int64', numpy_type: 'Int64', metadata: null },
        { name: null, field_name: '__index_level_0__', pandas_type: 'int64', numpy_type: 'int64', metadata: null },
      ],
      pandas_version: '2.3.3',
    });
    const narrowed = JSON.parse(pandasMetadataFor(meta, new Set(['driver_id', 'conv_rate']))!) as Record<string, unknown>;
    expect(narrowed.index_columns).to.deep.equal([{ kind: 'range', name: null, start: 0, stop: 2, step: 1 }]);
    expect((narrowed.columns as { field_name: string }[]).map((c) => c.field_name)).to.deep.equal(['driver_id']);
    expect(narrowed.pandas_version).to.equal('2.3.3');
    expect(pandasMetadataFor('{not json', new Set(['driver_id']))).to.equal(null);
    expect(pandasMetadataFor('{"columns": 3, "index_columns": []}', new Set(['driver_id']))).to.equal(null);
  });

  it('returns the store’s result unchanged when the upload has no metadata', () => {
    const bare = new Table({ driver_id: vectorFromArray([1n, 2n], new Int64()) });
    const plain = storeResult(upload);
    expect(withEntityMetadata(plain, bare)).to.equal(plain);
  });
});
