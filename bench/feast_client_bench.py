"""The client side of bench/feast-vs-larder.ts and bench/trino-vs-feast.ts: the unchanged Feast 0.67 Python client against a
remote offline server (larder or `feast serve_offline`), timing one call as a Feast user makes it.

    python feast_client_bench.py historical --repo CLIENT_DIR --rows N --features a:x,b:y ...
    python feast_client_bench.py pull --repo CLIENT_DIR --rows N --source driver_stats ...
    python feast_client_bench.py compare A.arrow B.arrow

`historical` and `pull` print one line `RESULT {json}` (seconds of each run, rows, the result's
schema) and, with --save, write the last result normalized (see normalize()) as an Arrow file, so
the orchestrator can check that both servers returned the same table. The timed interval is the
call and `.to_arrow()`: what a user waits for, including the Feast client's own work. `compare`
prints `COMPARE {json}`.

The entity rows come from a fixed seed, so larder and Feast are asked exactly the same thing. Their
timestamps are distinct and start an hour into the data, on purpose: Feast's file store collapses
entity rows that share a key and timestamp, and drops entity rows that have source rows but none
inside the ttl (test/conformance/README.md); the bench measures speed, so it asks what every store
answers the same way.
"""

import argparse
import json
import sys
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather


def entity_df(rows: int, drivers: int, t0: int, first_second: int, span_seconds: int, repeat_seconds: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(12345)
    if rows > span_seconds - first_second and not repeat_seconds:
        raise SystemExit(f"{rows} entity rows do not fit distinct seconds in the data's range")
    # Distinct seconds make every (driver, timestamp) pair distinct; see the module docstring.
    # --repeat-seconds lifts that for stores that answer repeats alike (bench/trino-vs-feast.ts).
    seconds = first_second + rng.choice(span_seconds - first_second, size=rows, replace=repeat_seconds)
    return pd.DataFrame(
        {
            "driver_id": rng.integers(0, drivers, size=rows, dtype=np.int64),
            "event_timestamp": pd.to_datetime(t0 + seconds, unit="s", utc=True),
        }
    )


# pandas' index, which Feast's dask store leaves in a pull's answer as an extra column.
PANDAS_INDEX = "__index_level_"


def normalize(table: pa.Table) -> pa.Table:
    """One canonical form for both servers' answers: columns by name without pandas index
    columns, numbers as float64 with NaN as null (Feast's pandas-based stores turn an int column
    with nulls into float NaN), timestamps as microseconds UTC, rows sorted by every column."""
    columns = {}
    for name in sorted(n for n in table.column_names if not n.startswith(PANDAS_INDEX)):
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = pc.cast(column, pa.timestamp("us", tz="UTC"))
        elif pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            column = pc.cast(column, pa.float64())
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, pa.float64()), column)
        columns[name] = column
    normalized = pa.table(columns)
    return normalized.sort_by([(name, "ascending") for name in normalized.column_names])


def timed(call, runs: int):
    seconds = []
    table = None
    for _ in range(runs):
        table = None  # the previous run's result must not sit in memory during the next
        started = time.perf_counter()
        table = call()
        seconds.append(time.perf_counter() - started)
    return seconds, table


