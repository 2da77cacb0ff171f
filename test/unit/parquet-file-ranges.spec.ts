/**
 * The parquet-files store reads files by range through one open handle (file-ranges.ts,
 * parquet-read.ts): batches of at most 64k rows come out of every row group, and a file replaced
 * while it is being read is still read as it was when the read began.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Int64, makeVector, Table, tableToIPC } from 'apache-arrow';
import { expect } from 'chai';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { openFileRanges } from '../../plugins/parquet-files/src/file-ranges.ts';
import { readParquetSchema, readRowGroups } from '../../plugins/parquet-files/src/parquet-read.ts';

function parquetBytes(rows: number, first: number, rowGroupRows: number): Uint8Array {
  const table = new Table({
    id: makeVector({ type: new Int64(), data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(first + i)) }),
  });
  const properties = new WriterPropertiesBuilder().setCompression(Compression.UNCOMPRESSED).setMaxRowGroupSize(rowGroupRows).build();
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), properties);
}

describe('parquet-files: ranged reads', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'larder-ranges-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads exactly the requested byte ranges, clamped to the file', async () => {
    const file = path.join(dir, 'bytes');
    writeFileSync(file, Buffer.from('0123456789'));
    const ranges = await openFileRanges(file);
    try {
      expect(ranges.size).to.equal(10);
      expect((await ranges.read(2, 5)).toString()).to.equal('234');
      const blob = ranges.asBlob();
      expect(blob.size).to.equal(10);
      expect(Buffer.from(await blob.slice(7, 20).arrayBuffer()).toString()).to.equal('789');
      expect(Buffer.from(await blob.slice().arrayBuffer()).toString()).to.equal('0123456789');
    } finally {
      await ranges.close();
    }
  });

  it('yields every row in batches of at most 65,536 from each row group, with the schema from the footer', async () => {
    const file = path.join(dir, 'ids.parquet');
    writeFileSync(file, parquetBytes(300_000, 0, 100_000));
    expect((await readParquetSchema(file)).fields.map((f) => f.name)).to.deep.equal(['id']);
    const sizes: number[] = [];
    let next = 0n;
    for await (const table of readRowGroups(file)) {
      sizes.push(table.numRows);
      for (const id of table.getChild('id')!.toArray() as BigInt64Array) expect(id).to.equal(next++);
    }
    expect(next).to.equal(300_000n);
    expect(Math.max(...sizes)).to.be.at.most(65_536);
  });

  it('keeps reading the file it opened when the file is atomically replaced midway', async () => {
    const file = path.join(dir, 'ids.parquet');
    writeFileSync(file, parquetBytes(300_000, 0, 100_000));
    let rows = 0;
    let last = -1n;
    for await (const table of readRowGroups(file)) {
      if (rows === 0) {
        // What offline_write_batch does: write a new file, rename it over the old one.
        writeFileSync(`${file}.tmp`, parquetBytes(10, 1_000_000, 10));
        renameSync(`${file}.tmp`, file);
      }
      rows += table.numRows;
      const ids = table.getChild('id')!.toArray() as BigInt64Array;
      last = ids[ids.length - 1]!;
    }
    expect(rows).to.equal(300_000);
    expect(last).to.equal(299_999n);
  });
});
