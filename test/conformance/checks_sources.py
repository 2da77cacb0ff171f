"""Data-source calls: pull_latest/pull_all (spec §2), column listing and validate_data_source (§3.4,
§3.5), and `feast apply` through the remote store, which drives the last two. Sources are looked up
by name in the registry, so the same checks run on the file repo and the postgres repo."""

import os
import shutil
import subprocess

from compare import assert_same_rows, expect, rows, to_ns
from feast import FeatureStore, FileSource
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import PostgreSQLSource
from harness import Ctx, check, ts
from pit_rule import pull

DRIVER_SOURCE = dict(
    name="driver_hourly_stats_source",
    join_keys=["driver_id"],
    features=["conv_rate", "acc_rate", "avg_daily_trips"],
    timestamp_field="event_timestamp",
    created="created",
)
CUSTOMER_SOURCE = dict(
    name="customer_profile_source",
    join_keys=["customer_id"],
    features=["current_balance", "segment", "is_premium"],
    timestamp_field="event_timestamp",
    created="created",
)
# Raw column names: callers reverse field_mapping before calling (spec §2).
TRIPS_SOURCE = dict(
    name="driver_trips_source",
    join_keys=["id"],
    features=["trips_raw"],
    timestamp_field="event_timestamp",
    created=None,
)
# postgres repo only: created is NULL on some rows.
STATUS_SOURCE = dict(
    name="driver_status_source",
    join_keys=["driver_id"],
    features=["status", "status_code"],
    timestamp_field="event_timestamp",
    created="created",
)


def _pull(ctx: Ctx, store, spec, start, end, latest: bool):
    method = "pull_latest_from_table_or_query" if latest else "pull_all_from_table_or_query"
    job = getattr(store._get_provider().offline_store, method)(
        config=store.config,
        data_source=store.get_data_source(spec["name"]),
        join_key_columns=spec["join_keys"],
        feature_name_columns=spec["features"],
        timestamp_field=spec["timestamp_field"],
        created_timestamp_column=spec["created"],
        start_date=start.to_pydatetime(),
        end_date=end.to_pydatetime(),
    )
    return job.to_df()


def _compare_pull(ctx: Ctx, spec, start, end, latest: bool, what: str, oracle: bool = True):
    want = pull(
        ctx.repo, ctx.local.get_data_source(spec["name"]), spec["join_keys"], spec["features"], spec["timestamp_field"], spec["created"], start, end, latest
    )
    # Feast's file store returns these columns in set order, so only the set is compared.
    if oracle and not ctx.feast_differs:
        local = _pull(ctx, ctx.local, spec, start, end, latest)
        assert_same_rows(local, want, f"{what}: PREMISE BROKEN, local Feast vs the rule", columns_ordered=False)
    got = _pull(ctx, ctx.remote, spec, start, end, latest)
    assert_same_rows(got, want, f"{what}: server vs the rule", columns_ordered=False)
    return got


@check
def pull_latest_from_table_or_query(ctx: Ctx):
    # The window ends on a data hour where no key has a (ts, created) tie, so local Feast's
    # unstable tie-break cannot matter; pull_latest_created_tiebreak covers ties.
    got = _compare_pull(ctx, DRIVER_SOURCE, ts("2024-03-01 12:00"), ts("2024-03-02 08:00"), True, "driver source")
    stamps = dict(rows(got, ["driver_id", "event_timestamp"]))
    expect(stamps.get(1001) == to_ns(ts("2024-03-02 08:00")), "1001's latest row is not the one at the (inclusive) end")
    _compare_pull(ctx, TRIPS_SOURCE, ts("2024-03-01 00:00"), ts("2024-03-02 00:00"), True, "field-mapped source")
    return f"{len(got)} rows"


@check
def pull_latest_created_tiebreak(ctx: Ctx):
    a = _compare_pull(ctx, DRIVER_SOURCE, ts("2024-03-02 00:00"), ts("2024-03-02 05:00"), True, "window A", oracle=False)
    trips = dict(rows(a, ["driver_id", "avg_daily_trips"]))
    expect(trips.get(1003) == 5003, f"window A: 1003 -> {trips.get(1003)}, expected the backfill 5003")
    b = _compare_pull(ctx, DRIVER_SOURCE, ts("2024-03-01 12:00"), ts("2024-03-02 10:00"), True, "window B", oracle=False)
    trips = dict(rows(b, ["driver_id", "avg_daily_trips"]))
    expect(trips.get(2001) == 20 and trips.get(2002) == 30, f"window B: 2001 -> {trips.get(2001)} (20), 2002 -> {trips.get(2002)} (30)")
    c = _compare_pull(ctx, CUSTOMER_SOURCE, ts("2024-02-29 12:00"), ts("2024-03-01 00:00"), True, "customers", oracle=False)
    segments = dict(rows(c, ["customer_id", "segment"]))
    expect(segments.get("C002") == "backfill", f"C002 -> {segments.get('C002')!r}, expected 'backfill'")


@check
def pull_latest_null_created(ctx: Ctx):
    # driver_status (load_data.py): 1001 has a NULL-created and a created row at one ts; 1002's
    # latest row has a NULL created; 1003's two rows are identical with NULL created.
    got = _compare_pull(ctx, STATUS_SOURCE, ts("2024-03-02 00:00"), ts("2024-03-02 12:00"), True, "driver_status")
    status = dict(rows(got, ["driver_id", "status"]))
    want = {1001: "b", 1002: "c", 1003: "e", 1004: "f"}
    expect(status == want, f"latest status per driver {status}, expected {want}")


