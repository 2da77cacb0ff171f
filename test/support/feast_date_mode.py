"""
The Feast side of test/integration/file-store-date-mode.spec.ts: get_historical_features without an
entity dataframe (the start/end-date mode), run by Feast's own file store in-process, or by the
unchanged Feast client against larder (a repo whose offline_store is `remote`).

  python feast_date_mode.py setup REPO            writes the parquet data and applies the views
  python feast_date_mode.py query REPO CASES_JSON prints one JSON line per case

A case is {"id", "features", "start"?, "end"?, "full"?} with hours after 2024-01-01T00:00Z (end
omitted: the client fills its own now()). An answer is {"id", "ok": true, "schema", "rows",
"before", "after"} (rows in the frame's order, timestamps as ISO strings, NaN as null; before and
after bracket the call in ISO) or {"id", "ok": false, "error": "module.Class", "message"}.
"""
import json
import math
import sys
import warnings
from datetime import datetime, timedelta, timezone

warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from feast import Entity, FeatureStore, FeatureView, Field, FileSource  # noqa: E402
from feast.on_demand_feature_view import on_demand_feature_view  # noqa: E402
from feast.types import Float64, Int64  # noqa: E402

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def T(hours):
    return T0 + timedelta(hours=hours)


def stamps(hours):
    return pa.array([None if h is None else T(h) for h in hours], pa.timestamp("us", "UTC"))


def setup(repo):
    # drivers (ttl 2h and none): driver 1 has rows at 1h, 2h, a created tie at 3h (created 3.1h
    # written before 3.0h) and one at 5h (after the usual end, 4h); driver 2 only at 0.5h (before
    # the usual start, 1h); driver 3 at 3.5h.
    pq.write_table(
        pa.table(
            {
                "driver_id": pa.array([1, 1, 1, 1, 1, 2, 3], pa.int64()),
                "ts": stamps([1, 2, 3, 3, 5, 0.5, 3.5]),
                "created": stamps([1, 2, 3.1, 3.0, 5, 0.5, 3.5]),
                "rate": [1.0, 2.0, 3.1, 3.0, 5.0, 20.0, 33.0],
            }
        ),
        f"{repo}/data/drivers.parquet",
    )
    pq.write_table(pa.table({"ts": stamps([1, 3, 4.5]), "total": [7.0, 8.0, 9.0]}), f"{repo}/data/totals.parquet")
    # odd: a null key at 2h, driver 4 only with a null timestamp, driver 1 at 1h.
    pq.write_table(
        pa.table({"driver_id": pa.array([None, 4, 1], pa.int64()), "ts": stamps([2, None, 1]), "rate": [99.0, 44.0, 1.5]}),
        f"{repo}/data/odd.parquet",
    )
    # trips (same key, no ttl): driver 5 only here.
    pq.write_table(
        pa.table({"driver_id": pa.array([1, 2, 3, 3, 5], pa.int64()), "ts": stamps([0, 2, 1, 3.9, 2.5]), "trips": [10, 20, 30, 31, 50]}),
        f"{repo}/data/trips.parquet",
    )
    pq.write_table(
        pa.table({"city": ["a", "b", "b"], "ts": stamps([1, 2, 6]), "population": pa.array([100, 200, 201], pa.int64())}),
        f"{repo}/data/cities.parquet",
    )
    pq.write_table(
        pa.table({"driver_id": pa.array([1, 1, 2], pa.int64()), "city": ["a", "b", "a"], "ts": stamps([1, 2, 3]), "score": [1, 2, 3]}),
        f"{repo}/data/pairs.parquet",
    )
    driver = Entity(name="driver", join_keys=["driver_id"])
    city = Entity(name="city", join_keys=["city"])
    drivers_src = FileSource(name="drivers_src", path="data/drivers.parquet", timestamp_field="ts", created_timestamp_column="created")
    trips_src = FileSource(name="trips_src", path="data/trips.parquet", timestamp_field="ts")
    cities_src = FileSource(name="cities_src", path="data/cities.parquet", timestamp_field="ts")
    pairs_src = FileSource(name="pairs_src", path="data/pairs.parquet", timestamp_field="ts")
    odd_src = FileSource(name="odd_src", path="data/odd.parquet", timestamp_field="ts")
    totals_src = FileSource(name="totals_src", path="data/totals.parquet", timestamp_field="ts")
    rate = [Field(name="rate", dtype=Float64)]
    drivers = FeatureView(name="drivers", entities=[driver], ttl=timedelta(hours=2), schema=rate, source=drivers_src)
    drivers_forever = FeatureView(name="drivers_forever", entities=[driver], ttl=timedelta(0), schema=rate, source=drivers_src)
    trips = FeatureView(name="trips", entities=[driver], ttl=timedelta(0), schema=[Field(name="trips", dtype=Int64)], source=trips_src)
    cities = FeatureView(name="cities", entities=[city], ttl=timedelta(0), schema=[Field(name="population", dtype=Int64)], source=cities_src)
    totals = FeatureView(name="totals", entities=[], ttl=timedelta(0), schema=[Field(name="total", dtype=Float64)], source=totals_src)
    odd = FeatureView(name="odd", entities=[driver], ttl=timedelta(0), schema=rate, source=odd_src)
    pairs = FeatureView(name="pairs", entities=[driver, city], ttl=timedelta(0), schema=[Field(name="score", dtype=Int64)], source=pairs_src)

    @on_demand_feature_view(sources=[drivers], schema=[Field(name="rate_doubled", dtype=Float64)])
    def doubled(df):
        out = pd.DataFrame()
        out["rate_doubled"] = df["rate"] * 2
        return out

    FeatureStore(repo_path=repo).apply(
        [driver, city, drivers_src, trips_src, cities_src, pairs_src, odd_src, totals_src, drivers, drivers_forever, trips, cities, pairs, odd, totals, doubled]
    )


def plain(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (datetime, pd.Timestamp)):
        return pd.Timestamp(value).isoformat()
    return value


def query(repo, cases):
    store = FeatureStore(repo_path=repo)
    for case in cases:
        kwargs = {"entity_df": None, "features": case["features"], "full_feature_names": case.get("full", False)}
        if "start" in case:
            kwargs["start_date"] = T(case["start"])
        if "end" in case:
            kwargs["end_date"] = T(case["end"])
        before = datetime.now(timezone.utc).isoformat()
        try:
            table = store.get_historical_features(**kwargs).to_arrow()
            rows = [[plain(v) for v in row.values()] for row in table.to_pylist()]
            schema = [f"{f.name}: {f.type}" for f in table.schema]
            answer = {"ok": True, "schema": schema, "rows": rows}
        except Exception as e:  # noqa: BLE001 - the class is the answer
            answer = {"ok": False, "error": f"{type(e).__module__}.{type(e).__name__}", "message": str(e)}
        answer.update({"id": case["id"], "before": before, "after": datetime.now(timezone.utc).isoformat()})
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(sys.argv[2])
    else:
        query(sys.argv[2], json.loads(sys.argv[3]))
