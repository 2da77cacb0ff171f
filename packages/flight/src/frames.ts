/**
 * Outgoing FlightData as finished gRPC frames (the 5-byte length prefix, then the protobuf
 * message), written into recycled buffers.
 *
 * Why: grpc-js frames every message it sends by allocating a new buffer of the message's size and
 * copying the serialized message into it. For Arrow data that is a fresh multi-MB allocation per
 * message: first-touch memory is slow on our machines (~300 MB/s), and every few tens of MB of
 * ArrayBuffers make V8 run a full GC, whose marking threads compete with the server and the client
 * for two cores. Measured on a 683 MB DoGet, that allocation was most of the server's CPU time.
 * Here the Arrow buffers are copied once, into a buffer that is reused once grpc-js reports the
 * message written (see grpc-preframed.ts for how the frame reaches grpc-js unchanged).
 */
import {
  encodeDescriptor,
  GRPC_PREFIX_BYTES,
  measureFlightData,
  PreframedFlightData,
  writeFlightData,
  type OutgoingFlightData,
} from './protocol.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Buffers for frames, by power-of-two capacity class. Small frames are not pooled: a 64 KiB buffer
 * per tiny message would multiply the memory of a backlog of tiny messages, and the allocator
 * handles small sizes well. Frames above `maxPooledBytes` (a single huge row) are not either.
 * At most `maxRetainedBytes` of idle buffers are kept; a buffer never handed back (a cancelled
 * call drops its pending writes) is simply garbage-collected.
 */
export class FramePool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private retained = 0;

  constructor(
    readonly minPooledBytes = 64 * KiB,
    readonly maxPooledBytes = 8 * MiB,
    readonly maxRetainedBytes = 32 * MiB,
  ) {}

  private capacityFor(size: number): number {
    return 2 ** Math.ceil(Math.log2(Math.max(size, this.minPooledBytes)));
  }

  /** Whether buffers of `size` bytes come from (and go back to) the pool. */
  pools(size: number): boolean {
    return size >= this.minPooledBytes && size <= this.maxPooledBytes;
  }

  /** A buffer of exactly `size` bytes, with arbitrary contents. */
  take(size: number): Buffer {
    if (!this.pools(size)) return Buffer.allocUnsafe(size);
    const capacity = this.capacityFor(size);
    const idle = this.free.get(capacity)?.pop();
    if (idle) {
      this.retained -= capacity;
      return Buffer.from(idle, 0, size);
    }
    // allocUnsafeSlow: a buffer of its own, never a slice of Node's shared small-buffer pool.
    return Buffer.allocUnsafeSlow(capacity).subarray(0, size);
  }

  /** Returns a buffer obtained from `take`; ignored when it was not pooled or the pool is full. */
  put(buffer: Buffer): void {
    const whole = buffer.buffer as ArrayBuffer;
    const capacity = whole.byteLength;
    if (!this.pools(buffer.byteLength) || buffer.byteOffset !== 0 || capacity !== this.capacityFor(buffer.byteLength)) return;
    if (this.retained + capacity > this.maxRetainedBytes) return;
    const list = this.free.get(capacity) ?? [];
    list.push(whole);
    this.free.set(capacity, list);
    this.retained += capacity;
  }

  /** Bytes held by idle buffers (tests and metrics). */
  retainedBytes(): number {
    return this.retained;
  }
}

/** The process-wide pool the Flight server frames its output in. */
export const sharedFramePool = new FramePool();

/** Serializes `msg` with its gRPC prefix into a buffer from `pool`. */
export function encodeFrame(msg: OutgoingFlightData, pool: FramePool = sharedFramePool): PreframedFlightData {
  const descriptor = msg.descriptor ? encodeDescriptor(msg.descriptor) : null;
  const { total, body } = measureFlightData(msg, descriptor);
  const frame = pool.take(GRPC_PREFIX_BYTES + total);
  frame[0] = 0;
  frame.writeUInt32BE(total, 1);
  writeFlightData(frame.subarray(GRPC_PREFIX_BYTES), msg, descriptor, body);
  return new PreframedFlightData(frame, pool.pools(frame.byteLength) ? (f) => pool.put(f) : null);
}
