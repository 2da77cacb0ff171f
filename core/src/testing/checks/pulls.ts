/**
 * pull_latest_from_table_or_query and pull_all_from_table_or_query (what materialisation and
 * `feast` pulls call), judged by the reference: the rows within [start, end] (both included),
 * the latest per join key for pull_latest; columns by raw source name, in no particular order.
 */
import type { DataSource } from '../../registry/model.ts';
import type { PullRequest } from '../../store.ts';
import type { Check } from '../check.ts';
import { HOUR, T0, driverRows } from '../kit-data.ts';
import { callContext, type KitRun } from '../kit-run.ts';
import { expectedPullAll, expectedPullLatest, type ExpectedResult } from '../reference.ts';
import { expectRows } from '../result-rows.ts';
import { readAll } from './common.ts';

type Pull = Omit<PullRequest, 'source'>;

function driversPull(extra: Partial<Pull> = {}): Pull {
  return {
    joinKeyColumns: ['driver_id'],
    featureNameColumns: ['rate', 'tier'],
    timestampField: 'ts',
    createdTimestampColumn: 'created',
    startDate: new Date(T0),
    endDate: new Date(T0 + 2 * HOUR),
    ...extra,
  };
}

const bounds = (p: Pull) => `[${p.startDate?.toISOString() ?? 'none'}, ${p.endDate?.toISOString() ?? 'none'}]`;

async function judgePull(run: KitRun, kind: 'latest' | 'all', source: DataSource, pull: Pull, expected: ExpectedResult): Promise<void> {
  const req: PullRequest = { source, ...pull };
  const actual = await run.withStore((store) =>
    readAll(() =>
      kind === 'latest' ? store.pullLatestFromTableOrQuery(req, callContext()) : store.pullAllFromTableOrQuery(req, callContext()),
    ),
  );
  expectRows(actual, expected.columns, expected.rows, {
    what: `pull_${kind}_from_table_or_query of [${pull.featureNameColumns.join(', ') || 'every column'}] within ${bounds(pull)}`,
    ordered: false,
    orderedColumns: false,
    extraColumnsAllowed: ['__dummy_id'],
  });
}

export function pullChecks(run: KitRun): Check[] {
  const drivers = () => run.source(`${run.prefix()}_drivers`, driverRows, 'ts', 'created');
  return [
    {
      name: 'pull_latest_from_table_or_query: the latest row per join key within [start, end], ties by created',
      async run() {
        const source = await drivers();
        for (const pull of [driversPull(), driversPull({ startDate: new Date(T0 + HOUR), endDate: new Date(T0 + 3 * HOUR) })]) {
          await judgePull(run, 'latest', source, pull, expectedPullLatest(driverRows, pull));
        }
      },
    },
    {
      name: 'pull_all_from_table_or_query: every row within [start, end], both bounds included',
      async run() {
        const source = await drivers();
        const pull = driversPull({
          featureNameColumns: ['rate', 'trips'],
          startDate: new Date(T0 + HOUR),
          endDate: new Date(T0 + 3 * HOUR),
        });
        await judgePull(run, 'all', source, pull, expectedPullAll(driverRows, pull));
      },
    },
    {
      name: 'pull_all_from_table_or_query: without bounds, every row',
      async run() {
        const source = await drivers();
        const pull = driversPull({ startDate: null, endDate: null });
        await judgePull(run, 'all', source, pull, expectedPullAll(driverRows, pull));
      },
    },
  ];
}
