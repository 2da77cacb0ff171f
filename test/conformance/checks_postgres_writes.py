"""Writes into PostgreSQL (larder-only: Feast's postgres store implements none of them), through the
unchanged Feast client: offline_write_batch appends to a view's source table, persist creates a
saved dataset's table. Each check has its own tables (feature_repo_postgres: write_driver_stats,
write_trips_mapped, write_narrow_types, write_reject; the persist checks' pg_saved_training and
pg_saved_no_overwrite), so none depends on another's writes, and the read checks' tables are
never written to. What landed in a table is read straight from the cluster with psycopg
(pit_rule.query_records), and back through the server with get_historical_features / pull. After
its calls, each check also looks for larder connections left inside a transaction (a leaked
session).

write_logged_features is not covered: larder logs to a custom destination whose config has a
`table_name`, and the Feast SDK can only express one through a LoggingDestination subclass of
its own (it has none for PostgreSQL).
"""

import time
from typing import List

import numpy as np
import pandas as pd
import pyarrow as pa

from checks_sources import _compare_pull
from compare import assert_rows_subset, assert_same_rows, expect, rows, sorted_rows
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import (
    PostgreSQLSource,
    SavedDatasetPostgreSQLStorage,
)
from feast.infra.offline_stores.remote import RemoteOfflineStore
from harness import DRIVER_REFS, Ctx, check, compare_historical, expect_raises, main_entity_df, ts
from pit_rule import query_records

def _table_frame(table: str, columns: List[str]) -> pd.DataFrame:
    """Every row of a table as the cluster holds it (`real` as the float32 it is)."""
    cols = ", ".join(f'"{c}"' for c in columns)
    return pd.DataFrame(query_records(f'SELECT {cols} FROM "{table}"'), columns=columns)


def _count(table: str) -> int:
    return int(query_records(f'SELECT count(*) AS n FROM "{table}"')[0]["n"])


def _table_exists(table: str) -> bool:
    return query_records(f"SELECT to_regclass('{table}') IS NOT NULL AS present")[0]["present"]


def _expect_no_open_transactions(what: str) -> None:
    """Every call above has returned, so none of larder's connections (application_name larder)
    may still be inside a transaction: one that is holds a pooled connection nobody will give back
    (a leak that starves the pool and keeps larder from stopping). Polled briefly, as a session is
    released just after its call's answer."""
    sql = (
        "SELECT state, left(query, 120) AS query FROM pg_stat_activity WHERE application_name = 'larder' "
        "AND (state LIKE 'idle in transaction%' OR state = 'active')"
    )
    deadline = time.monotonic() + 3
    while True:
        held = query_records(sql)
        if not held or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    expect(
        not held,
        f"{what}: {len(held)} of larder's PostgreSQL connections still in a transaction after every call returned "
        f"(a leaked session): {[(r['state'], r['query']) for r in held]}",
    )


def _utc(*texts: str) -> pd.Series:
    # datetime64[ns, UTC]: what a pandas user has.
    return pd.Series([pd.Timestamp(t, tz="UTC") for t in texts])


def _message(err: BaseException) -> str:
    return f"{type(err).__module__}.{type(err).__name__}: {err}"


# --- offline_write_batch ---------------------------------------------------------------------


