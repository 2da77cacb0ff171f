"""The one client of the DoGet benchmark: pyarrow.flight (C++ gRPC) reading a DoGet stream and
discarding every batch, timed per run.

    python pyarrow_client.py PORT RUNS

Prints one JSON line per run: seconds, rows, batches and IPC bytes (what
`pa.ipc.get_record_batch_size` gives for each batch received: its message header and body).
"""
import json
import sys
import time

import pyarrow as pa
import pyarrow.flight as flight


def run(client: flight.FlightClient) -> dict:
    rows = batches = ipc_bytes = 0
    started = time.perf_counter()
    reader = client.do_get(flight.Ticket(b"bench"))
    while True:
        try:
            chunk = reader.read_chunk()
        except StopIteration:
            break
        rows += chunk.data.num_rows
        batches += 1
        # Sizing walks the batch's buffers without copying them: negligible next to the transfer.
        ipc_bytes += pa.ipc.get_record_batch_size(chunk.data)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "batches": batches, "ipcBytes": ipc_bytes}


def main() -> None:
    port, runs = int(sys.argv[1]), int(sys.argv[2])
    client = flight.connect(f"grpc://127.0.0.1:{port}")
    for _ in range(runs):
        print(json.dumps(run(client)), flush=True)
    client.close()


if __name__ == "__main__":
    main()
