"""The exception class the client raises for each mistake Feast's server reports (issue 18, item 4).

Client code catches these classes (a KeyError, a ValueError, a `feast.errors` class), so a
server that answers the same mistake with another status makes that code behave differently.
Each check names the class Feast's file store makes the client raise; where Feast's server
fails on a generic Python or PostgreSQL error instead (a `FlightServerError` the client cannot
catch by kind), larder answers with the class of the nearest Feast answer and `checks.json`
records the difference. The missing-column cases live beside the retrieval checks
(`hist_missing_join_key_error`, `hist_unknown_feature_error`, `pull_unknown_column_error`).
"""

import copy

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from compare import expect
from feast import FeatureService
from feast.feature_logging import LoggingConfig
from feast.infra.offline_stores.file_source import FileLoggingDestination
from feast.infra.offline_stores.remote import RemoteOfflineStore
from harness import DRIVER_REFS, Ctx, check, expect_raises, ts

START, END = ts("2024-03-01 00:00").to_pydatetime(), ts("2024-03-04 00:00").to_pydatetime()


def expect_class(err: BaseException, want: str, what: str) -> None:
    """`want` is a class name, or `KeyError` / `ValueError` for any subclass (pyarrow's Arrow* ones)."""
    builtin = {"KeyError": KeyError, "ValueError": ValueError}.get(want)
    ok = isinstance(err, builtin) if builtin else type(err).__name__ == want
    expect(ok, f"{what}: expected {want}, got {type(err).__module__}.{type(err).__name__}: {str(err)[:300]}")


def names(err: BaseException, word: str, ctx: Ctx, what: str) -> None:
    if ctx.target == "larder":
        expect(word in str(err), f"{what}: larder's message does not name {word!r}: {str(err)[:300]}")


def _historical(ctx: Ctx, entity_df: pd.DataFrame):
    return lambda: ctx.remote.get_historical_features(entity_df=entity_df, features=DRIVER_REFS).to_df()


@check
def hist_entity_timestamp_missing_error(ctx: Ctx):
    frames = {
        "no datetime column": pd.DataFrame({"driver_id": [1001], "label": ["x"]}),
        "two datetime columns, neither event_timestamp": pd.DataFrame(
            {"driver_id": [1001], "a": [ts("2024-03-02 10:00")], "b": [ts("2024-03-02 11:00")]}
        ),
    }
    for what, frame in frames.items():
        err = expect_raises(_historical(ctx, frame), what)
        expect_class(err, "EntityTimestampInferenceException", what)
        expect("event_timestamp" in str(err), f"{what}: the message does not say which column to add: {str(err)[:300]}")


@check
def hist_entity_timestamp_strings_error(ctx: Ctx):
    frame = pd.DataFrame({"driver_id": [1001], "event_timestamp": ["2024-03-02 10:00:00"]})
    err = expect_raises(_historical(ctx, frame), "event_timestamp as strings")
    expect_class(err, "ValueError", "event_timestamp as strings")
    names(err, "event_timestamp", ctx, "event_timestamp as strings")


@check
def hist_join_key_type_mismatch_error(ctx: Ctx):
    frame = pd.DataFrame({"driver_id": ["1001"], "event_timestamp": [ts("2024-03-02 10:00")]})
    err = expect_raises(_historical(ctx, frame), "a string driver_id against int64 source keys")
    expect_class(err, "ValueError", "string join key")
    names(err, "driver_id", ctx, "string join key")


def _pull(ctx: Ctx, latest: bool, source, join_keys: list, features: list):
    view_source = ctx.remote.get_feature_view("driver_hourly_stats").batch_source
    created = view_source.created_timestamp_column or None
    pull = RemoteOfflineStore.pull_latest_from_table_or_query if latest else RemoteOfflineStore.pull_all_from_table_or_query
    return lambda: pull(ctx.remote.config, source, join_keys, features, view_source.timestamp_field, created, START, END).to_df()


@check
def pull_unknown_join_key_error(ctx: Ctx):
    source = ctx.remote.get_feature_view("driver_hourly_stats").batch_source
    for latest in (True, False):
        what = f"{'pull_latest' if latest else 'pull_all'} with a join key the source lacks"
        err = expect_raises(_pull(ctx, latest, source, ["no_such_key"], ["conv_rate"]), what)
        expect_class(err, "FeastJoinKeysDuringMaterialization", what)
        expect("no_such_key" in str(err), f"{what}: the message does not name the key: {str(err)[:300]}")


@check
def pull_unregistered_source_error(ctx: Ctx):
    # The server resolves the pulled source by its name in the registry.
    source = copy.deepcopy(ctx.remote.get_feature_view("driver_hourly_stats").batch_source)
    source.name = "no_such_source"
    for latest in (True, False):
        what = f"{'pull_latest' if latest else 'pull_all'} of a source the registry lacks"
        err = expect_raises(_pull(ctx, latest, source, ["driver_id"], ["conv_rate"]), what)
        expect_class(err, "DataSourceObjectNotFoundException", what)
        expect("no_such_source" in str(err), f"{what}: the message does not name the source: {str(err)[:300]}")


@check
def write_logged_features_unknown_service_error(ctx: Ctx):
    view = ctx.remote.get_feature_view("driver_hourly_stats")
    service = FeatureService(
        name="no_such_service",
        features=[view],
        logging_config=LoggingConfig(destination=FileLoggingDestination(path=ctx.repo_file("data", "logs_unused"))),
    )
    err = expect_raises(
        lambda: ctx.remote.write_logged_features(pa.table({"driver_id": [1001]}), source=service), "logs of an unknown service"
    )
    expect_class(err, "FeatureServiceNotFoundException", "logs of an unknown service")
    expect("no_such_service" in str(err), f"the message does not name the service: {str(err)[:300]}")


@check
def offline_write_wrong_type_error(ctx: Ctx):
    path = ctx.repo_file("data", "driver_stats.parquet")
    before = pq.read_table(path)
    t = ts("2024-03-05 10:00")
    frame = pd.DataFrame(
        {
            "driver_id": [1001],
            "event_timestamp": [t],
            "created": [t],
            "conv_rate": ["high"],  # a float32 feature
            "acc_rate": [0.5],
            "avg_daily_trips": [3],
        }
    )
    err = expect_raises(lambda: ctx.remote.write_to_offline_store("driver_hourly_stats", frame), "a string into a float column")
    expect_class(err, "ValueError", "a string into a float column")
    names(err, "conv_rate", ctx, "a string into a float column")
    expect(pq.read_table(path).equals(before), "driver_stats.parquet changed after a rejected write")
