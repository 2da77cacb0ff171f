"""Feast quick-start's on-demand feature views and the feature services that hold them.

As `feast init` writes them (pandas and python mode, reading driver_hourly_stats and the request
data vals_to_add), except that the python-mode view lets a null conv_rate through, as pandas does,
so unknown drivers can be asked for. Copied beside both conformance repos' definitions.py, whose
driver_hourly_stats they read, and inlined into the example repo by test/support/odfv-definitions.ts.
"""

from typing import Any

import pandas as pd

from definitions import driver_hourly_stats
from feast import FeatureService, Field, RequestSource
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float64, Int64

vals_to_add = RequestSource(
    name="vals_to_add",
    schema=[Field(name="val_to_add", dtype=Int64), Field(name="val_to_add_2", dtype=Int64)],
)


@on_demand_feature_view(
    sources=[driver_hourly_stats, vals_to_add],
    schema=[Field(name="conv_rate_plus_val1", dtype=Float64), Field(name="conv_rate_plus_val2", dtype=Float64)],
)
def transformed_conv_rate(inputs: pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame()
    df["conv_rate_plus_val1"] = inputs["conv_rate"] + inputs["val_to_add"]
    df["conv_rate_plus_val2"] = inputs["conv_rate"] + inputs["val_to_add_2"]
    return df


@on_demand_feature_view(
    sources=[driver_hourly_stats, vals_to_add],
    schema=[
        Field(name="conv_rate_plus_val1_python", dtype=Float64),
        Field(name="conv_rate_plus_val2_python", dtype=Float64),
    ],
    mode="python",
)
def transformed_conv_rate_python(inputs: dict[str, Any]) -> dict[str, Any]:
    def plus(rates, values):
        return [None if rate is None else rate + value for rate, value in zip(rates, values)]

    return {
        "conv_rate_plus_val1_python": plus(inputs["conv_rate"], inputs["val_to_add"]),
        "conv_rate_plus_val2_python": plus(inputs["conv_rate"], inputs["val_to_add_2"]),
    }


driver_activity_v1 = FeatureService(
    name="driver_activity_v1",
    features=[driver_hourly_stats[["conv_rate"]], transformed_conv_rate],
)
driver_activity_v2 = FeatureService(
    name="driver_activity_v2",
    features=[driver_hourly_stats, transformed_conv_rate],
)
