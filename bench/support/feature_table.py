"""Writes the benches' feature table: as an Arrow IPC file (bench/doget-throughput.ts, so the
larder and pyarrow servers serve the very same record batches) or as a parquet file with one row
group per batch (bench/streaming-memory.ts, a file source for larder's stores).

    python feature_table.py OUT ROWS BATCH_ROWS [arrow|parquet]

Columns look like feature data: an entity id (10,000 drivers, one row per driver and hour), two
timestamps, floats (one with nulls), an int and a short string: about 68 bytes of IPC per row.
Written under a temporary name and renamed, so an interrupted run never leaves a truncated file
that a later run would take for a finished cache. Generated batch by batch: memory stays small
however many rows are asked for.
"""
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def batch(start: int, n: int) -> pa.RecordBatch:
    i = np.arange(start, start + n, dtype=np.int64)
    t0 = 1_704_067_200_000_000  # 2024-01-01 in microseconds
    event = t0 + (i // 10_000) * 3_600_000_000 + (i * 7919) % 3_600_000_000
    ts = pa.timestamp("us", tz="UTC")
    rating_valid = (i % 7) != 0  # about one null in seven, so a validity bitmap is sent
    cities = np.array(["amsterdam", "berlin", "copenhagen", "dublin", "edinburgh", "frankfurt"], dtype=object)
    return pa.record_batch(
        [
            pa.array(i % 10_000, pa.int64()),
            pa.array(event, ts),
            pa.array(event + (i * 104_729) % 600_000_000, ts),
            pa.array((i % 997) / 997.0, pa.float64()),
            pa.array((i % 991) / 991.0, pa.float64()),
            pa.array(i % 50, pa.int64()),
            pa.array((i % 101) / 20.0, pa.float64(), mask=~rating_valid),
            pa.array(cities[i % len(cities)], pa.utf8()),
        ],
        names=["driver_id", "event_timestamp", "created", "conv_rate", "acc_rate", "trips", "rating", "city"],
    )


def main() -> None:
    out, rows, batch_rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    fmt = sys.argv[4] if len(sys.argv) > 4 else "arrow"
    partial = f"{out}.{os.getpid()}.partial"
    first = batch(0, min(batch_rows, rows))
    if fmt == "parquet":
        writer = pq.ParquetWriter(partial, first.schema, compression="snappy")
    else:
        writer = pa.ipc.new_file(pa.OSFile(partial, "wb"), first.schema)
    with writer:
        writer.write_batch(first)
        for start in range(batch_rows, rows, batch_rows):
            writer.write_batch(batch(start, min(batch_rows, rows - start)))
    os.replace(partial, out)


if __name__ == "__main__":
    main()
