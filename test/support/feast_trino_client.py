"""
The unchanged Feast client asking a remote offline server (`feast serve_offline` with Feast's
TrinoOfflineStore, or larder with its trino store) for training data, for the trino specs
(test/support/feast-trino.ts runs it).

    python feast_trino_client.py CLIENT_REPO REQUEST_JSON

REQUEST_JSON is one of
    {"call": "historical", "features": ["view:feature", ...],
     "entities": {"driver_id": [...], "event_timestamp": ["2024-01-01T05:00:00+00:00", ...]}}
    {"call": "historical", "features": [...], "entity_sql": "SELECT ... FROM ..."}
    {"call": "historical", "features": [...], "start": ISO, "end": ISO}   (the start/end-date mode)
    {"call": "pull_latest" | "pull_all", "source": "name", "join_keys": [...], "features": [...],
     "timestamp_field": "ts", "created": "created" | null, "start": ISO, "end": ISO}

It prints one line: `RESULT {"columns": [...], "rows": [[...], ...], "dtypes": {column: pandas dtype}}`
with the rows sorted (the
servers' orders differ and Feast promises none), timestamps as ISO strings in UTC and NaN as null;
or `ERROR {"class": "module.Class", "message": "..."}`. REQUEST_JSON may be a list of requests: then
one line `RESULTS [answer, ...]`, each answer a RESULT's object or `{"error": {...}}`.
"""
import json
import math
import sys
import warnings

warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402
from feast import FeatureStore  # noqa: E402
from feast.infra.offline_stores.remote import RemoteOfflineStore  # noqa: E402


def plain(value):
    """A JSON value for one cell: timestamps as UTC ISO strings, NaN/NaT/None as null."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        stamp = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
        return stamp.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    return value


def answer(frame: pd.DataFrame) -> dict:
    columns = list(frame.columns)
    rows = [[plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    rows.sort(key=lambda row: json.dumps(row, default=str))
    dtypes = {str(name): str(dtype) for name, dtype in frame.dtypes.items()}
    return {"columns": columns, "rows": rows, "dtypes": dtypes}


def run(repo: str, request: dict) -> dict:
    store = FeatureStore(repo_path=repo)
    call = request["call"]
    if call == "historical":
        if "start" in request:  # the start/end-date mode: no entity dataframe
            return answer(
                store.get_historical_features(
                    features=request["features"],
                    start_date=pd.Timestamp(request["start"]).to_pydatetime(),
                    end_date=pd.Timestamp(request["end"]).to_pydatetime(),
                ).to_df()
            )
        if "entity_sql" in request:
            entity_df = request["entity_sql"]
        else:
            entities = request["entities"]
            entity_df = pd.DataFrame(
                {
                    "driver_id": pd.Series(entities["driver_id"], dtype="int64"),
                    "event_timestamp": pd.to_datetime(entities["event_timestamp"], utc=True),
                }
            )
        return answer(store.get_historical_features(entity_df=entity_df, features=request["features"]).to_df())
    pull = RemoteOfflineStore.pull_latest_from_table_or_query if call == "pull_latest" else RemoteOfflineStore.pull_all_from_table_or_query
    job = pull(
        config=store.config,
        data_source=store.get_data_source(request["source"]),
        join_key_columns=request["join_keys"],
        feature_name_columns=request["features"],
        timestamp_field=request["timestamp_field"],
        created_timestamp_column=request.get("created"),
        start_date=pd.Timestamp(request["start"]).to_pydatetime(),
        end_date=pd.Timestamp(request["end"]).to_pydatetime(),
    )
    return answer(job.to_df())


def failure(error: Exception) -> dict:
    kind = type(error)
    return {"class": f"{kind.__module__}.{kind.__name__}", "message": str(error)}


def main() -> None:
    repo, request = sys.argv[1], json.loads(sys.argv[2])
    if isinstance(request, list):  # many requests in one process (Feast's import is slow)
        answers = []
        for one in request:
            try:
                answers.append(run(repo, one))
            except Exception as error:  # the spec asserts on what the client raised
                answers.append({"error": failure(error)})
        print("RESULTS " + json.dumps(answers), flush=True)
        return
    try:
        print("RESULT " + json.dumps(run(repo, request)), flush=True)
    except Exception as error:  # the spec asserts on what the client raised
        print("ERROR " + json.dumps(failure(error)), flush=True)


if __name__ == "__main__":
    main()
