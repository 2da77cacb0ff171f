/** The `postgres` offline store: every call answered inside PostgreSQL, on one pooled connection. */
import { FeastPermissionError } from '@larder/core';
import type {
  CallContext,
  ColumnInfo,
  DataSource,
  HistoricalFeaturesRequest,
  LoggedFeaturesRequest,
  OfflineStore,
  OfflineWriteRequest,
  PersistRequest,
  PullRequest,
  ResultStream,
  StoreEnvironment,
} from '@larder/core';
import { searchPathOf, type PostgresStoreConfig } from './config.ts';
import { Connections } from './connections.ts';
import { historicalForDateRange, historicalFromEntitySql, historicalFromEntityTable } from './historical-retrieval.ts';
import { pgTypeNameForOid } from './pg-types.ts';
import { pullAll, pullLatest } from './pull-rows.ts';
import { inSession, type Session } from './session.ts';
import { guardClientSource } from './sql-guard.ts';
import { describeSource, sourceRelation } from './sources.ts';
import type { StrategySetting } from './strategy.ts';
import * as writes from './write-calls.ts';

export class PostgresStore implements OfflineStore {
  private constructor(
    private readonly connections: Connections,
    private readonly strategy: StrategySetting,
    private readonly searchPath: string,
  ) {}

  static async create(config: PostgresStoreConfig, env: StoreEnvironment): Promise<PostgresStore> {
    return new PostgresStore(
      await Connections.open(config, env.repoPath, env.logger),
      config.point_in_time_strategy ?? 'auto',
      searchPathOf(config),
    );
  }

  getHistoricalFeatures(req: HistoricalFeaturesRequest, ctx: CallContext): Promise<ResultStream> {
    return inSession(this.connections, ctx, (session) => {
      if (req.entityDfSql !== undefined) return historicalFromEntitySql(session, req.entityDfSql, req, this.strategy, this.searchPath);
      if (req.entityTable) return historicalFromEntityTable(session, req.entityTable, req, this.strategy);
      return historicalForDateRange(session, req, this.strategy);
    });
  }

  pullLatestFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    return inSession(this.connections, ctx, (session) => pullLatest(session, req));
  }

  pullAllFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    return inSession(this.connections, ctx, (session) => pullAll(session, req));
  }

  /** Like Feast's PostgreSQLSource: each column with the PostgreSQL type name Feast reports. */
  async getTableColumnNamesAndTypes(source: DataSource, ctx: CallContext): Promise<readonly ColumnInfo[]> {
    const table = await this.inClosedSession(ctx, (session) => this.describeClientSource(session, source));
    return [...table.columns].map(([name, oid]) => ({ name, type: pgTypeNameForOid(oid) }));
  }

  /**
   * Feast's PostgreSQLSource.validate does nothing, so `feast apply` may register a table that
   * does not exist yet: a source that is not a PostgreSQLSource is refused, but an unreadable one
   * is only logged.
   */
  async validateDataSource(source: DataSource, ctx: CallContext): Promise<void> {
    const relation = sourceRelation(source);
    try {
      await this.inClosedSession(ctx, (session) => this.describeClientSource(session, source));
    } catch (error) {
      // Not readable yet is only logged; naming data the caller may not read is refused.
      if (error instanceof FeastPermissionError) throw error;
      ctx.logger.warn({ source: source.name, relation: relation.label, err: (error as Error).message }, 'data source is not readable yet');
    }
  }

  offlineWriteBatch(req: OfflineWriteRequest, ctx: CallContext): Promise<void> {
    return this.inClosedSession(ctx, (session) => writes.offlineWriteBatch(session, req));
  }

  writeLoggedFeatures(req: LoggedFeaturesRequest, ctx: CallContext): Promise<void> {
    return this.inClosedSession(ctx, (session) => writes.writeLoggedFeatures(session, req));
  }

  persist(req: PersistRequest, ctx: CallContext): Promise<void> {
    return this.inClosedSession(ctx, (session) => writes.persist(session, req));
  }

  ping(): Promise<void> {
    return this.connections.ping();
  }

  close(): Promise<void> {
    return this.connections.close();
  }

  /**
   * A source a client sent is only described, in a READ ONLY transaction; for its column listing
   * under an auth provider, with the search path pinned and only if it names no denied source's
   * relation.
   */
  private async describeClientSource(session: Session, source: DataSource) {
    await session.begin(true);
    if (session.ctx.sourceAccess) {
      await session.run('SELECT pg_catalog.set_config($1, $2, true)', 'pinning the search path', ['search_path', this.searchPath]);
      await guardClientSource(session, source, session.ctx.sourceAccess);
    }
    return describeSource(session, source);
  }

  /** A session for work that returns no stream: closed when the work is done. */
  private inClosedSession<T>(ctx: CallContext, work: Parameters<typeof inSession<T>>[2]): Promise<T> {
    return inSession(this.connections, ctx, async (session) => {
      try {
        return await work(session);
      } finally {
        await session.close();
      }
    });
  }
}
