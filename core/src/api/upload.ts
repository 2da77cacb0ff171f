/**
 * Reading the table a client uploads (DoPut or DoExchange) into memory, with a size cap, and
 * recognising Feast's placeholder table
 * `{"key": ["mock_key"]}` that stands for "no data".
 */
import { Table, type RecordBatch } from 'apache-arrow';
import { InvalidArgumentError } from '../errors.ts';
import type { IncomingStream } from '@larder/flight';

export interface Upload {
  /** null when the client sent Feast's one-column `key` placeholder. */
  readonly table: Table | null;
  readonly bytes: number;
}

export async function readUpload(stream: IncomingStream, maxBytes: number): Promise<Upload> {
  const schema = await stream.schema();
  // Every message was verified before it was decoded (flight/ipc-verify.ts, ipc-batch-check.ts):
  // fields have names, and each batch's buffers fit the stream's schema.
  const batches: RecordBatch[] = [];
  let bytes = 0;
  for await (const batch of stream.batches()) {
    bytes += batch.data.byteLength;
    if (bytes > maxBytes) {
      throw new InvalidArgumentError(
        `The uploaded table is larger than this server accepts (${maxBytes} bytes, larder.max_upload_bytes in feature_store.yaml)`,
      );
    }
    batches.push(batch);
  }
  // The batches' own schema: the reader decodes it from the same message, but nested names can
  // differ from `schema` as above (null vs "null"), which Table would refuse as a mismatch.
  const table = batches.length > 0 ? new Table(batches) : new Table(schema);
  return { table: isPlaceholder(table) ? null : table, bytes };
}

/** Feast sends a single string column named `key` when a call has no table to upload. */
export function isPlaceholder(table: Table): boolean {
  return table.schema.fields.length === 1 && table.schema.fields[0]!.name === 'key';
}
