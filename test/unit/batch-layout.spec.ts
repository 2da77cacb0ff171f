/**
 * The check of uploaded record batches against their schema (core/src/arrow/batch-layout.ts).
 * No false alarms: every column type pyarrow sends — written by the Feast venv's real pyarrow,
 * nulls, slices and dictionaries included — passes. And each way a batch's buffers can disagree
 * with its schema is refused with the column named.
 */
import { execFileSync } from 'node:child_process';
import {
  Dictionary, Field, Int32, Int64, RecordBatch, RecordBatchReader, Schema, Struct, Table, Utf8, makeData, tableFromIPC, tableToIPC, vectorFromArray,
} from 'apache-arrow';
import { expect } from 'chai';
import { assertBatchLayout } from '../../core/src/arrow/batch-layout.ts';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import { feastPython } from '../support/feast-python.ts';

/** An IPC stream of every type Feast clients may send, with nulls, written by pyarrow. */
const PYARROW_TYPES = `
import sys, datetime, decimal, pyarrow as pa
n = [1, None, 3]
cols = {
  "i8": pa.array(n, pa.int8()), "i16": pa.array(n, pa.int16()), "i32": pa.array(n, pa.int32()), "i64": pa.array(n, pa.int64()),
  "u8": pa.array(n, pa.uint8()), "u64": pa.array(n, pa.uint64()),
  "f16": pa.array([1.5, None, 2.5], pa.float16()), "f32": pa.array([1.5, None, 2.5], pa.float32()), "f64": pa.array([1.5, None, 2.5]),
  "b": pa.array([True, None, False]), "s": pa.array(["a", None, "ccc" * 10]), "ls": pa.array(["a", None, "c"], pa.large_string()),
  "bin": pa.array([b"x", None, b"yz"]), "lbin": pa.array([b"x", None, b"yz"], pa.large_binary()),
  "fsb": pa.array([b"ab", None, b"cd"], pa.binary(2)),
  "d32": pa.array([datetime.date(2024, 1, 1), None, datetime.date(2024, 1, 3)]),
  "d64": pa.array([datetime.date(2024, 1, 1), None, datetime.date(2024, 1, 3)], pa.date64()),
  "ts_s": pa.array([1, None, 3], pa.timestamp("s")), "ts_ms": pa.array([1, None, 3], pa.timestamp("ms", "UTC")),
  "ts_us": pa.array([1, None, 3], pa.timestamp("us", "UTC")), "ts_ns": pa.array([1, None, 3], pa.timestamp("ns")),
  "t64": pa.array([1, None, 3], pa.time64("us")), "dur": pa.array([1, None, 3], pa.duration("ms")),
  "dec": pa.array([decimal.Decimal("1.25"), None, decimal.Decimal("-3.50")], pa.decimal128(9, 2)),
  "lst": pa.array([[1, 2], None, []], pa.list_(pa.int64())), "llst": pa.array([["a"], None, ["b", None]], pa.large_list(pa.string())),
  "fsl": pa.array([[1, 2], None, [5, 6]], pa.list_(pa.float64(), 2)),
  "st": pa.array([{"x": 1, "y": "a"}, None, {"x": 3, "y": None}]),
  "mp": pa.array([[("k", 1)], None, []], pa.map_(pa.string(), pa.int64())),
  "dict": pa.array(["a", None, "b"]).dictionary_encode(),
  "nul": pa.nulls(3),
}
if hasattr(pa, "string_view"):
  cols["sv"] = pa.array(["short", None, "a string longer than twelve bytes"], pa.string_view())
table = pa.table(cols)
sink = pa.BufferOutputStream()
with pa.ipc.new_stream(sink, table.schema) as writer:
  writer.write_table(table)
  writer.write_table(table.slice(1, 2))
sys.stdout.buffer.write(sink.getvalue().to_pybytes())
`;

function batches(ipc: Uint8Array): RecordBatch[] {
  return [...RecordBatchReader.from(ipc)];
}

