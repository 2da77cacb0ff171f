/**
 * For specs that check an on-demand feature view end to end: the example repo's driver view as a
 * Feast definition to build ODFVs on, and the unchanged Feast client asking for one ODFV feature
 * beside `conv_rate` through a server.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { feastEnv } from './feast-repo.ts';
import { feastPython } from './feast-python.ts';

const run = promisify(execFile);

/** The example repo's `driver_hourly_stats` view (imports included), for definitions.py files that add ODFVs to it. */
export const DRIVER_VIEW_DEFINITION = `
from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float32, Float64, Int64

driver = Entity(name="driver", join_keys=["driver_id"])
driver_hourly_stats = FeatureView(
    name="driver_hourly_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[Field(name="conv_rate", dtype=Float32), Field(name="acc_rate", dtype=Float32), Field(name="avg_daily_trips", dtype=Int64)],
    source=FileSource(name="driver_hourly_stats_source", path="data/driver_stats.parquet", timestamp_field="event_timestamp", created_timestamp_column="created"),
)
`;

/** Prints `RESULT <conv_rates> <odfv values>` or `ERROR <class> <message>`. */
const CLIENT = `
import sys
import pandas as pd
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
ref = sys.argv[2]
entity_df = pd.DataFrame({"driver_id": [1001, 1002], "event_timestamp": pd.to_datetime(["2021-04-12 10:00:00"] * 2, utc=True)})
try:
    df = store.get_historical_features(entity_df=entity_df, features=["driver_hourly_stats:conv_rate", ref]).to_df()
    print("RESULT", list(df["conv_rate"]), list(df[ref.split(":")[1]]))
except Exception as e:
    print("ERROR", type(e).__module__ + "." + type(e).__name__, str(e).replace("\\n", " | "))
`;

/** What the client got: the two drivers' conv_rate and ODFV values, or its error line. */
export type OdfvAnswer = { readonly rates: number[]; readonly values: number[] } | { readonly error: string };

/** Feast's client in `clientRepo` asks for conv_rate and `odfvRef` (`view:feature`) of drivers 1001 and 1002. */
export async function historicalWithOdfv(clientRepo: string, odfvRef: string, env: NodeJS.ProcessEnv = feastEnv()): Promise<OdfvAnswer> {
  const { stdout } = await run(feastPython().python, ['-c', CLIENT, clientRepo, odfvRef], { cwd: clientRepo, env, timeout: 120_000 });
  const line = stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('RESULT ')) return { error: line };
  const [rates, values] = line
    .slice('RESULT '.length)
    .split('] [')
    .map((list) => list.replace(/[[\]]/g, '').split(', ').map(Number));
  return { rates: rates!, values: values! };
}
