"""
The client side of test/integration/permissions-matrix.spec.ts: the unchanged Feast client, one
process for the whole matrix. argv[1] is a JSON object:

  {"clients": {user: client repo dir}, "cases": [[id, call, user], ...], "paths": {...}}

Each client repo has `offline_store: remote` and `auth: {type: kubernetes, user_token: ...}`, so
Feast sends that user's token as the bearer. Prints one JSON line per case:

  {"id": ..., "ok": true, "result": ...}  or  {"id": ..., "ok": false, "error": "module.Class", "message": str(e)}
"""
import datetime
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from feast import FeatureStore, FileSource  # noqa: E402
from feast.infra.offline_stores.file_source import SavedDatasetFileStorage  # noqa: E402

args = json.loads(sys.argv[1])
paths = args["paths"]
UTC = datetime.timezone.utc
START = datetime.datetime(2021, 1, 1, tzinfo=UTC)
END = datetime.datetime(2022, 1, 1, tzinfo=UTC)

stores = {}


def store_of(user):
    if user not in stores:
        stores[user] = FeatureStore(repo_path=args["clients"][user])
    return stores[user]


def offline(store):
    return store._get_provider().offline_store


def plain(value):
    if isinstance(value, (pd.Timestamp, datetime.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def table_rows(table, columns):
    """Rows of the given columns, sorted, as lists of plain values."""
    df = table.to_pandas() if isinstance(table, pa.Table) else table
    return sorted([[plain(v) for v in row] for row in df[columns].itertuples(index=False, name=None)])


ENTITY_DF = pd.DataFrame(
    {
        "driver_id": [1001, 1002],
        "customer_id": [7, 7],
        "event_timestamp": [datetime.datetime(2021, 4, 12, 13, tzinfo=UTC)] * 2,
    }
)


def hist(store, features):
    return store.get_historical_features(entity_df=ENTITY_DF, features=features)


def pull(store, kind, source):
    ds = store.get_data_source(source)
    columns = {"driver_source": ["conv_rate"], "customer_source": ["spend"], "driver_trips_source": ["trips"]}[source]
    key = "customer_id" if source == "customer_source" else "driver_id"
    fn = getattr(offline(store), f"pull_{kind}_from_table_or_query")
    return fn(
        config=store.config, data_source=ds, join_key_columns=[key], feature_name_columns=columns,
        timestamp_field="ts", created_timestamp_column=None, start_date=START, end_date=END,
    ), [key, *columns]


def call_hist_driver(store):
    return table_rows(hist(store, ["driver_stats:conv_rate"]).to_df(), ["driver_id", "conv_rate"])


def call_hist_customer(store):
    return table_rows(hist(store, ["customer_stats:spend"]).to_df(), ["driver_id", "customer_id", "spend"])


def call_hist_service(store):
    df = hist(store, store.get_feature_service("driver_service")).to_df()
    return table_rows(df, ["driver_id", "customer_id", "conv_rate", "spend"])


def call_pull_all_driver(store):
    job, columns = pull(store, "all", "driver_source")
    return table_rows(job.to_arrow(), columns)


def call_pull_latest_driver(store):
    job, columns = pull(store, "latest", "driver_source")
    return table_rows(job.to_arrow(), columns)


def call_pull_latest_customer(store):
    job, columns = pull(store, "latest", "customer_source")
    return table_rows(job.to_arrow(), columns)


def call_pull_all_trips(store):
    job, columns = pull(store, "all", "driver_trips_source")
    return table_rows(job.to_arrow(), columns)


def trips_table(driver_id, trips):
    return pa.table(
        {
            "driver_id": pa.array([driver_id], pa.int64()),
            "trips": pa.array([trips], pa.int64()),
            "ts": pa.array([datetime.datetime(2021, 5, 1, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
        }
    )


def call_write_batch(store):
    # The remote store's offline_write_batch directly: only WRITE_OFFLINE on the view is involved.
    fv = store.get_feature_view("driver_trips")
    offline(store).offline_write_batch(store.config, fv, trips_table(2001, 11), None)
    return "written"


def call_write_to_offline_store(store):
    # FeatureStore.write_to_offline_store first lists the batch source's columns through the
    # remote store (READ_OFFLINE on the source), then writes (WRITE_OFFLINE on the view).
    store.write_to_offline_store("driver_trips", trips_table(2002, 22).to_pandas())
    return "written"


def call_persist_hist(store):
    job = hist(store, ["driver_stats:conv_rate"])
    store.create_saved_dataset(
        from_=job, name="driver_snapshot", storage=SavedDatasetFileStorage(path=paths["saved"]), allow_overwrite=False
    )
    return table_rows(pq.read_table(paths["saved"]), ["driver_id", "conv_rate"])


def call_persist_pull(store):
    # The client overwrites data_source_name with the pulled source's name: the destination checked
    # is driver_source, whatever the storage says.
    job, _ = pull(store, "all", "driver_source")
    job.persist(SavedDatasetFileStorage(path=paths["saved_pull"]), allow_overwrite=False)
    return "persisted"


def call_validate_driver(store):
    offline(store).validate_data_source(store.config, store.get_data_source("driver_source"))
    return "valid"


def call_validate_adhoc(store):
    # The source is whatever the client sends: a name matching the readable pattern is authorized.
    source = FileSource(name="driver_adhoc", path=paths["customer_data"], timestamp_field="ts")
    offline(store).validate_data_source(store.config, source)
    return "valid"


def call_columns_driver(store):
    columns = offline(store).get_table_column_names_and_types_from_data_source(
        store.config, store.get_data_source("driver_source")
    )
    return sorted([list(c) for c in columns])


def call_columns_customer(store):
    columns = offline(store).get_table_column_names_and_types_from_data_source(
        store.config, store.get_data_source("customer_source")
    )
    return sorted([list(c) for c in columns])


def call_log_features(store):
    service = store.get_feature_service("driver_service")
    logs = pa.table(
        {
            "driver_id": pa.array([1001], pa.int64()),
            "customer_id": pa.array([7], pa.int64()),
            "driver_stats__conv_rate": pa.array([0.2], pa.float64()),
            "customer_stats__spend": pa.array([12.5], pa.float64()),
            "__log_timestamp": pa.array([datetime.datetime(2021, 4, 12, 13, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
            "__log_date": pa.array([datetime.date(2021, 4, 12)], pa.date32()),
            "__request_id": pa.array(["req-1"], pa.string()),
        }
    )
    store.write_logged_features(logs=logs, source=service)
    # What the server wrote under the service's file logging destination.
    written = pq.read_table(paths["logs"]).to_pandas()
    return table_rows(written, ["__request_id", "driver_id", "driver_stats__conv_rate"])


for case_id, call, user in args["cases"]:
    try:
        result = globals()[f"call_{call}"](store_of(user))
        line = {"id": case_id, "ok": True, "result": result}
    except Exception as e:  # noqa: BLE001
        line = {"id": case_id, "ok": False, "error": type(e).__module__ + "." + type(e).__name__, "message": str(e)}
    print(json.dumps(line), flush=True)