function refusal(batch: RecordBatch): string {
  try {
    assertBatchLayout(batch, 'Record batch #1');
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error('expected the batch to be refused');
}

/** A batch read back from IPC whose column `name` is `data` under `schema`'s type. */
function throughIpc(fields: Field[], children: ReturnType<typeof makeData>[], length: number): RecordBatch {
  const schema = new Schema(fields);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
  return tableFromIPC(tableToIPC(new Table([batch]))).batches[0]!;
}

describe('record batch layout check (uploads)', function () {
  this.timeout(60_000);

  it('passes every type pyarrow sends, with nulls, slices and dictionaries', () => {
    const ipc = execFileSync(feastPython().python, ['-c', PYARROW_TYPES], { maxBuffer: 16 * 1024 * 1024 });
    const read = batches(ipc);
    expect(read).to.have.length(2);
    expect(read[0]!.schema.fields.length).to.be.greaterThan(30);
    for (const batch of read) assertBatchLayout(batch, 'a pyarrow batch');
  });

  it('refuses a batch whose column has too few bytes for its rows', () => {
    const short = makeData({ type: new Int64(), length: 4, nullCount: 0, data: new BigInt64Array(4) });
    const batch = throughIpc([new Field('driver_id', new Int64())], [short], 4);
    // Shorten the values as a foreign layout would: the same column read with 2 values' bytes.
    const cut = batch.data.children[0]!.clone(undefined, 0, 4, 0, { ...batch.data.children[0]!.buffers, 1: new BigInt64Array(2) } as never);
    const broken = new RecordBatch(batch.schema, makeData({ type: batch.data.type, length: 4, nullCount: 0, children: [cut] }));
    expect(refusal(broken)).to.match(/column "driver_id" \(Int64\) has 16 bytes of values for 4 rows/);
  });

  it('refuses string offsets that decrease or point past the data', () => {
    const make = (offsets: number[], bytes: number) =>
      makeData({ type: new Utf8(), length: offsets.length - 1, nullCount: 0, valueOffsets: Int32Array.from(offsets), data: new Uint8Array(bytes) });
    const field = [new Field('name', new Utf8())];
    expect(refusal(throughIpc(field, [make([0, 5, 3], 8)], 2))).to.match(/column "name" \(Utf8\) has offsets that decrease at row 2/);
    expect(refusal(throughIpc(field, [make([0, 5, 64], 8)], 2))).to.match(/column "name" \(Utf8\) has offsets reaching 64, beyond/);
  });

  it('refuses a dictionary index outside its dictionary', () => {
    const type = new Dictionary(new Utf8(), new Int32());
    const dictionary = vectorFromArray(['a', 'b'], new Utf8());
    const indices = makeData({ type, length: 2, nullCount: 0, data: Int32Array.from([1, 7]), dictionary });
    expect(refusal(throughIpc([new Field('city', type)], [indices], 2))).to.match(/column "city" .* has dictionary index 7 at row 1, outside its 2-entry dictionary/);
  });

  it('refuses a column shorter than the batch, naming nested columns by path', () => {
    const inner = makeData({ type: new Int64(), length: 1, nullCount: 0, data: new BigInt64Array(1) });
    const type = new Struct([new Field('x', new Int64())]);
    const outer = makeData({ type, length: 3, nullCount: 0, children: [inner] });
    const batch = new RecordBatch(new Schema([new Field('st', type)]), makeData({ type: new Struct([new Field('st', type)]), length: 3, nullCount: 0, children: [outer] }));
    expect(refusal(batch)).to.match(/column "st\.x" \(Int64\) has 1 rows, fewer than the batch's 3/);
  });

  it('refuses a declared null count without a validity bitmap', () => {
    const data = makeData({ type: new Int64(), length: 3, nullCount: 0, data: new BigInt64Array(3) });
    const lying = data.clone(undefined, 0, 3, 2, { ...data.buffers, 2: new Uint8Array(0) } as never);
    const batch = new RecordBatch(new Schema([new Field('n', new Int64())]), makeData({ type: new Struct([new Field('n', new Int64())]), length: 3, nullCount: 0, children: [lying] }));
    expect(refusal(batch)).to.match(/column "n" \(Int64\) has a validity bitmap too short for 3 rows/);
  });
});
