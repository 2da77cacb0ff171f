"""On-demand feature views (Feast quick-start's, quickstart_odfvs.py) in get_historical_features:
the server's frame equals local Feast's value by value, with the same columns, order and dtypes,
and the transformed values follow from the retrieved ones."""

import numpy as np
import pandas as pd

from compare import assert_same_rows, expect, norm
from harness import UNKNOWN_DRIVER, Ctx, check, main_entity_df

QUICKSTART_REFS = [
    "driver_hourly_stats:conv_rate",
    "transformed_conv_rate:conv_rate_plus_val1",
    "transformed_conv_rate:conv_rate_plus_val2",
]
PYTHON_REFS = [
    "driver_hourly_stats:acc_rate",
    "transformed_conv_rate_python:conv_rate_plus_val1_python",
    "transformed_conv_rate_python:conv_rate_plus_val2_python",
]


def request_entity_df(n: int, seed: int) -> pd.DataFrame:
    """The main entity rows plus the request data the quick-start views read."""
    entity_df = main_entity_df(n, seed=seed)
    rng = np.random.default_rng(seed)
    entity_df["val_to_add"] = rng.integers(0, 10, n).astype("int64")
    entity_df["val_to_add_2"] = rng.integers(10, 100, n).astype("int64")
    return entity_df


def same_as_local(ctx: Ctx, entity_df: pd.DataFrame, features, full_feature_names: bool = False, what: str = "") -> pd.DataFrame:
    label = f"{what}: " if what else ""
    local_features = ctx.local.get_feature_service(features.name) if hasattr(features, "name") else features
    local = ctx.local.get_historical_features(
        entity_df=entity_df, features=local_features, full_feature_names=full_feature_names
    ).to_df()
    got = ctx.remote.get_historical_features(
        entity_df=entity_df, features=features, full_feature_names=full_feature_names
    ).to_df()
    assert_same_rows(got, local, f"{label}server vs local Feast")
    got_types = {c: str(t) for c, t in got.dtypes.items()}
    local_types = {c: str(t) for c, t in local.dtypes.items()}
    expect(got_types == local_types, f"{label}dtypes {got_types}, local Feast has {local_types}")
    return got


def expect_sums(got: pd.DataFrame, rate: str, added: str, column: str) -> None:
    """column == rate + added on every row, null where rate is null."""
    for rate_value, add_value, value in zip(got[rate], got[added], got[column]):
        want = None if norm(rate_value) is None else float(rate_value) + int(add_value)
        expect(norm(value) == want, f"{column} {norm(value)!r} for {rate} {norm(rate_value)!r} + {added} {add_value}")


@check
def hist_odfv_quickstart_pandas(ctx: Ctx):
    entity_df = request_entity_df(150, seed=21)
    got = same_as_local(ctx, entity_df, QUICKSTART_REFS)
    expect_sums(got, "conv_rate", "val_to_add", "conv_rate_plus_val1")
    expect_sums(got, "conv_rate", "val_to_add_2", "conv_rate_plus_val2")
    known = got[got["driver_id"] != UNKNOWN_DRIVER]
    expect(known["conv_rate_plus_val1"].notna().any(), "no known driver got a conv_rate_plus_val1")
    return f"{len(got)} rows, columns {list(got.columns)[-3:]}"


@check
def hist_odfv_python_mode_full_names(ctx: Ctx):
    entity_df = request_entity_df(90, seed=22)
    got = same_as_local(ctx, entity_df, PYTHON_REFS, full_feature_names=True)
    names = [c for c in got.columns if c.startswith("transformed_conv_rate_python__")]
    expect(
        names == ["transformed_conv_rate_python__conv_rate_plus_val1_python", "transformed_conv_rate_python__conv_rate_plus_val2_python"],
        f"ODFV columns {names}",
    )
    expect("driver_hourly_stats__conv_rate" in got.columns, f"the source feature the view reads is missing: {list(got.columns)}")
    expect_sums(got, "driver_hourly_stats__conv_rate", "val_to_add", names[0])


@check
def hist_odfv_only_odfv_refs(ctx: Ctx):
    # Only the ODFV is asked for; its source features come back too, as from local Feast.
    entity_df = request_entity_df(60, seed=23)
    got = same_as_local(ctx, entity_df, ["transformed_conv_rate:conv_rate_plus_val2"])
    expect("conv_rate" in got.columns and "conv_rate_plus_val1" not in got.columns, f"columns {list(got.columns)}")
    expect_sums(got, "conv_rate", "val_to_add_2", "conv_rate_plus_val2")


@check
def hist_odfv_feature_services(ctx: Ctx):
    entity_df = request_entity_df(80, seed=24)
    v1 = same_as_local(ctx, entity_df, ctx.remote.get_feature_service("driver_activity_v1"), what="driver_activity_v1")
    v2 = same_as_local(
        ctx, entity_df, ctx.remote.get_feature_service("driver_activity_v2"), full_feature_names=True, what="driver_activity_v2"
    )
    expect("transformed_conv_rate__conv_rate_plus_val2" in v2.columns, f"driver_activity_v2 columns {list(v2.columns)}")
    expect_sums(v1, "conv_rate", "val_to_add", "conv_rate_plus_val1")
    return f"v1 {len(v1.columns)} columns, v2 {len(v2.columns)} columns"
