/**
 * A flatbuffer verifier: checks, before anything decodes a buffer, that every reference in it
 * stays inside it — the discipline of flatbuffers' own `Verifier`, which Arrow C++ and arrow-rs
 * run on every IPC message before reading a field.
 *
 * Decoders such as apache-arrow's trust the buffer: a vector that claims 2^27 elements in a
 * 200-byte message is materialised element by element, and a vtable offset that points outside
 * the buffer reads zeros or garbage. Here every step is checked against the buffer's length:
 *
 *   - a table's soffset to its vtable, the vtable's size and the table's size lie inside the buffer,
 *     and each field the schema reads lies inside its table;
 *   - every uoffset (to a table, vector or string) is non-zero and lands inside the buffer;
 *   - a vector's length times its element size fits in the bytes that follow its length prefix;
 *   - a string has its NUL terminator inside the buffer;
 *   - scalars, offsets and vtables are aligned to their size (relative to the buffer's start);
 *   - tables nest at most `maxDepth` deep and at most `maxTables` tables are visited in all, so a
 *     buffer whose offsets share sub-tables (a DAG that unfolds into an exponential tree) costs no
 *     more than its size allows.
 *
 * It is schema-driven like the generated `Verify` methods: the caller walks its schema with the
 * accessors of {@link FbTable}, so the verifier knows field types only when asked. Every failure is
 * a {@link FlatbufferError} whose message says what was wrong and where.
 */

export class FlatbufferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlatbufferError';
  }
}

export interface VerifierLimits {
  /** Deepest table nesting allowed (the root table is depth 1). Arrow C++ uses 128. */
  readonly maxDepth: number;
  /** Most tables visited in all. Each table of a tree built without sharing needs at least 8 bytes. */
  readonly maxTables: number;
}

/** A vector's place in the buffer: `start` is its first element, after the length prefix. */
export interface FbVector {
  readonly start: number;
  readonly length: number;
}

const MAX_SAFE_HIGH = 0x200000; // 2^53 / 2^32

export class FlatbufferVerifier {
  readonly view: DataView;
  readonly size: number;
  private tables = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly limits: VerifierLimits,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.size = bytes.byteLength;
  }

  fail(message: string): never {
    throw new FlatbufferError(message);
  }

  /** The root table, found through the uoffset at byte 0. */
  root(what: string): FbTable {
    if (this.size < 8) this.fail(`${what} needs at least 8 bytes, got ${this.size}`);
    return this.tableAt(this.follow(0, what), what, 1);
  }

  /** Checks that `count` bytes from `pos` lie inside the buffer. */
  inside(pos: number, count: number, what: string): void {
    if (pos < 0 || count < 0 || pos + count > this.size) {
      this.fail(`${what} at byte ${pos} (${count} bytes) lies outside the ${this.size}-byte buffer`);
    }
  }

  aligned(pos: number, align: number, what: string): void {
    if (pos % align !== 0) this.fail(`${what} at byte ${pos} is not aligned to ${align} bytes`);
  }

  /** Reads the uoffset at `pos` and returns the position it points to, checked to be inside the buffer. */
  follow(pos: number, what: string): number {
    this.inside(pos, 4, `the offset to ${what}`);
    this.aligned(pos, 4, `the offset to ${what}`);
    const offset = this.view.getUint32(pos, true);
    if (offset === 0) this.fail(`the offset to ${what} at byte ${pos} is zero`);
    const target = pos + offset;
    if (target >= this.size) {
      this.fail(`the offset to ${what} at byte ${pos} points to byte ${target}, past the end of the ${this.size}-byte buffer`);
    }
    return target;
  }

  /** Verifies the table at `pos`: its vtable and its own extent. */
  tableAt(pos: number, what: string, depth: number): FbTable {
    if (depth > this.limits.maxDepth) this.fail(`${what} is nested ${depth} tables deep; the limit is ${this.limits.maxDepth}`);
    if (++this.tables > this.limits.maxTables) {
      this.fail(`the buffer references more than ${this.limits.maxTables} tables (${this.size} bytes allow no more; are tables shared?)`);
    }
    this.inside(pos, 4, `${what} table`);
    this.aligned(pos, 4, `${what} table`);
    const vtable = pos - this.view.getInt32(pos, true);
    if (vtable < 0 || vtable + 4 > this.size) {
      this.fail(`${what} table at byte ${pos} has its vtable at byte ${vtable}, outside the ${this.size}-byte buffer`);
    }
    this.aligned(vtable, 2, `the vtable of ${what}`);
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2 !== 0) this.fail(`${what} table at byte ${pos} has a vtable of invalid size ${vtableSize}`);
    if (vtable + vtableSize > this.size) {
      this.fail(`the vtable of ${what} at byte ${vtable} declares ${vtableSize} bytes but only ${this.size - vtable} remain`);
    }
    if (tableSize < 4) this.fail(`${what} table at byte ${pos} declares an invalid size ${tableSize}`);
    if (pos + tableSize > this.size) {
      this.fail(`${what} table at byte ${pos} declares ${tableSize} bytes but only ${this.size - pos} remain`);
    }
    return new FbTable(this, pos, vtable, vtableSize, tableSize, depth, what);
  }

  /** Verifies a vector's length prefix at `pos` and that `length × elementSize` bytes follow it. */
  vectorAt(pos: number, elementSize: number, what: string): FbVector {
    this.inside(pos, 4, what);
    this.aligned(pos, 4, what);
    const length = this.view.getUint32(pos, true);
    const start = pos + 4;
    const available = this.size - start;
    if (length * elementSize > available) {
      this.fail(`${what} declares ${length} entries but only ${available} bytes follow`);
    }
    return { start, length };
  }

  /** Verifies the string at `pos` (length, bytes, NUL terminator) and decodes it. */
  stringAt(pos: number, what: string): string {
    this.inside(pos, 4, what);
    this.aligned(pos, 4, what);
    const length = this.view.getUint32(pos, true);
    const start = pos + 4;
    if (length + 1 > this.size - start) {
      this.fail(`${what} declares ${length} bytes but only ${this.size - start} bytes follow`);
    }
    if (this.bytes[start + length] !== 0) this.fail(`${what} at byte ${pos} is not NUL-terminated`);
    return decoder.decode(this.bytes.subarray(start, start + length));
  }

  /** A little-endian int64 as a number; values beyond ±2^53 fail. */
  int64At(pos: number, what: string): number {
    const low = this.view.getUint32(pos, true);
    const high = this.view.getInt32(pos + 4, true);
    if (high >= MAX_SAFE_HIGH || high < -MAX_SAFE_HIGH) this.fail(`${what} (${this.view.getBigInt64(pos, true)}) is out of range`);
    return high * 0x1_0000_0000 + low;
  }
}

