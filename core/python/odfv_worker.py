"""larder's on-demand feature view worker: applies Feast ODFV transformations to Arrow data.

larder starts this script with the user's own Python (the one with their `feast` installed), as
`python odfv_worker.py [REPO]`, and talks to it over stdin/stdout. The worker imports Feast
before it says it is ready, so that cost is paid once, not by the first request. Each message, in
both directions, is a 4-byte big-endian length, a UTF-8 JSON header of that length, and then, when
the header has `"ipc": N`, N bytes of an Arrow IPC stream.

Requests:
  {"op": "transform",
   "odfvs": [{"proto": BASE64, "columns": [NAME, ...] or null}, ...],
   "full_feature_names": BOOL,
   "output_schema": BASE64 (optional), "ipc": N}
  + the rows the ODFVs read (an Arrow IPC stream)
  -> {"ok": true, "ipc": N} + the ODFVs' output columns, ODFV by ODFV: those named in `columns`
     (all of them when null), cast to `output_schema` (an IPC stream's schema) when given
  -> {"ok": false, "error": {"module": M, "class": C, "message": TEXT}}

`proto` is the view's serialized OnDemandFeatureView message as larder read it from the registry,
so the worker needs no registry access of its own; it is rebuilt with Feast's `from_proto` (which
unpickles the transformation) and kept for the next request. The rows are transformed exactly as
Feast's `RetrievalJob.to_arrow` does (`OnDemandFeatureView.transform_arrow`). REPO, when given, is
put on sys.path, as Feast's CLI does, for transformations that import the repo's own modules.
stdout carries only protocol messages: anything a transformation prints goes to stderr, which
larder logs.
"""

import base64
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


_CACHE_LIMIT = 64
_odfvs = {}


def _odfv(proto_b64):
    """The OnDemandFeatureView for these registry bytes, rebuilt once and then reused."""
    odfv = _odfvs.get(proto_b64)
    if odfv is None:
        from feast.on_demand_feature_view import OnDemandFeatureView
        from feast.protos.feast.core.OnDemandFeatureView_pb2 import OnDemandFeatureView as OnDemandFeatureViewProto

        odfv = OnDemandFeatureView.from_proto(OnDemandFeatureViewProto.FromString(base64.b64decode(proto_b64)))
        if len(_odfvs) >= _CACHE_LIMIT:
            _odfvs.clear()
        _odfvs[proto_b64] = odfv
    return odfv


def _transform(header, body):
    table = pa.ipc.open_stream(body).read_all()
    full_feature_names = header.get("full_feature_names", False)
    out_names, out_columns = [], []
    for request in header["odfvs"]:
        transformed = _odfv(request["proto"]).transform_arrow(table, full_feature_names)
        wanted = request.get("columns")
        for column in transformed.column_names:
            if column.startswith("__index") or (wanted is not None and column not in wanted):
                continue
            out_names.append(column)
            out_columns.append(transformed[column])
    result = pa.Table.from_arrays(out_columns, names=out_names) if out_names else pa.table({})
    if header.get("output_schema"):
        schema = pa.ipc.open_stream(base64.b64decode(header["output_schema"])).schema
        result = _cast(result, schema)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, result.schema) as writer:
        writer.write_table(result.combine_chunks())
    return sink.getvalue()


def _cast(result, schema):
    """Later batches keep the first batch's column types (a pandas column may turn float on NaNs)."""
    if result.schema.names != schema.names:
        raise ValueError(f"the transformation returned columns {result.schema.names} where an earlier batch returned {schema.names}")
    try:
        return result.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"the transformation returned {result.schema} where an earlier batch returned {schema}: {exc}") from exc


def _error(exc):
    return {"module": type(exc).__module__, "class": type(exc).__name__, "message": str(exc)}


def main():
    stdin = sys.stdin.buffer
    if len(sys.argv) > 1:
        sys.path.insert(0, os.path.abspath(sys.argv[1]))
    import feast.on_demand_feature_view  # noqa: F401 - pay Feast's import time before "ready"

    _write_message({"ready": True, "pid": os.getpid()})
    while True:
        header, body = _read_message(stdin)
        if header is None:
            return
        try:
            if header.get("op") != "transform":
                raise ValueError(f"unknown op {header.get('op')!r}")
            _write_message({"ok": True}, _transform(header, body))
        except Exception as exc:  # noqa: BLE001 - every failure goes back to larder
            traceback.print_exc(file=sys.stderr)
            _write_message({"ok": False, "error": _error(exc)})


if __name__ == "__main__":
    main()
