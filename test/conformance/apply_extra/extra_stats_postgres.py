"""The postgres repo's counterpart of extra_stats.py: added to a copy of the repo by the
apply_through_remote_store check and applied with the client config (offline_store: remote). The
view has no schema, so the server lists the columns of the `extra_stats` table (loaded by
load_data.py but in no registered source) and `feast apply` infers the features from their
PostgreSQL types (double precision, boolean, text, integer).
"""

from datetime import timedelta

from definitions import driver  # the same Entity object, so feast does not see a second one

from feast import FeatureView
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import PostgreSQLSource

extra_stats_source = PostgreSQLSource(
    name="extra_stats_source", table="extra_stats", timestamp_field="event_timestamp"
)

extra_stats = FeatureView(
    name="extra_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    source=extra_stats_source,
    online=False,
)
