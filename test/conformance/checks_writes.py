"""Write paths (spec §3.1-3.3): offline_write_batch, write_logged_features, persist. They change
the server's repo, so they run after every read check."""

import glob
import hashlib
import os
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from compare import assert_rows_subset, assert_same_rows, expect, rows
from feast.feature_logging import FeatureServiceLoggingSource
from feast.infra.offline_stores.file_source import SavedDatasetFileStorage
from feast.infra.offline_stores.remote import RemoteOfflineStore
from harness import DRIVER_REFS, Ctx, check, compare_historical, expect_raises, main_entity_df, ts, unknown_feature_view

DRIVER_FILE = "data/driver_stats.parquet"
SAVED_PATH = "data/saved/driver_training.parquet"


def _sha(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@check
def offline_write_missing_view_error(ctx: Ctx):
    # Feast's test_remote_offline_store_exception_handling.
    err = expect_raises(
        lambda: RemoteOfflineStore.offline_write_batch(ctx.remote.config, unknown_feature_view(), pa.table({"x": [1.0]}), None),
        "write to an unknown view",
    )
    want = f"Feature view missing_view does not exist in project {ctx.project}"
    expect(
        type(err).__name__ == "FeatureViewNotFoundException",
        f"expected FeatureViewNotFoundException, got {type(err).__module__}.{type(err).__name__}: {str(err)[:300]}",
    )
    expect(str(err) == want, f"message {str(err)!r}, expected {want!r}")


@check
def offline_write_bad_schema_rejected(ctx: Ctx):
    path = ctx.repo_file(DRIVER_FILE)
    before = _sha(path)
    t = ts("2024-03-02 10:00").to_pydatetime()
    table = pa.table(
        {
            "event_timestamp": pa.array([t], pa.timestamp("us", tz="UTC")),
            "driver_id": pa.array([3999], pa.int64()),
            "conv_rate": pa.array([0.5], pa.float32()),
            "avg_daily_trips": pa.array([1], pa.int64()),
            "created": pa.array([t], pa.timestamp("us", tz="UTC")),
        }
    )  # acc_rate missing
    fv = ctx.remote.get_feature_view("driver_hourly_stats")
    expect_raises(lambda: RemoteOfflineStore.offline_write_batch(ctx.remote.config, fv, table, None), "write without acc_rate")
    expect(_sha(path) == before, f"{DRIVER_FILE} changed after a rejected write")


def _new_driver_rows(stamps, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(stamps)
    # Columns deliberately not in the file's order, timestamps in pandas' default ns: the client
    # reorders, the server must cast to the file's schema.
    return pd.DataFrame(
        {
            "avg_daily_trips": rng.integers(0, 1000, n).astype("int64"),
            "created": [s + pd.Timedelta(minutes=1) for s in stamps],
            "driver_id": np.full(n, 3001, dtype="int64"),
            "event_timestamp": stamps,
            "conv_rate": rng.random(n).round(4).astype("float32"),
            "acc_rate": rng.random(n).round(4).astype("float32"),
        }
    )


@check
def offline_write_batch_then_read(ctx: Ctx):
    path = ctx.repo_file(DRIVER_FILE)
    old = pq.read_table(path)
    entity_df = pd.DataFrame({"driver_id": [3001, 1001], "event_timestamp": [ts("2024-03-02 11:30"), ts("2024-03-02 11:30")]})
    first = compare_historical(ctx, entity_df, DRIVER_REFS, what="before the writes")
    expect(first[first["driver_id"] == 3001]["conv_rate"].isna().all(), "driver 3001 has values before any write")
    batch1 = _new_driver_rows([ts("2024-03-02 10:00"), ts("2024-03-02 11:00")], seed=31)
    ctx.remote.write_to_offline_store("driver_hourly_stats", batch1)
    second = compare_historical(ctx, entity_df, DRIVER_REFS, what="after the first write")
    expect(
        rows(second[second["driver_id"] == 3001], ["conv_rate"]) == rows(batch1.iloc[[1]], ["conv_rate"]),
        f"after the first write 3001 reads {rows(second, ['driver_id', 'conv_rate'])}",
    )
    batch2 = _new_driver_rows([ts("2024-03-02 11:15")], seed=32)
    ctx.remote.write_to_offline_store("driver_hourly_stats", batch2)
    third = compare_historical(ctx, entity_df, DRIVER_REFS, what="after the second write")
    expect(
        rows(third[third["driver_id"] == 3001], ["conv_rate"]) == rows(batch2, ["conv_rate"]),
        f"after the second write 3001 reads {rows(third, ['driver_id', 'conv_rate'])}",
    )
    new = pq.read_table(path)
    expect(new.schema.equals(old.schema, check_metadata=False), f"file schema changed:\n{new.schema}\nwas\n{old.schema}")
    expect(new.num_rows == old.num_rows + 3, f"{new.num_rows} rows in the file, expected {old.num_rows} + 3")
    assert_rows_subset(rows(old.to_pandas()), rows(new.to_pandas()), "old rows after the writes")
    assert_rows_subset(rows(pd.concat([batch1, batch2])[old.schema.names]), rows(new.to_pandas()), "written rows")


def _log_table(schema: pa.Schema, first: int, n: int) -> pa.Table:
    t0 = datetime(2024, 3, 4, 12, tzinfo=timezone.utc)
    cols = {}
    for field in schema:
        i = range(first, first + n)
        if field.name == "__log_timestamp":
            cols[field.name] = [t0 + timedelta(seconds=k) for k in i]
        elif field.name == "__log_date":
            cols[field.name] = [date(2024, 3, 4)] * n
        elif field.name == "__request_id":
            cols[field.name] = [f"req-{k:03d}" for k in i]
        elif pa.types.is_timestamp(field.type):
            cols[field.name] = [t0 - timedelta(hours=k) for k in i]
        elif pa.types.is_int32(field.type):
            cols[field.name] = [k % 3 for k in i]
        elif pa.types.is_int64(field.type):
            cols[field.name] = [1001 + k for k in i]
        elif pa.types.is_floating(field.type):
            cols[field.name] = [0.25 * k for k in i]
        elif pa.types.is_string(field.type):
            cols[field.name] = [f"C{k:03d}" for k in i]
        else:
            raise ValueError(f"no generator for log column {field}")
    return pa.table(cols, schema=schema)


def _log_files(ctx: Ctx):
    return sorted(glob.glob(os.path.join(ctx.repo_file("data", "logs"), "**", "*.parquet"), recursive=True))


@check
def write_logged_features_then_read(ctx: Ctx):
    service = ctx.remote.get_feature_service("driver_activity")
    schema = FeatureServiceLoggingSource(service, ctx.project).get_schema(ctx.remote.registry)
    batches = [_log_table(schema, 0, 3), _log_table(schema, 3, 4)]
    seen = len(_log_files(ctx))
    for k, batch in enumerate(batches):
        ctx.remote.write_logged_features(logs=batch, source=service)
        now = len(_log_files(ctx))
        expect(now > seen, f"no new parquet file under data/logs after batch {k + 1}")
        seen = now
    written = pa.concat_tables(batches).to_pandas()
    start = datetime(2024, 3, 4, 12, tzinfo=timezone.utc)
    end = start + timedelta(seconds=len(written))

    def retrieve(store):
        return (
            store._get_provider()
            .retrieve_feature_service_logs(
                feature_service=store.get_feature_service("driver_activity"),
                start_date=start,
                end_date=end,
                config=store.config,
                registry=store.registry,
            )
            .to_df()
        )

    local = retrieve(ctx.local)
    assert_same_rows(local[written.columns], written, "PREMISE BROKEN, local Feast read-back vs written")
    got = retrieve(ctx.remote)
    assert_same_rows(got, local, "server read-back vs local Feast's", columns_ordered=False)
    return f"{len(written)} rows in {seen} files"


@check
def persist_saved_dataset(ctx: Ctx):
    entity_df = main_entity_df(40, seed=41)[["driver_id", "event_timestamp"]]
    job = ctx.remote.get_historical_features(entity_df=entity_df, features=DRIVER_REFS)
    expected = job.to_df()
    storage = SavedDatasetFileStorage(path=SAVED_PATH)
    dataset = ctx.remote.create_saved_dataset(from_=job, name="conformance_training", storage=storage)
    path = ctx.repo_file(SAVED_PATH)
    expect(os.path.exists(path), f"{SAVED_PATH} not written in the server's repo")
    assert_same_rows(pq.read_table(path).to_pandas(), expected, "the written file vs the job's to_df")
    assert_same_rows(dataset.to_df(), expected, "saved_dataset.to_df() vs the job's to_df", columns_ordered=False)
    again = ctx.remote.get_saved_dataset("conformance_training").to_df()
    assert_same_rows(again, expected, "get_saved_dataset().to_df() vs the job's to_df", columns_ordered=False)
    # allow_overwrite=True replaces the file with a different result.
    job2 = ctx.remote.get_historical_features(entity_df=main_entity_df(25, seed=42)[["driver_id", "event_timestamp"]], features=DRIVER_REFS)
    expected2 = job2.to_df()
    ctx.remote.create_saved_dataset(from_=job2, name="conformance_training_v2", storage=storage, allow_overwrite=True)
    assert_same_rows(pq.read_table(path).to_pandas(), expected2, "the file after allow_overwrite=True vs the new job")


@check
def persist_no_overwrite(ctx: Ctx):
    path = ctx.repo_file(SAVED_PATH)
    expect(os.path.exists(path), f"{SAVED_PATH} does not exist (persist_saved_dataset must run first)")
    before = _sha(path)
    job = ctx.remote.get_historical_features(
        entity_df=pd.DataFrame({"driver_id": [1001], "event_timestamp": [ts("2024-03-02 10:00")]}), features=DRIVER_REFS
    )
    err = expect_raises(
        lambda: ctx.remote.create_saved_dataset(
            from_=job, name="conformance_no_overwrite", storage=SavedDatasetFileStorage(path=SAVED_PATH), allow_overwrite=False
        ),
        "persist onto an existing file",
    )
    expect(
        type(err).__name__ == "SavedDatasetLocationAlreadyExists",
        f"expected SavedDatasetLocationAlreadyExists, got {type(err).__module__}.{type(err).__name__}: {str(err)[:300]}",
    )
    expect(_sha(path) == before, f"{SAVED_PATH} changed although the persist was refused")
