"""get_historical_features checks (spec feast-offline-stores.md §0.1, §1; server tests §2.2)."""

from datetime import timedelta

import numpy as np
import pandas as pd

from compare import all_null, assert_same_rows, expect, norm, rows, to_ns
from feast.infra.offline_stores.remote import RemoteOfflineStore
from harness import (
    BACKFILLED_CUSTOMER,
    BACKFILLED_DRIVER,
    DRIVER_REFS,
    DRIVERS,
    MULTI_REFS,
    UNKNOWN_DRIVER,
    Ctx,
    check,
    compare_historical,
    distinct_times,
    expect_raises,
    feature_columns,
    main_entity_df,
    ts,
    unknown_feature_view,
)
from pit_rule import historical, query_records, read_source, requests_from_refs


FEAST_TEST_TIMES = ["2021-04-12 10:59:42", "2021-04-12 08:12:10", "2021-04-12 16:40:26"]


@check
def hist_known_entities_in_order(ctx: Ctx):
    # Feast's _test_get_historical_features_returns_data: naive entity times (the client makes
    # them UTC) on 2021-04-12, where each driver has one fixed row at 07:00 within the ttl.
    entity_df = pd.DataFrame({"driver_id": [1001, 1002, 1003], "event_timestamp": pd.to_datetime(FEAST_TEST_TIMES)})
    got = compare_historical(ctx, entity_df, DRIVER_REFS, ordered=True)
    expect(got["driver_id"].tolist() == [1001, 1002, 1003], f"driver order {got['driver_id'].tolist()}")
    for col in feature_columns(got, entity_df):
        expect(not got[col].isna().any(), f"{col} has NaN: {got[col].tolist()}")
    return f"{len(got)} rows"


@check
def hist_unknown_entities_nan(ctx: Ctx):
    entity_df = pd.DataFrame({"driver_id": [1, 2, 3], "event_timestamp": pd.to_datetime(FEAST_TEST_TIMES)})
    got = compare_historical(ctx, entity_df, DRIVER_REFS, ordered=True)
    expect(got["driver_id"].tolist() == [1, 2, 3], f"driver order {got['driver_id'].tolist()}")
    cols = feature_columns(got, entity_df)
    expect(cols == ["conv_rate", "acc_rate", "avg_daily_trips"], f"feature columns {cols}")
    expect(all_null(got, cols), f"expected every feature null, got {rows(got, cols)}")


@check
def hist_to_df_to_arrow_agree(ctx: Ctx):
    entity_df = main_entity_df(50, seed=11)
    job = ctx.remote.get_historical_features(entity_df=entity_df, features=MULTI_REFS)
    df = job.to_df()
    table = job.to_arrow()
    expect(table.num_rows == len(df) == 50, f"to_arrow {table.num_rows} rows, to_df {len(df)} rows, sent 50")
    assert_same_rows(table.to_pandas(), df, "to_arrow().to_pandas() vs to_df()")


@check
def hist_multi_view_refs(ctx: Ctx):
    entity_df = main_entity_df()
    got = compare_historical(ctx, entity_df, MULTI_REFS)
    # The rule's frame fixes the column order (entity columns as sent, then features in ref
    # order), and compare_historical proved local Feast has the same.
    known = got[got["driver_id"] != UNKNOWN_DRIVER]
    expect(not known["conv_rate"].isna().any(), "a known driver got a null conv_rate")
    return f"{len(got)} rows x {len(got.columns)} columns"


@check
def hist_multi_view_full_names(ctx: Ctx):
    entity_df = main_entity_df(120, seed=12)
    got = compare_historical(ctx, entity_df, MULTI_REFS, full_feature_names=True)
    cols = feature_columns(got, entity_df)
    expect(cols[0] == "driver_hourly_stats__conv_rate" and cols[-1] == "driver_trips__trips_today", f"columns {cols}")


