"""Feature definitions of the conformance repo, postgres variant (applied with `feast apply` and
`offline_store: {type: postgres}`).

The same entities, views and services as ../feature_repo/definitions.py, with every batch source a
PostgreSQLSource over the tables that load_data.py fills from gen_data.py's data (so both variants
hold the same rows). Names of sources, views and services are kept, so the checks address both
alike. Differences, on purpose:

* location_stats reads through `query=` (a SELECT over location_stats_raw), not `table=`;
* driver_status (created NULL in places), busy_locations (a filtering query source) and
  driver_stats_short_ttl (a 1.5 s ttl) exist only here, for checks specific to this store;
* no file logging destination, saved-dataset or log sources (the file write checks are file-only);
* write_driver_stats, write_trips_mapped (field_mapping), write_narrow_types (`real`/`integer`
  columns, a naive timestamp) and write_reject exist only here, each over its own table, as targets
  of the larder-only write checks of checks_postgres_writes.py (so their writes move no other
  check's data). The saved-dataset destination of the persist check is applied by the check itself.
"""

from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, ValueType
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import (
    PostgreSQLSource,
)
from feast.types import Bool, Float32, Float64, Int32, Int64, String

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.STRING)
location = Entity(name="location", join_keys=["location_id"], value_type=ValueType.INT64)

# ttl 1 day, a created column for the tie-break, and backfilled rows (same ts, later created).
driver_stats_source = PostgreSQLSource(
    name="driver_hourly_stats_source",
    table="driver_stats",
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

# The same source with a fractional ttl (1.5 s): the window is not whole seconds.
driver_stats_short_ttl = FeatureView(
    name="driver_stats_short_ttl",
    entities=[driver],
    ttl=timedelta(seconds=1, milliseconds=500),
    schema=[Field(name="avg_daily_trips", dtype=Int64)],
    source=driver_stats_source,
    online=False,
)

# ttl 0: unbounded lookback. Covers text, boolean and double precision features.
customer_source = PostgreSQLSource(
    name="customer_profile_source",
    table="customer_profile",
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

# Entityless; its timestamp column is `timestamp without time zone` (naive means UTC).
global_source = PostgreSQLSource(
    name="global_stats_source",
    table="global_stats",
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
driver_trips_source = PostgreSQLSource(
    name="driver_trips_source",
    table="driver_trips",
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

# A query source (every row of location_stats_raw), viewed twice through aliased projections.
location_source = PostgreSQLSource(
    name="location_stats_source",
    query="SELECT location_id, event_timestamp, created, temperature, pickups FROM location_stats_raw",
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

# A query source that filters and derives: only busy slots, pickups doubled under a new name.
busy_locations_source = PostgreSQLSource(
    name="busy_locations_source",
    query=(
        "SELECT location_id, event_timestamp, created, pickups * 2 AS double_pickups "
        "FROM location_stats_raw WHERE pickups >= 250"
    ),
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)
busy_locations = FeatureView(
    name="busy_locations",
    entities=[location],
    ttl=timedelta(hours=6),
    schema=[Field(name="double_pickups", dtype=Int64)],
    source=busy_locations_source,
    online=False,
)

# created is NULL on some rows: a NULL created ranks lowest, but a row whose created is NULL can
# still be the only (or best) candidate.
driver_status_source = PostgreSQLSource(
    name="driver_status_source",
    table="driver_status",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)
driver_status = FeatureView(
    name="driver_status",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[
        Field(name="status", dtype=String),
        Field(name="status_code", dtype=Int64),
    ],
    source=driver_status_source,
    online=False,
)

# Targets of the postgres write checks (checks_postgres_writes.py): larder appends to these
# tables, Feast's postgres store cannot. Each has its own table.
write_driver_stats_source = PostgreSQLSource(
    name="write_driver_stats_source",
    table="write_driver_stats",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)
write_driver_stats = FeatureView(
    name="write_driver_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[
        Field(name="conv_rate", dtype=Float64),
        Field(name="avg_daily_trips", dtype=Int64),
    ],
    source=write_driver_stats_source,
    online=False,
)

# field_mapping: the table's columns are id / trips_raw, the view's driver_id / trips_today.
write_trips_mapped_source = PostgreSQLSource(
    name="write_trips_mapped_source",
    table="write_trips_mapped",
    timestamp_field="event_timestamp",
    field_mapping={"id": "driver_id", "trips_raw": "trips_today"},
)
write_trips_mapped = FeatureView(
    name="write_trips_mapped",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[Field(name="trips_today", dtype=Int64)],
    source=write_trips_mapped_source,
    online=False,
)

# Narrower column types than a pandas frame carries: real, integer, and a naive timestamp.
write_narrow_types_source = PostgreSQLSource(
    name="write_narrow_types_source",
    table="write_narrow_types",
    timestamp_field="event_timestamp",
)
write_narrow_types = FeatureView(
    name="write_narrow_types",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[
        Field(name="score", dtype=Float32),
        Field(name="rides", dtype=Int32),
    ],
    source=write_narrow_types_source,
    online=False,
)

# Only ever sent writes that must be refused (and one that must then still succeed).
write_reject_source = PostgreSQLSource(
    name="write_reject_source",
    table="write_reject",
    timestamp_field="event_timestamp",
)
write_reject = FeatureView(
    name="write_reject",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[
        Field(name="value", dtype=Float64),
        Field(name="rides", dtype=Int32),
    ],
    source=write_reject_source,
    online=False,
)

# Feast quick-start's on-demand feature views read driver_hourly_stats: quickstart_odfvs.py.


# A projection subset (no logging destination here: logging writes files).
driver_activity = FeatureService(
    name="driver_activity",
    features=[
        driver_hourly_stats[["conv_rate", "avg_daily_trips"]],
        customer_profile[["current_balance"]],
    ],
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
