"""What the check modules share: the registry of checks, the run context, the standard entity
frames, and the remote-vs-rule-vs-local-Feast comparison for historical retrieval."""

import os
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import pandas as pd
import pyarrow.flight as flight

from compare import assert_same_rows, expect
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float32
from pit_rule import historical, requests_from_refs, requests_from_service

CHECKS: Dict[str, Callable[["Ctx"], Optional[str]]] = {}


def check(fn: Callable[["Ctx"], Optional[str]]) -> Callable[["Ctx"], Optional[str]]:
    """Registers a check under its function name (the name in checks.json). A check raises
    CheckFailed (or anything) to fail, and may return a short note for the detail."""
    CHECKS[fn.__name__] = fn
    return fn


@dataclass
class Ctx:
    remote: object  # FeatureStore with offline_store: remote -> the server under test
    local: object  # FeatureStore with Feast's own store (file, or postgres) on the server's repo -> the oracle
    repo: str  # the server's feature repo (data files, logs, saved datasets live here)
    work: str  # scratch space for the checks
    target: str  # "larder" or "feast": which server is under test
    python_bin: str  # the venv's bin directory (for the feast CLI)
    here: str  # test/conformance
    store: str = "file"  # the server's offline store type: file, duckdb or postgres
    # Set per check by checks.py: checks.json says Feast's store of this kind (oracle_store)
    # breaks the rule here, so local Feast is no premise (the rule alone judges the server).
    feast_differs: bool = False

    @property
    def project(self) -> str:
        return self.remote.project

    def flight_client(self) -> flight.FlightClient:
        cfg = self.remote.config.offline_store
        return flight.FlightClient(f"grpc+tcp://{cfg.host}:{cfg.port}")

    def repo_file(self, *parts: str) -> str:
        return os.path.join(self.repo, *parts)


def oracle_store(store: str) -> str:
    """Which Feast store is the oracle (and the `feastDiffers` key) for a server store type: Feast's
    postgres store for postgres, its file store for the file-based stores (file, duckdb)."""
    return "postgres" if store == "postgres" else "file"


UTC = "UTC"
START = pd.Timestamp("2024-03-01 00:00", tz=UTC)  # gen_data.py: regular data spans START .. +72h
DRIVERS = list(range(1001, 1009))
CUSTOMERS = [f"C{i:03d}" for i in range(1, 11)]
UNKNOWN_DRIVER = 9999
UNKNOWN_CUSTOMER = "C999"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


def distinct_times(rng: np.random.Generator, n: int, first_hour: int = 1, last_hour: int = 70) -> pd.Series:
    """n distinct entity timestamps inside the regular data range. Distinct times keep clear of the
    file store's collapsing of rows that share a timestamp (spec §6.2), and starting after the
    first data hour keeps every known key with an in-window candidate (§6.1)."""
    secs = rng.choice(np.arange(first_hour * 3600, last_hour * 3600), n, replace=False)
    return pd.Series([START + pd.Timedelta(seconds=int(s)) for s in secs])


# Keys with backfilled rows (gen_data.py). Feast's file store breaks (ts, created) ties with two
# separate unstable sorts, so on large frames it picks an arbitrary one of the tied rows; frames
# that local Feast must get right avoid these keys, hist_backfill_tiebreak_at_scale targets them.
BACKFILLED_DRIVER = 1003
BACKFILLED_CUSTOMER = "C002"


def main_entity_df(n: int = 300, seed: int = 7) -> pd.DataFrame:
    """Drivers and customers, known and unknown, with two extra columns that must pass through
    unchanged and in place (the label between the keys on purpose)."""
    rng = np.random.default_rng(seed)
    drivers = [d for d in DRIVERS if d != BACKFILLED_DRIVER] + [UNKNOWN_DRIVER]
    customers = [c for c in CUSTOMERS if c != BACKFILLED_CUSTOMER] + [UNKNOWN_CUSTOMER]
    return pd.DataFrame(
        {
            "driver_id": rng.choice(drivers, n).astype("int64"),
            "label": rng.random(n).round(3),
            "customer_id": rng.choice(customers, n),
            "event_timestamp": distinct_times(rng, n),
            "order_note": [f"order-{i}" for i in range(n)],
        }
    )


DRIVER_REFS = [
    "driver_hourly_stats:conv_rate",
    "driver_hourly_stats:acc_rate",
    "driver_hourly_stats:avg_daily_trips",
]
MULTI_REFS = DRIVER_REFS + [
    "customer_profile:current_balance",
    "customer_profile:avg_passenger_count",
    "customer_profile:lifetime_trip_count",
    "customer_profile:segment",
    "customer_profile:is_premium",
    "global_stats:num_rides",
    "global_stats:avg_ride_length",
    "driver_trips:trips_today",
]


def expected_historical(ctx: Ctx, entity_df: pd.DataFrame, features, full_feature_names: bool) -> pd.DataFrame:
    if isinstance(features, (list, tuple)):
        requests = requests_from_refs(ctx.local, features)
    else:
        requests = requests_from_service(ctx.local, ctx.local.get_feature_service(features.name))
    return historical(ctx.repo, entity_df, requests, full_feature_names)


def compare_historical(
    ctx: Ctx,
    entity_df: pd.DataFrame,
    features: Union[Sequence[str], object],
    full_feature_names: bool = False,
    oracle: bool = True,
    ordered: bool = False,
    what: str = "",
) -> pd.DataFrame:
    """Runs the retrieval on the server under test and checks it against the rule; with oracle=True
    it first checks that local Feast agrees with the rule (where it does not, the check's premise
    is wrong, not the server). Where checks.json says Feast's store differs for this check
    (ctx.feast_differs), local Feast is skipped. Returns the server's frame."""
    label = f"{what}: " if what else ""
    want = expected_historical(ctx, entity_df, features, full_feature_names)
    if oracle and not ctx.feast_differs:
        local = ctx.local.get_historical_features(
            entity_df=entity_df, features=features, full_feature_names=full_feature_names
        ).to_df()
        assert_same_rows(local, want, f"{label}PREMISE BROKEN, local Feast vs the rule")
    got = ctx.remote.get_historical_features(
        entity_df=entity_df, features=features, full_feature_names=full_feature_names
    ).to_df()
    assert_same_rows(got, want, f"{label}server vs the rule", ordered=ordered)
    return got


def feature_columns(df: pd.DataFrame, entity_df: pd.DataFrame) -> List[str]:
    return [c for c in df.columns if c not in entity_df.columns]


def expect_raises(call: Callable[[], object], what: str) -> BaseException:
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the caller inspects the class
        return e
    expect(False, f"{what}: no error was raised")
    raise AssertionError("unreachable")


def unknown_feature_view() -> FeatureView:
    """A view the server's registry does not have (the client-side calls take the object)."""
    return FeatureView(
        name="missing_view",
        entities=[Entity(name="driver", join_keys=["driver_id"])],
        schema=[Field(name="x", dtype=Float32)],
        source=FileSource(path="data/missing_view.parquet", timestamp_field="event_timestamp"),
    )