@check
def pg_offline_write_batch_then_read(ctx: Ctx):
    table, columns = "write_driver_stats", ["driver_id", "event_timestamp", "created", "conv_rate", "avg_daily_trips"]
    old = _table_frame(table, columns)
    entity_df = pd.DataFrame(
        {"driver_id": np.array([5001, 1001, 5001], dtype="int64"), "event_timestamp": _utc("2024-03-02 11:30", "2024-03-02 04:30", "2024-03-02 10:30")}
    )
    refs = ["write_driver_stats:conv_rate", "write_driver_stats:avg_daily_trips"]
    before = compare_historical(ctx, entity_df, refs, what="before the write")
    expect(before[before["driver_id"] == 5001]["conv_rate"].isna().all(), "driver 5001 has values before any write")
    # As a user has it: int64 keys, float64 and int64 features, datetime64[ns, UTC] timestamps,
    # columns not in the table's order (the client reorders them).
    stamps = _utc("2024-03-02 10:00", "2024-03-02 11:00")
    batch = pd.DataFrame(
        {
            "conv_rate": np.array([0.1, 0.7], dtype="float64"),
            "event_timestamp": stamps,
            "avg_daily_trips": np.array([501, 502], dtype="int64"),
            "driver_id": np.array([5001, 5001], dtype="int64"),
            "created": stamps + pd.Timedelta(minutes=2),
        }
    )
    ctx.remote.write_to_offline_store("write_driver_stats", batch)

    new = _table_frame(table, columns)
    expect(len(new) == len(old) + 2, f"{len(new)} rows in {table}, expected {len(old)} + 2")
    assert_rows_subset(rows(old), rows(new), f"{table}: the old rows after the write")
    assert_same_rows(new[new["driver_id"] == 5001], batch[columns], f"{table}: the written rows as stored")

    got = compare_historical(ctx, entity_df, refs, what="after the write")
    # 1001 at 04:30 keeps its loaded 04:00 row (load_data.write_targets: index 4).
    want = [(5001, 0.7, 502), (1001, 0.5, 104), (5001, 0.1, 501)]
    have = rows(got, ["driver_id", "conv_rate", "avg_daily_trips"])
    expect(have == want, f"get_historical_features after the write: {have}, expected {want}")

    pulled = _compare_pull(
        ctx,
        dict(name="write_driver_stats_source", join_keys=["driver_id"], features=["conv_rate", "avg_daily_trips"], timestamp_field="event_timestamp", created="created"),
        ts("2024-03-02 09:00"),
        ts("2024-03-02 12:00"),
        False,
        "pull_all after the write",
    )
    assert_same_rows(
        pulled[pulled["driver_id"] == 5001][["driver_id", "conv_rate", "avg_daily_trips", "event_timestamp"]],
        batch[["driver_id", "conv_rate", "avg_daily_trips", "event_timestamp"]],
        "pull_all: the written rows",
    )
    _expect_no_open_transactions("after the write and the reads")
    return f"{len(old)} -> {len(new)} rows"


@check
def pg_offline_write_field_mapping(ctx: Ctx):
    table = "write_trips_mapped"
    old = _table_frame(table, ["id", "event_timestamp", "trips_raw"])
    # The client wants the source's (raw) column names, renames them to the view's names by the
    # field_mapping, and the server maps them back onto the table's columns.
    batch = pd.DataFrame(
        {
            "id": np.array([5002, 5002, 1002], dtype="int64"),
            "event_timestamp": _utc("2024-03-02 07:00", "2024-03-02 08:00", "2024-03-02 07:00"),
            "trips_raw": np.array([71, 72, 73], dtype="int64"),
        }
    )
    ctx.remote.write_to_offline_store("write_trips_mapped", batch)
    new = _table_frame(table, ["id", "event_timestamp", "trips_raw"])
    expect(len(new) == len(old) + 3, f"{len(new)} rows in {table}, expected {len(old)} + 3")
    assert_rows_subset(rows(batch), rows(new), f"{table}: the written rows under the raw column names")
    assert_rows_subset(rows(old), rows(new), f"{table}: the old rows after the write")

    entity_df = pd.DataFrame(
        {"driver_id": np.array([5002, 1002, 5002], dtype="int64"), "event_timestamp": _utc("2024-03-02 08:30", "2024-03-02 07:10", "2024-03-02 07:59")}
    )
    got = compare_historical(ctx, entity_df, ["write_trips_mapped:trips_today"], what="after the write")
    have = rows(got, ["driver_id", "trips_today"])
    want = [(5002, 72), (1002, 73), (5002, 71)]
    expect(have == want, f"trips_today after the write: {have}, expected {want}")
    _compare_pull(
        ctx,
        dict(name="write_trips_mapped_source", join_keys=["id"], features=["trips_raw"], timestamp_field="event_timestamp", created=None),
        ts("2024-03-02 06:00"),
        ts("2024-03-02 09:00"),
        True,
        "pull_latest after the write",
    )


