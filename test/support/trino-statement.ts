/**
 * A minimal client for Trino's REST statement protocol, for tests that set up or inspect data in a
 * test Trino (test/support/trino-server.ts): `POST /v1/statement`, then follow `nextUri` until the
 * query finishes, collecting the rows. Plain `fetch`, no driver, so the tests check Trino itself
 * rather than the client larder's trino plugin uses.
 */

export interface TrinoQueryOptions {
  /** `X-Trino-User` (default `larder-test`). */
  readonly user?: string;
  /** `X-Trino-Catalog` / `X-Trino-Schema`: the defaults for unqualified names. */
  readonly catalog?: string;
  readonly schema?: string;
  /** Overall deadline in milliseconds (default 60 000). */
  readonly timeoutMs?: number;
}

export interface TrinoResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly unknown[])[];
  /** The query's id, as Trino reports it. */
  readonly id: string;
  /** Trino's statement type (`SELECT`, `INSERT`, `CREATE TABLE`, ...). */
  readonly updateType?: string;
  readonly updateCount?: number;
}

interface StatementResponse {
  id: string;
  nextUri?: string;
  columns?: { name: string; type: string }[];
  data?: unknown[][];
  updateType?: string;
  updateCount?: number;
  error?: { message: string; errorName?: string; errorType?: string };
}

/** A query Trino rejected or failed; `errorName` is Trino's (for example `TABLE_NOT_FOUND`). */
export class TrinoQueryError extends Error {
  constructor(
    message: string,
    readonly errorName: string | undefined,
    readonly errorType: string | undefined,
  ) {
    super(message);
    this.name = 'TrinoQueryError';
  }
}

/** Runs one SQL statement to completion and returns every row (test data sizes only: rows are held in memory). */
export async function trinoQuery(url: string, sql: string, options: TrinoQueryOptions = {}): Promise<TrinoResult> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? 60_000);
  const headers: Record<string, string> = { 'X-Trino-User': options.user ?? 'larder-test' };
  if (options.catalog) headers['X-Trino-Catalog'] = options.catalog;
  if (options.schema) headers['X-Trino-Schema'] = options.schema;

  const fetchJson = async (target: string, init: RequestInit): Promise<StatementResponse> => {
    const response = await fetch(target, { ...init, headers, signal });
    const text = await response.text();
    if (!response.ok) throw new Error(`Trino answered HTTP ${response.status} to ${init.method ?? 'GET'} ${target}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as StatementResponse;
  };

  let page = await fetchJson(`${url}/v1/statement`, { method: 'POST', body: sql });
  let columns = page.columns;
  const rows: unknown[][] = [];
  for (;;) {
    if (page.error)
      throw new TrinoQueryError(`Trino query failed: ${page.error.message}\n  SQL: ${sql}`, page.error.errorName, page.error.errorType);
    columns ??= page.columns;
    if (page.data) rows.push(...page.data);
    if (!page.nextUri) break;
    page = await fetchJson(page.nextUri, { method: 'GET' });
  }
  return { columns: columns ?? [], rows, id: page.id, updateType: page.updateType, updateCount: page.updateCount };
}