@check
def hist_to_df_dtypes_match_feast(ctx: Ctx):
    entity_df = main_entity_df(100, seed=13)
    local = ctx.local.get_historical_features(entity_df=entity_df, features=MULTI_REFS).to_df()
    got = ctx.remote.get_historical_features(entity_df=entity_df, features=MULTI_REFS).to_df()
    want = {c: str(t) for c, t in local.dtypes.items()}
    have = {c: str(t) for c, t in got.dtypes.items()}
    diffs = [f"{c}: {have.get(c)} (Feast: {want[c]})" for c in want if have.get(c) != want[c]]
    expect(not diffs and list(have) == list(want), "dtypes differ: " + "; ".join(diffs or [f"columns {list(have)}"]))


@check
def hist_nullable_int64_keys(ctx: Ctx):
    # A pandas nullable Int64 key (with a missing key) and an Int64 extra column: pyarrow restores
    # Int64 from the pandas metadata of the result's schema, which Feast's file server returns;
    # without it both come back as float64 (as from Feast's postgres store: feastDiffers).
    entity_df = pd.DataFrame(
        {
            "driver_id": pd.array([1001, None, 1002, UNKNOWN_DRIVER], dtype="Int64"),
            "trip_count": pd.array([3, 4, None, 5], dtype="Int64"),
            "event_timestamp": pd.to_datetime(FEAST_TEST_TIMES + ["2021-04-12 12:00:00"]),
        }
    )
    got = ctx.remote.get_historical_features(entity_df=entity_df, features=DRIVER_REFS).to_df()
    have = {c: str(t) for c, t in got.dtypes.items()}
    expect(have["driver_id"] == have["trip_count"] == "Int64", f"driver_id {have['driver_id']}, trip_count {have['trip_count']}")
    # Every other column as local Feast gives it (where Feast's store loses Int64, all but the two).
    local = ctx.local.get_historical_features(entity_df=entity_df, features=DRIVER_REFS).to_df()
    want = {c: str(t) for c, t in local.dtypes.items()}
    int64_cols = ["driver_id", "trip_count"] if ctx.feast_differs else []
    diffs = [f"{c}: {have.get(c)} (Feast: {want[c]})" for c in want if c not in int64_cols and have.get(c) != want[c]]
    expect(not diffs and list(have) == list(want), "dtypes differ: " + "; ".join(diffs or [f"columns {list(have)}"]))
    # Every key comes back, the missing one as <NA> (not NaN), whatever the row order.
    keys = sorted(str(k) for k in got["driver_id"])
    expect(keys == sorted(str(k) for k in entity_df["driver_id"]), f"driver_id {keys}")
    return f"driver_id {have['driver_id']}, trip_count {have['trip_count']}"


@check
def hist_feature_service(ctx: Ctx):
    entity_df = main_entity_df(80, seed=14)[["driver_id", "customer_id", "event_timestamp"]]
    service = ctx.remote.get_feature_service("driver_activity")
    short = compare_historical(ctx, entity_df, service, what="full_feature_names=False")
    expect(
        feature_columns(short, entity_df) == ["conv_rate", "avg_daily_trips", "current_balance"],
        f"columns {list(short.columns)}",
    )
    full = compare_historical(ctx, entity_df, service, full_feature_names=True, what="full_feature_names=True")
    expect(
        feature_columns(full, entity_df)
        == ["driver_hourly_stats__conv_rate", "driver_hourly_stats__avg_daily_trips", "customer_profile__current_balance"],
        f"columns {list(full.columns)}",
    )


@check
def hist_aliased_feature_service(ctx: Ctx):
    rng = np.random.default_rng(15)
    n = 60
    entity_df = pd.DataFrame(
        {
            "origin_id": rng.choice(list(range(1, 21)) + [99], n).astype("int64"),
            "destination_id": rng.choice(list(range(1, 21)) + [99], n).astype("int64"),
            "event_timestamp": distinct_times(rng, n),
        }
    )
    service = ctx.remote.get_feature_service("trip_endpoints")
    got = compare_historical(ctx, entity_df, service, full_feature_names=True)
    cols = feature_columns(got, entity_df)
    expect(
        cols == ["origin__temperature", "origin__pickups", "destination__temperature", "destination__pickups"],
        f"columns {cols}",
    )
    # Origin and destination must really be joined through different keys.
    expect(
        got["origin__temperature"].tolist() != got["destination__temperature"].tolist(),
        "origin and destination features are identical: join_key_map ignored?",
    )
    err = expect_raises(
        lambda: ctx.remote.get_historical_features(entity_df=entity_df, features=service).to_df(),
        "aliased service with short names",
    )
    expect(type(err).__name__ == "FeatureNameCollisionError", f"expected FeatureNameCollisionError, got {type(err).__name__}: {err}")