def run_case(args) -> None:
    # Imported here so `compare` does not pay for importing Feast.
    from feast import FeatureStore
    from feast.infra.offline_stores.remote import RemoteOfflineStore

    store = FeatureStore(repo_path=args.repo)
    t0 = args.t0
    if args.command == "historical":
        # --entity-sql: the entity rows are a query the store runs (Feast's entity_df as SQL).
        entities = args.entity_sql or entity_df(args.rows, args.drivers, t0, args.first_second, args.hours * 3600, args.repeat_seconds)
        refs = args.features.split(",")
        seconds, table = timed(
            lambda: store.get_historical_features(entity_df=entities, features=refs).to_arrow(),
            args.runs,
        )
    else:
        if args.rows % args.drivers:
            raise SystemExit(f"--rows must be a multiple of {args.drivers} (whole hours of data)")
        source = store.get_data_source(args.source)
        # Half a second off whole seconds: no row sits on either bound, so stores that read the
        # range as inclusive and those that read it as half-open return the same rows.
        start = datetime.fromtimestamp(t0, tz=timezone.utc) - timedelta(milliseconds=500)
        end = start + timedelta(hours=args.rows // args.drivers)
        pull = RemoteOfflineStore.pull_latest_from_table_or_query if args.latest else RemoteOfflineStore.pull_all_from_table_or_query
        seconds, table = timed(
            lambda: pull(
                config=store.config,
                data_source=source,
                join_key_columns=["driver_id"],
                feature_name_columns=args.columns.split(","),
                timestamp_field="event_timestamp",
                created_timestamp_column="created",
                start_date=start,
                end_date=end,
            ).to_arrow(),
            args.runs,
        )
    schema = {field.name: str(field.type) for field in table.schema}
    extra = [name for name in table.column_names if name.startswith(PANDAS_INDEX)]
    if args.save:
        feather.write_feather(normalize(table), args.save, compression="uncompressed")
    print("RESULT " + json.dumps({"seconds": seconds, "rows": table.num_rows, "schema": schema, "extra_columns": extra}), flush=True)


def compare(path_a: str, path_b: str) -> None:
    a = feather.read_table(path_a, memory_map=True)
    b = feather.read_table(path_b, memory_map=True)
    report = {"rows": [a.num_rows, b.num_rows], "equal": False, "detail": ""}
    if a.column_names != b.column_names:
        report["detail"] = f"columns differ: {a.column_names} vs {b.column_names}"
    elif a.num_rows != b.num_rows:
        report["detail"] = "row counts differ"
    elif a.equals(b):
        report["equal"] = True
    else:
        differing, close = [], []
        for name in a.column_names:
            x, y = a.column(name), b.column(name)
            same = pc.fill_null(pc.equal(x, y), False)
            if pa.types.is_floating(x.type) and pa.types.is_floating(y.type):
                # A REAL (float32) source column: one server keeps its type, the other widens it
                # through Python floats (0.087 against 0.0869999975…); both hold the same float32.
                within = pc.fill_null(pc.less_equal(pc.abs(pc.subtract(x, y)), pc.multiply(pc.abs(y), pa.scalar(1e-6))), False)
                if pc.any(pc.and_(within, pc.invert(same))).as_py():
                    close.append(name)
                same = pc.or_(same, within)
            both_null = pc.and_(pc.is_null(x), pc.is_null(y))
            bad = pc.invert(pc.or_(same, both_null))
            count = pc.sum(pc.cast(bad, pa.int64())).as_py() or 0
            if count:
                first = pc.index(bad, True).as_py()
                differing.append(f"{name}: {count} rows, e.g. row {first}: {x[first].as_py()} vs {y[first].as_py()}")
        if not differing and close:
            report["equal"] = True
            report["narrowed"] = [f"{name}: equal within float32 precision" for name in close]
        elif differing:
            report["detail"] = "; ".join(differing)
        else:
            report["detail"] = "tables differ (types or chunking)"
    print("COMPARE " + json.dumps(report, default=str), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("historical", "pull"):
        case = sub.add_parser(name)
        case.add_argument("--repo", required=True, help="client repo (offline_store: remote)")
        case.add_argument("--rows", type=int, required=True, help="entity rows, or rows to pull")
        case.add_argument("--drivers", type=int, required=True)
        case.add_argument("--t0", type=int, required=True, help="epoch seconds of the data's first hour")
        case.add_argument("--hours", type=int, required=True, help="hours the data spans")
        case.add_argument("--first-second", type=int, default=3600, help="earliest entity time, seconds after t0")
        case.add_argument("--features", default="", help="feature refs (historical)")
        case.add_argument("--source", default="driver_stats", help="data source name (pull)")
        case.add_argument("--columns", default="", help="feature columns (pull)")
        case.add_argument("--entity-sql", help="historical: the entity rows as a SQL query instead of a dataframe")
        case.add_argument("--repeat-seconds", action="store_true", help="historical: entity times may repeat")
        case.add_argument("--latest", action="store_true", help="pull: pull_latest_from_table_or_query instead of pull_all")
        case.add_argument("--runs", type=int, default=1)
        case.add_argument("--save", help="write the normalized result here (Arrow IPC file)")
    cmp = sub.add_parser("compare")
    cmp.add_argument("a")
    cmp.add_argument("b")
    args = parser.parse_args()
    if args.command == "compare":
        compare(args.a, args.b)
    else:
        run_case(args)


if __name__ == "__main__":
    sys.exit(main())