@check
def pg_offline_write_narrow_types(ctx: Ctx):
    # float64 into `real`, int64 into `integer`, UTC datetime64 into a naive `timestamp`.
    table = "write_narrow_types"
    old_count = _count(table)
    scores = np.array([0.1, 1.0 / 3.0, 2.5e-7], dtype="float64")
    batch = pd.DataFrame(
        {
            "driver_id": np.array([5003, 5003, 5004], dtype="int64"),
            "event_timestamp": _utc("2024-03-02 06:00:01", "2024-03-02 07:30", "2024-03-02 07:30"),
            "score": scores,
            "rides": np.array([7, 2147483647, -2147483648], dtype="int64"),
        }
    )
    ctx.remote.write_to_offline_store("write_narrow_types", batch)
    expect(_count(table) == old_count + 3, f"{_count(table)} rows in {table}, expected {old_count} + 3")
    stored = query_records(f'SELECT driver_id, event_timestamp, score, rides FROM "{table}" WHERE driver_id >= 5000')
    stored_df = pd.DataFrame(stored, columns=["driver_id", "event_timestamp", "score", "rides"])
    expect(all(r["event_timestamp"].tzinfo is None for r in stored), "event_timestamp is not a naive timestamp column any more")
    want = batch.assign(score=[float(np.float32(s)) for s in scores])
    # stored naive = UTC wall time; compare.norm reads naive as UTC.
    assert_same_rows(stored_df, want, f"{table}: the written rows as stored (score rounded to real)")

    entity_df = pd.DataFrame(
        {"driver_id": np.array([5003, 5004, 5003], dtype="int64"), "event_timestamp": _utc("2024-03-02 07:00", "2024-03-02 08:00", "2024-03-02 07:30")}
    )
    got = compare_historical(ctx, entity_df, ["write_narrow_types:score", "write_narrow_types:rides"], what="after the write")
    have = rows(got, ["driver_id", "score", "rides"])
    want_rows = [(5003, want["score"][0], 7), (5004, want["score"][2], -2147483648), (5003, want["score"][1], 2147483647)]
    expect(have == want_rows, f"score/rides after the write: {have}, expected {want_rows}")
    expect(str(got["score"].dtype) == "float32", f"score comes back as {got['score'].dtype}, expected float32")


def _reject_batch(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "driver_id": np.array([5005, 5005], dtype="int64"),
            "event_timestamp": _utc("2024-03-02 09:00", "2024-03-02 09:30"),
            "value": np.array([1.5, 2.5], dtype="float64"),
            "rides": np.array([1, 2], dtype="int64"),
        }
    )
    for name, values in overrides.items():
        frame[name] = values
    return frame


@check
def pg_offline_write_bad_type_rejected(ctx: Ctx):
    table = "write_reject"
    before = sorted_rows(_table_frame(table, ["driver_id", "event_timestamp", "value", "rides"]))
    # Text into a double precision column: the client accepts the frame (the column names match),
    # the server must refuse it naming the column.
    bad_type = _reject_batch(value=["1.5", "not a number"])
    err = expect_raises(lambda: ctx.remote.write_to_offline_store("write_reject", bad_type), "text into double precision")
    msg = _message(err)
    expect('"value"' in msg or "'value'" in msg or " value " in msg, f"the error does not name the column value: {msg[:600]}")
    after = sorted_rows(_table_frame(table, ["driver_id", "event_timestamp", "value", "rides"]))
    expect(after == before, f"{table} changed after a refused write ({len(before)} -> {len(after)} rows)")
    _expect_no_open_transactions("after the refused text write")
    # A value out of the column's range (integer) in the second row: the whole batch is refused,
    # its first row included.
    out_of_range = _reject_batch(rides=np.array([3, 2**40], dtype="int64"))
    err = expect_raises(lambda: ctx.remote.write_to_offline_store("write_reject", out_of_range), "2**40 into integer")
    msg = _message(err)
    expect("out of range" in msg, f"the error does not say the value is out of range: {msg[:600]}")
    after = sorted_rows(_table_frame(table, ["driver_id", "event_timestamp", "value", "rides"]))
    expect(after == before, f"{table} changed after a refused write ({len(before)} -> {len(after)} rows)")
    _expect_no_open_transactions("after the refused out-of-range write")
    # The failures left nothing behind on the server's connections: a good write still lands.
    good = _reject_batch()
    ctx.remote.write_to_offline_store("write_reject", good)
    after = _table_frame(table, ["driver_id", "event_timestamp", "value", "rides"])
    expect(len(after) == len(before) + 2, f"{len(after)} rows after a good write, expected {len(before)} + 2")
    assert_rows_subset(rows(good), rows(after), f"{table}: the good write's rows")