@check
def hist_entityless_view(ctx: Ctx):
    rng = np.random.default_rng(16)
    entity_df = pd.DataFrame({"driver_id": rng.choice(DRIVERS, 40), "event_timestamp": distinct_times(rng, 40)})
    got = compare_historical(ctx, entity_df, ["global_stats:num_rides", "global_stats:avg_ride_length"])
    expect(not got["num_rides"].isna().any(), "an entity row missed the entityless view")


@check
def hist_field_mapping(ctx: Ctx):
    rng = np.random.default_rng(17)
    entity_df = pd.DataFrame(
        {"driver_id": rng.choice(DRIVERS + [UNKNOWN_DRIVER], 50), "event_timestamp": distinct_times(rng, 50)}
    )
    got = compare_historical(ctx, entity_df, ["driver_trips:trips_today"])
    expect(list(got.columns) == ["driver_id", "event_timestamp", "trips_today"], f"columns {list(got.columns)}")
    expect(got["trips_today"].notna().sum() > 0, "no trips_today values: mapped join key not used")


@check
def hist_ttl_boundaries_inclusive(ctx: Ctx):
    # Driver 2003 has one row, at 2024-03-02 00:00; the view's ttl is 1 day.
    entity_df = pd.DataFrame(
        {
            "driver_id": [2003, 2003, 1001],
            "event_timestamp": [ts("2024-03-02 00:00"), ts("2024-03-03 00:00"), ts("2024-03-02 12:00")],
        }
    )
    got = compare_historical(ctx, entity_df, DRIVER_REFS)
    trips = dict(zip(rows(got, ["driver_id", "event_timestamp"]), got["avg_daily_trips"].tolist()))
    for when in ("2024-03-02 00:00", "2024-03-03 00:00"):
        expect(trips.get((2003, to_ns(ts(when)))) == 7, f"2003 at {when}: {trips.get((2003, to_ns(ts(when))))}, expected 7")


@check
def hist_ttl_outside_window_null(ctx: Ctx):
    # 2003's only row is 1 s too old for the first entity row and 1 s too new for the second.
    entity_df = pd.DataFrame(
        {
            "driver_id": [2003, 2003, 1001],
            "event_timestamp": [ts("2024-03-03 00:00:01"), ts("2024-03-01 23:59:59"), ts("2024-03-02 12:00")],
        }
    )
    got = compare_historical(ctx, entity_df, DRIVER_REFS, oracle=False)
    outside = got[got["driver_id"] == 2003]
    expect(len(outside) == 2, f"{len(outside)} rows for driver 2003, expected 2 (rows dropped?)")
    expect(all_null(outside, ["conv_rate", "acc_rate", "avg_daily_trips"]), f"expected nulls, got {rows(outside)}")


@check
def hist_unbounded_ttl(ctx: Ctx):
    entity_df = pd.DataFrame(
        {"customer_id": ["C009", "C001"], "event_timestamp": [ts("2024-03-02 00:00"), ts("2024-03-02 12:00")]}
    )
    got = compare_historical(ctx, entity_df, ["customer_profile:current_balance", "customer_profile:segment"])
    c009 = got[got["customer_id"] == "C009"]
    expect(
        rows(c009, ["current_balance", "segment"]) == [(9.5, "old")],
        f"C009 (only a 2023-06-01 row, ttl 0): {rows(c009, ['current_balance', 'segment'])}",
    )


