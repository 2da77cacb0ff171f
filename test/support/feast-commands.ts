/**
 * Feast commands as a Feast client sends them in a CMD descriptor, for tests that speak raw Flight.
 * Each has a fresh `command_id`, like the client's uuid; `extra` overrides or adds fields.
 */

/** Dates every default pull and retrieval spans: wide enough for the fixtures' 2024 rows. */
const SPAN = { start_date: '2023-01-01T00:00:00+00:00', end_date: '2025-01-01T00:00:00+00:00' };

const commandId = () => Math.random().toString(36).slice(2);

/** A pull of `driver_id` / `conv_rate` rows timed by `ts` from data source `source`. */
export function pullCommand(
  source: string,
  extra: Record<string, unknown> = {},
  api: 'pull_latest_from_table_or_query' | 'pull_all_from_table_or_query' = 'pull_latest_from_table_or_query',
): string {
  return JSON.stringify({
    command_id: commandId(),
    api,
    data_source_name: source,
    join_key_columns: ['driver_id'],
    feature_name_columns: ['conv_rate'],
    timestamp_field: 'ts',
    created_timestamp_column: null,
    ...SPAN,
    ...extra,
  });
}

/** A get_historical_features of `refs` (`view:feature`) in `project`. */
export function historicalCommand(project: string, refs: readonly string[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    command_id: commandId(),
    api: 'get_historical_features',
    feature_view_names: [...new Set(refs.map((r) => r.split(':')[0]))],
    name_aliases: refs.map(() => null),
    feature_refs: refs,
    project,
    full_feature_names: false,
    ...SPAN,
    ...extra,
  });
}
