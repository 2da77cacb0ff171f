/**
 * PostgreSQL binary COPY (`COPY (query) TO STDOUT (FORMAT binary)`) → Arrow RecordBatches.
 *
 * Binary COPY is the cheapest way out of PostgreSQL: no text formatting on the server, no per-row
 * protocol messages, and values arrive in fixed layouts that copy straight into Arrow buffers.
 * Each column appends into typed arrays of its own rather than through Arrow's Builder classes
 * (less work per value: no per-value type dispatch or conversion to JS strings), and a RecordBatch
 * is cut every `batchRows` rows so memory stays bounded however large the result is.
 *
 * Stream layout (all integers big-endian): the 11-byte signature, int32 flags, int32 header
 * extension length and the extension; then tuples, each an int16 field count (−1 ends the stream)
 * followed per field by an int32 byte length (−1 = NULL) and that many bytes. Tuples straddle the
 * chunks the connection delivers, so the unparsed tail of a chunk waits for the next one.
 */
import { endianness } from 'node:os';
import { Field, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { columnFor, type Column } from './copy-binary-columns.ts';
import { arrowTypeForPg } from './pg-types.ts';

/** A result column as the server describes it (RowDescription: name and type OID). */
export interface PgColumn {
  readonly name: string;
  readonly typeOid: number;
}

/** The schema of the batches decoded from these columns; every field is nullable. */
export function schemaForColumns(columns: readonly PgColumn[]): Schema {
  return new Schema(columns.map((c) => new Field(c.name, arrowTypeForPg(c.typeOid, c.name), true)));
}

export const DEFAULT_BATCH_ROWS = 65_536;

// 64-bit values are written as two 32-bit words into a view of a BigInt64Array (no BigInt per
// value); that needs the word order of a little-endian host, as Arrow's own buffers do.
if (endianness() !== 'LE') throw new Error('larder decodes PostgreSQL COPY on little-endian hosts only');

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER_BYTES = SIGNATURE.length + 8;
/** Flags bit 16: each tuple carries an OID field (servers before 12, `WITH OIDS` only). */
const FLAG_HAS_OIDS = 1 << 16;

/**
 * Decodes one binary COPY stream. Feed it chunks in order with push(), then call finish(); both
 * return the batches completed so far (each exactly `batchRows` rows, except the last).
 */
export class CopyBinaryDecoder {
  readonly schema: Schema;
  private readonly columns: Column[];
  private readonly batchRows: number;
  private rows = 0;
  private headerDone = false;
  private trailerSeen = false;
  /**
   * The unparsed end of earlier chunks (an incomplete header or tuple) in a reused buffer; the
   * next chunk is appended to it, so a tuple cut by a chunk boundary costs a copy, not an allocation.
   */
  private carry = new Uint8Array(1 << 16);
  private carryBytes = 0;
  /** How many bytes the incomplete item needs at least, so tiny chunks are not re-parsed. */
  private neededBytes = 0;

  constructor(columns: readonly PgColumn[], batchRows = DEFAULT_BATCH_ROWS) {
    if (!Number.isInteger(batchRows) || batchRows < 1) throw new Error(`batchRows must be a positive integer, not ${batchRows}`);
    this.schema = schemaForColumns(columns);
    this.batchRows = batchRows;
    this.columns = columns.map((c, i) => columnFor(c.typeOid, this.schema.fields[i]!.type, batchRows));
  }

  /** Parses a chunk of the stream; returns the batches it completed. */
  push(chunk: Uint8Array): RecordBatch[] {
    if (chunk.length === 0) return [];
    if (this.trailerSeen) throw new Error('binary COPY stream has data after its trailer');
    let bytes = chunk;
    if (this.carryBytes > 0) {
      this.appendCarry(chunk);
      if (this.carryBytes < this.neededBytes) return [];
      bytes = this.carry;
    }
    const end = bytes === chunk ? chunk.length : this.carryBytes;
    const view = new DataView(bytes.buffer, bytes.byteOffset, end);
    const batches: RecordBatch[] = [];
    let pos = 0;
    let needed = 0;
    if (!this.headerDone) {
      needed = headerLength(bytes.subarray(0, end));
      if (needed <= end) {
        pos = needed;
        needed = 0;
        this.headerDone = true;
      }
    }
    if (this.headerDone) {
      const { columns, batchRows } = this;
      const count = columns.length;
      while (true) {
        if (pos + 2 > end) {
          needed = pos + 2;
          break;
        }
        const fields = view.getInt16(pos);
        if (fields === -1) {
          this.trailerSeen = true;
          pos += 2;
          if (pos < end) throw new Error('binary COPY stream has data after its trailer');
          break;
        }
        if (fields !== count) throw new Error(`binary COPY tuple has ${fields} fields, expected ${count}`);
        // Fields are appended as they come; a tuple cut short by the chunk's end is taken back
        // out of the columns it reached, and parsed again once the rest has arrived.
        let p = pos + 2;
        let c = 0;
        for (; c < count; c++) {
          if (p + 4 > end) {
            needed = p + 4;
            break;
          }
          const len = view.getInt32(p);
          p += 4;
          if (len < 0) {
            if (len !== -1) throw new Error(`binary COPY field has length ${len}`);
            columns[c]!.appendNull();
          } else if (p + len > end) {
            needed = p + len;
            break;
          } else {
            columns[c]!.append(view, bytes, p, len);
            p += len;
          }
        }
        if (c < count) {
          for (let k = 0; k < c; k++) columns[k]!.truncate(this.rows);
          break;
        }
        pos = p;
        if (++this.rows === batchRows) batches.push(this.cutBatch());
      }
    }
    this.keepTail(bytes, pos, end);
    this.neededBytes = needed > 0 ? needed - pos : 0;
    return batches;
  }

  /** Ends the stream: returns the last, partial batch (none when it would be empty). */
  finish(): RecordBatch[] {
    if (!this.trailerSeen) {
      const where = this.carryBytes > 0 ? (this.headerDone ? 'in the middle of a tuple' : 'in its header') : 'without its trailer';
      throw new Error(`binary COPY stream ended ${where} (after ${this.rows} rows of the current batch)`);
    }
    return this.rows > 0 ? [this.cutBatch()] : [];
  }

  private appendCarry(chunk: Uint8Array): void {
    const total = this.carryBytes + chunk.length;
    if (total > this.carry.length) {
      const carry = new Uint8Array(Math.max(total, this.carry.length * 2));
      carry.set(this.carry.subarray(0, this.carryBytes));
      this.carry = carry;
    }
    this.carry.set(chunk, this.carryBytes);
    this.carryBytes = total;
  }

  /** Moves bytes[pos, end) to the start of the carry buffer. */
  private keepTail(bytes: Uint8Array, pos: number, end: number): void {
    if (bytes === this.carry) {
      this.carry.copyWithin(0, pos, end);
      this.carryBytes = end - pos;
    } else {
      this.carryBytes = 0;
      if (pos < end) this.appendCarry(bytes.subarray(pos, end));
    }
  }

  private cutBatch(): RecordBatch {
    const length = this.rows;
    this.rows = 0;
    const children = this.columns.map((c) => c.flush());
    const data = makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children });
    return new RecordBatch(this.schema, data);
  }
}

/** Decodes a whole binary COPY stream (e.g. pg-copy-streams' `to` Readable) batch by batch. */
export async function* decodeCopyBinary(
  chunks: AsyncIterable<Uint8Array>,
  columns: readonly PgColumn[],
  batchRows = DEFAULT_BATCH_ROWS,
): AsyncGenerator<RecordBatch> {
  const decoder = new CopyBinaryDecoder(columns, batchRows);
  for await (const chunk of chunks) yield* decoder.push(chunk);
  yield* decoder.finish();
}

/** The header's total length, once its fixed part is there (until then, its fixed length). */
function headerLength(bytes: Uint8Array): number {
  if (bytes.length < HEADER_BYTES) return HEADER_BYTES;
  if (SIGNATURE.compare(bytes, 0, SIGNATURE.length) !== 0) throw new Error('not a PostgreSQL binary COPY stream (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (view.getInt32(SIGNATURE.length) & FLAG_HAS_OIDS) throw new Error('binary COPY stream WITH OIDS is not supported');
  return HEADER_BYTES + view.getInt32(SIGNATURE.length + 4);
}