@check
def pg_offline_write_unknown_column_rejected(ctx: Ctx):
    table = "write_reject"
    before = sorted_rows(_table_frame(table, ["driver_id", "event_timestamp", "value", "rides"]))
    # The client refuses a frame whose columns differ from the source's before sending anything,
    # so the table goes to the server as Feast's offline_write_batch sends it.
    fv = ctx.remote.get_feature_view("write_reject")
    frame = _reject_batch()
    frame["bogus_col"] = np.array([1.0, 2.0])
    err = expect_raises(
        lambda: RemoteOfflineStore.offline_write_batch(ctx.remote.config, fv, pa.Table.from_pandas(frame, preserve_index=False), None),
        "a write with an unknown column",
    )
    msg = _message(err)
    expect("bogus_col" in msg, f"the error does not name the unknown column bogus_col: {msg[:600]}")
    after = sorted_rows(_table_frame(table, ["driver_id", "event_timestamp", "value", "rides"]))
    expect(after == before, f"{table} changed after a refused write ({len(before)} -> {len(after)} rows)")
    _expect_no_open_transactions("after the refused write")
    return msg.split("\n")[0][:200]


# --- persist ---------------------------------------------------------------------------------


def _saved_table(ctx: Ctx, table: str) -> SavedDatasetPostgreSQLStorage:
    """A saved dataset's table, absent so far. The server resolves a persist's destination by
    name in the registry, and Feast names a SavedDatasetPostgreSQLStorage's source after its
    table: it is registered as a user would (the read checks, which list every registered
    source's columns, run before and never see it)."""
    expect(not _table_exists(table), f"table {table} exists before the check (premise)")
    ctx.remote.apply([PostgreSQLSource(name=table, table=table, timestamp_field="event_timestamp")])
    return SavedDatasetPostgreSQLStorage(table_ref=table)


@check
def pg_persist_saved_dataset(ctx: Ctx):
    table = "pg_saved_training"
    storage = _saved_table(ctx, table)
    job = ctx.remote.get_historical_features(entity_df=main_entity_df(40, seed=51)[["driver_id", "event_timestamp"]], features=DRIVER_REFS)
    expected = job.to_df()
    dataset = ctx.remote.create_saved_dataset(from_=job, name="pg_training", storage=storage)
    expect(_table_exists(table), f"table {table} not created")
    columns = list(expected.columns)
    assert_same_rows(_table_frame(table, columns), expected, f"table {table} vs the job's to_df")
    assert_same_rows(dataset.to_df(), expected, "saved_dataset.to_df() vs the job's to_df", columns_ordered=False)
    again = ctx.remote.get_saved_dataset("pg_training").to_df()
    assert_same_rows(again, expected, "get_saved_dataset().to_df() vs the job's to_df", columns_ordered=False)

    # allow_overwrite=True replaces it with a different result.
    job2 = ctx.remote.get_historical_features(entity_df=main_entity_df(25, seed=52)[["driver_id", "event_timestamp"]], features=DRIVER_REFS)
    expected2 = job2.to_df()
    ctx.remote.create_saved_dataset(from_=job2, name="pg_training_v2", storage=storage, allow_overwrite=True)
    assert_same_rows(_table_frame(table, columns), expected2, f"table {table} after allow_overwrite=True vs the new job")
    assert_same_rows(
        ctx.remote.get_saved_dataset("pg_training_v2").to_df(), expected2, "the replaced dataset's to_df()", columns_ordered=False
    )
    _expect_no_open_transactions("after the persists")
    return f"{len(expected)} rows, then {len(expected2)}"


@check
def pg_persist_no_overwrite(ctx: Ctx):
    table = "pg_saved_no_overwrite"
    storage = _saved_table(ctx, table)
    job = ctx.remote.get_historical_features(entity_df=main_entity_df(30, seed=53)[["driver_id", "event_timestamp"]], features=DRIVER_REFS)
    expected = job.to_df()
    ctx.remote.create_saved_dataset(from_=job, name="pg_no_overwrite", storage=storage)
    columns = list(expected.columns)
    assert_same_rows(_table_frame(table, columns), expected, f"table {table} vs the job's to_df")
    # An existing table without allow_overwrite: refused, the table as it was.
    job2 = ctx.remote.get_historical_features(entity_df=main_entity_df(20, seed=54)[["driver_id", "event_timestamp"]], features=DRIVER_REFS)
    err = expect_raises(
        lambda: ctx.remote.create_saved_dataset(from_=job2, name="pg_no_overwrite_refused", storage=storage, allow_overwrite=False),
        "persist onto an existing table",
    )
    expect(
        type(err).__name__ == "SavedDatasetLocationAlreadyExists",
        f"expected SavedDatasetLocationAlreadyExists, got {_message(err)[:400]}",
    )
    assert_same_rows(_table_frame(table, columns), expected, f"table {table} after the refused persist")
    # The refused persist's retrieval (the server re-runs it to persist it) must not be left open.
    _expect_no_open_transactions("after the refused persist")
