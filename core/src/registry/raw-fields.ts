/**
 * The undecoded bytes of one repeated message field of a protobuf message. A decoded-then-encoded
 * message keeps only the fields larder's .proto files declare; where the bytes go on to Feast
 * itself (an on-demand view's pickled transformation, read by the ODFV worker), they must be the
 * registry's own.
 */
import protobuf from 'protobufjs/minimal.js';

const LENGTH_DELIMITED = 2;

/** Each occurrence of `field` (a length-delimited field) in `bytes`, in order, as views into `bytes`. */
export function repeatedFieldBytes(bytes: Uint8Array, field: number): Uint8Array[] {
  const reader = protobuf.Reader.create(bytes);
  const found: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === field && (tag & 7) === LENGTH_DELIMITED) {
      const length = reader.uint32();
      found.push(bytes.subarray(reader.pos, reader.pos + length));
      reader.skip(length);
    } else {
      reader.skipType(tag & 7);
    }
  }
  return found;
}

/** The highest top-level field number in `bytes` (0 for none); throws on bytes that do not parse. */
export function highestFieldNumber(bytes: Uint8Array): number {
  const reader = protobuf.Reader.create(bytes);
  let highest = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    highest = Math.max(highest, tag >>> 3);
    reader.skipType(tag & 7);
  }
  return highest;
}
