"""The C++ reference for the DoGet benchmark: a pyarrow.flight server that serves one table,
loaded into memory from an Arrow IPC file, for any ticket.

    python pyarrow_server.py TABLE.arrow

Prints `{"port": N}` on stdout once it accepts calls; stops on SIGTERM.
"""
import json
import signal
import sys

import pyarrow as pa
import pyarrow.flight as flight


class TableServer(flight.FlightServerBase):
    def __init__(self, table: pa.Table):
        super().__init__("grpc://127.0.0.1:0")
        self.table = table

    def do_get(self, context, ticket):
        # RecordBatchStream writes the table's batches as they are: the same messages larder sends.
        return flight.RecordBatchStream(self.table)


def main() -> None:
    # Read into memory (not memory-mapped), as larder's server holds it, so neither side pays
    # page-cache faults while serving.
    with pa.OSFile(sys.argv[1], "rb") as source:
        table = pa.ipc.open_file(source).read_all()
    server = TableServer(table)
    signal.signal(signal.SIGTERM, lambda *_: server.shutdown())
    print(json.dumps({"port": server.port}), flush=True)
    server.serve()


if __name__ == "__main__":
    main()
