"""Writes the conformance repo's parquet data under <repo>/data. Deterministic: fixed seed, fixed
timestamps (never "now"), so every run and both servers see byte-identical inputs.

    python gen_data.py [repo_dir]      # default: the directory of this file

The special rows (drivers 2001-2003, the backfills, the exact duplicate) are what checks.py asserts
with hand-computed expectations; keep the two in step. Rows are written in shuffled order with
backfills placed *before* the rows they override, so a server relying on file order fails.
Timestamp units and zones differ per file on purpose (us/ns/ms, UTC and naive=UTC).
"""

import os
import sys
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

UTC = timezone.utc
START = datetime(2024, 3, 1, tzinfo=UTC)  # regular data spans START .. START + 72h
DRIVERS = list(range(1001, 1009))
CUSTOMERS = [f"C{i:03d}" for i in range(1, 11)]  # C010 has no rows at all
LOCATIONS = list(range(1, 21))


def _rng(salt: int) -> np.random.Generator:
    return np.random.default_rng(20240301 + salt)


def _shuffled(rows: list, salt: int) -> list:
    order = _rng(salt).permutation(len(rows))
    return [rows[i] for i in order]


def _table(rows: list, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


def driver_stats() -> pa.Table:
    rng = _rng(1)
    regular = []
    for hour in range(72):
        ts = START + timedelta(hours=hour)
        for d in DRIVERS:
            regular.append(
                {
                    "event_timestamp": ts,
                    "driver_id": d,
                    "conv_rate": round(float(rng.random()), 4),
                    "acc_rate": round(float(rng.random()), 4),
                    "avg_daily_trips": int(rng.integers(0, 1000)),
                    "created": ts + timedelta(minutes=10),
                }
            )
    ts_1003 = datetime(2024, 3, 2, 5, tzinfo=UTC)
    original_1003 = next(
        r for r in regular if r["driver_id"] == 1003 and r["event_timestamp"] == ts_1003
    )
    ts_1004 = datetime(2024, 3, 2, 7, tzinfo=UTC)
    original_1004 = next(
        r for r in regular if r["driver_id"] == 1004 and r["event_timestamp"] == ts_1004
    )

    def row(ts, d, conv, acc, trips, created):
        return {
            "event_timestamp": ts,
            "driver_id": d,
            "conv_rate": conv,
            "acc_rate": acc,
            "avg_daily_trips": trips,
            "created": created,
        }

    t10 = datetime(2024, 3, 2, 10, tzinfo=UTC)
    # Like Feast's `feast init` data: one fixed row per driver at 2021-04-12 07:00, the only row in
    # a day's reach of the entity times of Feast's own server test.
    fixed_2021 = datetime(2021, 4, 12, 7, tzinfo=UTC)
    special = [
        row(fixed_2021, d, round(0.01 * (d - 1000), 2), round(0.5 + 0.01 * (d - 1000), 2), d - 1000, fixed_2021 + timedelta(minutes=5))
        for d in DRIVERS
    ]
    special += [
        # 1003 backfill: same ts as a regular row, created a day later -> wins the tie.
        row(ts_1003, 1003, 0.5, 0.5, 5003, ts_1003 + timedelta(days=1)),
        # 1004: an exact duplicate of a regular row; must not duplicate output rows.
        dict(original_1004),
        # 2001 (Feast's backfill test): same ts, later created wins -> 20.
        row(t10, 2001, 0.2, 0.2, 20, t10 + timedelta(hours=2)),
        row(t10, 2001, 0.1, 0.1, 10, t10 + timedelta(minutes=5)),
        # 2002: a later ts beats a much later created -> 40.
        row(t10, 2002, 0.3, 0.3, 30, datetime(2024, 3, 5, tzinfo=UTC)),
        row(t10 + timedelta(hours=1), 2002, 0.4, 0.4, 40, t10 + timedelta(hours=1, minutes=1)),
        # 2003: a single row, for the ttl boundaries (T - 1 day and T itself are inclusive).
        row(datetime(2024, 3, 2, tzinfo=UTC), 2003, 0.7, 0.7, 7, datetime(2024, 3, 2, 0, 1, tzinfo=UTC)),
    ]
    assert original_1003["avg_daily_trips"] != 5003
    schema = pa.schema(
        [
            ("event_timestamp", pa.timestamp("us", tz="UTC")),
            ("driver_id", pa.int64()),
            ("conv_rate", pa.float32()),
            ("acc_rate", pa.float32()),
            ("avg_daily_trips", pa.int64()),
            ("created", pa.timestamp("us", tz="UTC")),
        ]
    )
    # Special rows first: each override precedes the row it overrides in file order.
    return _table(special + _shuffled(regular, 2), schema)


def customer_profile() -> pa.Table:
    rng = _rng(3)
    segments = ["gold", "silver", "bronze"]
    rows = []
    for day in range(32):
        ts = datetime(2024, 2, 1, tzinfo=UTC) + timedelta(days=day)
        for c in CUSTOMERS[:8]:
            rows.append(
                {
                    "event_timestamp": ts,
                    "customer_id": c,
                    "current_balance": round(float(rng.random() * 1000), 2),
                    "avg_passenger_count": round(float(rng.random() * 4), 3),
                    "lifetime_trip_count": int(rng.integers(0, 100_000)),
                    "segment": segments[int(rng.integers(0, 3))],
                    "is_premium": bool(rng.integers(0, 2)),
                    "created": ts + timedelta(hours=1),
                }
            )
    ts_c002 = datetime(2024, 3, 1, tzinfo=UTC)
    special = [
        # C002 backfill on 2024-03-01.
        {
            "event_timestamp": ts_c002,
            "customer_id": "C002",
            "current_balance": 2002.0,
            "avg_passenger_count": 2.002,
            "lifetime_trip_count": 2002,
            "segment": "backfill",
            "is_premium": True,
            "created": ts_c002 + timedelta(days=2),
        },
        # C009: one row, months old: found only because the view's ttl is 0 (unbounded).
        {
            "event_timestamp": datetime(2023, 6, 1, tzinfo=UTC),
            "customer_id": "C009",
            "current_balance": 9.5,
            "avg_passenger_count": 0.9,
            "lifetime_trip_count": 9,
            "segment": "old",
            "is_premium": False,
            "created": datetime(2023, 6, 1, 1, tzinfo=UTC),
        },
    ]
    schema = pa.schema(
        [
            ("event_timestamp", pa.timestamp("ns", tz="UTC")),
            ("customer_id", pa.string()),
            ("current_balance", pa.float32()),
            ("avg_passenger_count", pa.float64()),
            ("lifetime_trip_count", pa.int64()),
            ("segment", pa.string()),
            ("is_premium", pa.bool_()),
            ("created", pa.timestamp("ns", tz="UTC")),
        ]
    )
    return _table(special + _shuffled(rows, 4), schema)


def global_stats() -> pa.Table:
    rng = _rng(5)
    rows = []
    for step in range(24):  # every 6 hours from 2024-02-27
        ts = datetime(2024, 2, 27) + timedelta(hours=6 * step)  # naive: means UTC
        rows.append(
            {
                "event_timestamp": ts,
                "num_rides": int(rng.integers(100, 10_000)),
                "avg_ride_length": round(float(rng.random() * 30), 3),
            }
        )
    schema = pa.schema(
        [
            ("event_timestamp", pa.timestamp("us")),
            ("num_rides", pa.int32()),
            ("avg_ride_length", pa.float32()),
        ]
    )
    return _table(_shuffled(rows, 6), schema)


def driver_trips() -> pa.Table:
    rng = _rng(7)
    rows = []
    for step in range(24):  # every 3 hours
        ts = START + timedelta(hours=3 * step)
        for d in DRIVERS:
            rows.append({"id": d, "event_timestamp": ts, "trips_raw": int(rng.integers(0, 50))})
    schema = pa.schema(
        [("id", pa.int64()), ("event_timestamp", pa.timestamp("us", tz="UTC")), ("trips_raw", pa.int64())]
    )
    return _table(_shuffled(rows, 8), schema)


def location_stats() -> pa.Table:
    rng = _rng(9)
    rows = []
    for step in range(36):  # every 2 hours
        ts = START + timedelta(hours=2 * step)
        for loc in LOCATIONS:
            rows.append(
                {
                    "event_timestamp": ts,
                    "location_id": loc,
                    "temperature": round(float(rng.random() * 40 - 5), 2),
                    "pickups": int(rng.integers(0, 500)),
                    "created": ts + timedelta(minutes=1),
                }
            )
    schema = pa.schema(
        [
            ("event_timestamp", pa.timestamp("ms", tz="UTC")),
            ("location_id", pa.int64()),
            ("temperature", pa.float32()),
            ("pickups", pa.int64()),
            ("created", pa.timestamp("ms", tz="UTC")),
        ]
    )
    return _table(_shuffled(rows, 10), schema)


def extra_stats() -> pa.Table:
    """Not in the registry: a client-side `feast apply` adds a view on it, with its timestamp field
    and schema inferred through the server (validate_data_source and column listing)."""
    rows = [
        {
            "event_timestamp": START + timedelta(hours=h),
            "driver_id": d,
            "extra_score": float(h) + d / 10_000,
            "extra_flag": h % 2 == 0,
            "extra_label": f"l{h}",
            "extra_count": h,
        }
        for h in range(3)
        for d in DRIVERS
    ]
    schema = pa.schema(
        [
            ("event_timestamp", pa.timestamp("us", tz="UTC")),
            ("driver_id", pa.int64()),
            ("extra_score", pa.float64()),
            ("extra_flag", pa.bool_()),
            ("extra_label", pa.string()),
            ("extra_count", pa.int32()),
        ]
    )
    return _table(rows, schema)


TABLES = {
    "driver_stats.parquet": driver_stats,
    "customer_profile.parquet": customer_profile,
    "global_stats.parquet": global_stats,
    "driver_trips.parquet": driver_trips,
    "location_stats.parquet": location_stats,
    "extra_stats.parquet": extra_stats,
}


def main(repo_dir: str) -> None:
    data_dir = os.path.join(repo_dir, "data")
    os.makedirs(data_dir, exist_ok=True)
    # Feast's file store does not create the parent directory of a saved-dataset file.
    os.makedirs(os.path.join(data_dir, "saved"), exist_ok=True)
    for name, make in TABLES.items():
        pq.write_table(make(), os.path.join(data_dir, name))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
