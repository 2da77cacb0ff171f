"""Feature definitions of the conformance repo (applied with `feast apply`).

Each object exists to exercise one part of the offline server; checks.py names them. Paths are
relative, so they resolve against the repo the server runs in. The data is written by gen_data.py.
"""

from datetime import timedelta

from feast import (
    Entity,
    FeatureService,
    FeatureView,
    Field,
    FileSource,
    ValueType,
)
from feast.feature_logging import LoggingConfig
from feast.infra.offline_stores.file_source import FileLoggingDestination
from feast.types import Bool, Float32, Float64, Int32, Int64, String

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
# A string key, so key handling is not only exercised with integers.
customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.STRING)
location = Entity(name="location", join_keys=["location_id"], value_type=ValueType.INT64)

# ttl 1 day, a created column for the tie-break, and backfilled rows (same ts, later created).
driver_stats_source = FileSource(
    name="driver_hourly_stats_source",
    path="data/driver_stats.parquet",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)
driver_hourly_stats = FeatureView(
    name="driver_hourly_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[
        Field(name="conv_rate", dtype=Float32),
        Field(name="acc_rate", dtype=Float32),
        Field(name="avg_daily_trips", dtype=Int64),
    ],
    source=driver_stats_source,
    online=False,
)

# ttl 0: unbounded lookback. Covers string, bool and float64 features.
customer_source = FileSource(
    name="customer_profile_source",
    path="data/customer_profile.parquet",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)
customer_profile = FeatureView(
    name="customer_profile",
    entities=[customer],
    ttl=timedelta(0),
    schema=[
        Field(name="current_balance", dtype=Float32),
        Field(name="avg_passenger_count", dtype=Float64),
        Field(name="lifetime_trip_count", dtype=Int64),
        Field(name="segment", dtype=String),
        Field(name="is_premium", dtype=Bool),
    ],
    source=customer_source,
    online=False,
)

# Entityless: joins every entity row on time alone. No created column.
global_source = FileSource(
    name="global_stats_source",
    path="data/global_stats.parquet",
    timestamp_field="event_timestamp",
)
global_stats = FeatureView(
    name="global_stats",
    entities=[],
    ttl=timedelta(days=2),
    schema=[
        Field(name="num_rides", dtype=Int32),
        Field(name="avg_ride_length", dtype=Float32),
    ],
    source=global_source,
    online=False,
)

# field_mapping renames a raw column into the join key and another into a feature.
driver_trips_source = FileSource(
    name="driver_trips_source",
    path="data/driver_trips.parquet",
    timestamp_field="event_timestamp",
    field_mapping={"id": "driver_id", "trips_raw": "trips_today"},
)
driver_trips = FeatureView(
    name="driver_trips",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[Field(name="trips_today", dtype=Int64)],
    source=driver_trips_source,
    online=False,
)

# Viewed twice through aliased projections (origin/destination) in trip_endpoints.
location_source = FileSource(
    name="location_stats_source",
    path="data/location_stats.parquet",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)
location_stats = FeatureView(
    name="location_stats",
    entities=[location],
    ttl=timedelta(days=1),
    schema=[
        Field(name="temperature", dtype=Float32),
        Field(name="pickups", dtype=Int64),
    ],
    source=location_source,
    online=False,
)

# Feast quick-start's on-demand feature views read driver_hourly_stats: quickstart_odfvs.py.


# A projection subset, with a logging destination for write_logged_features.
driver_activity = FeatureService(
    name="driver_activity",
    features=[
        driver_hourly_stats[["conv_rate", "avg_daily_trips"]],
        customer_profile[["current_balance"]],
    ],
    logging_config=LoggingConfig(destination=FileLoggingDestination(path="data/logs")),
)

# Two aliased projections of one view, keyed by different entity columns.
trip_endpoints = FeatureService(
    name="trip_endpoints",
    features=[
        location_stats.with_name("origin").with_join_key_map({"location_id": "origin_id"}),
        location_stats.with_name("destination").with_join_key_map(
            {"location_id": "destination_id"}
        ),
    ],
)

# Data sources the server looks up by name: Feast names a saved-dataset storage and a logging
# destination after their path, and the server resolves `data_source_name` in the registry.
saved_dataset_destination = FileSource(
    name="data/saved/driver_training.parquet",
    path="data/saved/driver_training.parquet",
    timestamp_field="event_timestamp",
)
logged_features_source = FileSource(
    name="data/logs",
    path="data/logs",
    timestamp_field="__log_timestamp",
)
