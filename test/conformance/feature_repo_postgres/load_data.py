"""Loads the conformance data into PostgreSQL for the postgres variant of the repo: the tables of
gen_data.py (same rows, same order, so heap order is as arbitrary as file order), plus the tables
only this variant has (incl. the targets of the write checks). Every table is dropped and
recreated. Deterministic.

    python load_data.py REPO_DIR        # connection from PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE

gen_data.py (copied next to this file) makes the data; Arrow types map to PostgreSQL types:
int64 bigint, int32 integer, float32 real, float64 double precision, string text, bool boolean,
timestamp with a zone timestamptz, naive timestamp `timestamp` (naive means UTC: the cluster's
TimeZone is UTC).
"""

import os
import sys
from datetime import datetime, timedelta, timezone

import numpy as np
import psycopg
import pyarrow as pa

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_data  # noqa: E402

UTC = timezone.utc

# table name -> gen_data table; location_stats_raw is read through a query source.
FROM_GEN_DATA = {
    "driver_stats": gen_data.driver_stats,
    "customer_profile": gen_data.customer_profile,
    "global_stats": gen_data.global_stats,
    "driver_trips": gen_data.driver_trips,
    "location_stats_raw": gen_data.location_stats,
    "extra_stats": gen_data.extra_stats,
}


def pg_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    simple = {
        pa.int64(): "bigint",
        pa.int32(): "integer",
        pa.float32(): "real",
        pa.float64(): "double precision",
        pa.string(): "text",
        pa.bool_(): "boolean",
    }
    if t not in simple:
        raise ValueError(f"no PostgreSQL type for {t}")
    return simple[t]


def driver_status() -> pa.Table:
    """created NULL in places (checks hist_null_created_ranks_lowest, pull_latest_null_created):
    1001: same ts, NULL vs a created -> the created row ('b') wins;
    1002: the latest ts has a NULL created -> it still wins ('c') over an older row with one;
    1003: two rows at one ts, both NULL created, same values -> 'e'."""
    t = datetime(2024, 3, 2, 10, tzinfo=UTC)
    rows = [
        (1001, t, None, "a", 1),
        (1001, t, t + timedelta(minutes=5), "b", 2),
        (1002, t - timedelta(hours=1), t - timedelta(minutes=55), "d", 4),
        (1002, t, None, "c", 3),
        (1003, t, None, "e", 5),
        (1003, t, None, "e", 5),
        (1004, t - timedelta(hours=2), t - timedelta(hours=1), "f", 6),
    ]
    return pa.table(
        {
            "driver_id": pa.array([r[0] for r in rows], pa.int64()),
            "event_timestamp": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
            "created": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
            "status": pa.array([r[3] for r in rows], pa.string()),
            "status_code": pa.array([r[4] for r in rows], pa.int64()),
        }
    )


def entity_rows() -> pa.Table:
    """An entity table for entity_df given as SQL (check hist_entity_df_sql): known, unknown and
    NULL keys, distinct times inside the regular data range, a pass-through label."""
    rng = np.random.default_rng(20240302)
    n = 60
    drivers = [1001, 1002, 1004, 1005, 1006, 1007, 1008, 9999]
    customers = ["C001", "C003", "C004", "C005", "C009", "C010", "C999"]
    secs = rng.choice(np.arange(3600, 70 * 3600), n, replace=False)
    driver_ids = [int(d) for d in rng.choice(drivers, n)]
    driver_ids[5] = None
    customer_ids = [str(c) for c in rng.choice(customers, n)]
    customer_ids[7] = None
    return pa.table(
        {
            "driver_id": pa.array(driver_ids, pa.int64()),
            "customer_id": pa.array(customer_ids, pa.string()),
            "event_timestamp": pa.array(
                [gen_data.START + timedelta(seconds=int(s)) for s in secs], pa.timestamp("us", tz="UTC")
            ),
            "label": pa.array([round(float(x), 3) for x in rng.random(n)], pa.float64()),
        }
    )


def write_targets() -> dict:
    """The tables of the write checks (checks_postgres_writes.py), each with a few rows of drivers
    1001 and 1002 on 2024-03-02, so a write appends to data that is already there."""
    t0 = datetime(2024, 3, 2, tzinfo=UTC)
    hours = [t0 + timedelta(hours=h) for h in range(6)]
    keys = [(d, t) for d in (1001, 1002) for t in hours]
    ids = pa.array([d for d, _ in keys], pa.int64())
    stamps = pa.array([t for _, t in keys], pa.timestamp("us", tz="UTC"))
    n = len(keys)
    return {
        "write_driver_stats": pa.table(
            {
                "driver_id": ids,
                "event_timestamp": stamps,
                "created": pa.array([t + timedelta(minutes=1) for _, t in keys], pa.timestamp("us", tz="UTC")),
                "conv_rate": pa.array([0.125 * (i % 8) for i in range(n)], pa.float64()),
                "avg_daily_trips": pa.array([100 + i for i in range(n)], pa.int64()),
            }
        ),
        "write_trips_mapped": pa.table(
            {"id": ids, "event_timestamp": stamps, "trips_raw": pa.array([10 + i for i in range(n)], pa.int64())}
        ),
        "write_narrow_types": pa.table(
            {
                "driver_id": ids,
                # naive: a `timestamp` column (naive means UTC)
                "event_timestamp": pa.array([t.replace(tzinfo=None) for _, t in keys], pa.timestamp("us")),
                "score": pa.array([0.5 + i for i in range(n)], pa.float32()),
                "rides": pa.array([i for i in range(n)], pa.int32()),
            }
        ),
        "write_reject": pa.table(
            {
                "driver_id": ids,
                "event_timestamp": stamps,
                "value": pa.array([0.25 * i for i in range(n)], pa.float64()),
                "rides": pa.array([i for i in range(n)], pa.int32()),
            }
        ),
    }


def load(conn: psycopg.Connection, name: str, table: pa.Table) -> None:
    columns = ", ".join(f'"{f.name}" {pg_type(f.type)}' for f in table.schema)
    names = ", ".join(f'"{f.name}"' for f in table.schema)
    with conn.cursor() as cur:
        cur.execute(f'DROP TABLE IF EXISTS "{name}"')
        cur.execute(f'CREATE TABLE "{name}" ({columns})')
        with cur.copy(f'COPY "{name}" ({names}) FROM STDIN') as copy:
            for row in table.to_pylist():
                copy.write_row([row[f.name] for f in table.schema])


def main(repo_dir: str) -> None:
    # feast apply writes the registry under data/.
    os.makedirs(os.path.join(repo_dir, "data"), exist_ok=True)
    tables = {name: make() for name, make in FROM_GEN_DATA.items()}
    tables["driver_status"] = driver_status()
    tables["entity_rows"] = entity_rows()
    tables.update(write_targets())
    with psycopg.connect(sslmode="disable") as conn:  # PG* environment variables
        for name, table in tables.items():
            load(conn, name, table)
        conn.commit()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else HERE)
