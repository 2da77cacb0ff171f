/**
 * Which DuckDB formulation of larder's point-in-time rule is fastest: join-then-rank (window
 * functions), an ASOF JOIN over rows first deduplicated by (key, ts), or (what the duckdb store
 * uses) an ASOF JOIN over bare keys and timestamps followed by an equi-join back to the rows at
 * the matched (key, ts) to settle ties? All are checked to give the same answer; only DuckDB's
 * own time is measured (no Arrow conversion).
 *
 *   npx tsx --conditions=larder-source bench/duckdb-pit-strategies.ts [entityRows=100000] [featureRows=1000000]
 */
import { DuckDBInstance } from '@duckdb/node-api';

const entityRows = Number(process.argv[2] ?? 100_000);
const featureRows = Number(process.argv[3] ?? 1_000_000);
const DRIVERS = 1000;
const TTL = 'INTERVAL 7 DAY';

// The rule: ts ≤ T and ts ≥ T − ttl; greatest (ts, created with nulls lowest, source row).
const strategies: Record<string, string> = {
  window: `
    SELECT e.row_id, r.rate FROM entities e LEFT JOIN (
      SELECT e.row_id, f.rate, row_number() OVER (
        PARTITION BY e.row_id ORDER BY f.ts DESC, f.created DESC NULLS LAST, f.src_row DESC) AS rn
      FROM entities e JOIN features f
        ON f.driver_id = e.driver_id AND f.ts <= e.t AND f.ts >= e.t - ${TTL}
    ) r ON r.row_id = e.row_id AND r.rn = 1`,
  asof: `
    WITH latest AS (
      SELECT driver_id, ts, arg_max(rate, (coalesce(created, '-infinity'::TIMESTAMPTZ), src_row)) AS rate
      FROM features GROUP BY driver_id, ts
    )
    SELECT e.row_id, CASE WHEN l.ts >= e.t - ${TTL} THEN l.rate END AS rate
    FROM entities e ASOF LEFT JOIN latest l ON e.driver_id = l.driver_id AND e.t >= l.ts`,
  'asof-match': `
    WITH m AS (
      SELECT e.row_id, e.driver_id, l.ts FROM entities e
      ASOF JOIN (SELECT driver_id, ts FROM features) l ON e.driver_id = l.driver_id AND e.t >= l.ts
      WHERE l.ts >= e.t - ${TTL}
    ), best AS (
      SELECT m.row_id, arg_max(f.rate, (coalesce(f.created, '-infinity'::TIMESTAMPTZ), f.src_row)) AS rate
      FROM m JOIN features f ON f.driver_id = m.driver_id AND f.ts = m.ts GROUP BY m.row_id
    )
    SELECT e.row_id, best.rate FROM entities e LEFT JOIN best ON best.row_id = e.row_id`,
};

const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const conn = await db.connect();
await conn.run("SET TimeZone = 'UTC'");
await conn.run(`
  CREATE TABLE features AS
  SELECT (i % ${DRIVERS})::BIGINT AS driver_id,
         TIMESTAMPTZ '2024-01-01' + to_hours((i // ${DRIVERS})::BIGINT) AS ts,
         CASE WHEN i % 10 = 0 THEN NULL ELSE TIMESTAMPTZ '2024-01-01' + to_hours((i // ${DRIVERS})::BIGINT) + INTERVAL 1 MINUTE END AS created,
         (i % 997) / 997.0 AS rate, i AS src_row
  FROM range(${featureRows}) t(i)`);
// Backfills: every 50th row again with a later created time and another value (must win), and
// every 70th again with the same created time (the later source row must win).
await conn.run(`
  INSERT INTO features
  SELECT driver_id, ts, coalesce(created, ts) + INTERVAL 1 HOUR, rate + 1, src_row + ${featureRows} FROM features WHERE src_row % 50 = 0
  UNION ALL
  SELECT driver_id, ts, created, rate + 2, src_row + ${2 * featureRows} FROM features WHERE src_row % 70 = 1`);
const hours = Math.ceil(featureRows / DRIVERS);
await conn.run(`
  CREATE TABLE entities AS
  SELECT i AS row_id, ((i * 7919) % ${DRIVERS})::BIGINT AS driver_id,
         TIMESTAMPTZ '2024-01-01' + to_seconds(((i * 104729) % ${hours * 3600})::BIGINT) AS t
  FROM range(${entityRows}) t(i)`);

const answers: Record<string, string> = {};
console.log(`DuckDB point-in-time strategies: ${entityRows} entity rows × ${featureRows} feature rows, 2 threads`);
for (const [name, sql] of Object.entries(strategies)) {
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    const result = await conn.runAndReadAll(`SELECT count(*) AS n, count(rate) AS matched, round(sum(rate), 6) AS total FROM (${sql})`);
    times.push(performance.now() - started);
    answers[name] = JSON.stringify(result.getRowObjectsJson()[0]);
  }
  console.log(`  ${name.padEnd(10)} ${times.map((t) => t.toFixed(0)).join(' / ')} ms  ${answers[name]}`);
}
const distinct = new Set(Object.values(answers));
console.log(distinct.size === 1 ? '  same answer from all' : '  ANSWERS DIFFER');