@check
def hist_backfill_created_tiebreak(ctx: Ctx):
    entity_df = pd.DataFrame(
        {
            "driver_id": [2001, 2002, 2002, 1003, 1001],
            "customer_id": ["C001", "C001", "C001", "C001", "C002"],
            "event_timestamp": [
                ts("2024-03-02 12:00"),
                ts("2024-03-02 12:00:01"),
                ts("2024-03-02 10:30"),
                ts("2024-03-02 05:30"),
                ts("2024-03-01 12:00"),
            ],
        }
    )
    refs = ["driver_hourly_stats:avg_daily_trips", "customer_profile:segment", "customer_profile:lifetime_trip_count"]
    got = compare_historical(ctx, entity_df, refs)
    by_row = {(r[0], r[1]): r[2:] for r in rows(got, ["driver_id", "event_timestamp", "avg_daily_trips", "segment"])}
    want = {
        (2001, "2024-03-02 12:00"): 20,  # same ts: later created wins
        (2002, "2024-03-02 12:00:01"): 40,  # later ts beats a later created
        (2002, "2024-03-02 10:30"): 30,
        (1003, "2024-03-02 05:30"): 5003,  # backfill listed before the row it overrides
    }
    for (driver, when), trips in want.items():
        have = by_row.get((driver, to_ns(ts(when))))
        expect(have is not None and have[0] == trips, f"driver {driver} at {when}: {have}, expected avg_daily_trips {trips}")
    c002 = by_row.get((1001, to_ns(ts("2024-03-01 12:00"))))
    expect(c002 is not None and c002[1] == "backfill", f"C002 at 2024-03-01 12:00: {c002}, expected segment 'backfill'")


@check
def hist_backfill_tiebreak_at_scale(ctx: Ctx):
    # Many entity rows whose winner is decided by the created column alone, in one frame large
    # enough that an unstable sort shows (Feast's file store fails here).
    rng = np.random.default_rng(19)
    n = 150
    backfill_windows = [
        ("driver_id", BACKFILLED_DRIVER, ts("2024-03-02 05:00"), 3599),
        ("driver_id", 2001, ts("2024-03-02 10:00"), 3599),
        ("customer_id", BACKFILLED_CUSTOMER, ts("2024-03-01 00:00"), 86399),
    ]
    records = []
    for i in range(n):
        column, key, base, span = backfill_windows[i % 3]
        when = base + pd.Timedelta(seconds=int(rng.integers(0, span)), microseconds=i)
        records.append(
            {
                "driver_id": key if column == "driver_id" else int(rng.choice(DRIVERS)),
                "customer_id": key if column == "customer_id" else "C001",
                "event_timestamp": when,
            }
        )
    entity_df = pd.DataFrame(records)
    refs = ["driver_hourly_stats:avg_daily_trips", "customer_profile:segment"]
    got = compare_historical(ctx, entity_df, refs, oracle=False)
    picked = {r[:3]: r[3:] for r in rows(got, ["driver_id", "customer_id", "event_timestamp", "avg_daily_trips", "segment"])}
    want = [(5003, None), (20, None), (None, "backfill")]  # per window: trips, segment
    wrong = []
    for i, rec in enumerate(records):
        have = picked.get((rec["driver_id"], rec["customer_id"], to_ns(rec["event_timestamp"])))
        trips, segment = want[i % 3]
        if have is None or (trips is not None and have[0] != trips) or (segment is not None and have[1] != segment):
            wrong.append((rec["driver_id"], rec["customer_id"], str(rec["event_timestamp"]), have))
    expect(not wrong, f"{len(wrong)} of {n} rows lost the created tie-break, e.g. {wrong[:3]}")


@check
def hist_exact_duplicate_source_row(ctx: Ctx):
    entity_df = pd.DataFrame(
        {"driver_id": [1004, 1004], "event_timestamp": [ts("2024-03-02 07:00"), ts("2024-03-02 07:30")]}
    )
    got = compare_historical(ctx, entity_df, DRIVER_REFS)
    expect(len(got) == 2, f"{len(got)} rows for 2 entity rows")


@check
def hist_duplicate_entity_rows_kept(ctx: Ctx):
    t1, t2 = ts("2024-03-02 09:15"), ts("2024-03-02 09:45")
    entity_df = pd.DataFrame(
        {
            "driver_id": [1001, 1001, 1001, 1002],
            "event_timestamp": [t1, t1, t1, t2],
            "label": [0.1, 0.1, 0.2, 0.3],
        }
    )
    got = compare_historical(ctx, entity_df, DRIVER_REFS, oracle=False)
    expect(len(got) == 4, f"{len(got)} rows for 4 entity rows")


