/**
 * Generated data for the differential tests (every store over the same rows must answer alike):
 * driver rows with many timestamp ties, created values often tied or null, null keys, timestamps
 * and features; city rows; entity rows placed exactly on source timestamps and TTL boundaries.
 * Deterministic (seeded), so failures reproduce.
 */
import { Bool, Float64, Int32, Int64, TimeUnit, Timestamp, Utf8, type Table } from 'apache-arrow';
import { arrowTable } from './parquet-fixtures.ts';

export const H_US = 3_600_000_000n;
export const T0_US = BigInt(Date.UTC(2024, 0, 1)) * 1000n;
export const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
export const TTL_S = 3 * 3600;

/** A small deterministic generator (mulberry32), so failures reproduce. */
export function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Driver rows: hourly timestamps on a coarse grid (many ties), created often tied or null. */
export function driverRows(rand: () => number, n: number): Table {
  const id: Array<bigint | null> = [];
  const ts: Array<bigint | null> = [];
  const created: Array<bigint | null> = [];
  const rate: Array<number | null> = [];
  const trips: Array<number | null> = [];
  const name: Array<string | null> = [];
  const flag: Array<boolean | null> = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    id.push(r < 0.02 ? null : BigInt(Math.floor(rand() * 12)));
    ts.push(r > 0.98 ? null : T0_US + BigInt(Math.floor(rand() * 48)) * H_US);
    const c = rand();
    created.push(c < 0.25 ? null : T0_US + BigInt(Math.floor(c * 4)) * H_US);
    rate.push(rand() < 0.1 ? null : Math.round(rand() * 1000) / 8);
    trips.push(rand() < 0.1 ? null : Math.floor(rand() * 100));
    name.push(rand() < 0.1 ? null : `driver-${i}`);
    flag.push(rand() < 0.1 ? null : rand() < 0.5);
  }
  return arrowTable([
    ['driver_id', new Int64(), id],
    ['ts', tsUtc, ts],
    ['created', tsUtc, created],
    ['rate', new Float64(), rate],
    ['trips', new Int32(), trips],
    ['name', new Utf8(), name],
    ['flag', new Bool(), flag],
  ]);
}

export function cityRows(rand: () => number, n: number): Table {
  const cities = ['a', 'b', 'c', 'd'];
  return arrowTable([
    ['city', new Utf8(), Array.from({ length: n }, () => cities[Math.floor(rand() * 4)]!)],
    ['ts', tsUtc, Array.from({ length: n }, () => T0_US + BigInt(Math.floor(rand() * 96)) * (H_US / 2n))],
    ['population', new Int64(), Array.from({ length: n }, () => BigInt(Math.floor(rand() * 1e6)))],
  ]);
}

export function entityRows(rand: () => number, n: number): Table {
  const cities = ['a', 'b', 'c', 'd', 'zz'];
  const driver: Array<bigint | null> = [];
  const other: Array<bigint | null> = [];
  const ts: Array<bigint | null> = [];
  for (let i = 0; i < n; i++) {
    driver.push(rand() < 0.03 ? null : BigInt(Math.floor(rand() * 14)));
    other.push(BigInt(Math.floor(rand() * 12)));
    const mode = rand();
    // A third exactly on an hour (equal to source timestamps), some exactly TTL after one.
    const hour = T0_US + BigInt(Math.floor(rand() * 52)) * H_US;
    ts.push(
      mode < 0.02 ? null : mode < 0.35 ? hour : mode < 0.5 ? hour + BigInt(TTL_S) * 1_000_000n : hour + BigInt(Math.floor(rand() * 3.6e9)),
    );
  }
  return arrowTable([
    ['driver_id', new Int64(), driver],
    ['other_driver_id', new Int64(), other],
    ['city', new Utf8(), Array.from({ length: n }, () => cities[Math.floor(rand() * 5)]!)],
    ['event_timestamp', tsUtc, ts],
  ]);
}

/** A table as plain comparable data: schema strings and row values. */
export function snapshot(table: Table) {
  return {
    schema: table.schema.fields.map((f) => `${f.name}: ${f.type}`),
    rows: table.toArray().map((row) => JSON.stringify(row.toJSON(), (_, v) => (typeof v === 'bigint' ? v.toString() : v))),
  };
}
