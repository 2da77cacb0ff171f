"""
The Feast side of test/integration/file-store-s3-feast.spec.ts: the unchanged Feast client
(`offline_store: remote`) against larder serving FileSources in S3.

  python feast_s3_client.py apply REPO BUCKET_URI ENDPOINT   applies the views (sources in S3)
  python feast_s3_client.py query REPO CASES_JSON            prints one JSON line per case

A case is {"id", "features"} and runs get_historical_features over a fixed entity dataframe; an
answer is {"id", "ok": true, "rows"} (entity order; timestamps as ISO strings, NaN as null) or
{"id", "ok": false, "error": "module.Class", "message"}.
"""
import json
import math
import sys
import warnings
from datetime import datetime, timedelta, timezone

warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402
from feast import Entity, FeatureStore, FeatureView, Field, FileSource  # noqa: E402
from feast.types import Float64, Int64  # noqa: E402

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def apply(repo, base, endpoint):
    store = FeatureStore(repo_path=repo)
    driver = Entity(name="driver", join_keys=["driver_id"])
    objects = [driver]
    for name, path in [("drivers", f"{base}/drivers.parquet"), ("hive", f"{base}/hive_drivers"), ("gone", f"{base}/no_such.parquet")]:
        source = FileSource(
            name=name,
            path=path,
            timestamp_field="ts",
            created_timestamp_column="created",
            s3_endpoint_override=endpoint,
        )
        objects += [
            source,
            FeatureView(
                name=name,
                entities=[driver],
                ttl=timedelta(hours=2),
                schema=[Field(name="driver_id", dtype=Int64), Field(name="rate", dtype=Float64)],
                source=source,
            ),
        ]
    store.apply(objects)


def plain(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def query(repo, cases):
    store = FeatureStore(repo_path=repo)
    entities = pd.DataFrame(
        {
            "driver_id": [1, 2, 3, 1, 9],
            "event_timestamp": [T0 + timedelta(hours=h) for h in [2.5, 1.0, 4.0, 0.5, 3.0]],
        }
    )
    for case in cases:
        try:
            frame = store.get_historical_features(entity_df=entities, features=case["features"]).to_df()
            rows = [[plain(v) for v in row] for row in frame.itertuples(index=False)]
            print(json.dumps({"id": case["id"], "ok": True, "columns": list(frame.columns), "rows": rows}))
        except Exception as error:  # noqa: BLE001 - the class is the answer
            kind = type(error)
            print(json.dumps({"id": case["id"], "ok": False, "error": f"{kind.__module__}.{kind.__name__}", "message": str(error)}))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "apply":
        apply(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "query":
        query(sys.argv[2], json.loads(sys.argv[3]))
    else:
        raise SystemExit(f"unknown command {command}")