const decoder = new TextDecoder('utf-8');

/** A verified table: accessors check each field before reading it. */
export class FbTable {
  constructor(
    readonly verifier: FlatbufferVerifier,
    readonly pos: number,
    private readonly vtable: number,
    private readonly vtableSize: number,
    private readonly tableSize: number,
    readonly depth: number,
    readonly what: string,
  ) {}

  /** The absolute position of field `id`, or 0 when absent; checked to lie inside the table and be aligned. */
  private field(id: number, size: number, name: string): number {
    const entry = 4 + 2 * id;
    if (entry + 2 > this.vtableSize) return 0;
    const offset = this.verifier.view.getUint16(this.vtable + entry, true);
    if (offset === 0) return 0;
    if (offset + size > this.tableSize) {
      this.verifier.fail(`${this.what}'s field ${name} at offset ${offset} (${size} bytes) lies outside its ${this.tableSize}-byte table`);
    }
    const pos = this.pos + offset;
    this.verifier.aligned(pos, size, `${this.what}'s field ${name}`);
    return pos;
  }

  uint8(id: number, name: string, fallback = 0): number {
    const pos = this.field(id, 1, name);
    return pos ? this.verifier.view.getUint8(pos) : fallback;
  }

  int8(id: number, name: string, fallback = 0): number {
    const pos = this.field(id, 1, name);
    return pos ? this.verifier.view.getInt8(pos) : fallback;
  }

  bool(id: number, name: string, fallback = false): boolean {
    const pos = this.field(id, 1, name);
    return pos ? this.verifier.view.getUint8(pos) !== 0 : fallback;
  }

  int16(id: number, name: string, fallback = 0): number {
    const pos = this.field(id, 2, name);
    return pos ? this.verifier.view.getInt16(pos, true) : fallback;
  }

  int32(id: number, name: string, fallback = 0): number {
    const pos = this.field(id, 4, name);
    return pos ? this.verifier.view.getInt32(pos, true) : fallback;
  }

  int64(id: number, name: string, fallback = 0): number {
    const pos = this.field(id, 8, name);
    return pos ? this.verifier.int64At(pos, `${this.what}'s ${name}`) : fallback;
  }

  /** A sub-table, or null when absent. */
  table(id: number, name: string, what = name): FbTable | null {
    const pos = this.field(id, 4, name);
    if (!pos) return null;
    return this.verifier.tableAt(this.verifier.follow(pos, what), what, this.depth + 1);
  }

  string(id: number, name: string): string | null {
    const pos = this.field(id, 4, name);
    if (!pos) return null;
    const what = `${this.what}'s ${name} string`;
    return this.verifier.stringAt(this.verifier.follow(pos, what), what);
  }

  /** A vector of scalars or structs of `elementSize` bytes, or null when absent. */
  vector(id: number, name: string, elementSize: number): FbVector | null {
    const pos = this.field(id, 4, name);
    if (!pos) return null;
    const what = `${this.what}'s ${name} vector`;
    return this.verifier.vectorAt(this.verifier.follow(pos, what), elementSize, what);
  }

  /** A vector of tables, each verified; empty when absent. `describe(i)` names element i in messages. */
  tables(id: number, name: string, describe: (index: number) => string, maxLength = Infinity): FbTable[] {
    const vector = this.vector(id, name, 4);
    if (!vector) return [];
    if (vector.length > maxLength) {
      this.verifier.fail(`${this.what}'s ${name} vector has ${vector.length} entries; the limit is ${maxLength}`);
    }
    const out: FbTable[] = [];
    for (let i = 0; i < vector.length; i++) {
      const what = describe(i);
      out.push(this.verifier.tableAt(this.verifier.follow(vector.start + 4 * i, what), what, this.depth + 1));
    }
    return out;
  }
}