@check
def hist_row_order_preserved(ctx: Ctx):
    entity_df = main_entity_df(60, seed=18)  # times in random order
    got = compare_historical(ctx, entity_df, MULTI_REFS, oracle=False, ordered=True)
    expect(got["order_note"].tolist() == entity_df["order_note"].tolist(), "rows reordered")


@check
def hist_null_join_keys(ctx: Ctx):
    entity_df = pd.DataFrame(
        {
            "driver_id": pd.array([1001, None, 1002, 1003], dtype="Int64"),
            "customer_id": ["C001", None, "C002", None],
            "event_timestamp": [ts("2024-03-02 01:00"), ts("2024-03-02 02:00"), ts("2024-03-02 03:00"), ts("2024-03-02 04:00")],
        }
    )
    got = compare_historical(ctx, entity_df, ["driver_hourly_stats:conv_rate", "customer_profile:current_balance"])
    nulls = {(norm(d), norm(c)) for d, c, v in rows(got, ["driver_id", "customer_id", "current_balance"]) if v is None}
    expect((None, None) in nulls and (1003, None) in nulls, f"rows with a null key matched something: {rows(got)}")


@check
def hist_entity_timestamp_inferred(ctx: Ctx):
    # No event_timestamp column: the one datetime column is the entity time (spec §1.2).
    rng = np.random.default_rng(20)
    entity_df = pd.DataFrame(
        {"driver_id": rng.choice(DRIVERS, 20), "label": rng.random(20).round(2), "ts": distinct_times(rng, 20)}
    )
    got = compare_historical(ctx, entity_df, DRIVER_REFS)
    expect(list(got.columns)[:3] == ["driver_id", "label", "ts"], f"columns {list(got.columns)}")


@check
def hist_int32_join_key(ctx: Ctx):
    # An int32 key column against the int64 source column: joined by value, as pandas does.
    rng = np.random.default_rng(21)
    entity_df = pd.DataFrame(
        {"driver_id": rng.choice(DRIVERS + [UNKNOWN_DRIVER], 30).astype("int32"), "event_timestamp": distinct_times(rng, 30)}
    )
    got = compare_historical(ctx, entity_df, DRIVER_REFS)
    expect(str(got["driver_id"].dtype) == "int32", f"driver_id came back as {got['driver_id'].dtype}, sent int32")
    expect(got["conv_rate"].notna().sum() > 0, "no int32 key matched")


@check
def hist_start_end_dates(ctx: Ctx):
    # What Feast's test_historical_features_non_entity_retrieval asserts; it holds for both
    # readings of this mode (file: one row per key at end_date; postgres: every row in range).
    start, end = ts("2024-03-02 18:00"), ts("2024-03-03 06:00")
    refs = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:avg_daily_trips"]
    got = ctx.remote.get_historical_features(
        entity_df=None, features=refs, start_date=start.to_pydatetime(), end_date=end.to_pydatetime()
    ).to_df()
    for col in ("event_timestamp", "driver_id", "conv_rate", "avg_daily_trips"):
        expect(col in got.columns, f"no column {col} in {list(got.columns)}")
    expect(len(got) > 0, "no rows")
    stamps = [to_ns(v) for v in got["event_timestamp"]]
    expect(
        all(to_ns(start) <= s <= to_ns(end) for s in stamps),
        f"event_timestamp outside [{start}, {end}]: {sorted(set(pd.Timestamp(s, tz='UTC').isoformat() for s in stamps))[:5]}",
    )
    present = set(got["driver_id"].tolist())
    expect(set(DRIVERS) <= present, f"drivers missing: {sorted(set(DRIVERS) - present)}")
    source = read_source(ctx.repo, ctx.local.get_data_source("driver_hourly_stats_source"))
    ttl = timedelta(days=1)
    got_rows = set(rows(got, ["driver_id", "conv_rate", "avg_daily_trips"]))
    for d in DRIVERS:
        in_range = [r for r in source if r["driver_id"] == d and to_ns(r["event_timestamp"]) <= to_ns(end)]
        latest = max(in_range, key=lambda r: (to_ns(r["event_timestamp"]), to_ns(r["created"])))
        key = (d, norm(latest["conv_rate"]), latest["avg_daily_trips"])
        expect(key in got_rows, f"driver {d}: latest values {key} missing")
    allowed = {
        (r["driver_id"], norm(r["conv_rate"]), r["avg_daily_trips"])
        for r in source
        if to_ns(end - ttl) <= to_ns(r["event_timestamp"]) <= to_ns(end)
    }
    strays = [r for r in got_rows if r not in allowed]
    expect(not strays, f"rows whose values come from no source row in [end - ttl, end]: {strays[:5]}")
    return f"{len(got)} rows"


