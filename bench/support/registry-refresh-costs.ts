/**
 * The refresh half of bench/registry-reads.ts: for each registry kind, straight from the loaders
 * larder uses, the time of one change check (the stamp) and one full load, and what `snapshot()`
 * costs every call between refreshes.
 */
import pino from 'pino';
import type { RegistryLoader } from '../../core/src/registry/cached-registry.ts';
import type { DecodedRegistry } from '../../core/src/registry/decode.ts';
import { openFileRegistry } from '../../core/src/registry/file-registry.ts';
import type { RegistrySource } from '../../core/src/registry/model.ts';
import { DecodedRegistrySnapshot } from '../../core/src/registry/snapshot.ts';
import { channelSetup } from '../../plugins/registry-remote/src/channel.ts';
import { remoteSettingsFrom } from '../../plugins/registry-remote/src/config.ts';
import remoteRegistryPlugin from '../../plugins/registry-remote/src/index.ts';
import { RegistryServerClient } from '../../plugins/registry-remote/src/registry-server-client.ts';
import { RemoteRegistryLoader } from '../../plugins/registry-remote/src/remote-loader.ts';
import { parseDatabaseUrl } from '../../plugins/registry-sql/src/database-url.ts';
import sqlRegistryPlugin from '../../plugins/registry-sql/src/index.ts';
import { postgresRegistryLoader } from '../../plugins/registry-sql/src/postgres-loader.ts';
import { sqliteRegistryLoader } from '../../plugins/registry-sql/src/sqlite-loader.ts';
import { EXAMPLE_PROJECT } from '../../test/support/applied-example-repo.ts';
import { CACHE_TTL_SECONDS, type Kind, type Registries } from './bench-registries.ts';

/** Timed repetitions: `warmup` unmeasured, then `measured` whose median is reported. */
export interface RunCounts {
  readonly warmup: number;
  readonly measured: number;
}

const silent = pino({ level: 'silent' });
const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

