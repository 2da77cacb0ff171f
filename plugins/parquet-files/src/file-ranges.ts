/**
 * A file read by byte range through one open file handle, offered to parquet-wasm as the Blob it
 * expects (`size`, `slice(start, end).arrayBuffer()`).
 *
 * Not `fs.openAsBlob`: that re-opens the path for every read and fails once the file changed, so
 * a pull running while offline_write_batch atomically replaces the file would break off midway.
 * An open handle keeps reading the file as it was when the call opened it, as reading it whole
 * into memory used to.
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface FileRanges {
  readonly size: number;
  /** Bytes [start, end) of the file. */
  read(start: number, end: number): Promise<Buffer>;
  /** A Blob look-alike over the file for parquet-wasm. */
  asBlob(): BlobLike;
  close(): Promise<void>;
}

export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { readonly size: number; arrayBuffer(): Promise<ArrayBuffer> };
}

export async function openFileRanges(file: string): Promise<FileRanges> {
  return fileRangesOf(await open(file, 'r'));
}

/** Ranged reads through a handle opened elsewhere (closed by `close()`, or here if stat fails). */
export async function fileRangesOf(handle: FileHandle): Promise<FileRanges> {
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (error) {
    await handle.close();
    throw error;
  }
  let closed = false;

  async function read(start: number, end: number): Promise<Buffer> {
    const length = Math.max(0, Math.min(end, size) - start);
    // allocUnsafeSlow: the result is handed over as a whole ArrayBuffer, so it must not be a
    // slice of Node's shared pool; every byte is overwritten by the read below.
    const out = Buffer.allocUnsafeSlow(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(out, done, length - done, start + done);
      if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${start + done} of ${size}`);
      done += bytesRead;
    }
    return out;
  }

  return {
    size,
    read,
    asBlob(): BlobLike {
      return {
        size,
        slice(start = 0, end = size) {
          return {
            size: Math.max(0, Math.min(end, size) - start),
            arrayBuffer: async () => (await read(start, end)).buffer as ArrayBuffer,
          };
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}