@check
def hist_missing_feature_view_error(ctx: Ctx):
    # The client resolves views in its own registry first, so the call goes straight to the
    # remote store with a view the server's registry does not have.
    entity_df = pd.DataFrame({"driver_id": [1001], "event_timestamp": [ts("2024-03-02 10:00")]})
    err = expect_raises(
        lambda: RemoteOfflineStore.get_historical_features(
            ctx.remote.config, [unknown_feature_view()], ["missing_view:x"], entity_df, ctx.remote.registry, ctx.project
        ).to_df(),
        "unknown view",
    )
    want = f"Feature view missing_view does not exist in project {ctx.project}"
    expect(
        type(err).__name__ == "FeatureViewNotFoundException" and type(err).__module__ == "feast.errors",
        f"expected feast.errors.FeatureViewNotFoundException, got {type(err).__module__}.{type(err).__name__}: {str(err)[:300]}",
    )
    expect(str(err) == want, f"message {str(err)!r}, expected {want!r}")



def _empty_frame(columns: dict) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in columns.items()})


@check
def hist_empty_entity_df(ctx: Ctx):
    # A 0-row entity frame is a valid request: Feast answers 0 rows with the entity columns as sent
    # and the features' columns. pandas gives an empty object column (a string key) Arrow type
    # null, so the server sees a null-typed key column; a naive timestamp column is made UTC.
    cases = [
        (
            "int64 key, short names",
            {"driver_id": "int64", "event_timestamp": "datetime64[ns, UTC]"},
            DRIVER_REFS,
            False,
            {"conv_rate": "float32", "acc_rate": "float32", "avg_daily_trips": "int64"},
        ),
        (
            "string key (Arrow null), naive times, full names",
            {"customer_id": "object", "event_timestamp": "datetime64[ns]"},
            ["customer_profile:current_balance", "customer_profile:segment", "customer_profile:is_premium"],
            True,
            {
                "customer_profile__current_balance": "float32",
                "customer_profile__segment": "object",
                "customer_profile__is_premium": "bool",
            },
        ),
        (
            "two keys and extra columns",
            {"driver_id": "int64", "label": "float64", "customer_id": "object", "event_timestamp": "datetime64[ns, UTC]"},
            DRIVER_REFS + ["customer_profile:segment", "customer_profile:lifetime_trip_count"],
            False,
            {"conv_rate": "float32", "acc_rate": "float32", "avg_daily_trips": "int64", "segment": "object", "lifetime_trip_count": "int64"},
        ),
    ]
    timestamp_dtype = None
    for what, columns, refs, full, features in cases:
        entity_df = _empty_frame(columns)
        # The key, extra and feature columns' dtypes are fixed; event_timestamp's is each Feast
        # store's own (the file store's datetime64[ns, UTC], the postgres store's datetime64[us]).
        want = {**{c: t for c, t in columns.items() if c != "event_timestamp"}, **features}
        try:
            local = ctx.local.get_historical_features(entity_df=entity_df, features=refs, full_feature_names=full).to_df()
        except Exception:  # noqa: BLE001 - where checks.json says Feast's store fails here
            if not (ctx.feast_differs and timestamp_dtype):
                raise
            local = None
        if local is None:
            feast = {c: timestamp_dtype if c == "event_timestamp" else want[c] for c in list(columns) + list(features)}
        else:
            feast = {c: str(t) for c, t in local.dtypes.items()}
            expect(
                len(local) == 0 and list(feast) == list(columns) + list(features) and {c: feast[c] for c in want} == want,
                f"{what}: PREMISE BROKEN, local Feast {len(local)} rows, {feast}",
            )
            timestamp_dtype = feast["event_timestamp"]
        job = ctx.remote.get_historical_features(entity_df=entity_df, features=refs, full_feature_names=full)
        got = job.to_df()
        have = {c: str(t) for c, t in got.dtypes.items()}
        expect(len(got) == 0, f"{what}: {len(got)} rows for an empty entity frame")
        expect(list(have) == list(feast) and have == feast, f"{what}: columns and dtypes {have}, local Feast {feast}")
        expect(job.to_arrow().num_rows == 0, f"{what}: to_arrow has rows")

