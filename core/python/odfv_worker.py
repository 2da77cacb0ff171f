"""larder's on-demand feature view worker: applies Feast ODFV transformations to Arrow data.

larder starts this script with the user's own Python (the one with their `feast` installed), as
`python odfv_worker.py REPO [FEATURE_STORE_YAML]`, and talks to it over stdin/stdout. The worker
opens the repo's FeatureStore before it says it is ready, so Feast's start-up cost is paid once,
not by the first request. Each message, in both directions, is a 4-byte big-endian length, a
UTF-8 JSON header of that length, and then, when the header has `"ipc": N`, N bytes of an Arrow
IPC stream.

Requests:
  {"op": "transform", "project": P, "odfvs": [NAME, ...], "full_feature_names": BOOL, "ipc": N}
  + the rows the ODFVs read (an Arrow IPC stream)
  -> {"ok": true, "ipc": N} + one column per output feature of each ODFV, in request order
  -> {"ok": false, "error": {"module": M, "class": C, "message": TEXT}}

The ODFVs are read from the repo's registry by Feast itself, so every registry type Feast knows
works, and they run exactly as Feast's own `RetrievalJob.to_arrow` runs them
(`OnDemandFeatureView.transform_arrow`). stdout carries only protocol messages: anything Feast or
a user's transformation prints goes to stderr, which larder logs.
"""

import io
import json
import os
import struct
import sys
import traceback

# Protocol messages only on the real stdout; everything else (print() in user code) to stderr.
_PROTOCOL_OUT = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
sys.stdout = sys.stderr

import pyarrow as pa  # noqa: E402


def _read_exact(stream, n):
    data = bytearray()
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data.extend(chunk)
    return bytes(data)


def _read_message(stream):
    prefix = _read_exact(stream, 4)
    if prefix is None:
        return None, None
    (length,) = struct.unpack(">I", prefix)
    header = json.loads(_read_exact(stream, length).decode("utf-8"))
    body = _read_exact(stream, header["ipc"]) if header.get("ipc") else None
    return header, body


def _write_message(header, body=None):
    if body is not None:
        header = dict(header, ipc=len(body))
    encoded = json.dumps(header).encode("utf-8")
    _PROTOCOL_OUT.write(struct.pack(">I", len(encoded)) + encoded)
    if body is not None:
        _PROTOCOL_OUT.write(body)
    _PROTOCOL_OUT.flush()


def _open_store(repo, yaml):
    from feast import FeatureStore

    return FeatureStore(repo_path=repo, fs_yaml_file=yaml) if yaml else FeatureStore(repo_path=repo)


def _transform(store, header, body):
    table = pa.ipc.open_stream(body).read_all()
    out_names, out_columns = [], []
    for name in header["odfvs"]:
        odfv = store.registry.get_on_demand_feature_view(name, header["project"], allow_cache=False)
        transformed = odfv.transform_arrow(table, header.get("full_feature_names", False))
        for column in transformed.column_names:
            if column.startswith("__index"):
                continue
            out_names.append(column)
            out_columns.append(transformed[column])
    result = pa.Table.from_arrays(out_columns, names=out_names) if out_names else pa.table({})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, result.schema) as writer:
        writer.write_table(result)
    return sink.getvalue()


def _error(exc):
    return {"module": type(exc).__module__, "class": type(exc).__name__, "message": str(exc)}


def main():
    stdin = sys.stdin.buffer
    store = _open_store(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    _write_message({"ready": True, "pid": os.getpid()})
    while True:
        header, body = _read_message(stdin)
        if header is None:
            return
        try:
            if header.get("op") != "transform":
                raise ValueError(f"unknown op {header.get('op')!r}")
            _write_message({"ok": True}, _transform(store, header, body))
        except Exception as exc:  # noqa: BLE001 - every failure goes back to larder
            traceback.print_exc(file=sys.stderr)
            _write_message({"ok": False, "error": _error(exc)})


if __name__ == "__main__":
    main()
