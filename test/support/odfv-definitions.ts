/**
 * On-demand feature views over the example repo's driver_hourly_stats, added to its definitions
 * before `feast apply`: Feast quick-start's pandas view with request data, a python-mode view,
 * and one slow enough (30 s) to be interrupted, which says when it starts.
 */
export const ODFV_DEFINITIONS = `
import pandas as pd
from feast import RequestSource
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float64

vals_to_add = RequestSource(name="vals_to_add", schema=[Field(name="val_to_add", dtype=Int64), Field(name="val_to_add_2", dtype=Int64)])

@on_demand_feature_view(
    sources=[driver_hourly_stats, vals_to_add],
    schema=[Field(name="conv_rate_plus_val1", dtype=Float64), Field(name="conv_rate_plus_val2", dtype=Float64)],
)
def transformed_conv_rate(inputs: pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame()
    df["conv_rate_plus_val1"] = inputs["conv_rate"] + inputs["val_to_add"]
    df["conv_rate_plus_val2"] = inputs["conv_rate"] + inputs["val_to_add_2"]
    return df

@on_demand_feature_view(sources=[driver_hourly_stats], schema=[Field(name="acc_rate_doubled", dtype=Float64)], mode="python")
def acc_rate_doubled(inputs: dict) -> dict:
    return {"acc_rate_doubled": [x * 2 for x in inputs["acc_rate"]]}

@on_demand_feature_view(sources=[driver_hourly_stats], schema=[Field(name="slow_rate", dtype=Float64)], mode="python")
def slow_view(inputs: dict) -> dict:
    import time  # the UDF is pickled alone: module-level imports do not travel with it
    print("slow_view started", flush=True)  # the worker sends print() to stderr, which larder logs at debug
    time.sleep(30)
    return {"slow_rate": inputs["conv_rate"]}
`;