# Checks specific to the postgres repo (checks.json `stores: ["postgres"]`).


@check
def hist_null_created_ranks_lowest(ctx: Ctx):
    # driver_status (feature_repo_postgres/load_data.py), all rows at 2024-03-02 10:00 but 1002's
    # 09:00 and 1004's 08:00 ones.
    entity_df = pd.DataFrame(
        {
            "driver_id": [1001, 1002, 1003, 1004, UNKNOWN_DRIVER, 1002],
            "event_timestamp": [ts("2024-03-02 11:00")] * 5 + [ts("2024-03-02 09:30")],
        }
    )
    got = compare_historical(ctx, entity_df, ["driver_status:status", "driver_status:status_code"])
    have = rows(got, ["driver_id", "event_timestamp", "status"])
    want = [
        (1001, to_ns(ts("2024-03-02 11:00")), "b"),  # same ts: a created beats NULL
        (1002, to_ns(ts("2024-03-02 11:00")), "c"),  # latest ts wins although its created is NULL
        (1003, to_ns(ts("2024-03-02 11:00")), "e"),  # only NULL-created rows
        (1004, to_ns(ts("2024-03-02 11:00")), "f"),
        (UNKNOWN_DRIVER, to_ns(ts("2024-03-02 11:00")), None),
        (1002, to_ns(ts("2024-03-02 09:30")), "d"),
    ]
    expect(sorted(have, key=str) == sorted(want, key=str), f"got {have}, expected {want}")


@check
def hist_query_source_filtered(ctx: Ctx):
    rng = np.random.default_rng(22)
    n = 80
    entity_df = pd.DataFrame(
        {
            "location_id": rng.choice(list(range(1, 21)) + [99], n).astype("int64"),
            "event_timestamp": distinct_times(rng, n),
        }
    )
    refs = ["busy_locations:double_pickups", "location_stats:pickups"]
    got = compare_historical(ctx, entity_df, refs)
    doubled = [v for v in got["double_pickups"].tolist() if norm(v) is not None]
    expect(doubled, "no double_pickups values at all: the query source matched nothing")
    expect(all(v >= 500 and v % 2 == 0 for v in doubled), f"values outside the query's filter: {sorted(doubled)[:5]}")
    filtered = got[got["double_pickups"].isna() & got["pickups"].notna()]
    expect(len(filtered) > 0, "no entity row missed busy_locations while location_stats matched: filter not applied?")
    return f"{len(doubled)} of {n} rows with a busy slot"


ENTITY_SQL = "SELECT driver_id, label, customer_id, event_timestamp FROM entity_rows"


@check
def hist_entity_df_sql(ctx: Ctx):
    refs = [
        "driver_hourly_stats:conv_rate",
        "driver_hourly_stats:avg_daily_trips",
        "customer_profile:segment",
        "customer_profile:current_balance",
    ]
    entity_df = pd.DataFrame(query_records(ENTITY_SQL))
    entity_df["driver_id"] = entity_df["driver_id"].astype("Int64")
    want = historical(ctx.repo, entity_df, requests_from_refs(ctx.local, refs), False)
    if not ctx.feast_differs:
        local = ctx.local.get_historical_features(entity_df=ENTITY_SQL, features=refs).to_df()
        assert_same_rows(local, want, "PREMISE BROKEN, local Feast vs the rule")
    got = ctx.remote.get_historical_features(entity_df=ENTITY_SQL, features=refs).to_df()
    assert_same_rows(got, want, "server vs the rule")
    expect(got["conv_rate"].notna().sum() > 0, "no entity row matched")
    return f"{len(got)} rows"


