/**
 * Just enough of the protobuf wire format to talk to the registry server without generated code:
 * write a string field (a request's project) and take the repeated objects out of a list answer.
 * Objects are never decoded here; core's decodeRegistryRows does that.
 */

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

export function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}

/** A length-delimited field (a string, bytes or an embedded message). */
export function lenField(field: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([varint(field * 8 + LEN), varint(bytes.length), bytes]);
}

export function stringField(field: number, value: string): Buffer {
  return lenField(field, Buffer.from(value, 'utf8'));
}

export interface WireField {
  readonly field: number;
  readonly wireType: number;
  /** The whole field, tag included, as it appeared. */
  readonly raw: Buffer;
  /** The payload of a length-delimited field; null for other wire types. */
  readonly payload: Buffer | null;
}

/** The top-level fields of a message, in order. Throws on bytes that are not a message. */
export function* wireFields(message: Buffer): Generator<WireField> {
  let pos = 0;
  const readVarint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= message.length) throw new Error('truncated varint');
      const byte = message[pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 0x80;
    }
    throw new Error('varint longer than 10 bytes');
  };
  while (pos < message.length) {
    const start = pos;
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0) throw new Error('field number 0');
    let payload: Buffer | null = null;
    switch (wireType) {
      case VARINT:
        readVarint();
        break;
      case FIXED64:
        pos += 8;
        break;
      case FIXED32:
        pos += 4;
        break;
      case LEN: {
        const length = readVarint();
        payload = message.subarray(pos, pos + length);
        pos += length;
        break;
      }
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
    if (pos > message.length) throw new Error('field runs past the end of the message');
    yield { field, wireType, raw: message.subarray(start, pos), payload };
  }
}

/** The payloads of every occurrence of length-delimited `field` (a repeated message field). */
export function repeatedMessages(message: Buffer, field: number): Buffer[] {
  const out: Buffer[] = [];
  for (const f of wireFields(message)) if (f.field === field && f.payload !== null) out.push(f.payload);
  return out;
}
