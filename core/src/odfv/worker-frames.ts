/**
 * The framing of larder's ODFV worker protocol (core/python/odfv_worker.py): a 4-byte big-endian
 * length, a UTF-8 JSON header of that length, then `header.ipc` bytes of an Arrow IPC stream when
 * the header has `ipc`. The reader is fed stdout chunks as they arrive and hands out whole messages.
 */

export interface WorkerMessage {
  readonly header: Record<string, unknown>;
  readonly body: Uint8Array | null;
}

/** One message as bytes, ready to write to the worker's stdin. */
export function encodeMessage(header: Record<string, unknown>, body?: Uint8Array): Buffer[] {
  const json = Buffer.from(JSON.stringify(body ? { ...header, ipc: body.byteLength } : header), 'utf8');
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(json.length);
  return body ? [prefix, json, Buffer.from(body.buffer, body.byteOffset, body.byteLength)] : [prefix, json];
}

export class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds a chunk; returns the messages it completed, in order. */
  push(chunk: Buffer): WorkerMessage[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: WorkerMessage[] = [];
    for (;;) {
      const message = this.next();
      if (!message) return out;
      out.push(message);
    }
  }

  private next(): WorkerMessage | null {
    if (this.buffered < 4) return null;
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [data];
    const headerLength = data.readUInt32BE(0);
    if (this.buffered < 4 + headerLength) return null;
    const header = JSON.parse(data.subarray(4, 4 + headerLength).toString('utf8')) as Record<string, unknown>;
    const bodyLength = typeof header.ipc === 'number' ? header.ipc : 0;
    const end = 4 + headerLength + bodyLength;
    if (this.buffered < end) return null;
    const body = bodyLength > 0 ? data.subarray(4 + headerLength, end) : null;
    const rest = data.subarray(end);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return { header, body };
  }
}
