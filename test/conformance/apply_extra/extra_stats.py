"""Added to a copy of the conformance repo by the apply_through_remote_store check, then applied
with the client config (offline_store: remote). `feast apply` asks the server to validate every
data source, and the view has no schema, so the server's column listing infers its features. The
path resolves on the server, against its repo. (The timestamp field is given: Feast infers that
one by reading the file on the client, which the server does not take part in.)
"""

from datetime import timedelta

from definitions import driver  # the same Entity object, so feast does not see a second one

from feast import FeatureView, FileSource

extra_stats_source = FileSource(
    name="extra_stats_source", path="data/extra_stats.parquet", timestamp_field="event_timestamp"
)

extra_stats = FeatureView(
    name="extra_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    source=extra_stats_source,
    online=False,
)
