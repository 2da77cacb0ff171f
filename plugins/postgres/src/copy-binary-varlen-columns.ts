/**
 * Binary COPY column builders for variable-length values: text-like, bytea, jsonb and uuid as
 * offsets plus one byte buffer, and 1-D arrays as Arrow lists over an element column.
 */
import { makeData, type Data, type DataType } from 'apache-arrow';
import { Column, INT32_MAX, malformed } from './copy-binary-column.ts';

/** Variable-width values (Utf8, Binary): int32 offsets plus one byte buffer, copied verbatim. */
export class BytesColumn extends Column {
  protected offsets = new Int32Array(1);
  protected bytes = new Uint8Array(0);
  protected used = 0;

  append(_view: DataView, src: Uint8Array, pos: number, len: number): void {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    const at = this.reserve(len);
    const { bytes } = this;
    // Short values are the common case, and a loop beats a native copy's call cost there.
    if (len < 32) for (let k = 0; k < len; k++) bytes[at + k] = src[pos + k]!;
    else bytes.set(src.subarray(pos, pos + len), at);
    this.offsets[i + 1] = this.used;
  }

  protected override nullAppended(i: number): void {
    this.offsets[i + 1] = this.used;
  }

  protected override truncated(length: number): void {
    this.used = this.offsets[length]!;
  }

  /** Makes room for `len` more bytes; returns where they go (and counts them as used). */
  protected reserve(len: number): number {
    const at = this.used;
    const end = at + len;
    if (end > INT32_MAX) throw new Error('one text/bytea column of a batch exceeds 2 GiB: use a smaller batchRows');
    if (end > this.bytes.length) {
      const bytes = new Uint8Array(Math.min(INT32_MAX, Math.max(end, this.bytes.length * 2, 1 << 16)));
      bytes.set(this.bytes.subarray(0, at));
      this.bytes = bytes;
    }
    this.used = end;
    return at;
  }

  protected resize(capacity: number): void {
    const offsets = new Int32Array(capacity + 1);
    offsets.set(this.offsets.subarray(0, this.length + 1));
    this.offsets = offsets;
    if (capacity === 0) {
      this.bytes = new Uint8Array(0);
      this.used = 0;
    }
  }

  protected toData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({
      type: this.type as never,
      length,
      nullCount,
      nullBitmap,
      valueOffsets: this.offsets.subarray(0, length + 1),
      data: this.bytes.subarray(0, this.used),
    });
  }
}

/** jsonb: a format version byte (1), then the JSON text. */
export class JsonbColumn extends BytesColumn {
  override append(view: DataView, src: Uint8Array, pos: number, len: number): void {
    if (len < 1 || src[pos] !== 1) throw new Error(`unsupported jsonb binary format version ${src[pos]}`);
    super.append(view, src, pos + 1, len - 1);
  }
}

const HEX = new TextEncoder().encode('0123456789abcdef');

/** uuid: 16 bytes → the canonical lowercase 8-4-4-4-12 text (36 ASCII bytes). */
export class UuidColumn extends BytesColumn {
  override append(_view: DataView, src: Uint8Array, pos: number, len: number): void {
    if (len !== 16) throw malformed('uuid', len);
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    let at = this.reserve(36);
    const { bytes } = this;
    for (let k = 0; k < 16; k++) {
      if (k === 4 || k === 6 || k === 8 || k === 10) bytes[at++] = 0x2d; // '-'
      const b = src[pos + k]!;
      bytes[at++] = HEX[b >> 4]!;
      bytes[at++] = HEX[b & 15]!;
    }
    this.offsets[i + 1] = this.used;
  }
}

/**
 * 1-D arrays → List<element>: int32 ndim, int32 has-null flag, int32 element OID, per dimension
 * int32 size and lower bound, then the elements as fields (int32 length or −1, bytes).
 */
export class ListColumn extends Column {
  private offsets = new Int32Array(1);

  constructor(
    type: DataType,
    capacity: number,
    private readonly elementOid: number,
    private readonly elements: Column,
  ) {
    super(type, capacity);
  }

  append(view: DataView, bytes: Uint8Array, pos: number, len: number): void {
    const end = pos + len;
    if (len < 12) throw malformed('array', len);
    const ndim = view.getInt32(pos);
    const elementOid = view.getUint32(pos + 8);
    if (elementOid !== this.elementOid) throw new Error(`array element type oid ${elementOid}, expected ${this.elementOid}`);
    if (ndim > 1) throw new Error(`${ndim}-dimensional arrays cannot be returned as Arrow lists (only 1-dimensional)`);
    let count = 0;
    let p = pos + 12;
    if (ndim === 1) {
      if (len < 20) throw malformed('array', len);
      count = view.getInt32(p);
      p += 8; // size and lower bound: an Arrow list starts at 0 whatever the lower bound
    }
    for (let k = 0; k < count; k++) {
      if (p + 4 > end) throw malformed('array', len);
      const elen = view.getInt32(p);
      p += 4;
      if (elen < 0) {
        this.elements.appendNull();
      } else {
        if (p + elen > end) throw malformed('array', len);
        this.elements.append(view, bytes, p, elen);
        p += elen;
      }
    }
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.offsets[i + 1] = this.offsets[i]! + count;
  }

  protected override nullAppended(i: number): void {
    this.offsets[i + 1] = this.offsets[i]!;
  }

  protected override truncated(length: number): void {
    this.elements.truncate(this.offsets[length]!);
  }

  protected resize(capacity: number): void {
    const offsets = new Int32Array(capacity + 1);
    offsets.set(this.offsets.subarray(0, this.length + 1));
    this.offsets = offsets;
  }

  protected toData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({
      type: this.type as never,
      length,
      nullCount,
      nullBitmap,
      valueOffsets: this.offsets.subarray(0, length + 1),
      child: this.elements.flush(),
    });
  }
}