@check
def pull_all_from_table_or_query(ctx: Ctx):
    # Both bounds fall on data hours, so inclusivity at either end changes the count.
    got = _compare_pull(ctx, DRIVER_SOURCE, ts("2024-03-01 10:00"), ts("2024-03-01 20:00"), False, "driver source")
    expect(len(got) == 11 * 8, f"{len(got)} rows, expected 88 (11 hours x 8 drivers, bounds inclusive)")
    _compare_pull(ctx, TRIPS_SOURCE, ts("2024-03-01 00:00"), ts("2024-03-01 12:00"), False, "field-mapped source")


def _file_sources(store):
    return [s for s in store.list_data_sources() if isinstance(s, FileSource)]


def _postgres_sources(store):
    return [s for s in store.list_data_sources() if isinstance(s, PostgreSQLSource)]


@check
def column_names_and_types_match_feast(ctx: Ctx):
    if ctx.store == "postgres":
        # Every registered source (tables and queries) plus an unregistered table; PostgreSQL
        # type names as Feast's PostgreSQLSource reports them.
        sources = _postgres_sources(ctx.local)
        sources.append(PostgreSQLSource(name="extra", table="extra_stats", timestamp_field="event_timestamp"))
    else:
        sources = [s for s in _file_sources(ctx.local) if os.path.exists(ctx.repo_file(s.path))]
        sources.append(FileSource(name="extra", path="data/extra_stats.parquet", timestamp_field="event_timestamp"))
    expect(len(sources) >= 6, f"only {len(sources)} sources with data")
    for source in sources:
        want = list(ctx.local._get_provider().get_table_column_names_and_types_from_data_source(ctx.local.config, source))
        got = list(ctx.remote._get_provider().get_table_column_names_and_types_from_data_source(ctx.remote.config, source))
        expect(got == want, f"{source.name}: {got}\n  Feast: {want}")
    return f"{len(sources)} sources"


@check
def validate_data_source(ctx: Ctx):
    if ctx.store == "postgres":
        sources = _postgres_sources(ctx.remote)
        expect(len(sources) >= 7, f"only {len(sources)} PostgreSQL sources registered")
        for source in sources:
            ctx.remote._get_provider().validate_data_source(ctx.remote.config, source)
        return f"{len(sources)} sources"
    sources = _file_sources(ctx.remote)
    missing = [s.path for s in sources if not os.path.exists(ctx.repo_file(s.path))]
    # Feast only warns about a missing file; `feast apply` validates destinations before they exist.
    expect(missing, "expected at least one registered source whose file does not exist yet")
    for source in sources:
        ctx.remote._get_provider().validate_data_source(ctx.remote.config, source)
    return f"{len(sources)} sources, not yet on disk: {missing}"


@check
def apply_through_remote_store(ctx: Ctx):
    # A copy of the repo's definitions plus one new view, applied with the remote offline store.
    # Its own registry file (a copy of the repo's when that is a file registry), so the registry
    # shared by the server and the oracle stays as it is.
    apply_repo = os.path.join(ctx.work, "apply_repo")
    shutil.rmtree(apply_repo, ignore_errors=True)
    os.makedirs(os.path.join(apply_repo, "data"))
    shutil.copy(ctx.repo_file("definitions.py"), apply_repo)
    extra = "extra_stats_postgres.py" if ctx.store == "postgres" else "extra_stats.py"
    shutil.copy(os.path.join(ctx.here, "apply_extra", extra), apply_repo)
    registry = os.path.join(apply_repo, "data", "registry.db")
    if os.path.exists(ctx.repo_file("data", "registry.db")):
        shutil.copy(ctx.repo_file("data", "registry.db"), registry)
    cfg = ctx.remote.config.offline_store
    with open(os.path.join(apply_repo, "feature_store.yaml"), "w") as f:
        f.write(
            f"project: {ctx.project}\n"
            f"registry: {registry}\n"
            "provider: local\n"
            f"offline_store:\n  type: remote\n  host: {cfg.host}\n  port: {cfg.port}\n"
            f"online_store:\n  type: sqlite\n  path: {os.path.join(apply_repo, 'data', 'online_store.db')}\n"
            "entity_key_serialization_version: 3\n"
        )
    env = dict(os.environ, FEAST_USAGE="False")
    proc = subprocess.run(
        [os.path.join(ctx.python_bin, "feast"), "-c", apply_repo, "apply"],
        cwd=apply_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    expect(proc.returncode == 0, f"feast apply exited {proc.returncode}:\n{(proc.stdout + proc.stderr)[-1500:]}")
    store = FeatureStore(repo_path=apply_repo)
    fv = store.get_feature_view("extra_stats")
    schema = {f.name: str(f.dtype) for f in fv.features}
    want = {"extra_score": "Float64", "extra_flag": "Bool", "extra_label": "String", "extra_count": "Int32"}
    expect(schema == want, f"inferred features {schema}, expected {want}")
    return "apply ok, inferred " + ", ".join(f"{k}:{v}" for k, v in schema.items())
