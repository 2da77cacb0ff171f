"""The client of bench/streaming-memory.ts: sends one Feast read the way Feast 0.67's remote
offline store does (a DoExchange whose descriptor holds the JSON command, the placeholder table
as upload, done_writing, then the result on the same stream) and reads the result slowly,
discarding every batch.

    python pull_client.py PORT COMMAND_JSON MAX_MBPS

Reading is held at MAX_MBPS (IPC bytes, 1 MB = 10^6 bytes), so a server that ignored backpressure
would have to buffer the difference. Prints a JSON progress line about every 256 MB and a final
line with "done": true.
"""
import json
import sys
import time

import pyarrow as pa
import pyarrow.flight as flight

PROGRESS_BYTES = 256 * 10**6


def main() -> None:
    port, command, max_mbps = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    client = flight.connect(f"grpc://127.0.0.1:{port}")
    placeholder = pa.table({"key": pa.array(["mock_key"], pa.string())})
    writer, reader = client.do_exchange(flight.FlightDescriptor.for_command(command))
    writer.begin(placeholder.schema)
    writer.write_table(placeholder)
    writer.done_writing()

    rows = ipc_bytes = batches = 0
    next_progress = PROGRESS_BYTES
    started = time.perf_counter()
    while True:
        try:
            chunk = reader.read_chunk()
        except StopIteration:
            break
        rows += chunk.data.num_rows
        batches += 1
        ipc_bytes += pa.ipc.get_record_batch_size(chunk.data)
        del chunk
        # Sleep until the bytes read so far fit the allowed rate.
        ahead = ipc_bytes / (max_mbps * 1e6) - (time.perf_counter() - started)
        if ahead > 0:
            time.sleep(ahead)
        if ipc_bytes >= next_progress:
            next_progress += PROGRESS_BYTES
            print(json.dumps({"ipcBytes": ipc_bytes, "rows": rows, "seconds": time.perf_counter() - started}), flush=True)
    seconds = time.perf_counter() - started
    print(json.dumps({"done": True, "ipcBytes": ipc_bytes, "rows": rows, "batches": batches, "seconds": seconds}), flush=True)
    writer.close()
    client.close()


if __name__ == "__main__":
    main()