@check
def hist_fractional_ttl(ctx: Ctx):
    # Driver 2003's only row is at 2024-03-02 00:00; driver_stats_short_ttl's ttl is 1.5 s.
    entity_df = pd.DataFrame(
        {
            "driver_id": [2003, 2003, 2003],
            "event_timestamp": [ts("2024-03-02 00:00:01.5"), ts("2024-03-02 00:00:01.6"), ts("2024-03-02 00:00:00.7")],
        }
    )
    got = compare_historical(ctx, entity_df, ["driver_stats_short_ttl:avg_daily_trips"])
    have = [norm(v) for v in got.sort_values("event_timestamp")["avg_daily_trips"].tolist()]
    expect(have == [7, 7, None], f"at +0.7 s, +1.5 s, +1.6 s: {have}, expected [7, 7, None]")



# Client mistakes: the exception class the client raises must be the one Feast's server makes it
# raise, so client code that catches it (KeyError here) behaves the same. Feast's stores hit a
# Python KeyError, which Arrow Flight sends as NOT_FOUND and pyarrow re-raises as ArrowKeyError.


def expect_key_error(err: BaseException, what: str) -> None:
    expect(
        isinstance(err, KeyError),
        f"{what}: expected a KeyError (pyarrow.lib.ArrowKeyError, as from Feast's server), "
        f"got {type(err).__module__}.{type(err).__name__}: {str(err)[:300]}",
    )


@check
def hist_missing_join_key_error(ctx: Ctx):
    entity_df = pd.DataFrame({"event_timestamp": [ts("2024-03-02 10:00")], "label": [1.0]})
    err = expect_raises(
        lambda: ctx.remote.get_historical_features(entity_df=entity_df, features=DRIVER_REFS).to_df(),
        "entity_df without the driver_id join key",
    )
    expect_key_error(err, "missing join key")
    if ctx.target == "larder":
        expect("driver_id" in str(err), f"larder's message does not name the missing column: {str(err)[:300]}")
    return f"{type(err).__name__}"


@check
def hist_unknown_feature_error(ctx: Ctx):
    # The client checks refs against its own registry, so the call goes straight to the remote
    # store with a feature the server's view does not have.
    entity_df = pd.DataFrame({"driver_id": [1001], "event_timestamp": [ts("2024-03-02 10:00")]})
    view = ctx.remote.get_feature_view("driver_hourly_stats")
    err = expect_raises(
        lambda: RemoteOfflineStore.get_historical_features(
            ctx.remote.config, [view], ["driver_hourly_stats:no_such_feature"], entity_df, ctx.remote.registry, ctx.project
        ).to_df(),
        "unknown feature",
    )
    expect_key_error(err, "unknown feature column")
    if ctx.target == "larder":
        expect("no_such_feature" in str(err), f"larder's message does not name the unknown feature: {str(err)[:300]}")
    return f"{type(err).__name__}"


@check
def pull_unknown_column_error(ctx: Ctx):
    # Feast's stores index the source's frame by the requested columns: pandas' KeyError, so the
    # client raises pyarrow.lib.ArrowKeyError.
    view = ctx.remote.get_feature_view("driver_hourly_stats")
    source = view.batch_source
    start, end = ts("2024-03-01 00:00").to_pydatetime(), ts("2024-03-04 00:00").to_pydatetime()
    created = source.created_timestamp_column or None
    calls = {
        "pull_latest, unknown feature": lambda: RemoteOfflineStore.pull_latest_from_table_or_query(
            ctx.remote.config, source, ["driver_id"], ["no_such_feature"], source.timestamp_field, created, start, end
        ).to_df(),
        "pull_all, unknown feature": lambda: RemoteOfflineStore.pull_all_from_table_or_query(
            ctx.remote.config, source, ["driver_id"], ["no_such_feature"], source.timestamp_field, created, start, end
        ).to_df(),
        "pull_all, unknown timestamp field": lambda: RemoteOfflineStore.pull_all_from_table_or_query(
            ctx.remote.config, source, ["driver_id"], ["conv_rate"], "no_such_ts", None, start, end
        ).to_df(),
    }
    for what, call in calls.items():
        expect_key_error(expect_raises(call, what), what)
