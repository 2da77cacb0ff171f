/**
 * The store's way into Trino, over the official `trino-client` package: a connection from the
 * config, one statement at a time, its result pages as they arrive, and cancelling it on the
 * cluster when the call is given up.
 *
 * Each statement gets its own trino-client instance: the library keeps the session state Trino
 * sends back (catalog, schema, session properties, prepared statements) on the client object, so a
 * shared one would carry one call's state into another's.
 */
import { BasicAuth, type Columns, type QueryData, type QueryResult, Trino } from 'trino-client';
import type { TrinoConnection } from './config.ts';
import { TrinoStatementError, trinoError } from './errors.ts';
import { parseTrinoJson } from './trino-json.ts';

/**
 * What the client understands, as Trino's Python client (Feast's) declares it: without
 * PARAMETRIC_DATETIME, Trino reports `timestamp(3)` as plain `timestamp` (and rounds values to
 * milliseconds) for old clients, so column listing would not match Feast's.
 */
const CLIENT_CAPABILITIES = { 'X-Trino-Client-Capabilities': 'PARAMETRIC_DATETIME' } as const;

/** One running statement: its columns once Trino knows them, then its rows page by page. */
export interface Statement {
  /** Resolves with the result's columns (name and Trino type name) when the first page that has them arrives. */
  columns(): Promise<Columns>;
  /** The rows, one array per page Trino sends; ends when the statement finishes. */
  pages(): AsyncGenerator<readonly QueryData[]>;
  /** Cancels the statement on the cluster (a no-op once it has finished). */
  cancel(): Promise<void>;
}

export class TrinoClient {
  constructor(readonly connection: TrinoConnection) {}

  /** Where the store talks to, for messages (never credentials). */
  get server(): string {
    return `${this.connection.user}@${this.connection.server}/${this.connection.catalog}`;
  }

  /**
   * Starts `sql`, `what` naming it in errors. When `signal` aborts, the statement is cancelled on
   * the cluster and reading it fails.
   */
  async start(sql: string, what: string, signal?: AbortSignal, table?: string): Promise<Statement> {
    const c = this.connection;
    const trino = Trino.create({
      server: c.server,
      catalog: c.catalog,
      source: c.source,
      session: c.session,
      extraCredential: c.extraCredential,
      // The user goes on every request, the cancel's included: trino-client sets it only per
      // query (else it sends $USER), and Trino lets only a query's own user cancel it.
      extraHeaders: { ...CLIENT_CAPABILITIES, 'X-Trino-User': c.basicAuth?.username ?? c.user },
      ssl: { rejectUnauthorized: c.rejectUnauthorized },
      ...(c.basicAuth ? { auth: new BasicAuth(c.basicAuth.username, c.basicAuth.password) } : {}),
    });
    keepBigintsExact(trino);
    const fail = (error: unknown) => trinoError(error, what, c.server, table, signal);
    if (signal?.aborted) throw fail(new Error('aborted'));
    let iterator: AsyncIterator<QueryResult>;
    try {
      iterator = await trino.query({ query: sql, user: c.basicAuth?.username ?? c.user });
    } catch (error) {
      throw fail(error);
    }
    const queryId = firstResultOf(iterator)?.id;
    let finished = false;
    const cancel = async () => {
      if (finished || !queryId) return;
      finished = true;
      await trino.cancel(queryId).catch(() => undefined);
    };
    const onAbort = () => void cancel();
    signal?.addEventListener('abort', onAbort, { once: true });

    // Pages are read once, by whichever of columns()/pages() asks first; columns() buffers the
    // pages it had to read past so pages() still yields every row.
    const buffered: QueryResult[] = [];
    const first = firstResultOf(iterator);
    if (first) buffered.push(first);
    // Each of Trino's answers is followed here, empty ones included: trino-client's iterator
    // skips answers without rows, and with them the columns Trino reports as soon as it has
    // planned the query, so columns() would wait for the first row (for a long join, minutes).
    let latest = first;
    const nextPage = async (): Promise<QueryResult | undefined> => {
      // An aborted call's statement is cancelled: its rows end in an error, never silently.
      if (signal?.aborted) throw fail(new Error('aborted'));
      if (buffered.length > 0) return buffered.shift();
      if (finished || !latest?.nextUri) {
        finished = true;
        return undefined;
      }
      try {
        latest = await requestOf(trino)({ url: latest.nextUri });
        return latest;
      } catch (error) {
        finished = true;
        throw fail(error);
      }
    };
    const checked = (page: QueryResult): QueryResult => {
      if (page.error) {
        finished = true;
        throw fail(new TrinoStatementError(page.error));
      }
      if (!page.nextUri) finished = true;
      return page;
    };
    const done = () => signal?.removeEventListener('abort', onAbort);

    return {
      async columns() {
        const seen: QueryResult[] = [];
        try {
          for (;;) {
            const page = await nextPage();
            if (!page) throw fail(new Error(`${what}: Trino finished without reporting columns`));
            seen.push(page);
            checked(page);
            if (page.columns) return page.columns;
          }
        } finally {
          buffered.unshift(...seen);
        }
      },
      async *pages() {
        try {
          for (;;) {
            const page = await nextPage();
            if (!page) return;
            const data = checked(page).data;
            if (data && data.length > 0) yield data;
          }
        } finally {
          done();
          await cancel();
        }
      },
      cancel,
    };
  }

  /** Runs `sql` to its end, returning its columns (for statements whose rows do not matter). */
  async columnsOf(sql: string, what: string, signal?: AbortSignal, table?: string): Promise<Columns> {
    const statement = await this.start(sql, what, signal, table);
    try {
      const columns = await statement.columns();
      for await (const _ of statement.pages());
      return columns;
    } finally {
      await statement.cancel();
    }
  }

  /** Checks that the coordinator answers a statement (for health). */
  async ping(): Promise<void> {
    const statement = await this.start('SELECT 1', 'Trino health check');
    for await (const _ of statement.pages());
  }
}

/**
 * Makes the client parse Trino's answers with parseTrinoJson (bigints beyond 2^53 kept exact):
 * trino-client 0.2.9 offers no option for it, so its axios config is set here (the version is
 * pinned). A body that is not JSON (an HTML error page) stays text, as axios leaves it.
 */
function keepBigintsExact(trino: Trino): void {
  const client = (trino as unknown as { client?: { clientConfig?: Record<string, unknown> } }).client;
  if (!client?.clientConfig) return;
  client.clientConfig.transformResponse = [
    (data: unknown) => {
      if (typeof data !== 'string' || data === '') return data;
      try {
        return parseTrinoJson(data);
      } catch {
        return data;
      }
    },
  ];
}

/** trino-client's HTTP request (its headers, auth and session state), to follow a statement's nextUri. */
function requestOf(trino: Trino): (config: { url: string }) => Promise<QueryResult> {
  const client = (trino as unknown as { client: { request(config: { url: string }): Promise<QueryResult> } }).client;
  return (config) => client.request(config);
}

/**
 * The result of the statement's POST, which carries its query id. trino-client 0.2.9 keeps it
 * inside its iterator and only yields a later page (after following every empty one), so a query
 * that has not produced a row yet could not be cancelled; its state is read here instead. The
 * version is pinned in package.json for this reason.
 */
function firstResultOf(iterator: AsyncIterator<QueryResult>): QueryResult | undefined {
  const inner = (iterator as unknown as { iter?: { queryResult?: QueryResult } }).iter;
  return inner?.queryResult;
}
