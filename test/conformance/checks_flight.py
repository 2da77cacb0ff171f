"""Flight-level checks through a plain pyarrow FlightClient (Feast's test_offline_server_is_alive,
and the pre-0.67 DoPut/GetFlightInfo/DoGet sequence that older Feast clients still send)."""

import json
import uuid

import pandas as pd
import pyarrow as pa
import pyarrow.flight as flight

from compare import assert_same_rows, expect
from harness import Ctx, check, ts

FEAST_ACTIONS = [
    (
        "offline_write_batch",
        "Writes the specified arrow table to the data source underlying the specified feature view.",
    ),
    (
        "write_logged_features",
        "Writes logged features to a specified destination in the offline store.",
    ),
    (
        "persist",
        "Synchronously executes the underlying query and persists the result in the same offline store at the specified destination.",
    ),
]


@check
def flight_list_actions(ctx: Ctx):
    actions = [(a.type, a.description) for a in ctx.flight_client().list_actions()]
    expect(actions == FEAST_ACTIONS, f"list_actions returned {actions}")


@check
def flight_list_flights_empty(ctx: Ctx):
    pending = list(ctx.flight_client().list_flights())
    expect(pending == [], f"{len(pending)} flights listed: {[str(f.descriptor)[:200] for f in pending]}")


@check
def flight_legacy_put_get(ctx: Ctx):
    entity_df = pd.DataFrame(
        {"driver_id": [1001, 1002, 9999], "event_timestamp": [ts("2024-03-02 10:00"), ts("2024-03-02 11:30"), ts("2024-03-02 12:00")]}
    )
    refs = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:avg_daily_trips"]
    command = {
        "command_id": str(uuid.uuid4()),
        "api": "get_historical_features",
        "feature_view_names": ["driver_hourly_stats"],
        "feature_refs": refs,
        "project": ctx.project,
        "full_feature_names": False,
        "name_aliases": [None],
    }
    client = ctx.flight_client()
    descriptor = flight.FlightDescriptor.for_command(json.dumps(command))
    table = pa.Table.from_pandas(entity_df)
    writer, _ = client.do_put(descriptor, table.schema)
    writer.write_table(table)
    writer.close()
    info = client.get_flight_info(descriptor)
    expect(len(info.endpoints) >= 1, "GetFlightInfo returned no endpoint")
    ticket = info.endpoints[0].ticket
    legacy = client.do_get(ticket).read_all().to_pandas()
    modern = ctx.remote.get_historical_features(entity_df=entity_df, features=refs).to_df()
    assert_same_rows(legacy, modern, "DoGet result vs DoExchange result")
    try:
        again = client.do_get(ticket).read_all()
    except Exception:  # noqa: BLE001 - any error is right: the flight was consumed
        return None
    expect(False, f"a second DoGet of a consumed ticket returned {again.num_rows} rows")


@check
def flight_unknown_api_error(ctx: Ctx):
    # Feast's server raises NotImplementedError("Unknown read API: ..."): UNIMPLEMENTED on the wire,
    # pyarrow.lib.ArrowNotImplementedError (a NotImplementedError) on the client.
    client = ctx.flight_client()
    descriptor = flight.FlightDescriptor.for_command(json.dumps({"command_id": str(uuid.uuid4()), "api": "drop_tables"}))
    table = pa.table({"driver_id": [1001]})
    try:
        writer, reader = client.do_exchange(descriptor)
        writer.begin(table.schema)
        writer.write_table(table)
        writer.done_writing()
        reader.read_all()
    except Exception as err:  # noqa: BLE001 - the class is the point
        expect(
            isinstance(err, NotImplementedError),
            f"expected a NotImplementedError (pyarrow.lib.ArrowNotImplementedError, as from Feast's server), got {type(err).__module__}.{type(err).__name__}: {str(err)[:300]}",
        )
        return type(err).__name__
    expect(False, "an unknown api was answered")