export interface Timing {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export interface RefreshStats {
  readonly registry: string;
  readonly kind: Kind;
  /** null: the kind has no cheap check (remote), a check is a full load. */
  readonly check: Timing | null;
  readonly load: Timing;
  /** Mean cost of `snapshot()` on the open source between refreshes: what every call pays, µs. */
  readonly snapshotUs: number;
  /** Feature views, data sources and entities one load found. */
  readonly objects: { featureViews: number; dataSources: number; entities: number };
}

async function timed(fn: () => Promise<unknown>, runs: RunCounts): Promise<Timing> {
  for (let i = 0; i < runs.warmup; i++) await fn();
  const list: number[] = [];
  for (let i = 0; i < runs.measured; i++) {
    const t = process.hrtime.bigint();
    await fn();
    list.push(ms(t));
  }
  list.sort((a, b) => a - b);
  const mid = list.length >> 1;
  const medianMs = list.length % 2 === 1 ? list[mid]! : (list[mid - 1]! + list[mid]!) / 2;
  return { medianMs, minMs: list[0]!, maxMs: list[list.length - 1]! };
}

async function loaderFor(kind: Exclude<Kind, 'file'>, registries: Registries, repo: string): Promise<RegistryLoader> {
  // The bench's registries exist: a missing one is an error here, not an empty registry.
  const noRegistry = { missing: 'refuse', onEmpty: () => {} } as const;
  if (kind === 'sqlite') return sqliteRegistryLoader({ file: registries.sqliteFile, describe: 'bench sqlite registry', ...noRegistry });
  if (kind === 'postgres') {
    const url = parseDatabaseUrl(registries.postgresUrl, repo);
    if (url.dialect !== 'postgresql') throw new Error('expected a PostgreSQL URL');
    // The sql plugin's own bound (plugins/registry-sql/src/index.ts).
    return postgresRegistryLoader({ connection: url.connection, describe: url.describe, repoPath: repo, timeoutMs: 10_000, ...noRegistry });
  }
  // As plugins/registry-remote/src/index.ts builds it (plaintext, no auth).
  const settings = remoteSettingsFrom({ path: registries.remoteTarget }, repo);
  const client = new RegistryServerClient(settings.target, await channelSetup(settings), settings.timeoutMs);
  return new RemoteRegistryLoader(client, false, settings.timeoutMs, {
    repoPath: repo,
    project: EXAMPLE_PROJECT,
    logger: silent,
    serviceToken: async () => null,
  });
}

const objectsOf = (d: DecodedRegistry) => ({
  featureViews: d.featureViews.length,
  dataSources: d.dataSources.length,
  entities: d.entities.length,
});

/** Mean µs of `snapshot()` on an open source, as every call asks for it (after 1,000 warm-up calls). */
async function snapshotCost(source: RegistrySource): Promise<number> {
  for (let i = 0; i < 1_000; i++) await source.snapshot();
  const n = 20_000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await source.snapshot();
  return (ms(t) * 1000) / n;
}

/** The kind's RegistrySource as larder opens it (the plugin's create for sql and remote). */
function openSource(kind: Kind, registries: Registries): Promise<RegistrySource> {
  if (kind === 'file') return openFileRegistry({ path: registries.registryDb, repoPath: registries.repo.file, logger: silent });
  const env = { repoPath: registries.repo[kind], project: EXAMPLE_PROJECT, logger: silent, serviceToken: async () => null };
  const plugin = kind === 'remote' ? remoteRegistryPlugin : sqlRegistryPlugin;
  const location = kind === 'remote' ? registries.remoteTarget : kind === 'sqlite' ? registries.sqliteFile : registries.postgresUrl;
  return plugin.create(
    {
      registry_type: kind === 'remote' ? 'remote' : 'sql',
      path: kind === 'sqlite' ? `sqlite:///${location}` : location,
      cache_ttl_seconds: CACHE_TTL_SECONDS,
    },
    env,
  );
}

/** For each kind: what every call pays (snapshot()), one change check and one full load. */
export async function refreshCosts(
  label: string,
  registries: Registries,
  kinds: readonly Kind[],
  runs: RunCounts,
): Promise<RefreshStats[]> {
  const out: RefreshStats[] = [];
  for (const kind of kinds) {
    const source = await openSource(kind, registries);
    let stats: RefreshStats;
    try {
      const decoded = ((await source.snapshot()) as DecodedRegistrySnapshot).registry;
      const snapshotUs = await snapshotCost(source);
      if (kind === 'file') {
        // The file registry's check is its per-call snapshot() (a stat); its load, opening it.
        const check = await timed(() => source.snapshot(), runs);
        const load = await timed(async () => (await openSource('file', registries)).close(), runs);
        stats = { registry: label, kind, check, load, snapshotUs, objects: objectsOf(decoded) };
      } else {
        const loader = await loaderFor(kind, registries, registries.repo[kind]);
        try {
          // As the cached registry uses it: a check follows a load.
          await loader.load();
          const check = loader.stamp ? await timed(() => loader.stamp!(), runs) : null;
          const load = await timed(async () => new DecodedRegistrySnapshot(await loader.load()), runs);
          stats = { registry: label, kind, check, load, snapshotUs, objects: objectsOf(decoded) };
        } finally {
          await loader.close?.();
        }
      }
    } finally {
      await source.close();
    }
    console.log(
      `refresh: ${label} ${kind}: snapshot() ${stats.snapshotUs.toFixed(2)} µs, check ${stats.check ? `${stats.check.medianMs.toFixed(3)} ms` : '(a full load)'}, load ${stats.load.medianMs.toFixed(3)} ms` +
        ` (${stats.objects.featureViews} views, ${stats.objects.dataSources} sources, ${stats.objects.entities} entities)`,
    );
    out.push(stats);
  }
  return out;
}
